"""The profile of a route in three steps: sample the line, describe each point, summarise.

Example:
    >>> walk = "Leeds station@-1.5477,53.7951;New Wortley@-1.5790,53.7940"
    >>> p = profile_route(store, walk, every_m=250, radius_m=250)        # doctest: +SKIP
    >>> p.points[0].msoa_code, p.points[0].assets_within.count > 0       # doctest: +SKIP
    ('E02006875', True)

``sample_route`` (``strengthmap.routes.sampling``) places the points; ``profile_points`` gives
each its areas, IMD and life expectancy (and the assets near it, with a radius);
``summarise_profile`` gives the ranges, the gap with its significance and the largest changes.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

from strengthmap import indicators
from strengthmap.errors import InputError
from strengthmap.geography import OUTSIDE
from strengthmap.indicators import Estimate
from strengthmap.routes.data import ASSETS_NEAREST, Assets, ProfileData, profile_data
from strengthmap.routes.results import (
    CHANGE_MEASURES,
    SEXES,
    AssetsWithin,
    Change,
    DeprivationAt,
    ImdRange,
    LifeExpectancyAt,
    LifeExpectancyRange,
    NearbyAsset,
    PointRef,
    ProfilePoint,
    RouteProfile,
    RouteSummary,
    Sex,
    ValueAt,
    ValueCI,
)
from strengthmap.routes.sampling import Samples, sample_route
from strengthmap.sources.transport import RouteInput, as_route
from strengthmap.storage import Store

ATTRIBUTION_OGL = (
    "Source: Office for National Statistics (life expectancy 2016 to 2020, boundaries; "
    "contains OS data © Crown copyright and database right 2021) and MHCLG English Indices of "
    "Deprivation, licensed under the Open Government Licence v3.0"
)

#: For each point: the indexes (in ``Assets``) of the assets within the radius and their
#: distances in metres, nearest first.
AssetHits = list[tuple[NDArray[np.int64], NDArray[np.float64]]]


def profile_route(
    store: Store,
    line_or_input: RouteInput
    | shapely.LineString
    | shapely.MultiLineString
    | str
    | Sequence[Sequence[float]],
    *,
    every_m: float = 250,
    imd_release: int | None = None,
    radius_m: float | None = None,
    data: ProfileData | None = None,
    assets_nearest: int = ASSETS_NEAREST,
) -> RouteProfile:
    """Profile a route: every stop and a point every ``every_m`` metres, each with its areas,
    IMD and life expectancy (see ``strengthmap.routes``). ``data`` reuses loaded indexes (by
    default they are cached per store).

    ``radius_m`` adds ``assets_within`` to each point (``count`` and the ``assets_nearest``
    nearest, each with ``name``, ``abcd_kind``, ``distance_m``): the directory's located assets
    (``Location`` rows with latitude/longitude, not retired) within that many metres on the
    ellipsoid.

    Example:
        >>> walk = "Leeds station@-1.5477,53.7951;New Wortley@-1.5790,53.7940"
        >>> p = profile_route(store, walk, every_m=250, radius_m=250)       # doctest: +SKIP
        >>> p.points[0].assets_within.count > 0                              # doctest: +SKIP
        True
    """
    if not (every_m > 0 and math.isfinite(every_m)):
        raise InputError("--every must be a positive number of metres", field="every_m")
    if radius_m is not None and not (radius_m > 0 and math.isfinite(radius_m)):
        raise InputError("radius must be a positive number of metres", field="radius_m")
    if assets_nearest < 0:
        raise InputError("assets_nearest must be 0 or more", field="assets_nearest")
    route = as_route(line_or_input)
    data = data or profile_data(store, imd_release)
    samples = sample_route(route, every_m)
    assets = (data.assets or Assets.empty()) if radius_m is not None else None
    hits = (
        assets.within(samples.lon, samples.lat, radius_m)
        if assets is not None and radius_m is not None
        else None
    )
    points = profile_points(route, samples, data, assets, hits, assets_nearest=assets_nearest)
    summary = summarise_profile(
        route, points, data, samples.length_m, every_m, radius_m=radius_m, assets=assets, hits=hits
    )
    return RouteProfile.of(route, points, summary)


# --- each point --------------------------------------------------------------------------------


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def _life_expectancy(data: ProfileData, msoa: str) -> tuple[LifeExpectancyAt, list[str]]:
    """An MSOA's life expectancy and its flags (``no_le_male``, ``le_female_suppressed`` ...)."""
    by_sex = data.le.get(msoa, {}) if msoa != OUTSIDE else {}
    values: dict[Sex, ValueCI] = {}
    flags: list[str] = []
    for sex in SEXES:
        est = by_sex.get(sex)
        if est is None:
            values[sex] = ValueCI.missing()
            if msoa != OUTSIDE:
                flags.append(f"no_le_{sex}")
        else:
            values[sex] = ValueCI(value=_r(est.value), lower=_r(est.lower), upper=_r(est.upper))
            if est.suppressed:
                flags.append(f"le_{sex}_suppressed")
    return LifeExpectancyAt(male=values["male"], female=values["female"]), flags


