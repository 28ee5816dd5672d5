"""The one write path of the tabular importers: upsert directory rows by id, in bulk, in one transaction.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> sid = stable_id("example", "lunch")
    >>> rows = {"service": [{"id": sid, "name": "Community lunch", "abcd_kind": "association"}]}
    >>> with store.transaction() as session:
    ...     upsert_rows(session, rows, source="manual", licence="CC0-1.0")
    {'service': 1}

Rows are plain dicts keyed by table name (``organization``, ``service``, ``location``, ...).
Tables are written parent first, with ``INSERT ... ON CONFLICT (id) DO UPDATE`` through
``strengthmap.storage.bulk`` (which holds the backend specifics), so running an import twice
changes nothing. Every row gets the source and licence given unless it has its own; a column a row
leaves empty gets the column's default; a location with a longitude and latitude on Earth gets
its point geometry; a service with cost options and no ``free`` flag gets one
(``free_of_charge``).

Two ways to write, one code path:

* replace (the tabular importers, no ``actor``): each row is written whole, as fast as the
  database takes it; no stored row is read.
* audited (``actor`` given; ``import_oruk``): the stored rows are read first (one query per
  table per 10,000 ids); a row is merged into the stored one (columns it does not give keep
  their stored values; ``extra_keys`` name the keys of the ``extra`` JSON that the caller owns),
  left alone when nothing changes, and each create / update / retire writes an ``AuditEntry``
  (who, when, the changed fields). ``listed_children`` retires (never deletes) the nested
  records that a parent already in the store no longer lists. ``counts`` receives what was
  created / updated / unchanged / retired, by table.
"""

from __future__ import annotations

import struct
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import shapely
import sqlalchemy as sa

from strengthmap.storage import bulk, schema
from strengthmap.storage.schema.base import utcnow

#: Stable ids: ``uuid5(NAMESPACE, "<source>/<ref>")``, so re-importing a record updates it.
NAMESPACE = uuid.UUID("6f1d6c52-3c1e-5b8e-9a43-7e2f3d0c9a10")

#: Parent tables before the tables that point at them.
TABLE_ORDER = (
    "taxonomy",
    "taxonomy_term",
    "organization",
    "organization_identifier",
    "service",
    "location",
    "address",
    "service_at_location",
    "schedule",
    "contact",
    "phone",
    "cost_option",
    "accessibility",
    "language",
    "service_area",
    "funding",
    "attribute",
)
MODELS: dict[str, Any] = {
    m.__tablename__: m
    for m in (
        schema.Taxonomy,
        schema.TaxonomyTerm,
        schema.Organization,
        schema.OrganizationIdentifier,
        schema.Service,
        schema.Location,
        schema.Address,
        schema.ServiceAtLocation,
        schema.Schedule,
        schema.Contact,
        schema.Phone,
        schema.CostOption,
        schema.Accessibility,
        schema.Language,
        schema.ServiceArea,
        schema.Funding,
        schema.Attribute,
    )
}
#: ids per ``IN (...)`` query (well below SQLite's 32,766 and PostgreSQL's 65,535 parameters)
_IN_CHUNK = 10_000
_WKB_POINT = struct.Struct("<BIdd")
_SELF_REFERENCING = {"organization", "taxonomy_term"}
#: Columns an update never compares or audits (set by the write itself).
_BOOKKEEPING = frozenset({"id", "created_at", "updated_at"})


def stable_id(source: str, ref: str) -> str:
    """A UUID that is the same every time for the same source and reference.

    >>> stable_id("osm", "node/21468571") == stable_id("osm", "node/21468571")
    True
    """
    return str(uuid.uuid5(NAMESPACE, f"{source}/{ref}"))


@dataclass
class UpsertCounts:
    """What an audited upsert did: rows created / updated / unchanged / retired, by table."""

    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    retired: dict[str, int] = field(default_factory=lambda: defaultdict(int))


#: ``{(parent table, child table, foreign-key column): {parent id: ids of the children it lists}}``
ListedChildren = Mapping[tuple[str, str, str], Mapping[str, Collection[str]]]


