"""The small areas commissioning works on: LSOA 2011 with their mid-year population, a demand
point each, their MSOA (official lookup), and their IMD and life expectancy.

Example:
    >>> table = load_areas(store)                                   # doctest: +SKIP
    >>> len(table), table.population.sum(), table.population_year  # doctest: +SKIP
    (482, 798786, 2020)

Demand point (see ``docs/methods/access.md``): the population-weighted centroids ONS publishes
are not in the data directory, so each area's demand point is the centroid of its boundary
polygon (the generalised "BGC" boundary loaded with the areas), or, where the centroid falls
outside the polygon (a crescent, a ring round a park, a multi-part area), the polygon's
representative point (GEOS ``PointOnSurface``, always inside). The centroid is taken in lon/lat
degrees; for an area a few kilometres across it differs from the equal-area centroid by well
under a metre.

IMD: IoD2019 is published on LSOA 2011, the areas used here, and is read as published. IoD2025
is on LSOA 2021 and reaches a 2011 area only through the official ONS 2011 -> 2021 lookup:
unchanged (U) and merged (M) areas take the figure of their 2021 area; an area split (S) into
several 2021 areas takes the mean of its parts' figures (scores, or ranks for the rank-based
measures), and says so in ``notes`` (LSOAs are drawn to hold similar populations, and the lookup
carries no population to weight them by). Life expectancy is published by MSOA 2011 and reaches
an LSOA only through the official LSOA -> MSOA lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from strengthmap.errors import InputError, NotFound
from strengthmap.indicators import LIFE_EXPECTANCY
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.geo import IMD_DOMAINS

#: The LSOA vintage of each IoD release.
IMD_VINTAGE = {2019: 2011, 2025: 2021}
#: What ``need`` can be measured by: the IMD or one of its domains.
IMD_MEASURES = ("imd", *IMD_DOMAINS)
#: Sexes of published life expectancy.
LE_SEXES = ("male", "female", "persons")


@dataclass(frozen=True)
class AreaTable:
    """LSOA 2011 areas as aligned arrays (index ``i`` is one area), sorted by code."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    population: NDArray[np.int64]
    population_year: int | None
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    point_kind: tuple[str, ...]  # "centroid" | "representative point"
    geometries: tuple[BaseGeometry, ...]
    msoa: tuple[str | None, ...]
    lad: tuple[str | None, ...]

    def __len__(self) -> int:
        return len(self.codes)

    def index_of(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.codes)}


def demand_point(geometry: BaseGeometry) -> tuple[float, float, str]:
    """``(lon, lat, kind)``: the polygon's centroid, or its representative point when the
    centroid falls outside it.

    >>> from shapely.geometry import Polygon
    >>> demand_point(Polygon([(0, 0), (2, 0), (2, 2), (0, 2)]))
    (1.0, 1.0, 'centroid')
    >>> ring = Polygon([(0, 0), (3, 0), (3, 3), (0, 3)], [[(0.5, 0.5), (2.5, 0.5), (2.5, 2.5), (0.5, 2.5)]])
    >>> demand_point(ring)[2]
    'representative point'
    """
    c = geometry.centroid
    if geometry.contains(c):
        return float(c.x), float(c.y), "centroid"
    p = geometry.representative_point()
    return float(p.x), float(p.y), "representative point"


