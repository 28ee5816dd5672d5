"""Access to assets: the two-step floating catchment area (2SFCA) and its enhanced form (E2SFCA).

Example:
    >>> import numpy as np
    >>> demand = Demand(codes=("A", "B"), population=np.array([1000, 3000]),
    ...                 lon=np.array([-1.55, -1.54]), lat=np.array([53.80, 53.80]))
    >>> supply = Supply(ids=("gp1",), lon=np.array([-1.545]), lat=np.array([53.80]),
    ...                 capacity=np.array([2.0]))
    >>> result = two_step_fca(demand, supply, catchment_m=1000)
    >>> [(a.code, round(a.access, 3), a.in_reach, round(a.nearest_m)) for a in result.areas]
    [('A', 0.5, 1, 329), ('B', 0.5, 1, 329)]

Method (Luo & Wang 2003; Luo & Qi 2009; the same as PySAL ``access``):

1. For each supply point j (capacity S_j) the weighted population in its catchment:
   D_j = sum over areas k with d_kj <= d0 of P_k * W(d_kj), and its ratio R_j = S_j / D_j.
2. For each area i: A_i = 1000 * sum over j with d_ij <= d0 of R_j * W(d_ij), supply per 1,000
   residents.

2SFCA weighs every pair in the catchment d0 by 1. E2SFCA weighs by distance bands (by default
thirds of the catchment weighted 1.00, 0.68 and 0.22, the weights of Luo & Qi 2009 and PySAL
``access``'s default) or by a Gaussian, W(d) = exp(-d^2 / (2 sigma^2)) for d <= d0.

Distances are geodesic metres on the WGS84 ellipsoid (Karney 2013, pyproj ``Geod``). The pairs
are found sparsely, never as a dense matrix: every point goes onto the unit sphere (its
geodetic latitude and longitude as spherical coordinates) in a KD-tree (scipy ``cKDTree``), and
one dual-tree search finds every pair whose chord is within the bound that a geodesic of d0
metres can reach. On the ellipsoid a path of length s between latitudes where the meridian
radius of curvature is at least M and the prime-vertical one at most N subtends a spherical
angle theta with s / N <= theta <= s / M, so a pair's geodesic distance lies in
[M theta, N theta]. Only pairs whose interval straddles a band edge or the catchment are
measured exactly (pyproj); the others are certainly inside their band, so 2SFCA and banded
E2SFCA measure about 1% of the pairs. The Gaussian weight needs every pair measured. The nearest
supply point of each area is found the same way: its few nearest by chord are measured exactly
and the result is accepted only when no other point can be nearer (else the ball round it is
measured too).

Street-network distance is an extension point: anything with the ``DistanceProvider`` protocol
(``pairs_within`` and ``nearest``) can replace ``GeodesicDistance``; the walk network of a
later issue will provide one.

References: Luo W, Wang F (2003) Measures of spatial accessibility to health care in a GIS
environment: synthesis and a case study in the Chicago region. *Environment and Planning B*
30(6):865-884. Luo W, Qi Y (2009) An enhanced two-step floating catchment area (E2SFCA) method
for measuring spatial accessibility to primary care physicians. *Health & Place*
15(4):1100-1107. Karney CFF (2013) Algorithms for geodesics. *J Geodesy* 87:43-55. Saxon J,
Koschinsky J, Acosta K, et al. (2022) An open software environment to make spatial access
metrics more accessible. *J Comput Soc Sci* 5:265-284 (PySAL ``access``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod
from scipy.spatial import cKDTree

from strengthmap.commissioning.areas import (
    AREA_DATASETS,
    AreaTable,
    attribution,
    load_areas,
    point_kinds_note,
)
from strengthmap.errors import InputError
from strengthmap.storage import Store

#: Largest catchment accepted, metres.
MAX_CATCHMENT_M = 100_000.0
#: Default catchment: 1 km, about a 12-minute walk.
DEFAULT_CATCHMENT_M = 1000.0
#: E2SFCA weights of the three default bands (Luo & Qi 2009; PySAL ``access``'s default).
LUO_QI_WEIGHTS = (1.0, 0.68, 0.22)
#: People per unit of the access score.
PER = 1000.0

Method = Literal["2sfca", "e2sfca"]
Decay = Literal["steps", "gaussian"]

# WGS84 (EPSG:4326) ellipsoid
_A = 6_378_137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
#: Smallest radius of curvature anywhere on WGS84 (the meridian radius at the equator), metres.
_M_MIN = _A * (1 - _E2)
#: Relative slack on the distance bounds, far above float64 rounding of chords and angles.
_SLACK = 1e-9


def _meridian_radius(lat_rad: float) -> float:
    return _A * (1 - _E2) / (1 - _E2 * math.sin(lat_rad) ** 2) ** 1.5


def _prime_vertical_radius(lat_rad: float) -> float:
    return _A / math.sqrt(1 - _E2 * math.sin(lat_rad) ** 2)


def _unit_vectors(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.float64]:
    lo = np.radians(lon)
    la = np.radians(lat)
    cl = np.cos(la)
    return np.column_stack([cl * np.cos(lo), cl * np.sin(lo), np.sin(la)])


def _chord(theta: float | NDArray[np.float64]) -> Any:
    return 2.0 * np.sin(np.asarray(theta) / 2.0)


def _inverse_bound(k: float) -> float:
    """The chord v with v (1 + v^2/16) = k (Newton; k >= 0 and small)."""
    v = k
    for _ in range(6):
        v -= (v * (1 + v * v / 16) - k) / (1 + 3 * v * v / 16)
    return max(v, 0.0)


def _theta(chord: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(2.0 * np.arcsin(np.minimum(chord / 2.0, 1.0)))


@dataclass(frozen=True)
class Points:
    """Points in lon/lat degrees (WGS84); their unit-sphere KD-tree is built once, on first use."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.lon)

    @cached_property
    def xyz(self) -> NDArray[np.float64]:
        """Unit vectors of the points (geodetic latitude and longitude as spherical ones)."""
        return _unit_vectors(self.lon, self.lat)

    @cached_property
    def tree(self) -> cKDTree:
        # sliding-midpoint splits: quicker to build than a balanced tree, as quick to search
        return cKDTree(self.xyz, balanced_tree=False)

    @cached_property
    def frame(self) -> PointFrame:
        """Earth-centred coordinates and normals (for ``pair_chord_geodesic_m``)."""
        return point_frame(self.lon, self.lat)


