"""Where the network's nodes are and how deprived their areas are (IMD, by LSOA).

A person's or organisation's area is the home area recorded with it (``area_code``); a
directory record without one is placed by its own point: a location's point, a service's first
live location, an organisation's first live location (ids in order), each located in the LSOAs
of the IMD release's vintage (IoD2019 on LSOA 2011, IoD2025 on LSOA 2021) by
``strengthmap.geography.AreaIndex``.

Example:
    >>> dep = AreaDeprivation(2019, {"E01011294": AreaIMD("E01011294", "Leeds 071D", 1, 222, 32844, 2019)})
    >>> dep.quintile("E01011294"), dep.quintile("E01999999")
    (1, None)

An area code of the other vintage is read through the official ONS LSOA 2011 -> 2021 lookup
(``area_link`` successors): when every LSOA it maps to has the same IMD decile that decile is
used; otherwise the area has no decile (never a guess) and ``notes`` says why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from strengthmap.geography import OUTSIDE, AreaIndex, neighbours
from strengthmap.indicators import IMD_VINTAGE, imd_releases
from strengthmap.storage import Store, schema


@dataclass(frozen=True)
class AreaIMD:
    """One LSOA's IMD record in one release (rank 1 = most deprived; ``rank`` None when the
    figure came through the lookup from several areas of the same decile)."""

    code: str
    name: str | None
    decile: int
    rank: int | None
    n_areas: int
    release: int

    @property
    def quintile(self) -> int:
        """IMD quintile 1 (most deprived fifth) .. 5, from the published decile."""
        return (self.decile + 1) // 2


@dataclass(frozen=True)
class AreaDeprivation:
    """IMD deciles of the areas the network touches, in one release."""

    release: int | None
    areas: dict[str, AreaIMD] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def of(self, code: str | None) -> AreaIMD | None:
        return self.areas.get(code) if code else None

    def name(self, code: str | None) -> str | None:
        found = self.of(code)
        return found.name if found else None

    def decile(self, code: str | None) -> int | None:
        found = self.of(code)
        return found.decile if found else None

    def quintile(self, code: str | None) -> int | None:
        found = self.of(code)
        return found.quintile if found else None

    @classmethod
    def none(cls) -> AreaDeprivation:
        """No IMD loaded: no area has a decile."""
        return cls(None)


def is_lsoa_code(code: str) -> bool:
    """An LSOA code of England or Wales (``E01`` / ``W01`` and six digits).

    >>> is_lsoa_code("E01011294"), is_lsoa_code("E02002400")
    (True, False)
    """
    return len(code) == 9 and code[:3] in ("E01", "W01") and code[3:].isdigit()


def known_lsoa_codes(store: Store) -> set[str]:
    """Every LSOA code loaded in the store (any vintage)."""
    with store.session() as session:
        rows = session.scalars(
            sa.select(schema.Area.code).where(schema.Area.level == "lsoa").distinct()
        ).all()
    return set(rows)


def default_release(store: Store, release: int | None = None) -> int | None:
    """The IMD release to use: ``release`` when loaded, else the newest loaded, else None."""
    loaded = imd_releases(store)
    if release is not None:
        return release if release in loaded else None
    return loaded[-1] if loaded else None


def area_deprivation(
    store: Store, codes: Iterable[str | None], release: int | None = None
) -> AreaDeprivation:
    """The IMD record of each LSOA code in ``codes`` for ``release`` (default: the newest loaded)."""
    rel = default_release(store, release)
    wanted = sorted({c for c in codes if c})
    if rel is None or not wanted:
        return AreaDeprivation(rel)
    vintage = IMD_VINTAGE.get(rel)
    out: dict[str, AreaIMD] = {}
    notes: dict[str, str] = {}
    with store.session() as session:
        rows = session.execute(
            sa.select(
                schema.Area.code,
                schema.Area.name,
                schema.Area.vintage,
                schema.Deprivation.imd_decile,
                schema.Deprivation.imd_rank,
                schema.Deprivation.n_areas,
            )
            .join(schema.Deprivation, schema.Deprivation.area_id == schema.Area.id)
            .where(schema.Deprivation.release == rel, schema.Area.code.in_(wanted))
        ).all()
        for r in rows:
            if vintage is None or r.vintage == vintage:
                out[r.code] = AreaIMD(r.code, r.name, r.imd_decile, r.imd_rank, r.n_areas, rel)
        missing = [c for c in wanted if c not in out]
        if missing and vintage is not None:
            out_links = _through_lookup(session, missing, rel, vintage)
            for code in missing:
                linked = out_links.get(code, [])
                deciles = {d for _, d, _ in linked}
                if len(deciles) == 1:
                    name, decile, n_areas = linked[0]
                    one = len(linked) == 1
                    out[code] = AreaIMD(code, name if one else None, decile, None, n_areas, rel)
                    notes[code] = (
                        f"IMD {rel} through the ONS LSOA lookup ({len(linked)} area(s) of "
                        f"LSOA {vintage}, decile {decile})"
                    )
                elif linked:
                    notes[code] = (
                        f"maps to {len(linked)} LSOA {vintage} areas of different IMD {rel} "
                        "deciles: no decile is picked"
                    )
                else:
                    notes[code] = f"no IMD {rel} figure for this area"
    return AreaDeprivation(rel, out, notes)


def _through_lookup(
    session: sa.orm.Session, codes: list[str], release: int, vintage: int
) -> dict[str, list[tuple[str, int, int]]]:
    """``{code: [(name, decile, n_areas)]}`` of the areas of ``vintage`` the official lookup
    links each code to (either direction of the successor link)."""
    child, parent = sa.orm.aliased(schema.Area), sa.orm.aliased(schema.Area)
    found: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for mine, theirs in ((child, parent), (parent, child)):
        rows = session.execute(
            sa.select(
                mine.code, theirs.name, schema.Deprivation.imd_decile, schema.Deprivation.n_areas
            )
            .select_from(schema.AreaLink)
            .join(
                mine,
                mine.id
                == (schema.AreaLink.child_id if mine is child else schema.AreaLink.parent_id),
            )
            .join(
                theirs,
                theirs.id
                == (schema.AreaLink.parent_id if mine is child else schema.AreaLink.child_id),
            )
            .join(schema.Deprivation, schema.Deprivation.area_id == theirs.id)
            .where(
                schema.AreaLink.relation == "successor",
                mine.code.in_(codes),
                theirs.vintage == vintage,
                theirs.level == "lsoa",
                schema.Deprivation.release == release,
            )
        ).all()
        for r in rows:
            found[r[0]].append((r[1], int(r[2]), int(r[3])))
    return found


@dataclass(frozen=True)
class Place:
    """A directory record's point (lon/lat degrees, EPSG:4326) and the LSOA it falls in."""

    lon: float
    lat: float
    area_code: str | None


