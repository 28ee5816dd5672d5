"""Need beside strength: a need score and a strength score per area, quadrants, and honest
coverage ("strength not measured" where the directory's sources never looked, never "no
strength").

Example:
    >>> result = need_strength(store, imd_release=2019)                     # doctest: +SKIP
    >>> a = result.areas[0]; a.code, a.need, a.strength, a.quadrant, a.coverage   # doctest: +SKIP
    ('E01011229', 71.3, None, 'strength_not_measured', 'not measured')

**Need** (higher means more need), from the chosen IoD release or life expectancy:

* ``imd`` or a domain (``income``, ``employment``, ``education``, ``health``, ``crime``,
  ``housing_services``, ``living_environment``) by ``score`` as published, or by ``rank`` as the
  area's place in England: ``100 * (n - rank + 0.5) / n`` (100 = most deprived). ``auto`` takes
  the score where the release publishes it for every area (IoD2025 here; the IoD2019 files in
  the data directory carry no scores) and the rank otherwise.
* ``le_male``, ``le_female``, ``le_persons``: life expectancy at birth of the area's MSOA (the
  official LSOA -> MSOA lookup), as years below the highest in the areas.

**Strength**: for each ABCD kind of asset the search finds, access per 1,000 residents
(2SFCA or E2SFCA, ``strengthmap.commissioning.access``) divided by the kind's population-weighted
mean over the areas its sources cover; the strength is the mean of these over the kinds, so 1.0
is the place's average and every kind counts alike, however many assets it has.

**Coverage**: for each kind, the sources that decide are those holding assets of the kind and
whose coverage is known (``strengthmap.directory.coverage``). An area is ``measured`` when the
whole catchment round its demand point lies inside every deciding source's coverage for every
kind; ``edge`` when its demand point does but its catchment reaches beyond (strength given,
possibly undercounted); ``partial`` when only some kinds are covered and ``not measured`` when
none is: for these two the strength is null, "strength not measured". Assets of sources with
no known coverage still count where they are; a kind that only such sources hold is left out,
and both are said in ``notes``.

**Quadrants**: high need is need at or above the need threshold, low strength is strength at
or below the strength threshold. Thresholds are the user's, or by default terciles: the top
third of need (over the areas with a need) and the bottom third of strength (over the areas
where it is measured).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep
from sqlalchemy import select

from strengthmap.commissioning.access import (
    DEFAULT_CATCHMENT_M,
    GEODESIC,
    DistanceProvider,
    Points,
    Weighting,
    fca,
    weighting,
)
from strengthmap.commissioning.areas import (
    AREA_DATASETS,
    IMD_MEASURES,
    AreaTable,
    LifeExpectancyValues,
    attribution,
    imd_values,
    life_expectancy_values,
    load_areas,
    point_kinds_note,
)
from strengthmap.commissioning.supply import DirectorySupply, directory_supply
from strengthmap.directory.coverage import Coverage, coverages, geodesic_circle
from strengthmap.errors import InputError
from strengthmap.indicators import latest_imd_release
from strengthmap.storage import Store, schema

#: Need measures: the IMD, its domains, or life expectancy by sex.
NEED_MEASURES = (*IMD_MEASURES, "le_male", "le_female", "le_persons")
#: The quadrants and what they say.
QUADRANTS = {
    "look_here_first": "high need, low strength: look here first",
    "build_on_strength": "high need, higher strength: build on what is strong",
    "lower_need_low_strength": "lower need, low strength",
    "lower_need_higher_strength": "lower need, higher strength",
    "strength_not_measured": "strength not measured: the directory's sources do not cover this area",
    "need_not_known": "need not known",
}
#: Coverage of an area, best first.
COVERAGE_STATES = ("measured", "edge", "partial", "not measured")
#: Widening of a union of generalised (20 m) boundaries, degrees: slivers between
#: neighbouring areas are not gaps in coverage.
_SLIVER_DEG = 0.0003


@dataclass(frozen=True)
class NeedScores:
    """Need per area (higher = more need; NaN where not known) and how it was measured."""

    measure: str
    basis: str  # "score" | "rank" | "life expectancy"
    unit: str
    release: int | None
    values: NDArray[np.float64]
    imd_rank: NDArray[np.float64]
    imd_decile: NDArray[np.float64]
    n_areas: int | None
    life_expectancy: LifeExpectancyValues | None
    notes: dict[str, str] = field(default_factory=dict)


def need_scores(
    store: Store,
    table: AreaTable,
    *,
    measure: str = "imd",
    imd_release: int | None = None,
    basis: str = "auto",
) -> NeedScores:
    """The need of each area of ``table`` (see the module docstring)."""
    if measure not in NEED_MEASURES:
        raise InputError(
            f"unknown need measure {measure!r}; one of {', '.join(NEED_MEASURES)}",
            field="need",
        )
    if basis not in ("auto", "score", "rank"):
        raise InputError(f"unknown basis {basis!r}; one of auto, score, rank", field="basis")
    release = imd_release if imd_release is not None else latest_imd_release(store)
    imd = imd_values(store, table, release, "imd" if measure.startswith("le_") else measure)
    le = life_expectancy_values(store, table, sex="persons")
    if measure.startswith("le_"):
        le = life_expectancy_values(store, table, sex=measure[3:])
        known = ~np.isnan(le.value)
        if not known.any():
            raise InputError(f"no {measure} value is published for these areas", field="need")
        best = float(np.nanmax(le.value))
        return NeedScores(
            measure, "life expectancy", f"years below the highest in the areas ({best:.1f})",
            release, best - le.value, imd.rank, imd.decile, imd.n_areas, le,
        )  # fmt: skip
    if basis == "score" and not imd.has_scores:
        raise InputError(
            f"IMD {release} scores are not loaded for these areas (the IoD2019 files in the "
            "data directory publish ranks and deciles only): use basis rank",
            field="basis",
        )
    use_score = basis == "score" or (basis == "auto" and imd.has_scores)
    name = "IMD" if measure == "imd" else f"{measure} domain"
    if use_score:
        values, b, unit = imd.score.copy(), "score", f"{name} {release} score"
    else:
        values, b = imd.percentile, "rank"
        unit = f"place in England by {name} {release} rank (100 = most deprived)"
    return NeedScores(
        measure, b, unit, release, values, imd.rank, imd.decile, imd.n_areas, le, dict(imd.notes)
    )


# --- coverage -------------------------------------------------------------------------------


def _place_region(store: Store) -> BaseGeometry:
    """Every loaded LSOA 2011 boundary, unioned (what "the whole place" covers)."""
    with store.session() as session:
        geoms = session.scalars(
            select(schema.Area.geometry).where(
                schema.Area.level == "lsoa",
                schema.Area.vintage == 2011,
                schema.Area.geometry.is_not(None),
            )
        ).all()
    return shapely.union_all(list(geoms)).buffer(_SLIVER_DEG)


def _codes_region(store: Store, codes: Sequence[str]) -> BaseGeometry:
    table = load_areas(store, codes)
    return shapely.union_all(list(table.geometries)).buffer(_SLIVER_DEG)


def coverage_region(store: Store, coverage: Coverage) -> BaseGeometry | None:
    """The region a coverage stands for (None when nothing is known)."""
    parts: list[BaseGeometry] = []
    if coverage.whole_place:
        parts.append(_place_region(store))
    if coverage.geometry is not None:
        parts.append(coverage.geometry)
    if coverage.area_codes:
        parts.append(_codes_region(store, coverage.area_codes))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


@dataclass(frozen=True)
class AreaCoverage:
    """For each area: is its demand point, and the whole catchment round it, inside."""

    point_in: NDArray[np.bool_]
    catchment_in: NDArray[np.bool_]


def area_coverage(region: BaseGeometry, table: AreaTable, catchment_m: float) -> AreaCoverage:
    """Which areas' demand points and catchments lie inside ``region``."""
    point_in = np.asarray(shapely.contains_xy(region, table.lon, table.lat), dtype=bool)
    prepared = prep(region)
    catchment_in = np.array(
        [
            bool(inside) and prepared.contains(geodesic_circle(lon, lat, catchment_m, 72))
            for lon, lat, inside in zip(table.lon, table.lat, point_in, strict=True)
        ],
        dtype=bool,
    )
    return AreaCoverage(point_in, catchment_in)