class CatchmentPairs(NamedTuple):
    """The (origin, destination) pairs within a catchment.

    ``distance_m`` is the distance where ``exact`` is true (for ``GeodesicDistance``: Karney's
    where a band edge is near, else within 2e-8 m of it); elsewhere it is a lower bound lying in
    the same band (between the same two of the requested edges) as the true distance, so a step
    weight of it is the step weight of the true distance."""

    origin: NDArray[np.intp]
    destination: NDArray[np.intp]
    distance_m: NDArray[np.float64]
    exact: NDArray[np.bool_]


class DistanceProvider(Protocol):
    """How far apart points are: geodesic (``GeodesicDistance``) or, later, along a street
    network. ``name`` is written into results as their ``distance``."""

    name: str

    def pairs_within(
        self,
        origins: Points,
        destinations: Points,
        max_m: float,
        *,
        exact_at: Sequence[float] | None = None,
    ) -> CatchmentPairs:
        """Every pair within ``max_m`` metres. With ``exact_at`` (band edges, ``max_m`` among
        them) a provider may skip measuring pairs whose band is certain; without it every
        returned distance is exact."""
        ...

    def nearest(
        self, origins: Points, destinations: Points
    ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """For each origin, the index of its nearest destination and the distance in metres."""
        ...


#: Up to this distance ``chord_geodesic_m`` stands in for Karney's distance (within 2e-8 m).
CHORD_FORMULA_MAX_M = 50_000.0
#: Absolute margin (metres) round band edges within which a pair is always measured by Karney.
_EDGE_MARGIN_M = 1e-6


#: Per point: Earth-centred x, y, z (metres) and the unit normal (geodetic "up").
PointFrame = tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
    NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
]  # fmt: skip
#: Pairs measured together by the chord formula (keeps the temporaries in cache).
_CHUNK = 262_144