def _assets_within(
    assets: Assets, hit: tuple[NDArray[np.int64], NDArray[np.float64]], nearest: int
) -> AssetsWithin:
    idx, dist = hit
    return AssetsWithin(
        count=len(idx),
        nearest=[
            NearbyAsset(
                name=assets.names[j], abcd_kind=assets.kinds[j], distance_m=round(float(m), 1)
            )
            for j, m in zip(idx[:nearest], dist[:nearest], strict=True)
        ],
    )


def profile_points(
    route: RouteInput,
    samples: Samples,
    data: ProfileData,
    assets: Assets | None = None,
    hits: AssetHits | None = None,
    *,
    assets_nearest: int = ASSETS_NEAREST,
) -> list[ProfilePoint]:
    """Each sampled point with its LSOA (of the IMD release's vintage) and MSOA 2011, IMD decile
    and rank, life expectancy and flags; with ``hits`` (``Assets.within`` of the same points),
    the assets within the radius too."""
    n = len(samples)
    outside = np.full(n, OUTSIDE, object)
    lsoa = data.lsoa.locate(samples.lon, samples.lat) if data.lsoa is not None else outside
    msoa = data.msoa.locate(samples.lon, samples.lat) if data.msoa is not None else outside
    # plain Python values, read once (indexing numpy arrays point by point is slow)
    lons, lats = samples.lon.tolist(), samples.lat.tolist()
    dists, stop_at = samples.distance_m.tolist(), samples.stop.tolist()
    le_of: dict[str, tuple[LifeExpectancyAt, list[str]]] = {}
    points: list[ProfilePoint] = []
    for i, (lc, mc) in enumerate(zip(map(str, lsoa), map(str, msoa), strict=True)):
        flags: list[str] = []
        if lc == OUTSIDE:
            flags.append("outside_lsoa_coverage")
        if mc == OUTSIDE:
            flags.append("outside_msoa_coverage")
        imd = data.imd.get(lc) if lc != OUTSIDE else None
        if lc != OUTSIDE and imd is None:
            flags.append("no_imd")
        if mc not in le_of:
            le_of[mc] = _life_expectancy(data, mc)
        le, le_flags = le_of[mc]
        stop = route.stops[stop_at[i]] if stop_at[i] >= 0 else None
        points.append(
            ProfilePoint(
                name=stop.name if stop else None,
                kind="stop" if stop else "sample",
                lon=round(lons[i], 6),
                lat=round(lats[i], 6),
                distance_m=round(dists[i], 1),
                lsoa_code=lc if lc != OUTSIDE else None,
                msoa_code=mc if mc != OUTSIDE else None,
                imd_decile=imd[0] if imd else None,
                imd_rank=imd[1] if imd else None,
                life_expectancy=le,
                flags=flags + le_flags,
                stop_code=stop.code if stop else None,
                assets_within=(
                    _assets_within(assets, hits[i], assets_nearest)
                    if assets is not None and hits is not None
                    else None
                ),
            )
        )
    return points


# --- the summary -------------------------------------------------------------------------------


def largest_changes(seq: Sequence[ProfilePoint], limit: int = 5) -> dict[str, list[Change]]:
    """The largest changes between consecutive points of ``seq``, one list per measure (LE in
    years for each sex, IMD decile, IMD rank), each ranked by the size of the change (ties: first
    along the route first). A pair where either side has no value is skipped."""
    out: dict[str, list[Change]] = {}
    for measure in CHANGE_MEASURES:
        found: list[Change] = []
        for a, b in itertools.pairwise(seq):
            va, vb = a.measure(measure), b.measure(measure)
            if va is not None and vb is not None and va != vb:
                change = round(vb - va, 3) if measure.startswith("life") else vb - va
                found.append(
                    Change(measure=measure, from_=PointRef.of(a), to=PointRef.of(b), change=change)
                )
        found.sort(key=lambda c: (-abs(c.change), c.from_.distance_m))
        out[measure] = found[:limit]
    return out


def _value_at(p: ProfilePoint, sex: Sex) -> ValueAt:
    v = p.life_expectancy.of(sex)
    return ValueAt(value=v.value, lower=v.lower, upper=v.upper, name=p.name,
                   distance_m=p.distance_m, lsoa_code=p.lsoa_code, msoa_code=p.msoa_code)  # fmt: skip