# --- strength -------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindStrength:
    """Access to one ABCD kind of asset and where it is measured."""

    kind: str
    access: NDArray[np.float64]  # per 1,000 residents
    mean: float  # population-weighted over the covered areas
    point_in: NDArray[np.bool_]
    catchment_in: NDArray[np.bool_]
    deciding: tuple[str, ...]
    uncovered: tuple[str, ...]  # sources of the kind with no known coverage
    supply_points: int


@dataclass(frozen=True)
class Strength:
    """Strength per area and the coverage of each area."""

    method: str
    catchment_m: float
    weighting: Weighting
    kinds: tuple[KindStrength, ...]
    values: NDArray[np.float64]  # NaN where not measured
    coverage: tuple[str, ...]
    sources: dict[str, Coverage]
    notes: list[str] = field(default_factory=list)


def strength_scores(
    store: Store,
    table: AreaTable,
    *,
    supply: DirectorySupply,
    kinds: Sequence[str] | None = None,
    method: str = "2sfca",
    catchment_m: float = DEFAULT_CATCHMENT_M,
    bands: Sequence[tuple[float, float]] | None = None,
    decay: str = "steps",
    sigma_m: float | None = None,
    distance: DistanceProvider | None = None,
) -> Strength:
    """Strength per area from access to ``supply`` by ABCD kind (see the module docstring)."""
    weights = weighting(method, catchment_m, bands=bands, decay=decay, sigma_m=sigma_m)
    provider: DistanceProvider = distance or GEODESIC
    for k in kinds or ():
        if k not in schema.ABCD_KINDS:
            raise InputError(
                f"unknown ABCD kind {k!r}; one of {', '.join(schema.ABCD_KINDS)}", field="kind"
            )
    present = supply.kinds
    wanted = [k for k in (kinds or present) if k in present]
    notes: list[str] = []
    missing = [k for k in (kinds or ()) if k not in present]
    if missing:
        notes.append(f"no assets of kind {', '.join(missing)} were found: left out")
    all_sources = sorted({s for k in wanted for s in supply.sources(k)})
    cover = coverages(store, all_sources)
    regions: dict[str, AreaCoverage] = {}
    for s, cov in cover.items():
        region = coverage_region(store, cov)
        if region is not None:
            regions[s] = area_coverage(region, table, weights.catchment_m)
    origins = Points(table.lon, table.lat)
    pop = table.population.astype(np.float64)
    n = len(table)
    measured: list[KindStrength] = []
    for k in wanted:
        srcs = supply.sources(k)
        deciding = tuple(s for s in srcs if s in regions)
        uncovered = tuple(s for s in srcs if s not in regions)
        if not deciding:
            notes.append(
                f"{k}: its assets come only from sources with no known coverage "
                f"({', '.join(uncovered)}): left out of strength; record their coverage to include them"
            )
            continue
        points = supply.points(k)
        pairs = provider.pairs_within(
            origins, Points(points.lon, points.lat), weights.catchment_m, exact_at=weights.edges()
        )
        access = fca(pop, points.capacity, pairs, weights).access
        point_in = np.logical_and.reduce([regions[s].point_in for s in deciding])
        catchment_in = np.logical_and.reduce([regions[s].catchment_in for s in deciding])
        covered_pop = float(pop[point_in].sum())
        mean = float((pop[point_in] * access[point_in]).sum() / covered_pop) if covered_pop else 0.0
        if mean <= 0:
            notes.append(f"{k}: no asset is within reach of any area its sources cover: left out")
            continue
        if uncovered:
            notes.append(
                f"{k}: assets of {', '.join(uncovered)} (no known coverage) count where they are "
                "but do not decide where strength is measured"
            )
        measured.append(
            KindStrength(k, access, mean, point_in, catchment_in, deciding, uncovered, len(points))
        )
    if not measured:
        values = np.full(n, np.nan)
        states = ("not measured",) * n
        notes.append("strength is not measured anywhere: no kind of asset has a known coverage")
    else:
        pin = np.column_stack([m.point_in for m in measured])
        cin = np.column_stack([m.catchment_in for m in measured])
        index = np.column_stack([m.access / m.mean for m in measured]).mean(axis=1)
        state = np.where(
            cin.all(axis=1),
            "measured",
            np.where(pin.all(axis=1), "edge", np.where(pin.any(axis=1), "partial", "not measured")),
        )
        values = np.where(pin.all(axis=1), index, np.nan)
        states = tuple(str(s) for s in state)
    return Strength(
        weights.method, weights.catchment_m, weights, tuple(measured), values, states, cover, notes
    )