def _prepare(
    table: str,
    rows: list[dict[str, Any]],
    source: str | None,
    licence: str | None,
    now: datetime,
    today: date | None,
) -> tuple[list[str], list[list[Any]]]:
    """Every row as a full list of the table's columns (defaults, provenance, geometry filled).

    A column the row leaves out or gives as None gets the column's scalar default (None when it
    has none); ``last_verified`` gets ``today`` unless ``today`` is None."""
    tab = MODELS[table].__table__
    names = [c.name for c in tab.columns]
    known = set(names)
    defaults = [
        c.default.arg if c.default is not None and getattr(c.default, "is_scalar", False) else None
        for c in tab.columns
    ]
    pairs = list(zip(names, defaults, strict=True))
    i_source, i_licence = names.index("source"), names.index("licence")
    i_verified, i_created, i_updated = (
        names.index("last_verified"),
        names.index("created_at"),
        names.index("updated_at"),
    )
    geo = (
        (names.index("geometry"), names.index("longitude"), names.index("latitude"))
        if table == "location"
        else None
    )
    out: list[list[Any]] = []
    for row in rows:
        if not known.issuperset(row):
            raise KeyError(f"{table}: no such column(s) {sorted(set(row) - known)}")
        get = row.get
        r: list[Any] = [d if (v := get(n)) is None else v for n, d in pairs]
        if r[i_source] is None:
            r[i_source] = source
        if r[i_licence] is None:
            r[i_licence] = licence
        if r[i_verified] is None:
            r[i_verified] = today
        if r[i_created] is None:
            r[i_created] = now
        r[i_updated] = now
        if geo is not None and r[geo[0]] is None:
            r[geo[0]] = _point_on_earth(r[geo[1]], r[geo[2]])
        out.append(r)
    return names, out


def _point_wkb(lon: float, lat: float) -> bytes:
    """ISO WKB of a 2-D point, little-endian: what ``shapely.to_wkb(Point(lon, lat))`` gives."""
    return _WKB_POINT.pack(1, 1, lon, lat)


def _point_on_earth(lon: Any, lat: Any) -> bytes | None:
    """The point's WKB when both coordinates are given and on Earth (WGS84 degrees), else None
    (a placeholder such as the spec examples' latitude 100 gets no geometry)."""
    if lon is None or lat is None:
        return None
    lon, lat = float(lon), float(lat)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return _point_wkb(lon, lat)


def free_of_charge(amounts: Iterable[Any]) -> bool | None:
    """The one rule for a service's ``free`` flag from its cost options' amounts: free when
    every known amount is 0, not free when any is above 0, unknown (None) when no amount is known.

    >>> free_of_charge([0, 0.0]), free_of_charge([0, 2.5]), free_of_charge([None]), free_of_charge([])
    (True, False, None, None)
    """
    known = [a for a in amounts if a is not None]
    return None if not known else all(a == 0 for a in known)


def _derive_free(rows: dict[str, list[dict[str, Any]]]) -> None:
    amounts: dict[str, list[float | None]] = {}
    for co in rows.get("cost_option", []):
        amounts.setdefault(co["service_id"], []).append(co.get("amount"))
    for svc in rows.get("service", []):
        if svc.get("free") is None and svc["id"] in amounts:
            svc["free"] = free_of_charge(amounts[svc["id"]])


def comparable(v: Any) -> Any:
    """A stored value as it compares with a new one (SQLite hands back naive UTC datetimes)."""
    if isinstance(v, datetime) and v.tzinfo is None:
        return v.replace(tzinfo=UTC)
    return v


def _audit_value(v: Any) -> Any:
    if isinstance(v, date | datetime):
        return v.isoformat()
    if isinstance(v, float | int | str | bool) or v is None:
        return v
    return str(v)


def _same_geometry(new: Any, before: Any) -> bool:
    if new is None or before is None:
        return new is None and before is None
    if isinstance(new, bytes | bytearray | memoryview):
        if isinstance(before, bytes | bytearray | memoryview):
            return bytes(new) == bytes(before)
        new = shapely.from_wkb(bytes(new))
    return bool(new.equals(before))


def existing_rows(session: Any, table: str, ids: Sequence[str]) -> dict[str, Any]:
    """The stored rows of ``ids`` in ``table`` (id -> row mapping), one query per 10,000 ids."""
    tab = MODELS[table].__table__
    out: dict[str, Any] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        for r in session.execute(sa.select(tab).where(tab.c.id.in_(chunk))).mappings():
            out[r["id"]] = r
    return out