def _life_expectancy_range(points: Sequence[ProfilePoint], sex: Sex) -> LifeExpectancyRange | None:
    """The lowest and highest value for ``sex`` (ties: first along the route), the gap and its
    significance (95% CIs that do not overlap)."""
    have = [p for p in points if p.life_expectancy.of(sex).value is not None]
    if not have:
        return None

    def value(p: ProfilePoint) -> float:
        v = p.life_expectancy.of(sex).value
        assert v is not None
        return v

    lo = min(have, key=lambda p: (value(p), p.distance_m))
    hi = max(have, key=lambda p: (value(p), -p.distance_m))
    e_lo, e_hi = lo.life_expectancy.of(sex), hi.life_expectancy.of(sex)
    cmp = indicators.compare(
        Estimate(e_hi.value, e_hi.lower, e_hi.upper), Estimate(e_lo.value, e_lo.lower, e_lo.upper)
    )
    return LifeExpectancyRange(
        min=_value_at(lo, sex),
        max=_value_at(hi, sex),
        gap_years=_r(cmp.difference),
        significant=cmp.significant,
        comparison=cmp.text,
    )


def _deprivation_at(p: ProfilePoint) -> DeprivationAt:
    return DeprivationAt(name=p.name, distance_m=p.distance_m, lsoa_code=p.lsoa_code,
                         msoa_code=p.msoa_code, imd_decile=p.imd_decile, imd_rank=p.imd_rank)  # fmt: skip


def _imd_range(points: Sequence[ProfilePoint], release: int | None) -> ImdRange | None:
    """The IMD deciles and ranks crossed, the most and least deprived points (ties: first)."""
    with_imd = [p for p in points if p.imd_decile is not None and p.imd_rank is not None]
    if not with_imd:
        return None
    most = min(with_imd, key=lambda p: (p.imd_rank or 0, p.distance_m))
    least = max(with_imd, key=lambda p: (p.imd_rank or 0, -p.distance_m))
    deciles = [p.imd_decile for p in with_imd if p.imd_decile is not None]
    return ImdRange(
        release=release,
        decile_min=min(deciles),
        decile_max=max(deciles),
        rank_min=most.imd_rank,
        rank_max=least.imd_rank,
        most_deprived=_deprivation_at(most),
        least_deprived=_deprivation_at(least),
        points_in_decile_1=sum(1 for d in deciles if d == 1),
    )


def summarise_profile(
    route: RouteInput,
    points: Sequence[ProfilePoint],
    data: ProfileData,
    length_m: float,
    every_m: float,
    *,
    radius_m: float | None = None,
    assets: Assets | None = None,
    hits: AssetHits | None = None,
) -> RouteSummary:
    """The route as a whole: coverage, the life-expectancy and IMD ranges, the largest changes
    stop to stop and point to point (one list per measure, each in its own unit), the
    attribution of every dataset shown; with a radius, the distinct assets near the route."""
    stops = [p for p in points if p.kind == "stop"]
    attribution = [ATTRIBUTION_OGL, *route.attribution]
    near_any: list[int] | None = None
    by_kind: dict[str, int] | None = None
    within_max: int | None = None
    if radius_m is not None and assets is not None and hits is not None:
        # distinct assets within the radius of any point, by ABCD kind
        near_any = sorted({int(j) for idx, _ in hits for j in idx})
        by_kind = dict(sorted(Counter(assets.kinds[j] or "unknown" for j in near_any).items()))
        within_max = max((len(idx) for idx, _ in hits), default=0)
        # the licence of every dataset an asset within the radius came from
        used = sorted({src for j in near_any if (src := assets.sources[j])})
        extra = [assets.attribution[u] for u in used if u in assets.attribution]
        attribution += [a for a in extra if a not in attribution]
    outside = {"outside_lsoa_coverage", "outside_msoa_coverage"}
    return RouteSummary(
        source=route.source,
        name=route.name,
        length_m=round(length_m, 1),
        every_m=every_m,
        imd_release=data.imd_release,
        lsoa_vintage=data.lsoa.vintage if data.lsoa is not None else None,
        msoa_vintage=2011,
        n_points=len(points),
        n_stops=len(stops),
        n_outside=sum(1 for p in points if outside.intersection(p.flags)),
        n_le_suppressed=sum(1 for p in points if any(f.endswith("_suppressed") for f in p.flags)),
        life_expectancy={sex: _life_expectancy_range(points, sex) for sex in SEXES},
        imd=_imd_range(points, data.imd_release),
        largest_stop_changes_by_measure=largest_changes(stops),
        largest_point_changes_by_measure=largest_changes(points),
        attribution=attribution,
        radius_m=radius_m if near_any is not None else None,
        assets_within_max=within_max,
        assets_near_route=len(near_any) if near_any is not None else None,
        assets_near_route_by_kind=by_kind,
    )


__all__ = [
    "ATTRIBUTION_OGL",
    "AssetHits",
    "largest_changes",
    "profile_points",
    "profile_route",
    "summarise_profile",
]
