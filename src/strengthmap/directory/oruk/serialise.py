"""Serialise stored records as ORUK JSON in the shapes of the compiled UK schemas (empty
optional fields omitted, retired records and private contacts never published)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from strengthmap.directory.oruk.mapping import (
    _EXTRA_FIELDS,
    _EXTRA_POS,
    _EXTRA_RAW,
    ENTITIES,
    LOCATION_FULL,
    LOCATION_ONE_TO_ONE,
    ORG_FULL,
    ORG_ONE_TO_ONE,
    SAL_FULL,
    SAL_LIST,
    SERVICE_FULL,
    SERVICE_LIST,
    TAXONOMY_FULL,
    TAXONOMY_LIST,
    TERM_SHAPE,
    Shape,
    _BadValue,
    _chunks,
    _from_col,
    _schemas,
    _to_col,
)
from strengthmap.directory.records import comparable
from strengthmap.errors import NotFound
from strengthmap.storage import schema

# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def published(model: type[Any]) -> Any:
    """The SQL condition of a published record: not retired, not private, and (a service at a
    location) neither its service nor its location retired."""
    cond = model.retired_at.is_(None)
    if model is schema.Contact:
        cond = cond & (model.private.is_(False))
    if model is schema.ServiceAtLocation:
        live_services = select(schema.Service.id).where(schema.Service.retired_at.is_(None))
        live_locations = select(schema.Location.id).where(schema.Location.retired_at.is_(None))
        cond = cond & model.service_id.in_(live_services) & model.location_id.in_(live_locations)
    return cond


@cache
def _required(ent: str) -> frozenset[str]:
    spec = ENTITIES[ent]
    assert spec.schema_file is not None
    return frozenset(_schemas()[spec.schema_file].get("required", ()))


def _fields_of(ent: str, row: Any) -> dict[str, Any]:
    spec = ENTITIES[ent]
    required = _required(ent)
    extra = row.extra or {}
    raw = extra.get(_EXTRA_RAW) or {}
    out: dict[str, Any] = {}
    for f in spec.fields:
        col = getattr(row, f.col)
        if f.key in raw:
            original = raw[f.key]
            try:
                equivalent = comparable(_to_col(f.kind, original)) == comparable(col)
            except _BadValue:
                equivalent = False
            if equivalent or (f.soft and col is None):
                out[f.key] = original
                continue
        if f.back or (f.default is not None and col == f.default):
            continue
        value = _from_col(f.kind, col)
        if (value is not None and value != "") or (value == "" and f.key in required):
            out[f.key] = value
    for k, v in (extra.get(_EXTRA_FIELDS) or {}).items():
        if k not in out:
            out[k] = v
    return out


def _sort_key(row: Any) -> tuple[int, str]:
    pos = (row.extra or {}).get(_EXTRA_POS)
    return (pos if isinstance(pos, int) else 1_000_000, row.id)


def _child_condition(
    model: Any, keycol: str, link_type: str | None
) -> Callable[[Sequence[str]], Any]:
    def cond(chunk: Sequence[str]) -> Any:
        c = getattr(model, keycol).in_(chunk)
        return c & (model.link_type == link_type) if link_type else c

    return cond


class _Serialiser:
    """Builds ORUK dicts for many records at once: one query per nested table, not per record."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def many(self, ent: str, rows: Sequence[Any], shape: Shape) -> list[dict[str, Any]]:
        spec = ENTITIES[ent]
        outs = [_fields_of(ent, r) for r in rows]
        ids = [r.id for r in rows]
        for child in spec.children:
            if child.key not in shape:
                continue
            sub = shape[child.key]
            cmodel = ENTITIES[child.entity].model
            if child.many:
                keycol = "link_id" if child.entity == "attribute" else (child.fk or "")
                cond = _child_condition(
                    cmodel, keycol, ent if child.entity == "attribute" else None
                )
                crows = self._load(cmodel, cond, ids)
                if child.entity == "attribute":  # an attribute is shown only with its term
                    terms = self._by_id(schema.TaxonomyTerm, {c.taxonomy_term_id for c in crows})
                    crows = [c for c in crows if c.taxonomy_term_id in terms]
                crows.sort(key=_sort_key)
                cdicts = self.many(child.entity, crows, sub)
                grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for crow, cdict in zip(crows, cdicts, strict=True):
                    grouped[getattr(crow, keycol)].append(cdict)
                for r, out in zip(rows, outs, strict=True):
                    if grouped.get(r.id):
                        out[child.key] = grouped[r.id]
            else:
                assert child.parent_col is not None
                targets = self._by_id(cmodel, {getattr(r, child.parent_col) for r in rows})
                trows = list(targets.values())
                tdicts = dict(
                    zip((t.id for t in trows), self.many(child.entity, trows, sub), strict=True)
                )
                for r, out in zip(rows, outs, strict=True):
                    tid = getattr(r, child.parent_col)
                    if tid in tdicts:
                        out[child.key] = tdicts[tid]
        return outs

    def _load(
        self, model: type[Any], cond: Callable[[Sequence[str]], Any], ids: Sequence[str]
    ) -> list[Any]:
        out: list[Any] = []
        for chunk in _chunks(ids, 500):
            out.extend(self.session.scalars(select(model).where(cond(chunk), published(model))))
        return out

    def _by_id(self, model: type[Any], ids: set[Any]) -> dict[str, Any]:
        ids.discard(None)
        out: dict[str, Any] = {}
        for chunk in _chunks(sorted(ids), 500):
            for r in self.session.scalars(
                select(model).where(model.id.in_(chunk), published(model))
            ):
                out[r.id] = r
        return out