def _merge_stored(
    session: Any,
    table: str,
    rows: list[dict[str, Any]],
    *,
    source: str | None,
    licence: str | None,
    actor: str,
    extra_keys: Collection[str] | None,
    now: datetime,
    counts: UpsertCounts,
    audit: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], set[str]]:
    """The rows to write (new ones as given, changed ones merged into the stored row; unchanged
    ones dropped) and the ids that were in the store before, with an audit entry per change."""
    old = existing_rows(session, table, [r["id"] for r in rows])
    out: list[dict[str, Any]] = []
    created: dict[str | None, dict[str, Any]] = {}  # one "changes" object per source
    new = 0
    for row in rows:
        rid = row["id"]
        if row.get("source") is None:
            row["source"] = source
        if row.get("licence") is None:
            row["licence"] = licence
        prev = old.get(rid)
        if prev is None:
            out.append(row)
            new += 1
            src = row["source"]
            if src not in created:
                created[src] = {"source": [None, src]}
            audit.append(
                {
                    "actor": actor,
                    "action": "create",
                    "entity": table,
                    "entity_id": rid,
                    "changes": created[src],
                    "at": now,
                }
            )
            continue
        if extra_keys is not None and "extra" in row:
            kept = {k: v for k, v in (prev["extra"] or {}).items() if k not in extra_keys}
            kept.update(row["extra"] or {})
            row["extra"] = kept or None
        if table == "location" and "geometry" not in row:
            lon = row["longitude"] if "longitude" in row else prev["longitude"]
            lat = row["latitude"] if "latitude" in row else prev["latitude"]
            row["geometry"] = _point_on_earth(lon, lat)
        changes: dict[str, list[Any]] = {}
        for col, value in row.items():
            if col in _BOOKKEEPING:
                continue
            before = prev[col]
            if before is value or (type(before) is type(value) and before == value):
                continue  # the common case, unchanged; anything else is compared as below
            if col == "geometry":
                if not _same_geometry(value, before):
                    changes[col] = [None, None]
            elif comparable(before) != comparable(value):
                changes[col] = [_audit_value(before), _audit_value(value)]
        if not changes:
            counts.unchanged[table] += 1
            continue
        merged = dict(prev)
        merged.update(row)
        out.append(merged)
        counts.updated[table] += 1
        audit.append(
            {
                "actor": actor,
                "action": "update",
                "entity": table,
                "entity_id": rid,
                "changes": changes,
                "at": now,
            }
        )
    if new:
        counts.created[table] += new
    return out, set(old)


def _retire_unlisted(
    session: Any,
    listed_children: ListedChildren,
    existing: Mapping[str, set[str]],
    *,
    actor: str,
    now: datetime,
    counts: UpsertCounts,
    audit: list[dict[str, Any]],
) -> None:
    """Children that a parent already in the store no longer lists: retired (never deleted),
    with one query per (parent table, child table) and one bulk update per child table."""
    stale_by_table: dict[str, list[str]] = defaultdict(list)
    for (parent_table, child_table, fk), by_parent in listed_children.items():
        pids = sorted(set(by_parent) & existing.get(parent_table, set()))
        if not pids:
            continue  # no listing parent was in the store before: nothing can have been dropped
        tab = MODELS[child_table].__table__
        fk_col = tab.c[fk]
        for start in range(0, len(pids), _IN_CHUNK):
            chunk = pids[start : start + _IN_CHUNK]
            got = session.execute(
                sa.select(tab.c.id, fk_col).where(fk_col.in_(chunk), tab.c.retired_at.is_(None))
            ).all()
            for cid, pid in got:
                if cid not in by_parent[pid]:
                    stale_by_table[child_table].append(cid)
    for child_table, found in stale_by_table.items():
        stale = sorted(set(found))
        _retire_ids(session, child_table, stale, actor=actor, now=now, audit=audit)
        counts.retired[child_table] += len(stale)


def _retire_ids(
    session: Any,
    table: str,
    ids: Sequence[str],
    *,
    actor: str,
    now: datetime,
    audit: list[dict[str, Any]],
) -> None:
    """Retire the rows ``ids`` of ``table`` in one bulk update; their audit entries go to
    ``audit`` (written by the caller with ``_write_audit``)."""
    session.execute(
        sa.update(MODELS[table]),
        [{"id": rid, "retired_at": now, "updated_at": now} for rid in ids],
    )
    audit.extend(
        {
            "actor": actor,
            "action": "retire",
            "entity": table,
            "entity_id": rid,
            "changes": {"retired_at": [None, now.isoformat()]},
            "at": now,
        }
        for rid in ids
    )


def retire_vanished(
    session: Any,
    source: str,
    kept: Mapping[str, Collection[str]],
    *,
    actor: str,
) -> dict[str, int]:
    """A snapshot import's clean-up: every live row whose ``source`` is ``source`` and whose id is
    not in ``kept[table]`` (the rows the new snapshot wrote) is retired, never deleted, with one
    audit entry each. Returns rows retired per table.

    For files that are a whole publisher's dataset (the OSM extract, the ODS list): what vanished
    upstream leaves the directory (and the feed) but stays in the store and its history; a
    record that comes back is restored by the next import (an upsert writes ``retired_at``).
    Rows of other sources (the default taxonomy, other imports, the editor's) are never touched.
    """
    now = utcnow()
    retired: dict[str, int] = {}
    audit: list[dict[str, Any]] = []
    for table in TABLE_ORDER:
        tab = MODELS[table].__table__
        if "source" not in tab.c or "retired_at" not in tab.c:
            continue
        keep = set(kept.get(table, ()))
        live = session.execute(
            sa.select(tab.c.id).where(tab.c.source == source, tab.c.retired_at.is_(None))
        ).scalars()
        stale = sorted(rid for rid in live if rid not in keep)
        if not stale:
            continue
        _retire_ids(session, table, stale, actor=actor, now=now, audit=audit)
        retired[table] = len(stale)
    if audit:
        _write_audit(session, audit)
    return retired