def _expand_codes(session: Session, codes: Sequence[str]) -> set[str]:
    """LSOA 2011 codes named by ``codes``: LSOA codes themselves, the LSOAs of an MSOA 2011
    (official lookup) or of a local authority district (``lad_code``)."""
    wanted: set[str] = set()
    area = schema.Area
    for raw in codes:
        code = raw.strip().upper()
        if not code:
            continue
        rows = session.execute(
            select(area.id, area.level, area.vintage).where(area.code == code)
        ).all()
        lsoa = [r for r in rows if r.level == "lsoa" and r.vintage == 2011]
        msoa = [r for r in rows if r.level == "msoa" and r.vintage == 2011]
        if lsoa:
            wanted.add(code)
            continue
        if msoa:
            child = aliased(schema.Area)
            kids = session.scalars(
                select(child.code)
                .join(schema.AreaLink, schema.AreaLink.child_id == child.id)
                .where(
                    schema.AreaLink.parent_id == msoa[0].id,
                    schema.AreaLink.relation == "parent",
                    child.level == "lsoa",
                    child.vintage == 2011,
                )
            ).all()
            wanted.update(kids)
            continue
        in_lad = session.scalars(
            select(area.code).where(
                area.lad_code == code, area.level == "lsoa", area.vintage == 2011
            )
        ).all()
        if in_lad:
            wanted.update(in_lad)
            continue
        raise InputError(
            f"{code!r} is not a loaded LSOA 2011, MSOA 2011 or local authority code",
            field="areas",
        )
    return wanted


def load_areas(store: Store, areas: Sequence[str] | None = None) -> AreaTable:
    """Every loaded LSOA 2011 with a population and a boundary (or those ``areas`` names: LSOA
    2011, MSOA 2011 or local authority codes), with its demand point and MSOA."""
    area = schema.Area
    with store.session() as session:
        wanted = _expand_codes(session, areas) if areas else None
        rows = session.execute(
            select(
                area.id, area.code, area.name, area.population, area.population_year,
                area.geometry, area.lad_code,
            )
            .where(area.level == "lsoa", area.vintage == 2011)
            .order_by(area.code)
        ).all()  # fmt: skip
        parent = aliased(schema.Area)
        msoa_rows = session.execute(
            select(schema.AreaLink.child_id, parent.code)
            .join(parent, parent.id == schema.AreaLink.parent_id)
            .where(
                schema.AreaLink.relation == "parent", parent.level == "msoa", parent.vintage == 2011
            )
        ).all()
    msoa_of = {int(r[0]): str(r[1]) for r in msoa_rows}
    if wanted is not None:
        rows = [r for r in rows if r.code in wanted]
    if not rows:
        raise NotFound(
            "no LSOA 2011 areas are loaded: run `strengthmap data load` first"
            if wanted is None
            else "none of the areas asked for is a loaded LSOA 2011"
        )
    missing_pop = [r.code for r in rows if r.population is None]
    missing_geom = [r.code for r in rows if r.geometry is None]
    if len(missing_pop) == len(rows):
        raise NotFound("no LSOA 2011 population is loaded: run `strengthmap data load` first")
    rows = [r for r in rows if r.population is not None and r.geometry is not None]
    if missing_geom and not rows:
        raise NotFound("no LSOA 2011 boundaries are loaded: run `strengthmap data load` first")
    points = [demand_point(r.geometry) for r in rows]
    years = {r.population_year for r in rows}
    return AreaTable(
        codes=tuple(r.code for r in rows),
        names=tuple(r.name for r in rows),
        population=np.array([int(r.population) for r in rows], dtype=np.int64),
        population_year=years.pop() if len(years) == 1 else None,
        lon=np.array([p[0] for p in points], dtype=np.float64),
        lat=np.array([p[1] for p in points], dtype=np.float64),
        point_kind=tuple(p[2] for p in points),
        geometries=tuple(r.geometry for r in rows),
        msoa=tuple(msoa_of.get(int(r.id)) for r in rows),
        lad=tuple(r.lad_code for r in rows),
    )


@dataclass(frozen=True)
class ImdValues:
    """One IoD release's figures for the areas of an ``AreaTable`` (NaN where not known).

    ``rank`` is the England rank (1 = most deprived) of ``n_areas``; ``percentile`` is its place
    in England, 100 = most deprived: ``100 * (n_areas - rank + 0.5) / n_areas``. For an area
    split in the 2011 -> 2021 lookup, rank and score are the mean of its parts' and the decile is
    the England decile of that mean rank."""

    release: int
    measure: str  # "imd" or a domain
    n_areas: int
    rank: NDArray[np.float64]
    decile: NDArray[np.float64]
    score: NDArray[np.float64]
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def percentile(self) -> NDArray[np.float64]:
        return np.asarray(100.0 * (self.n_areas - self.rank + 0.5) / self.n_areas)

    @property
    def has_scores(self) -> bool:
        known = ~np.isnan(self.rank)
        return bool(np.all(~np.isnan(self.score[known]))) and bool(known.any())


