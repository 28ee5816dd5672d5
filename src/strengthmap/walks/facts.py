"""What a walk passes: areas with their IMD and life expectancy, and the directory's located assets with their opening times.

Example:
    >>> facts = area_facts(store, imd_release=2019)                       # doctest: +SKIP
    >>> facts.lsoa_of([-1.5640], [53.7960]).tolist(), facts.imd["E01011363"][0]  # doctest: +SKIP
    (['E01011363'], 1)

Both are read once per store and kept until the store changes (a dataset loaded, a directory
record written), like ``strengthmap.routes.profile_data``. Opening times are the directory's
schedules (``strengthmap.directory.schedules``, RFC 5545 recurrence in Europe/London) of each
service, its own and those given at a location, exactly as the directory's "open at" search reads
them.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select

from strengthmap import indicators
from strengthmap.directory.schedules import Recurrence, occurrences
from strengthmap.errors import InputError, NotFound
from strengthmap.geography import GEOD, OUTSIDE, AreaIndex
from strengthmap.indicators import Estimate
from strengthmap.storage import Store, schema

SEXES = ("male", "female")


@dataclass
class AreaFacts:
    """LSOAs of one IMD release's vintage with their IMD, MSOAs 2011 with life expectancy."""

    imd_release: int | None
    lsoa: AreaIndex | None
    msoa: AreaIndex | None
    imd: dict[str, tuple[int, int, int]]  # code -> (decile, rank, areas ranked)
    le: dict[str, dict[str, Estimate]]

    def lsoa_of(self, lons: Any, lats: Any) -> NDArray[np.object_]:
        if self.lsoa is None:
            return np.full(len(np.atleast_1d(lons)), OUTSIDE, dtype=object)
        return self.lsoa.locate(np.atleast_1d(lons), np.atleast_1d(lats))

    def msoa_of(self, lons: Any, lats: Any) -> NDArray[np.object_]:
        if self.msoa is None:
            return np.full(len(np.atleast_1d(lons)), OUTSIDE, dtype=object)
        return self.msoa.locate(np.atleast_1d(lons), np.atleast_1d(lats))

    def decile(self, code: str) -> int | None:
        rec = self.imd.get(code)
        return rec[0] if rec else None

    def le_dict(self, msoa: str) -> dict[str, dict[str, float | None]]:
        """``{"male": {"value", "lower", "upper"}, "female": {...}}`` (``None`` where withheld)."""
        out: dict[str, dict[str, float | None]] = {}
        for sex in SEXES:
            est = self.le.get(msoa, {}).get(sex)
            out[sex] = (
                {"value": _r(est.value), "lower": _r(est.lower), "upper": _r(est.upper)}
                if est is not None and not est.suppressed
                else {"value": None, "lower": None, "upper": None}
            )
        return out

    @classmethod
    def from_store(cls, store: Store, imd_release: int | None = None) -> AreaFacts:
        releases = indicators.imd_releases(store)
        if imd_release is None:
            imd_release = releases[-1] if releases else None
        elif imd_release not in indicators.IMD_VINTAGE:
            raise InputError(
                f"unknown IMD release {imd_release}: use 2019 or 2025", field="imd_release"
            )
        elif imd_release not in releases:
            raise InputError(
                f"IMD {imd_release} is not loaded (loaded: {releases or 'none'})",
                field="imd_release",
            )
        vintage = indicators.IMD_VINTAGE.get(imd_release, 2011) if imd_release else 2011
        lsoa: AreaIndex | None
        msoa: AreaIndex | None
        try:
            lsoa = AreaIndex.from_store(store, level="lsoa", vintage=vintage)
        except NotFound:
            lsoa = None
        try:
            msoa = AreaIndex.from_store(store, level="msoa", vintage=2011)
        except NotFound:
            msoa = None
        imd = indicators.imd_by_code(store, imd_release) if imd_release else {}
        return cls(imd_release, lsoa, msoa, imd, indicators.life_expectancy(store))


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(float(x), nd)