def point_frame(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> PointFrame:
    """Earth-centred coordinates and unit normals of points on the WGS84 ellipsoid."""
    p = np.radians(lat)
    lam = np.radians(lon)
    sp, cp, sl, cl = np.sin(p), np.cos(p), np.sin(lam), np.cos(lam)
    n = _A / np.sqrt(1 - _E2 * sp * sp)
    return (n * cp * cl, n * cp * sl, n * (1 - _E2) * sp, cp * cl, cp * sl, sp)


def _pair_chord_geodesic(
    a: PointFrame, b: PointFrame, i: NDArray[np.intp], j: NDArray[np.intp]
) -> NDArray[np.float64]:
    x1, y1, z1, nx1, ny1, nz1 = (v[i] for v in a)
    x2, y2, z2, nx2, ny2, nz2 = (v[j] for v in b)
    dx, dy, dz = x2 - x1, y2 - y1, z2 - z1
    cc = dx * dx + dy * dy + dz * dz
    # "up" at the mid-point: the mean of the two normals (its z is sin(latitude))
    ux, uy, uz = nx1 + nx2, ny1 + ny2, nz1 + nz2
    uu = ux * ux + uy * uy + uz * uz
    du = dx * ux + dy * uy + dz * uz
    horizontal = cc - du * du / uu
    sin2 = uz * uz / uu
    # cos^2 of the azimuth: the chord's northward part; north is z's part across "up"
    denom = horizontal * (1 - sin2)
    cos2 = np.divide(dz * dz, denom, out=np.ones_like(denom), where=denom > 0)
    np.minimum(cos2, 1.0, out=cos2)
    w = 1 - _E2 * sin2
    curvature = cos2 * (w**1.5 / (_A * (1 - _E2))) + (1 - cos2) * (np.sqrt(w) / _A)
    return np.asarray(2 / curvature * np.arcsin(np.sqrt(cc) * curvature / 2), dtype=np.float64)


def pair_chord_geodesic_m(
    a: PointFrame, b: PointFrame, i: NDArray[np.intp], j: NDArray[np.intp]
) -> NDArray[np.float64]:
    """``chord_geodesic_m`` of the pairs (a[i], b[j]) from precomputed point frames."""
    out = np.empty(len(i), dtype=np.float64)
    for k in range(0, len(i), _CHUNK):
        out[k : k + _CHUNK] = _pair_chord_geodesic(a, b, i[k : k + _CHUNK], j[k : k + _CHUNK])
    return out


def chord_geodesic_m(
    lon1: NDArray[np.float64],
    lat1: NDArray[np.float64],
    lon2: NDArray[np.float64],
    lat2: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Geodesic distance (metres, WGS84) of nearby points from their straight-line chord.

    A geodesic is a space curve whose curvature is the surface's normal curvature in its
    direction, 1/R = cos^2(a)/M + sin^2(a)/N (Euler); over a short arc it is a circular arc of
    that radius to within terms of the fifth order, so s = 2 R asin(c / 2R), with c the chord
    between the points in Earth-centred coordinates and R taken at the mid-point (its "up" the
    mean of the two normals) in the chord's direction. Tested against Karney's algorithm
    (pyproj) at every latitude and azimuth and across the antimeridian: within 2e-8 m up to
    50 km (``CHORD_FORMULA_MAX_M``). Vectorised, a few times faster than measuring each pair.

    >>> d = chord_geodesic_m(np.array([-1.55]), np.array([53.80]), np.array([-1.54]), np.array([53.81]))
    >>> round(float(d[0]), 6) == round(float(Geod(ellps="WGS84").inv(-1.55, 53.80, -1.54, 53.81)[2]), 6)
    True
    """
    idx = np.arange(len(lon1), dtype=np.intp)
    return pair_chord_geodesic_m(point_frame(lon1, lat1), point_frame(lon2, lat2), idx, idx)


class GeodesicDistance:
    """Geodesic metres on the WGS84 ellipsoid, pairs found with KD-trees on the unit sphere.

    Where a pair's side of a band edge (or of the catchment) is in doubt it is measured by
    Karney's algorithm (pyproj); where only the weight of a known-inside pair is wanted (the
    Gaussian) the chord formula ``chord_geodesic_m`` is used up to 50 km."""

    name = "geodesic"

    def __init__(self) -> None:
        self.geod = Geod(ellps="WGS84")

    def measure(
        self,
        lon1: ArrayLike,
        lat1: ArrayLike,
        lon2: ArrayLike,
        lat2: ArrayLike,
    ) -> NDArray[np.float64]:
        """Geodesic distances in metres between paired points (Karney 2013)."""
        a1 = np.asarray(lon1, dtype=np.float64)
        if a1.size == 0:
            return np.zeros(0, dtype=np.float64)
        _, _, d = self.geod.inv(
            a1,
            np.asarray(lat1, dtype=np.float64),
            np.asarray(lon2, dtype=np.float64),
            np.asarray(lat2, dtype=np.float64),
        )
        return np.asarray(d, dtype=np.float64)

    @staticmethod
    def _radii(
        lat_a: NDArray[np.float64], lat_b: NDArray[np.float64], reach_m: float
    ) -> tuple[float, float]:
        """(M, N): bounds on the radii of curvature along any path of at most ``reach_m``
        metres between the points: the smallest meridian radius and the largest prime-vertical
        radius over their latitudes widened by the reach (M and N grow with |latitude|)."""
        lats = np.abs(np.radians(np.concatenate([lat_a, lat_b])))
        pad = reach_m / _M_MIN
        lo = max(0.0, float(lats.min()) - pad)
        hi = min(math.pi / 2, float(lats.max()) + pad)
        return _meridian_radius(lo), _prime_vertical_radius(hi)

    def pairs_within(
        self,
        origins: Points,
        destinations: Points,
        max_m: float,
        *,
        exact_at: Sequence[float] | None = None,
    ) -> CatchmentPairs:
        empty = CatchmentPairs(
            np.zeros(0, np.intp), np.zeros(0, np.intp), np.zeros(0), np.zeros(0, bool)
        )
        if len(origins) == 0 or len(destinations) == 0:
            return empty
        m_lo, n_hi = self._radii(origins.lat, destinations.lat, max_m)
        radius = float(_chord(max_m / m_lo * (1 + _SLACK)))
        found = origins.tree.sparse_distance_matrix(
            destinations.tree, radius, output_type="ndarray"
        )
        if len(found) == 0:
            return empty
        o = found["i"].astype(np.intp)
        d = found["j"].astype(np.intp)
        v = found["v"]
        # distance bounds from the chord v: the angle lies in [v, v (1 + v^2/16)], so the
        # distance in [M v, N v (1 + v^2/16)]; a pair is in doubt about an edge e when
        # low <= e <= high (give or take a micrometre), i.e. v between two thresholds
        low = v * (m_lo * (1 - _SLACK))
        doubt = np.zeros(len(o), dtype=bool)
        for e in sorted({max_m, *(exact_at or ())}):
            lo_v = _inverse_bound((e - _EDGE_MARGIN_M) / (n_hi * (1 + _SLACK)))
            hi_v = (e + _EDGE_MARGIN_M) / (m_lo * (1 - _SLACK))
            doubt |= (v >= lo_v) & (v <= hi_v)
        dist = low
        if doubt.any():
            dist[doubt] = self.measure(
                origins.lon[o[doubt]],
                origins.lat[o[doubt]],
                destinations.lon[d[doubt]],
                destinations.lat[d[doubt]],
            )
        if exact_at is None:
            rest = ~doubt
            if rest.any():
                if max_m <= CHORD_FORMULA_MAX_M:
                    dist[rest] = pair_chord_geodesic_m(
                        origins.frame, destinations.frame, o[rest], d[rest]
                    )
                else:
                    dist[rest] = self.measure(
                        origins.lon[o[rest]],
                        origins.lat[o[rest]],
                        destinations.lon[d[rest]],
                        destinations.lat[d[rest]],
                    )
            exact = np.ones(len(o), dtype=bool)
        else:
            exact = doubt
        # only pairs measured at the catchment's edge can lie beyond it
        keep = ~doubt | (dist <= max_m)
        if keep.all():
            return CatchmentPairs(o, d, dist, exact)
        return CatchmentPairs(o[keep], d[keep], dist[keep], exact[keep])

    def nearest(
        self, origins: Points, destinations: Points
    ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        n = len(origins)
        m = len(destinations)
        if m == 0:
            return np.full(n, -1, dtype=np.intp), np.full(n, np.nan)
        k = min(2, m)
        chord, idx = destinations.tree.query(origins.xyz, k=k)
        chord = np.asarray(chord, dtype=np.float64).reshape(n, k)
        idx = np.asarray(idx, dtype=np.intp).reshape(n, k)
        best_idx = idx[:, 0].copy()
        best_d = self.measure(
            origins.lon, origins.lat, destinations.lon[best_idx], destinations.lat[best_idx]
        )
        if m == 1:
            return best_idx, best_d
        # a point nearer than best_d lies within it: bound the radii over that reach
        m_lo, _ = self._radii(origins.lat, destinations.lat, float(best_d.max()))
        # every other point's chord is at least the second's, so its distance at least M theta
        certain = _theta(chord[:, 1]) * m_lo * (1 - _SLACK) > best_d
        for i in np.flatnonzero(~certain):
            ball = destinations.tree.query_ball_point(
                origins.xyz[i], float(_chord(best_d[i] / m_lo * (1 + _SLACK))) + 1e-15
            )
            cand = np.asarray(sorted(ball), dtype=np.intp)
            dd = self.measure(
                np.full(len(cand), origins.lon[i]),
                np.full(len(cand), origins.lat[i]),
                destinations.lon[cand],
                destinations.lat[cand],
            )
            j = int(np.lexsort((cand, dd))[0])  # nearest, ties to the lower index
            best_idx[i], best_d[i] = cand[j], dd[j]
        return best_idx, best_d


#: The distance used unless another provider is given.
GEODESIC = GeodesicDistance()


@dataclass(frozen=True)
class Weighting:
    """How a pair at distance d counts: 1 within the catchment (2SFCA); by bands
    ``((upper_m, weight), ...)`` (a pair counts with the weight of the first band whose upper
    edge is >= d; none beyond the last); or by a Gaussian of width ``sigma_m``."""

    method: Method
    catchment_m: float
    bands: tuple[tuple[float, float], ...] = ()
    sigma_m: float | None = None

    @property
    def decay(self) -> str:
        if self.method == "2sfca":
            return "none"
        return "gaussian" if self.sigma_m is not None else "steps"

    def edges(self) -> list[float] | None:
        """Band edges whose side must be known exactly (None: every distance is needed)."""
        if self.method == "2sfca":
            return [self.catchment_m]
        if self.sigma_m is not None:
            return None
        return [u for u, _ in self.bands]

    def weights(self, distance_m: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.method == "2sfca":
            return np.where(distance_m <= self.catchment_m, 1.0, 0.0)
        if self.sigma_m is not None:
            w = np.exp(-(distance_m**2) / (2 * self.sigma_m**2))
            return np.where(distance_m <= self.catchment_m, w, 0.0)
        uppers = np.array([u for u, _ in self.bands])
        values = np.array([w for _, w in self.bands] + [0.0])
        return np.asarray(values[np.searchsorted(uppers, distance_m, side="left")])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"decay": self.decay}
        if self.bands and self.method == "e2sfca" and self.sigma_m is None:
            out["bands"] = [{"upper_m": u, "weight": w} for u, w in self.bands]
        if self.sigma_m is not None:
            out["sigma_m"] = self.sigma_m
        return out


def check_catchment(catchment_m: float) -> float:
    """The catchment in metres, or ``InputError`` (0, negative, not a number, over 100 km)."""
    try:
        value = float(catchment_m)
    except (TypeError, ValueError):
        raise InputError(f"not a number: {catchment_m!r}", field="catchment_m") from None
    if not math.isfinite(value) or value <= 0:
        raise InputError(
            f"the catchment must be above 0 metres (got {catchment_m!r})", field="catchment_m"
        )
    if value > MAX_CATCHMENT_M:
        raise InputError(
            f"the catchment must be at most {MAX_CATCHMENT_M:,.0f} m (100 km); got {value:,.0f} m",
            field="catchment_m",
        )
    return value


def weighting(
    method: str = "2sfca",
    catchment_m: float = DEFAULT_CATCHMENT_M,
    *,
    bands: Sequence[tuple[float, float]] | None = None,
    decay: str = "steps",
    sigma_m: float | None = None,
) -> Weighting:
    """A checked ``Weighting``. E2SFCA defaults to three equal bands of the catchment weighted
    1.00, 0.68, 0.22 (Luo & Qi 2009); ``decay="gaussian"`` uses ``sigma_m`` (default half the
    catchment, so a pair at the catchment's edge counts e^-2 = 0.135)."""
    c = check_catchment(catchment_m)
    if method not in ("2sfca", "e2sfca"):
        raise InputError(f"unknown method {method!r}; one of 2sfca, e2sfca", field="method")
    if method == "2sfca":
        if bands or decay != "steps" or sigma_m is not None:
            raise InputError("2sfca takes no bands or decay: use --method e2sfca", field="method")
        return Weighting("2sfca", c)
    if decay not in ("steps", "gaussian"):
        raise InputError(f"unknown decay {decay!r}; one of steps, gaussian", field="decay")
    if decay == "gaussian":
        if bands:
            raise InputError("a Gaussian decay takes no bands", field="bands")
        sigma = c / 2 if sigma_m is None else float(sigma_m)
        if not math.isfinite(sigma) or sigma <= 0:
            raise InputError("sigma_m must be above 0", field="sigma_m")
        return Weighting("e2sfca", c, sigma_m=sigma)
    if bands is None:
        steps = tuple((c * (i + 1) / len(LUO_QI_WEIGHTS), w) for i, w in enumerate(LUO_QI_WEIGHTS))
    else:
        steps = tuple((float(u), float(w)) for u, w in bands)
        if not steps:
            raise InputError("give at least one band", field="bands")
        last = 0.0
        for u, w in steps:
            if not (math.isfinite(u) and math.isfinite(w)) or u <= last or w < 0:
                raise InputError(
                    "bands must be (upper_m, weight) with upper edges rising above 0 and "
                    "weights of 0 or more",
                    field="bands",
                )
            last = u
        if last > c:
            raise InputError(
                f"the last band ends at {last:g} m, beyond the catchment of {c:g} m",
                field="bands",
            )
        if not any(w > 0 for _, w in steps):
            raise InputError("every band weight is 0", field="bands")
    return Weighting("e2sfca", c, bands=steps)


@dataclass(frozen=True)
class Demand:
    """Where people live: one demand point per area with its population."""

    codes: tuple[str, ...]
    population: NDArray[Any]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    names: tuple[str, ...] = ()
    point_kind: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.codes)


@dataclass(frozen=True)
class Supply:
    """Supply points (sites) with their capacity (default 1 each)."""

    ids: tuple[str, ...]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    capacity: NDArray[np.float64]
    names: tuple[str | None, ...] = ()

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class AreaAccess:
    """One area's access: supply per 1,000 residents, supply points in reach, the nearest."""

    code: str
    population: int
    lon: float
    lat: float
    access: float
    in_reach: int
    nearest_m: float | None
    nearest_id: str | None = None
    nearest_name: str | None = None
    name: str | None = None
    point: str | None = None  # "centroid" | "representative point"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "population": self.population,
            "lon": round(self.lon, 6),
            "lat": round(self.lat, 6),
            "point": self.point,
            "access": self.access,
            "in_reach": self.in_reach,
            "nearest_m": None if self.nearest_m is None else round(self.nearest_m, 1),
            "nearest_id": self.nearest_id,
            "nearest_name": self.nearest_name,
        }