# --- need beside strength -------------------------------------------------------------------


@dataclass(frozen=True)
class NeedStrengthArea:
    """One area: need, strength (None: not measured), quadrant and coverage."""

    code: str
    name: str
    population: int
    need: float | None
    strength: float | None
    quadrant: str
    coverage: str
    strength_by_kind: dict[str, float | None]
    imd_rank: float | None
    imd_decile: float | None
    life_expectancy: float | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "population": self.population,
            "need": None if self.need is None else round(self.need, 6),
            "strength": None if self.strength is None else round(self.strength, 6),
            "quadrant": self.quadrant,
            "coverage": self.coverage,
            "strength_by_kind": {
                k: None if v is None else round(v, 6) for k, v in self.strength_by_kind.items()
            },
            "imd_rank": None if self.imd_rank is None else round(self.imd_rank, 1),
            "imd_decile": None if self.imd_decile is None else int(self.imd_decile),
            "life_expectancy": self.life_expectancy,
            "note": self.note,
        }


@dataclass(frozen=True)
class Thresholds:
    """The cut points of the quadrants and where they came from."""

    need: float
    strength: float
    need_quantile: float | None
    strength_quantile: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "need": self.need,
            # no area measured: no strength threshold (JSON has no NaN)
            "strength": None if math.isnan(self.strength) else self.strength,
            "need_quantile": self.need_quantile,
            "strength_quantile": self.strength_quantile,
            "rule": "high need: need >= the need threshold; low strength: strength <= the strength threshold",
        }