@dataclass
class Service:
    """A live service at a located asset, with its schedules (empty: opening times unknown)."""

    service_id: str
    name: str
    abcd_kind: str | None
    description: str | None
    schedules: list[Recurrence]
    illustrative: bool = False

    def sessions(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Its sessions overlapping ``[start, end)`` (aware datetimes)."""
        out: list[tuple[datetime, datetime]] = []
        for rec in self.schedules:
            out.extend(
                (o.start.astimezone(UTC), o.end.astimezone(UTC))
                for o in occurrences(rec, start, end)
            )
        return sorted(out)


@dataclass
class Asset:
    """A located directory ``Location`` (lon/lat degrees) and the live services there."""

    location_id: str
    name: str
    lon: float
    lat: float
    abcd_kind: str | None
    services: list[Service] = field(default_factory=list)
    # sessions per (start, end) window, kept with the asset (assets are cached per store)
    _sessions: dict[
        tuple[datetime, datetime], list[tuple[Service, list[tuple[datetime, datetime]]]]
    ] = field(default_factory=dict, repr=False, compare=False)

    def sessions(
        self, start: datetime, end: datetime
    ) -> list[tuple[Service, list[tuple[datetime, datetime]]]]:
        """Each service with its sessions overlapping ``[start, end)``."""
        key = (start, end)
        if key not in self._sessions:
            if len(self._sessions) > 64:
                self._sessions.clear()
            self._sessions[key] = [(s, s.sessions(start, end)) for s in self.services]
        return self._sessions[key]

    @property
    def has_schedules(self) -> bool:
        return any(s.schedules for s in self.services)


class OpenTimes:
    """An asset's sessions over one window, so "open at t?" is a list scan, not an expansion."""

    def __init__(self, asset: Asset, start: datetime, end: datetime) -> None:
        self.asset = asset
        self.known = asset.has_schedules
        self.by_service = asset.sessions(start, end)

    def open_services(self, t: datetime) -> list[Service]:
        """Services in session at ``t`` (an arrival: open at that minute)."""
        t = t.astimezone(UTC)  # aware datetimes sharing a zone compare as wall times: use UTC
        t1 = t + timedelta(minutes=1)
        return [s for s, spans in self.by_service if any(a < t1 and b > t for a, b in spans)]

    def is_open(self, t: datetime) -> bool | None:
        """True/False at ``t``; ``None`` when none of its services has opening times."""
        if not self.known:
            return None
        return bool(self.open_services(t))

    def ever_open(self) -> bool:
        return any(spans for _, spans in self.by_service)


@dataclass
class Assets:
    """The directory's located assets (live locations with live, active services)."""

    items: list[Asset]
    lonlat: NDArray[np.float64]
    attribution: list[str]

    def __len__(self) -> int:
        return len(self.items)

    def within(self, lon: float, lat: float, radius_m: float) -> list[tuple[Asset, float]]:
        """Assets within ``radius_m`` metres on the ellipsoid, nearest first."""
        if not len(self.items):
            return []
        # a box prefilter (a degree of latitude is at least 110.5 km; of longitude, its cosine)
        dlat = radius_m / 110_500.0
        dlon = dlat / max(np.cos(np.radians(abs(lat) + dlat)), 1e-6)
        box = np.flatnonzero(
            (np.abs(self.lonlat[:, 0] - lon) <= dlon) & (np.abs(self.lonlat[:, 1] - lat) <= dlat)
        )
        if not len(box):
            return []
        _, _, d = GEOD.inv(
            np.full(len(box), lon), np.full(len(box), lat), self.lonlat[box, 0], self.lonlat[box, 1]
        )
        d = np.atleast_1d(d)
        keep = d <= radius_m
        pairs = sorted(zip(d[keep].tolist(), box[keep].tolist(), strict=True))
        return [(self.items[i], dist) for dist, i in pairs]

    @classmethod
    def from_store(cls, store: Store) -> Assets:
        S, L, SAL, SCH = schema.Service, schema.Location, schema.ServiceAtLocation, schema.Schedule
        cols = [getattr(SCH, c) for c in _SCHEDULE_COLUMNS]
        with store.session() as session:
            rows = session.execute(
                select(
                    L.id, L.name, L.longitude, L.latitude, L.abcd_kind,
                    S.id, S.name, S.abcd_kind, S.description, SAL.id, L.source,
                )
                .join(SAL, SAL.location_id == L.id)
                .join(S, S.id == SAL.service_id)
                .where(
                    L.longitude.is_not(None), L.latitude.is_not(None), L.retired_at.is_(None),
                    S.retired_at.is_(None), SAL.retired_at.is_(None),
                    S.status.notin_(("inactive", "defunct")),
                )
                .order_by(L.id, S.name, S.id)
            ).all()  # fmt: skip
            sched_rows = session.execute(
                select(SCH.service_id, SCH.service_at_location_id, SCH.illustrative, *cols).where(
                    SCH.retired_at.is_(None)
                )
            ).all()
            sources = {r[10] for r in rows if r[10]}
            attribution = [
                d.attribution
                for d in session.scalars(
                    select(schema.Dataset).where(schema.Dataset.id.in_(sources))
                )
                if d.attribution
            ]
        by_service: dict[str, list[tuple[Recurrence, bool]]] = {}
        by_sal: dict[str, list[tuple[Recurrence, bool]]] = {}
        for r in sched_rows:
            rec = Recurrence.of(dict(zip(_SCHEDULE_COLUMNS, r[3:], strict=True)))
            if r[0]:
                by_service.setdefault(r[0], []).append((rec, bool(r[2])))
            if r[1]:
                by_sal.setdefault(r[1], []).append((rec, bool(r[2])))
        items: list[Asset] = []
        index: dict[str, Asset] = {}
        for lid, lname, lon, lat, lkind, sid, sname, skind, sdesc, salid, _src in rows:
            asset = index.get(lid)
            if asset is None:
                asset = Asset(
                    lid, lname or sname, float(lon or 0.0), float(lat or 0.0), lkind or skind
                )  # not null: filtered
                index[lid] = asset
                items.append(asset)
            scheds = by_service.get(sid, []) + by_sal.get(salid, [])
            asset.services.append(
                Service(
                    sid, sname, skind, sdesc, [s for s, _ in scheds],
                    illustrative=any(flag for _, flag in scheds),
                )
            )  # fmt: skip
        lonlat = np.array([(a.lon, a.lat) for a in items], dtype=float).reshape(-1, 2)
        return cls(items, lonlat, sorted(set(attribution)))


_SCHEDULE_COLUMNS = (
    "freq", "interval", "byday", "bymonthday", "dtstart", "valid_from", "valid_to", "until",
    "count", "wkst", "rrule", "exdates", "opens_at", "closes_at", "timezone", "description",
)  # fmt: skip


# --- caches, per store, until the store changes -------------------------------------------------

_AREAS: weakref.WeakKeyDictionary[Store, tuple[Any, AreaFacts]] = weakref.WeakKeyDictionary()
_ASSETS: weakref.WeakKeyDictionary[Store, tuple[Any, Assets]] = weakref.WeakKeyDictionary()


def _dataset_fingerprint(store: Store) -> tuple[Any, ...]:
    """Changes when a dataset is loaded or areas, deprivation or indicator rows are added."""
    with store.session() as session:
        row = session.execute(
            select(func.count(), func.max(schema.Dataset.loaded_at)).select_from(schema.Dataset)
        ).one()
        areas = session.execute(select(func.count(), func.max(schema.Area.id))).one()
        dep = session.execute(select(func.count()).select_from(schema.Deprivation)).scalar_one()
        ind = session.execute(select(func.count()).select_from(schema.IndicatorValue)).scalar_one()
    return (row[0], str(row[1]), areas[0], areas[1], dep, ind)


def _directory_fingerprint(store: Store) -> tuple[Any, ...]:
    out: list[Any] = []
    with store.session() as session:
        for model in (schema.Service, schema.Location, schema.ServiceAtLocation, schema.Schedule):
            row = session.execute(
                select(func.count(), func.max(model.updated_at)).select_from(model)
            ).one()
            out += [row[0], str(row[1])]
    return tuple(out)


def area_facts(store: Store, imd_release: int | None = None) -> AreaFacts:
    """``AreaFacts.from_store``, kept per store until a dataset is loaded."""
    key = (imd_release, *_dataset_fingerprint(store))
    cached = _AREAS.get(store)
    if cached is None or cached[0] != key:
        _AREAS[store] = (key, AreaFacts.from_store(store, imd_release))
    return _AREAS[store][1]


def assets(store: Store) -> Assets:
    """``Assets.from_store``, kept per store until a directory record changes."""
    key = _directory_fingerprint(store)
    cached = _ASSETS.get(store)
    if cached is None or cached[0] != key:
        _ASSETS[store] = (key, Assets.from_store(store))
    return _ASSETS[store][1]


__all__ = ["AreaFacts", "Asset", "Assets", "OpenTimes", "Service", "area_facts", "assets"]