def directory_places(
    store: Store, ids: Iterable[str], *, vintage: int | None = None
) -> dict[str, Place]:
    """The point and LSOA (of ``vintage``, default that of the newest IMD release) of each
    organisation, service or location id given that has a live located location."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    points: dict[str, tuple[float, float]] = {}
    loc = schema.Location
    live_point = (loc.retired_at.is_(None), loc.latitude.is_not(None), loc.longitude.is_not(None))
    with store.session() as session:
        for start in range(0, len(wanted), 5000):
            chunk = wanted[start : start + 5000]
            for lid, lon, lat in session.execute(
                sa.select(loc.id, loc.longitude, loc.latitude).where(loc.id.in_(chunk), *live_point)
            ):
                points[lid] = (float(lon or 0.0), float(lat or 0.0))
            sal = schema.ServiceAtLocation
            for sid, lon, lat in session.execute(
                sa.select(sal.service_id, loc.longitude, loc.latitude)
                .join(loc, loc.id == sal.location_id)
                .where(sal.service_id.in_(chunk), sal.retired_at.is_(None), *live_point)
                .order_by(sal.service_id, loc.id)
            ):
                points.setdefault(sid, (float(lon or 0.0), float(lat or 0.0)))
            for oid, lon, lat in session.execute(
                sa.select(loc.organization_id, loc.longitude, loc.latitude)
                .where(loc.organization_id.in_(chunk), *live_point)
                .order_by(loc.organization_id, loc.id)
            ):
                if oid is not None:
                    points.setdefault(oid, (float(lon or 0.0), float(lat or 0.0)))
    if not points:
        return {}
    if vintage is None:
        rel = default_release(store)
        vintage = IMD_VINTAGE.get(rel) if rel is not None else None
    codes = _locate(store, list(points.values()), vintage) if vintage is not None else None
    return {
        rid: Place(lon, lat, codes[i] if codes is not None else None)
        for i, (rid, (lon, lat)) in enumerate(points.items())
    }


def _locate(store: Store, points: list[tuple[float, float]], vintage: int) -> list[str | None]:
    """The LSOA of each point among the LSOAs of ``vintage`` whose boxes cover the points."""
    lons = np.array([p[0] for p in points])
    lats = np.array([p[1] for p in points])
    area = schema.Area
    with store.session() as session:
        rows = session.execute(
            sa.select(area.code, area.name, area.geometry)
            .where(
                area.level == "lsoa",
                area.vintage == vintage,
                area.geometry.is_not(None),
                area.max_lon >= float(lons.min()),
                area.min_lon <= float(lons.max()),
                area.max_lat >= float(lats.min()),
                area.min_lat <= float(lats.max()),
            )
            .order_by(area.code)
        ).all()
    if not rows:
        return [None] * len(points)
    index = AreaIndex.from_geometries(
        [r.code for r in rows], [r.geometry for r in rows], vintage=vintage, raster=False
    )
    return [None if c == OUTSIDE else str(c) for c in index.locate_exact(lons, lats)]


def area_neighbours(
    store: Store, codes: Iterable[str | None], *, vintage: int | None = None
) -> dict[str, set[str]]:
    """Which of the LSOAs ``codes`` share a boundary (rook contiguity, at least 1 m; see
    ``geography.neighbours``). A code's boundary of ``vintage`` is used when loaded, else that of
    any vintage."""
    wanted = sorted({c for c in codes if c})
    if len(wanted) < 2:
        return {}
    area = schema.Area
    with store.session() as session:
        rows = session.execute(
            sa.select(area.code, area.vintage, area.geometry)
            .where(area.level == "lsoa", area.code.in_(wanted), area.geometry.is_not(None))
            .order_by(area.code, area.vintage)
        ).all()
    chosen: dict[str, Any] = {}
    for code, v, geom in rows:
        if code not in chosen or v == vintage:
            chosen[code] = geom
    if len(chosen) < 2:
        return {}
    index = AreaIndex.from_geometries(list(chosen), list(chosen.values()), raster=False)
    pairs = neighbours(index)
    out: dict[str, set[str]] = defaultdict(set)
    for a, b in zip(pairs["a"], pairs["b"], strict=True):
        out[str(a)].add(str(b))
        out[str(b)].add(str(a))
    return dict(out)


__all__ = [
    "AreaDeprivation",
    "AreaIMD",
    "Place",
    "area_deprivation",
    "area_neighbours",
    "default_release",
    "directory_places",
    "is_lsoa_code",
    "known_lsoa_codes",
]