@dataclass(frozen=True)
class NeedStrength:
    """``strengthmap commission need-strength``: need beside strength for every area."""

    need: NeedScores
    strength: Strength
    thresholds: Thresholds
    areas: list[NeedStrengthArea]
    notes: list[str]
    attribution: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(QUADRANTS, 0)
        for a in self.areas:
            out[a.quadrant] += 1
        return out

    def coverage_counts(self) -> dict[str, int]:
        out = dict.fromkeys(COVERAGE_STATES, 0)
        for a in self.areas:
            out[a.coverage] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        s = self.strength
        return {
            "imd_release": self.need.release,
            "need_measure": self.need.measure,
            "need_basis": self.need.basis,
            "need_unit": self.need.unit,
            "strength_method": s.method,
            "catchment_m": s.catchment_m,
            "distance": "geodesic",
            "weights": s.weighting.to_dict(),
            "kinds": [
                {
                    "kind": k.kind,
                    "supply_points": k.supply_points,
                    "mean_access": k.mean,
                    "deciding_sources": list(k.deciding),
                    "sources_without_coverage": list(k.uncovered),
                }
                for k in s.kinds
            ],
            "sources": {name: c.to_dict() for name, c in s.sources.items()},
            "thresholds": self.thresholds.to_dict(),
            "quadrants": QUADRANTS,
            "counts": self.counts(),
            "coverage_counts": self.coverage_counts(),
            "areas": [a.to_dict() for a in self.areas],
            "notes": list(self.notes),
            "attribution": list(self.attribution),
        }


def _check_quantile(q: float, name: str) -> float:
    if not 0 < q < 1:
        raise InputError(f"{name} must be between 0 and 1 (exclusive)", field=name)
    return float(q)


def quadrant(need: float | None, strength: float | None, t: Thresholds) -> str:
    """The quadrant of one area.

    >>> t = Thresholds(need=50, strength=1.0, need_quantile=None, strength_quantile=None)
    >>> quadrant(60, 0.5, t), quadrant(60, 2.0, t), quadrant(10, 0.5, t), quadrant(10, None, t)
    ('look_here_first', 'build_on_strength', 'lower_need_low_strength', 'strength_not_measured')
    """
    if strength is None:
        return "strength_not_measured"
    if need is None:
        return "need_not_known"
    high = need >= t.need
    low = strength <= t.strength
    if high:
        return "look_here_first" if low else "build_on_strength"
    return "lower_need_low_strength" if low else "lower_need_higher_strength"


