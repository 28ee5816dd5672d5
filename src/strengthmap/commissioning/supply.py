"""Supply points from the directory: the places of the services a directory search finds.

Example:
    >>> found = directory_supply(store, taxonomy="gp-practice", sources=["ods_epraccur"])  # doctest: +SKIP
    >>> found.points().ids[:1], len(found.points())                                     # doctest: +SKIP
    (('3f0c...',), 86)

The search is the directory's own (``strengthmap.directory.search.search_services``: free text,
taxonomy term with its narrower terms, ABCD kind; retired services left out). Each live located
place (``location``) of a matching service is a supply point, and its capacity is the number of
matching services there: two GP practices in one health centre count 2. Services with no place
that has coordinates cannot be placed and are counted in ``unplaced``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa

from strengthmap.commissioning.access import Supply
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.errors import InputError, NotFound
from strengthmap.storage import Store, schema

#: Services read per search page.
_PAGE = 1000
#: Ids per ``IN (...)`` (SQLite allows 32,766 variables a statement).
_CHUNK = 5000


@dataclass(frozen=True)
class PlacedService:
    """One service at one located place."""

    service_id: str
    service_name: str
    kind: str
    source: str | None
    location_id: str
    location_name: str | None
    lon: float
    lat: float


@dataclass(frozen=True)
class DirectorySupply:
    """What a directory search found, placed: one row per (service, live located place)."""

    rows: tuple[PlacedService, ...]
    services: int
    unplaced: int
    query: dict[str, object] = field(default_factory=dict)

    @property
    def kinds(self) -> list[str]:
        """The ABCD kinds present, in the order of ``schema.ABCD_KINDS``."""
        present = {r.kind for r in self.rows}
        return [k for k in schema.ABCD_KINDS if k in present] + sorted(
            present - set(schema.ABCD_KINDS)
        )

    def sources(self, kind: str | None = None) -> dict[str, int]:
        """Services per directory source (of one ABCD kind when given)."""
        seen: dict[str, set[str]] = {}
        for r in self.rows:
            if kind is None or r.kind == kind:
                seen.setdefault(r.source or "unknown", set()).add(r.service_id)
        return {s: len(ids) for s, ids in sorted(seen.items())}

    def points(self, kind: str | None = None) -> Supply:
        """Supply points: each place once, capacity = the matching services there."""
        cap: dict[str, int] = {}
        where: dict[str, tuple[float, float, str | None]] = {}
        for r in self.rows:
            if kind is not None and r.kind != kind:
                continue
            cap[r.location_id] = cap.get(r.location_id, 0) + 1
            where.setdefault(r.location_id, (r.lon, r.lat, r.location_name or r.service_name))
        ids = tuple(sorted(cap))
        return Supply(
            ids=ids,
            lon=np.array([where[i][0] for i in ids], dtype=np.float64),
            lat=np.array([where[i][1] for i in ids], dtype=np.float64),
            capacity=np.array([float(cap[i]) for i in ids], dtype=np.float64),
            names=tuple(where[i][2] for i in ids),
        )

    def notes(self) -> list[str]:
        out = [
            f"supply: {self.services} services from the directory at {len({r.location_id for r in self.rows})} places"
        ]
        if self.unplaced:
            out.append(
                f"{self.unplaced} matching services have no place with coordinates: left out"
            )
        return out


def _service_ids(store: Store, query: ServiceQuery) -> list[str]:
    ids: list[str] = []
    page = 1
    while True:
        query.page = page
        found = search_services(store, query)
        ids.extend(h.service_id for h in found.items)
        if page >= found.total_pages or not found.items:
            return ids
        page += 1


def directory_supply(
    store: Store,
    *,
    text: str | None = None,
    taxonomy: str | Sequence[str] | None = None,
    kind: str | None = None,
    sources: Sequence[str] | None = None,
) -> DirectorySupply:
    """The places of the live services matching the search (every filter must hold);
    ``sources`` keeps only services of those directory sources (``Service.source``).

    An unknown taxonomy term or ABCD kind is an ``InputError`` naming ``taxonomy`` or ``kind``."""
    terms: tuple[str, ...] = (
        () if taxonomy is None else (taxonomy,) if isinstance(taxonomy, str) else tuple(taxonomy)
    )
    query = ServiceQuery(text=text, taxonomy_term_ids=terms, kind=kind, per_page=_PAGE)
    try:
        ids = _service_ids(store, query)
    except NotFound as exc:
        # resolve_terms: "no taxonomy term with id, code or name ..."
        raise InputError(exc.message, field="taxonomy") from None
    svc = schema.Service.__table__
    sal = schema.ServiceAtLocation.__table__
    loc = schema.Location.__table__
    wanted_sources = set(sources) if sources else None
    rows: list[PlacedService] = []
    kept_services: set[str] = set()
    all_services: set[str] = set()
    with store.session() as session:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            svc_rows = session.execute(
                sa.select(svc.c.id, svc.c.source).where(svc.c.id.in_(chunk))
            ).all()
            for sid, src in svc_rows:
                if wanted_sources is None or src in wanted_sources:
                    all_services.add(sid)
            placed = session.execute(
                sa.select(
                    svc.c.id, svc.c.name, svc.c.abcd_kind, svc.c.source,
                    loc.c.id, loc.c.name, loc.c.longitude, loc.c.latitude,
                )
                .select_from(
                    svc.join(sal, sal.c.service_id == svc.c.id).join(
                        loc, loc.c.id == sal.c.location_id
                    )
                )
                .where(
                    svc.c.id.in_(chunk),
                    sal.c.retired_at.is_(None),
                    loc.c.retired_at.is_(None),
                    loc.c.longitude.is_not(None),
                    loc.c.latitude.is_not(None),
                )
                .order_by(svc.c.id, loc.c.id)
            ).all()  # fmt: skip
            for sid, sname, k, src, lid, lname, lon, lat in placed:
                if wanted_sources is not None and src not in wanted_sources:
                    continue
                kept_services.add(sid)
                rows.append(PlacedService(sid, sname, k, src, lid, lname, float(lon), float(lat)))
    if wanted_sources is not None:
        with store.session() as session:
            known = set(
                session.scalars(sa.select(svc.c.source).where(svc.c.source.is_not(None)).distinct())
            )
        unknown = sorted(wanted_sources - known)
        if unknown:
            raise InputError(
                f"no directory source {', '.join(map(repr, unknown))}; sources: {', '.join(sorted(known))}",
                field="source",
            )
    return DirectorySupply(
        rows=tuple(rows),
        services=len(kept_services),
        unplaced=len(all_services - kept_services),
        query={
            "text": text,
            "taxonomy": list(terms),
            "kind": kind,
            "sources": sorted(wanted_sources or []),
        },
    )


__all__ = ["DirectorySupply", "PlacedService", "directory_supply"]