def _decile_of_rank(rank: float, n: int) -> float:
    # England deciles as published: decile d holds ranks ((d-1) n/10, d n/10]
    return float(min(10, max(1, int(np.ceil(rank * 10 / n)))))


def imd_values(store: Store, table: AreaTable, release: int, measure: str = "imd") -> ImdValues:
    """The ``release`` figures (``measure``: ``imd`` or a domain) for each area of ``table``."""
    if release not in IMD_VINTAGE:
        raise InputError(
            f"unknown IMD release {release}; one of {', '.join(map(str, IMD_VINTAGE))}",
            field="imd_release",
        )
    if measure not in IMD_MEASURES:
        raise InputError(
            f"unknown IMD measure {measure!r}; one of {', '.join(IMD_MEASURES)}", field="measure"
        )
    dep = schema.Deprivation
    prefix = measure
    rank_col = getattr(dep, f"{prefix}_rank")
    decile_col = getattr(dep, f"{prefix}_decile")
    score_col = getattr(dep, f"{prefix}_score")
    area = schema.Area
    n = len(table)
    rank = np.full(n, np.nan)
    decile = np.full(n, np.nan)
    score = np.full(n, np.nan)
    notes: dict[str, str] = {}
    idx = table.index_of()
    with store.session() as session:
        n_areas = session.scalar(select(dep.n_areas).where(dep.release == release).limit(1))
        if n_areas is None:
            raise InputError(
                f"IMD {release} is not loaded: run `strengthmap data load`", field="imd_release"
            )
        if IMD_VINTAGE[release] == 2011:
            rows = session.execute(
                select(area.code, rank_col, decile_col, score_col)
                .join(area, area.id == dep.area_id)
                .where(dep.release == release, area.level == "lsoa", area.vintage == 2011)
            ).all()
            for code, r, d, s in rows:
                i = idx.get(code)
                if i is not None and r is not None:
                    rank[i], decile[i] = float(r), float(d)
                    score[i] = np.nan if s is None else float(s)
        else:
            old = aliased(schema.Area)
            new = aliased(schema.Area)
            rows = session.execute(
                select(
                    old.code, schema.AreaLink.change_code, rank_col, decile_col, score_col
                )
                .select_from(schema.AreaLink)
                .join(old, old.id == schema.AreaLink.child_id)
                .join(new, new.id == schema.AreaLink.parent_id)
                .join(dep, dep.area_id == new.id)
                .where(
                    schema.AreaLink.relation == "successor",
                    old.level == "lsoa", old.vintage == 2011,
                    new.level == "lsoa", new.vintage == 2021,
                    dep.release == release,
                )
            ).all()  # fmt: skip
            parts: dict[str, list[tuple[str | None, float, float, float]]] = {}
            for code, cc, r, d, s in rows:
                if code in idx and r is not None:
                    parts.setdefault(code, []).append(
                        (cc, float(r), float(d), np.nan if s is None else float(s))
                    )
            for code, found in parts.items():
                i = idx[code]
                if len(found) == 1:
                    cc, rank[i], decile[i], score[i] = found[0]
                    if cc == "M":
                        notes[code] = (
                            "merged with others into one LSOA 2021: the merged area's figure"
                        )
                else:
                    rank[i] = float(np.mean([p[1] for p in found]))
                    score[i] = float(np.mean([p[3] for p in found]))
                    decile[i] = _decile_of_rank(rank[i], int(n_areas))
                    notes[code] = (
                        f"split into {len(found)} LSOAs 2021: the mean of their IMD {release} "
                        "figures (the lookup carries no population to weight them by)"
                    )
    return ImdValues(release, measure, int(n_areas), rank, decile, score, notes)