def need_strength(
    store: Store,
    *,
    imd_release: int | None = None,
    need: str = "imd",
    basis: str = "auto",
    text: str | None = None,
    taxonomy: str | Sequence[str] | None = None,
    kinds: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    method: str = "2sfca",
    catchment_m: float = DEFAULT_CATCHMENT_M,
    need_threshold: float | None = None,
    strength_threshold: float | None = None,
    need_quantile: float = 2 / 3,
    strength_quantile: float = 1 / 3,
    areas: Sequence[str] | None = None,
    distance: DistanceProvider | None = None,
) -> NeedStrength:
    """Need beside strength for every loaded LSOA 2011 (or ``areas``); see the module docstring.

    The assets are the directory's (filtered by ``text``, ``taxonomy``, ``sources``; ``kinds``
    chooses the ABCD kinds that make up strength, all found by default)."""
    _check_quantile(need_quantile, "need_quantile")
    _check_quantile(strength_quantile, "strength_quantile")
    weighting(method, catchment_m)  # check before any work
    table = load_areas(store, areas)
    scores = need_scores(store, table, measure=need, imd_release=imd_release, basis=basis)
    supply = directory_supply(store, text=text, taxonomy=taxonomy, sources=sources)
    strength = strength_scores(
        store, table, supply=supply, kinds=kinds, method=method, catchment_m=catchment_m,
        distance=distance,
    )  # fmt: skip
    known_need = scores.values[~np.isnan(scores.values)]
    known_strength = strength.values[~np.isnan(strength.values)]
    if need_threshold is None and not len(known_need):
        raise InputError("no area has a need value to set a threshold from", field="need")
    t = Thresholds(
        need=float(need_threshold)
        if need_threshold is not None
        else float(np.quantile(known_need, need_quantile)),
        strength=float(strength_threshold)
        if strength_threshold is not None
        else float(np.quantile(known_strength, strength_quantile))
        if len(known_strength)
        else float("nan"),
        need_quantile=None if need_threshold is not None else need_quantile,
        strength_quantile=None if strength_threshold is not None else strength_quantile,
    )
    le_values = scores.life_expectancy.value if scores.life_expectancy is not None else None
    rows: list[NeedStrengthArea] = []
    for i, code in enumerate(table.codes):
        nv = scores.values[i]
        sv = strength.values[i]
        n_val = None if np.isnan(nv) else float(nv)
        s_val = None if np.isnan(sv) else float(sv)
        by_kind = {
            k.kind: (float(k.access[i] / k.mean) if k.point_in[i] else None) for k in strength.kinds
        }
        rows.append(
            NeedStrengthArea(
                code=code,
                name=table.names[i],
                population=int(table.population[i]),
                need=n_val,
                strength=s_val,
                quadrant=quadrant(n_val, s_val, t),
                coverage=strength.coverage[i],
                strength_by_kind=by_kind,
                imd_rank=None if np.isnan(scores.imd_rank[i]) else float(scores.imd_rank[i]),
                imd_decile=None if np.isnan(scores.imd_decile[i]) else float(scores.imd_decile[i]),
                life_expectancy=(
                    None if le_values is None or np.isnan(le_values[i]) else float(le_values[i])
                ),
                note=scores.notes.get(code),
            )
        )
    notes = [*supply.notes(), point_kinds_note(table), *strength.notes]
    if scores.notes:
        notes.append(
            f"IMD {scores.release}: {len(scores.notes)} areas reach the release through the "
            "2011 -> 2021 lookup with a note (merged or split)"
        )
    datasets = [*AREA_DATASETS, f"imd{scores.release}", "life_expectancy", *supply.sources()]
    return NeedStrength(scores, strength, t, rows, notes, attribution(store, *datasets))


__all__ = [
    "COVERAGE_STATES",
    "NEED_MEASURES",
    "QUADRANTS",
    "AreaCoverage",
    "KindStrength",
    "NeedScores",
    "NeedStrength",
    "NeedStrengthArea",
    "Strength",
    "Thresholds",
    "area_coverage",
    "coverage_region",
    "need_scores",
    "need_strength",
    "quadrant",
    "strength_scores",
]