def upsert_rows(
    session: Any,
    rows: Mapping[str, Iterable[dict[str, Any]]],
    *,
    source: str | None = None,
    licence: str | None = None,
    actor: str | None = None,
    stamp_verified: bool = True,
    extra_keys: Collection[str] | None = None,
    listed_children: ListedChildren | None = None,
    counts: UpsertCounts | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Insert or update every row by id, parents first; returns rows written per table.

    ``actor``: audited mode (see the module docstring): stored rows are read, rows merged into
    them, unchanged rows skipped, every change audited under ``actor``, ``listed_children``
    retired when no longer listed, and ``counts`` filled. ``stamp_verified``: a row that gives
    no ``last_verified`` gets today's date. ``progress(done, total)`` after each table.
    """
    unknown = set(rows) - set(TABLE_ORDER)
    if unknown:
        raise KeyError(f"not directory tables: {sorted(unknown)}")
    if actor is None and (listed_children or extra_keys is not None or counts is not None):
        raise ValueError("listed_children, extra_keys and counts need an actor (audited mode)")
    materialised = {t: [dict(r) for r in rows[t]] for t in TABLE_ORDER if t in rows}
    _derive_free(materialised)
    now = utcnow()
    run = _Upsert(
        session=session,
        source=source,
        licence=licence,
        actor=actor,
        extra_keys=extra_keys,
        now=now,
        today=now.date() if stamp_verified else None,
        counts=counts if counts is not None else UpsertCounts(),
    )
    done, total = 0, sum(len(r) for r in materialised.values())
    with bulk.large_write(session, total):
        for table, table_rows in materialised.items():
            if not table_rows:
                continue
            run.write(table, table_rows)
            done += len(table_rows)
            if progress is not None:
                progress(done, total)
        if actor is not None:
            if listed_children:
                _retire_unlisted(
                    session,
                    listed_children,
                    run.existing,
                    actor=actor,
                    now=now,
                    counts=run.counts,
                    audit=run.audit,
                )
            if run.audit:
                _write_audit(session, run.audit)
    return run.written


@dataclass
class _Upsert:
    """One ``upsert_rows`` call: its settings and what it has done so far."""

    session: Any
    source: str | None
    licence: str | None
    actor: str | None
    extra_keys: Collection[str] | None
    now: datetime
    today: date | None
    counts: UpsertCounts
    audit: list[dict[str, Any]] = field(default_factory=list)
    existing: dict[str, set[str]] = field(default_factory=dict)
    written: dict[str, int] = field(default_factory=dict)

    def write(self, table: str, table_rows: list[dict[str, Any]]) -> None:
        """One table: merged into the stored rows when audited, then upserted in bulk."""
        if self.actor is not None:
            table_rows, self.existing[table] = _merge_stored(
                self.session,
                table,
                table_rows,
                source=self.source,
                licence=self.licence,
                actor=self.actor,
                extra_keys=self.extra_keys,
                now=self.now,
                counts=self.counts,
                audit=self.audit,
            )
        if not table_rows:
            return
        names, prepared = _prepare(
            table, table_rows, self.source, self.licence, self.now, self.today
        )
        if table not in _SELF_REFERENCING:
            # in key order, the primary-key b-tree grows at its end instead of splitting
            # pages all over (random UUIDs); self-referencing tables keep parents first
            prepared.sort(key=lambda t: t[0])
        bulk.upsert_many(self.session, MODELS[table].__table__, names, prepared)
        self.written[table] = len(prepared)


def _write_audit(session: Any, audit: list[dict[str, Any]]) -> None:
    """The audit entries in one bulk insert."""
    names = ["actor", "action", "entity", "entity_id", "changes", "at"]
    rows = [[a[n] for n in names] for a in audit]
    table: Any = schema.AuditEntry.__table__
    bulk.insert_many(session, table, names, rows)


__all__ = [
    "MODELS",
    "NAMESPACE",
    "TABLE_ORDER",
    "ListedChildren",
    "UpsertCounts",
    "comparable",
    "existing_rows",
    "free_of_charge",
    "retire_vanished",
    "stable_id",
    "upsert_rows",
]