def to_oruk_many(
    session: Session, entity: str, ids: Sequence[str], shape: Shape
) -> list[dict[str, Any]]:
    """ORUK dicts of ``ids`` (in that order; retired or unknown ids are left out).

    Example:
        >>> to_oruk_many(session, "service", page_ids, SERVICE_LIST)   # doctest: +SKIP
    """
    model = ENTITIES[entity].model
    found = _Serialiser(session)._by_id(model, set(ids))
    rows = [found[i] for i in ids if i in found]
    return _Serialiser(session).many(entity, rows, shape)


def _one(session: Session, entity: str, rid: str, shape: Shape) -> dict[str, Any]:
    got = to_oruk_many(session, entity, [rid], shape)
    if not got:
        raise NotFound(f"no published {entity} with id {rid!r}")
    return got[0]


def to_oruk_service(session: Session, service_id: str, *, full: bool = True) -> dict[str, Any]:
    """One service as ORUK JSON (``full``: fully nested, else the one-to-one list shape).

    Example:
        >>> to_oruk_service(session, "ac148810-d857-441c-9679-408f346de14b")["status"]  # doctest: +SKIP
        'active'
    """
    return _one(session, "service", service_id, SERVICE_FULL if full else SERVICE_LIST)


def to_oruk_organization(
    session: Session, organization_id: str, *, full: bool = True
) -> dict[str, Any]:
    """One organisation as ORUK JSON (``full``: with identifiers and its fully nested services)."""
    return _one(session, "organization", organization_id, ORG_FULL if full else ORG_ONE_TO_ONE)


def to_oruk_location(session: Session, location_id: str, *, full: bool = True) -> dict[str, Any]:
    """One location as ORUK JSON (``full``: with addresses, accessibility and attributes)."""
    return _one(session, "location", location_id, LOCATION_FULL if full else LOCATION_ONE_TO_ONE)


def to_oruk_service_at_location(
    session: Session, service_at_location_id: str, *, full: bool = True
) -> dict[str, Any]:
    """One service at a location as ORUK JSON (``full``: location and service fully nested)."""
    return _one(
        session, "service_at_location", service_at_location_id, SAL_FULL if full else SAL_LIST
    )


def to_oruk_taxonomy(session: Session, taxonomy_id: str, *, full: bool = True) -> dict[str, Any]:
    """One taxonomy as ORUK JSON (``full``: with its terms)."""
    return _one(session, "taxonomy", taxonomy_id, TAXONOMY_FULL if full else TAXONOMY_LIST)


def to_oruk_taxonomy_term(session: Session, taxonomy_term_id: str) -> dict[str, Any]:
    """One taxonomy term as ORUK JSON."""
    return _one(session, "taxonomy_term", taxonomy_term_id, TERM_SHAPE)