@dataclass(frozen=True)
class AccessResult:
    """2SFCA / E2SFCA over areas; ``to_dict`` is the JSON of ``commission access``. The
    per-area records (``areas``) are made from the arrays on first use."""

    method: str
    catchment_m: float
    distance: str
    weighting: Weighting
    demand: Demand
    supply: Supply
    arrays: FcaArrays
    nearest_index: NDArray[np.intp]
    nearest_distance_m: NDArray[np.float64]
    notes: list[str] = field(default_factory=list)
    attribution: list[str] = field(default_factory=list)

    @property
    def access(self) -> NDArray[np.float64]:
        """Access per 1,000 residents of each area, in demand order."""
        return self.arrays.access

    @property
    def supply_points(self) -> int:
        return len(self.supply)

    @property
    def supply_total(self) -> float:
        return float(np.sum(self.supply.capacity))

    @property
    def pairs(self) -> int:
        return self.arrays.pairs

    @cached_property
    def areas(self) -> list[AreaAccess]:
        d, s, a = self.demand, self.supply, self.arrays
        out = []
        for i in range(len(d)):
            j = int(self.nearest_index[i])
            out.append(
                AreaAccess(
                    code=d.codes[i],
                    population=int(d.population[i]),
                    lon=float(d.lon[i]),
                    lat=float(d.lat[i]),
                    access=float(a.access[i]),
                    in_reach=int(a.in_reach[i]),
                    nearest_m=float(self.nearest_distance_m[i]) if j >= 0 else None,
                    nearest_id=s.ids[j] if j >= 0 else None,
                    nearest_name=s.names[j] if s.names and j >= 0 else None,
                    name=d.names[i] if d.names else None,
                    point=d.point_kind[i] if d.point_kind else None,
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "catchment_m": self.catchment_m,
            "distance": self.distance,
            "weights": self.weighting.to_dict(),
            "per": int(PER),
            "supply_points": self.supply_points,
            "supply_total": self.supply_total,
            "pairs_in_catchment": self.pairs,
            "areas": [a.to_dict() for a in self.areas],
            "notes": list(self.notes),
            "attribution": list(self.attribution),
        }


@dataclass(frozen=True)
class FcaArrays:
    """The arrays behind an ``AccessResult`` (index i = demand area, j = supply point)."""

    access: NDArray[np.float64]  # per 1,000 residents
    in_reach: NDArray[np.int64]
    ratio: NDArray[np.float64]  # R_j: supply per resident in its catchment (0 where none)
    pairs: int
    reached: int  # supply points with some (weighted) demand in their catchment


def fca(
    population: NDArray[Any],
    capacity: NDArray[np.float64],
    pairs: CatchmentPairs,
    weights: Weighting,
) -> FcaArrays:
    """Both steps over the pairs (the arrays version of ``two_step_fca``)."""
    n, m = len(population), len(capacity)
    pop = np.asarray(population, dtype=np.float64)
    # 2SFCA: every pair in the catchment weighs 1, so no weights are made or multiplied
    w = None if weights.method == "2sfca" else weights.weights(pairs.distance_m)
    step1 = pop[pairs.origin] if w is None else pop[pairs.origin] * w
    demand_j = np.bincount(pairs.destination, weights=step1, minlength=m)
    ratio = np.zeros(m, dtype=np.float64)
    has = demand_j > 0
    ratio[has] = capacity[has] / demand_j[has]
    step2 = ratio[pairs.destination] if w is None else ratio[pairs.destination] * w
    access = np.asarray(
        np.bincount(pairs.origin, weights=step2, minlength=n) * PER, dtype=np.float64
    )
    in_reach = np.bincount(pairs.origin, minlength=n).astype(np.int64)
    return FcaArrays(access, in_reach, ratio, len(pairs.origin), int(np.count_nonzero(has)))


def _check_demand(demand: Demand) -> NDArray[np.float64]:
    pop = np.asarray(demand.population, dtype=np.float64)
    if len(pop) != len(demand.codes) or len(demand.lon) != len(pop) or len(demand.lat) != len(pop):
        raise InputError("demand codes, population and points differ in length", field="demand")
    if len(pop) == 0:
        raise InputError("no areas to measure access for", field="areas")
    bad = np.flatnonzero(~np.isfinite(pop) | (pop <= 0))
    if len(bad):
        i = int(bad[0])
        raise InputError(
            f"area {demand.codes[i]} has population {pop[i]:g}: access per "
            "resident needs a population above 0",
            field="population",
        )
    return pop


def _check_supply(supply: Supply) -> None:
    if len(supply) == 0:
        raise InputError("no supply points: the search or file gave none", field="supply")
    cap = np.asarray(supply.capacity, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(cap) | (cap < 0))
    if len(bad):
        raise InputError(
            f"supply point {supply.ids[int(bad[0])]} has capacity {cap[int(bad[0])]:g}: "
            "capacity must be 0 or more",
            field="capacity",
        )


def two_step_fca(
    demand: Demand,
    supply: Supply,
    *,
    catchment_m: float = DEFAULT_CATCHMENT_M,
    method: str = "2sfca",
    bands: Sequence[tuple[float, float]] | None = None,
    decay: str = "steps",
    sigma_m: float | None = None,
    distance: DistanceProvider | None = None,
    notes: Sequence[str] = (),
) -> AccessResult:
    """Access of each demand area to ``supply``: 2SFCA, or E2SFCA with bands or a Gaussian.

    Raises ``InputError`` naming the field for a bad catchment, method or bands, an area with
    population 0, a negative capacity, or supply of which none is in reach of any area."""
    weights = weighting(method, catchment_m, bands=bands, decay=decay, sigma_m=sigma_m)
    provider: DistanceProvider = distance or GEODESIC
    pop = _check_demand(demand)
    _check_supply(supply)
    origins = Points(np.asarray(demand.lon, np.float64), np.asarray(demand.lat, np.float64))
    dest = Points(np.asarray(supply.lon, np.float64), np.asarray(supply.lat, np.float64))
    pairs = provider.pairs_within(origins, dest, weights.catchment_m, exact_at=weights.edges())
    if len(pairs.origin) == 0:
        raise InputError(
            f"none of the {len(supply)} supply points is within {weights.catchment_m:,.0f} m of "
            f"any of the {len(demand)} areas' demand points: widen the catchment or check the supply",
            field="supply",
        )
    arrays = fca(pop, np.asarray(supply.capacity, np.float64), pairs, weights)
    near_idx, near_m = provider.nearest(origins, dest)
    all_notes = list(notes)
    if arrays.reached < len(supply):
        all_notes.append(
            f"{len(supply) - arrays.reached} of {len(supply)} supply points have no area's demand "
            f"point within {weights.catchment_m:,.0f} m and add nothing"
        )
    return AccessResult(
        method=weights.method,
        catchment_m=weights.catchment_m,
        distance=provider.name,
        weighting=weights,
        demand=demand,
        supply=supply,
        arrays=arrays,
        nearest_index=near_idx,
        nearest_distance_m=near_m,
        notes=all_notes,
    )


def demand_from_areas(table: AreaTable) -> Demand:
    """The demand of an ``AreaTable``: each area's population at its demand point."""
    return Demand(
        codes=table.codes,
        population=table.population,
        lon=table.lon,
        lat=table.lat,
        names=table.names,
        point_kind=table.point_kind,
    )


def access_to_assets(
    store: Store,
    *,
    text: str | None = None,
    taxonomy: str | Sequence[str] | None = None,
    kind: str | None = None,
    sources: Sequence[str] | None = None,
    supply_file: str | Path | None = None,
    method: str = "2sfca",
    catchment_m: float = DEFAULT_CATCHMENT_M,
    bands: Sequence[tuple[float, float]] | None = None,
    decay: str = "steps",
    sigma_m: float | None = None,
    areas: Sequence[str] | None = None,
    distance: DistanceProvider | None = None,
) -> AccessResult:
    """``strengthmap commission access``: access of every loaded LSOA 2011 (or ``areas``) to
    the assets a directory search finds (``text``, ``taxonomy``, ``kind``, ``sources``), or to
    the points of ``supply_file`` (GeoJSON; each point's ``capacity`` property, default 1)."""
    from strengthmap.commissioning.supply import directory_supply

    weighting(method, catchment_m, bands=bands, decay=decay, sigma_m=sigma_m)  # check first
    notes: list[str] = []
    datasets: list[str] = list(AREA_DATASETS)
    if supply_file is not None:
        if text or taxonomy or kind or sources:
            raise InputError(
                "give either a supply file or a directory search (text, taxonomy, kind, "
                "source), not both",
                field="supply",
            )
        supply = supply_from_geojson(supply_file)
        notes.append(f"supply: {len(supply)} points from {Path(supply_file).name}")
    else:
        found = directory_supply(store, text=text, taxonomy=taxonomy, kind=kind, sources=sources)
        supply = found.points()
        notes.extend(found.notes())
        datasets.extend(found.sources())
    table = load_areas(store, areas)
    notes.append(point_kinds_note(table))
    if table.population_year:
        notes.append(f"population: ONS mid-{table.population_year} estimates on LSOA 2011")
    result = two_step_fca(
        demand_from_areas(table),
        supply,
        catchment_m=catchment_m,
        method=method,
        bands=bands,
        decay=decay,
        sigma_m=sigma_m,
        distance=distance,
        notes=notes,
    )
    return replace(result, attribution=attribution(store, *datasets))


# --- supply from a GeoJSON file -------------------------------------------------------------


def supply_from_geojson(path: str | Path) -> Supply:
    """Point features of a GeoJSON file as supply; each feature's ``capacity`` property (default
    1) is its supply. Coordinates in OSGB eastings/northings or with latitude and longitude
    swapped are named, with the feature (``row`` = feature number, from 1) and field."""
    from strengthmap.geography import check_lon_lat

    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", file=str(p)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid GeoJSON: {exc}", file=str(p)) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError("not a GeoJSON FeatureCollection", file=str(p), field="type")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise InputError("the FeatureCollection has no features", file=str(p), field="features")
    ids: list[str] = []
    names: list[str | None] = []
    lons: list[float] = []
    lats: list[float] = []
    caps: list[float] = []
    for n, feat in enumerate(features, start=1):
        geom = (feat or {}).get("geometry") or {}
        props = (feat or {}).get("properties") or {}
        if geom.get("type") != "Point":
            raise InputError(
                f"feature {n} is a {geom.get('type') or 'feature without geometry'}, not a Point",
                file=str(p), row=n, field="geometry.type",
            )  # fmt: skip
        coords: Any = geom.get("coordinates")
        try:
            lon, lat = float(coords[0]), float(coords[1])
        except (TypeError, ValueError, IndexError):
            raise InputError(
                f"feature {n}: coordinates {coords!r} are not two numbers",
                file=str(p), row=n, field="geometry.coordinates",
            ) from None  # fmt: skip
        try:
            check_lon_lat(lon, lat, what=f"feature {n}")
        except InputError as exc:
            raise InputError(
                exc.message, file=str(p), row=n, field="geometry.coordinates"
            ) from None
        raw = props.get("capacity", 1)
        try:
            cap = 1.0 if raw is None else float(raw)
            if isinstance(raw, bool):
                raise ValueError
        except (TypeError, ValueError):
            raise InputError(
                f"feature {n}: capacity {raw!r} is not a number",
                file=str(p), row=n, field="properties.capacity",
            ) from None  # fmt: skip
        if not math.isfinite(cap) or cap < 0:
            raise InputError(
                f"feature {n}: capacity {raw!r} must be 0 or more",
                file=str(p), row=n, field="properties.capacity",
            )  # fmt: skip
        fid = feat.get("id", props.get("id"))
        ids.append(str(fid) if fid is not None else f"feature-{n}")
        name = props.get("name")
        names.append(str(name) if name is not None else None)
        lons.append(lon)
        lats.append(lat)
        caps.append(cap)
    return Supply(
        ids=tuple(ids),
        lon=np.array(lons),
        lat=np.array(lats),
        capacity=np.array(caps),
        names=tuple(names),
    )


__all__ = [
    "DEFAULT_CATCHMENT_M",
    "GEODESIC",
    "LUO_QI_WEIGHTS",
    "MAX_CATCHMENT_M",
    "AccessResult",
    "AreaAccess",
    "CatchmentPairs",
    "Demand",
    "DistanceProvider",
    "FcaArrays",
    "GeodesicDistance",
    "Points",
    "Supply",
    "Weighting",
    "access_to_assets",
    "check_catchment",
    "chord_geodesic_m",
    "demand_from_areas",
    "fca",
    "supply_from_geojson",
    "two_step_fca",
    "weighting",
]