@dataclass(frozen=True)
class LifeExpectancyValues:
    """Published life expectancy at birth (years) of each area's MSOA, one period and sex; NaN
    where ONS withheld it or the area has no MSOA in the lookup."""

    period: str
    sex: str
    value: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]


def life_expectancy_periods(store: Store) -> list[str]:
    """The periods of life expectancy loaded, oldest first."""
    with store.session() as session:
        rows = session.scalars(
            select(schema.IndicatorValue.period)
            .where(schema.IndicatorValue.indicator_id == LIFE_EXPECTANCY)
            .distinct()
        ).all()
    return sorted(str(r) for r in rows)


def life_expectancy_values(
    store: Store, table: AreaTable, *, sex: str = "persons", period: str | None = None
) -> LifeExpectancyValues:
    """Life expectancy of each area's MSOA 2011 (through the official LSOA -> MSOA lookup)."""
    if sex not in LE_SEXES:
        raise InputError(f"unknown sex {sex!r}; one of {', '.join(LE_SEXES)}", field="measure")
    periods = life_expectancy_periods(store)
    if not periods:
        raise InputError(
            "no life expectancy is loaded: run `strengthmap data load`", field="measure"
        )
    if period is None:
        period = periods[-1]
    elif period not in periods:
        raise InputError(
            f"no life expectancy for period {period!r}; loaded: {', '.join(periods)}",
            field="period",
        )
    iv = schema.IndicatorValue
    with store.session() as session:
        rows = session.execute(
            select(schema.Area.code, iv.value, iv.lower, iv.upper, iv.suppressed)
            .join(schema.Area, schema.Area.id == iv.area_id)
            .where(iv.indicator_id == LIFE_EXPECTANCY, iv.period == period, iv.sex == sex)
        ).all()
    by_msoa = {
        str(code): (
            (np.nan, np.nan, np.nan)
            if supp or v is None
            else (float(v), float(lo) if lo is not None else np.nan, float(up) if up is not None else np.nan)
        )
        for code, v, lo, up, supp in rows
    }  # fmt: skip
    vals = [by_msoa.get(m, (np.nan, np.nan, np.nan)) if m else (np.nan,) * 3 for m in table.msoa]
    arr = np.array(vals, dtype=np.float64).reshape(len(table), 3)
    return LifeExpectancyValues(period, sex, arr[:, 0], arr[:, 1], arr[:, 2])


def attribution(store: Store, *datasets: str) -> list[str]:
    """The attribution lines of the loaded datasets whose id starts with one of ``datasets``
    (e.g. ``"imd2019"``, ``"population_"``, a directory source such as ``"ods_epraccur"``),
    each once, in the order asked."""
    with store.session() as session:
        rows = session.execute(
            select(schema.Dataset.id, schema.Dataset.attribution).order_by(schema.Dataset.id)
        ).all()
    out: list[str] = []
    for prefix in datasets:
        for ds_id, text in rows:
            if str(ds_id).startswith(prefix) and text and text not in out:
                out.append(str(text))
    return out


#: Datasets behind the areas themselves: boundaries, population, the official lookups.
AREA_DATASETS = ("boundaries_lsoa2011", "population_", "lookup_lsoa2011")


def point_kinds_note(table: AreaTable) -> str:
    """How the demand points were chosen, with the count of each kind."""
    n_rep = sum(1 for k in table.point_kind if k != "centroid")
    return (
        f"demand point: the centroid of each LSOA 2011 boundary (BGC), or its representative "
        f"point where the centroid falls outside the area ({n_rep} of {len(table)} areas)"
    )


__all__ = [
    "AREA_DATASETS",
    "IMD_MEASURES",
    "IMD_VINTAGE",
    "LE_SEXES",
    "AreaTable",
    "ImdValues",
    "LifeExpectancyValues",
    "attribution",
    "demand_point",
    "imd_values",
    "life_expectancy_periods",
    "life_expectancy_values",
    "load_areas",
    "point_kinds_note",
]
