"""Plan a contrast walk on the streets: from a start to an end (or a loop), through via places, past assets open on arrival.

Example:
    >>> plan = plan_walk(store, "Leeds station@-1.5477,53.7951", "LS12 1JD",
    ...                  via=["Wellington Street@-1.5560,53.7965"], at="2026-12-02T11:00")  # doctest: +SKIP
    >>> plan.to_dict()["contrast"]                                                         # doctest: +SKIP
    {'imd_decile_min': 1, 'imd_decile_max': 8, 'largest_step': 7, ...}

The walk is an orienteering problem (Tsiligirides 1984; survey: Vansteenwegen, Souffriau & Van
Oudheusden 2011): choose and order stops, each with a value, so that the walk stays within a
length (or time) budget. It is NP-hard; the planner uses a documented heuristic and reports how
far the result is from the budget and from an upper bound on the value (``docs/methods/walks.md``):

1. Join the start, the via places and the end to the street network (``WalkNetwork.snap``) and
   find the shortest walk through them in order (Dijkstra, ``scipy.sparse.csgraph``). If that is
   already over the budget, the budget is too short: ``InputError`` with both lengths.
2. Candidates: the directory's located assets whose straight-line detour (a lower bound of the
   street detour) fits the slack, joined to the network within 150 m; those with the best value
   per metre of straight-line detour are kept (four per stop allowed, at least 12, at most 40), and street distances are computed between all of
   them and the fixed places (one Dijkstra per point, cut off at the budget).
3. Value of a stop: 1 when a service there is in session on arrival (directory "open at"), 0.25
   when the asset has no opening times (open: null), 0 when closed (never chosen); plus 0.25 per
   IMD decile by which the stop's area widens the range of deciles the walk crosses.
4. Greedy insertion: insert the stop and position with the best gain in value per metre added
   (dwell time counted as metres at the walking speed), re-timing every later stop, while the
   budget and ``max_stops`` allow; then 2-opt within each stretch between fixed places, and
   insert again, until nothing improves.

The street path is then profiled with ``strengthmap.routes.profile_route`` (IMD and life
expectancy every ``profile_every_m`` metres along the streets, not a straight line), and the
contrast is read from the path sampled every 20 m.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from strengthmap import indicators
from strengthmap.errors import InputError, NotFound
from strengthmap.geography import GEOD, OUTSIDE
from strengthmap.indicators import Estimate
from strengthmap.storage import Store
from strengthmap.walks.facts import AreaFacts, Asset, Assets, OpenTimes, area_facts, assets
from strengthmap.walks.network import (
    ATTRIBUTION_OSM,
    MAX_SNAP_M,
    Path,
    RoutingGraph,
    Snap,
    WalkNetwork,
    bbox_distance_m,
)
from strengthmap.walks.places import LONDON, Place, parse_start, resolve_place
from strengthmap.walks.store import current_network

DEFAULT_SPEED_KMH = 4.5
DEFAULT_DWELL_MIN = 10.0
DEFAULT_MAX_STOPS = 5
#: Without a budget, a walk may be this much longer than the shortest: 25% or 1 km, the more.
DEFAULT_SLACK_FRACTION = 0.25
DEFAULT_SLACK_M = 1000.0
#: Candidate stops given street distances: four per stop allowed, at least 12, at most 40.
MIN_CANDIDATES, CANDIDATES_PER_STOP, MAX_CANDIDATES = 12, 4, 40
#: Consecutive places on a walk with a stop between them are at least this far apart (street
#: metres), so a walk moves on rather than stopping at every door of one block.
MIN_SPACING_M = 100.0
#: An asset further than this from a walkable way is not offered as a stop.
STOP_SNAP_M = 150.0
VALUE_OPEN = 1.0
VALUE_UNKNOWN = 0.25
VALUE_PER_DECILE = 0.25
#: A stop's value by its ABCD kind: community places first; shops and banks count, for less.
KIND_WEIGHT = {"association": 1.0, "physical_space": 1.0, "culture": 1.0, "individual": 1.0,
               "institution": 0.8, "economy": 0.4}  # fmt: skip
CONTRAST_SAMPLE_M = 20.0
ASSETS_RADIUS_M = 400.0
ATTRIBUTION_OGL = (
    "Contains public sector information licensed under the Open Government Licence v3.0: "
    "Office for National Statistics (life expectancy 2016 to 2020, boundaries; contains OS data "
    "© Crown copyright and database right 2021) and MHCLG English Indices of Deprivation"
)


# --- the result ----------------------------------------------------------------------------


@dataclass
class WalkStop:
    """A place on the walk, in order: the start, via places, stops at assets, the end."""

    name: str
    kind: str  # start | via | stop | end
    lon: float
    lat: float
    arrive: datetime
    open: bool | None
    service_id: str | None = None
    location_id: str | None = None
    abcd_kind: str | None = None
    distance_m: float = 0.0  # along the path
    dwell_min: float = 0.0
    to_street_m: float = 0.0  # from the place to the walkable way it is joined to
    services: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    illustrative_times: bool = False

    @property
    def depart(self) -> datetime:
        return self.arrive + timedelta(minutes=self.dwell_min)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "service_id": self.service_id,
            "lon": round(self.lon, 6),
            "lat": round(self.lat, 6),
            "arrive": _iso(self.arrive),
            "open": self.open,
            "kind": self.kind,
            "location_id": self.location_id,
            "abcd_kind": self.abcd_kind,
            "distance_m": round(self.distance_m, 1),
            "dwell_min": self.dwell_min,
            "depart": _iso(self.depart),
            "to_street_m": round(self.to_street_m, 1),
            "illustrative_times": self.illustrative_times,
            "services": self.services,
            "facts": self.facts,
        }


def _iso(t: datetime) -> str:
    return t.astimezone(LONDON).replace(microsecond=0).isoformat()


@dataclass
class Budget:
    """The budget, what the walk used, and how far the heuristic is from the best possible."""

    max_m: float | None
    max_min: float | None
    default: bool
    shortest_m: float
    used_m: float
    used_min: float
    score: float
    score_upper_bound: float
    candidates: int
    candidates_reachable: int

    def to_dict(self) -> dict[str, Any]:
        slack_m = None if self.max_m is None else round(self.max_m - self.used_m, 1)
        slack_min = None if self.max_min is None else round(self.max_min - self.used_min, 1)
        return {
            "max_m": None if self.max_m is None else round(self.max_m, 1),
            "max_min": self.max_min,
            "default": self.default,
            "shortest_m": round(self.shortest_m, 1),
            "used_m": round(self.used_m, 1),
            "used_min": round(self.used_min, 1),
            "slack_m": slack_m,
            "slack_min": slack_min,
            "used_fraction": (round(self.used_m / self.max_m, 3) if self.max_m else None),
            "score": round(self.score, 3),
            "score_upper_bound": round(self.score_upper_bound, 3),
            "score_gap": round(self.score_upper_bound - self.score, 3),
            "candidates_considered": self.candidates,
            "candidates_reachable": self.candidates_reachable,
        }


@dataclass
class Contrast:
    """The deprivation contrast the path crosses (IMD deciles of the LSOAs in order) and life
    expectancy where its MSOAs differ."""

    imd_release: int | None
    deciles_in_order: list[int]
    areas_in_order: list[dict[str, Any]]
    largest_step: int | None
    largest_step_at: dict[str, Any] | None
    life_expectancy: dict[str, Any] | None

    @property
    def decile_min(self) -> int | None:
        return min(self.deciles_in_order) if self.deciles_in_order else None

    @property
    def decile_max(self) -> int | None:
        return max(self.deciles_in_order) if self.deciles_in_order else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "imd_decile_min": self.decile_min,
            "imd_decile_max": self.decile_max,
            "largest_step": self.largest_step,
            "imd_release": self.imd_release,
            "largest_step_at": self.largest_step_at,
            "imd_deciles_in_order": self.deciles_in_order,
            "lsoas_in_order": self.areas_in_order,
            "life_expectancy": self.life_expectancy,
        }


@dataclass
class Safety:
    """Access notes: steps on the path, busy roads crossed or walked along."""

    steps: list[dict[str, Any]]
    busy_roads_crossed: list[dict[str, Any]]
    busy_roads_along: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "busy_roads_crossed": self.busy_roads_crossed,
            "busy_roads_along": self.busy_roads_along,
        }


@dataclass
class WalkPlan:
    """A planned walk; ``to_dict()`` is the JSON of ``walk plan --json`` and of the API."""

    length_m: float
    duration_min: float
    walking_min: float
    path: list[tuple[float, float]]
    stops: list[WalkStop]
    profile: dict[str, Any] | None
    contrast: Contrast
    network: dict[str, int]
    start: datetime
    speed_kmh: float
    step_free: bool
    loop: bool
    budget: Budget
    safety: Safety
    attribution: list[str]
    notes: list[str] = field(default_factory=list)
    network_source: str | None = None
    edges: list[int] = field(default_factory=list)  # the network's edges walked, in order

    @property
    def title(self) -> str:
        first, last = self.stops[0].name, self.stops[-1].name
        return f"Walk from {first}" + (" (loop)" if self.loop else f" to {last}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "length_m": round(self.length_m, 1),
            "duration_min": round(self.duration_min, 1),
            "path": {
                "type": "LineString",
                "coordinates": [[round(x, 7), round(y, 7)] for x, y in self.path],
            },
            "stops": [s.to_dict() for s in self.stops],
            "profile": self.profile,
            "contrast": self.contrast.to_dict(),
            "network": self.network,
            "title": self.title,
            "start": _iso(self.start),
            "walking_min": round(self.walking_min, 1),
            "speed_kmh": self.speed_kmh,
            "step_free": self.step_free,
            "loop": self.loop,
            "budget": self.budget.to_dict(),
            "safety": self.safety.to_dict(),
            "network_source": self.network_source,
            "notes": self.notes,
            "attribution": self.attribution,
        }


# --- helpers -------------------------------------------------------------------------------


def _check_number(value: float | None, name: str, lo: float, hi: float) -> None:
    if value is None:
        return
    if not (math.isfinite(value) and lo < value <= hi):
        raise InputError(
            f"{name} must be above {lo:g} and at most {hi:g}, not {value!r}", field=name
        )


def _snap_error(net: WalkNetwork, place: Place, field_name: str, step_free: bool) -> InputError:
    d = net.distance_to_network_m(place.lon, place.lat)
    box = net.report.bbox
    outside = bbox_distance_m(box, place.lon, place.lat)
    where = (
        f"outside the network's area ({outside / 1000:.1f} km beyond its edge)"
        if outside > 0
        else "inside the network's area but away from any walkable way"
    )
    extra = " that is not steps" if step_free else ""
    label = (
        place.name
        if place.kind == "point" and "@" not in place.name and place.name[0] in "-0123456789"
        else f"{place.name} ({place.lon:.5f},{place.lat:.5f})"
    )
    return InputError(
        f"{label} is {_km(d)} from the nearest walkable "
        f"way{extra} of the walking network ({_network_name(net)}, lon {box[0]:.4f} to "
        f"{box[2]:.4f}, lat {box[1]:.4f} to {box[3]:.4f}); it must be within {MAX_SNAP_M:.0f} m: "
        f"{where}",
        field=field_name,
    )


def _network_name(net: WalkNetwork) -> str:
    return str(net.report.source).rsplit("/", 1)[-1]


def _km(m: float) -> str:
    return f"{m / 1000:.2f} km" if m >= 1000 else f"{m:.0f} m"


def densify(
    coords: NDArray[np.float64], step_m: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points every ``step_m`` metres or closer along a lon/lat line, and their distance along it."""
    _, _, seg = GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    seg = np.atleast_1d(seg)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    pieces = [coords[:1]]
    dists = [cum[:1]]
    for i, s in enumerate(seg):
        k = max(math.ceil(s / step_m), 1)
        f = np.arange(1, k + 1) / k
        pieces.append(coords[i] + f[:, None] * (coords[i + 1] - coords[i]))
        dists.append(cum[i] + f * s)
    return np.vstack(pieces), np.concatenate(dists)


def contrast_of(
    facts: AreaFacts, coords: NDArray[np.float64], sample_m: float = CONTRAST_SAMPLE_M
) -> Contrast:
    """The contrast along a lon/lat path (sampled every ``sample_m`` metres)."""
    pts, dist = densify(coords, sample_m)
    lsoa = facts.lsoa_of(pts[:, 0], pts[:, 1])
    msoa = facts.msoa_of(pts[:, 0], pts[:, 1])
    areas: list[dict[str, Any]] = []
    for code, d in zip(lsoa, dist, strict=True):
        code = str(code)
        if areas and areas[-1]["lsoa_code"] == code:
            continue
        if code == OUTSIDE:
            areas.append({"lsoa_code": code, "imd_decile": None, "from_m": round(float(d), 1)})
            continue
        rec = facts.imd.get(code)
        areas.append({"lsoa_code": code, "imd_decile": rec[0] if rec else None,
                      "imd_rank": rec[1] if rec else None, "from_m": round(float(d), 1)})  # fmt: skip
    with_imd = [a for a in areas if a.get("imd_decile") is not None]
    step, at = None, None
    for a, b in itertools.pairwise(with_imd):
        s = abs(int(b["imd_decile"]) - int(a["imd_decile"]))
        if step is None or s > step:
            step, at = s, {"from": a, "to": b, "distance_m": b["from_m"]}
    # life expectancy where the MSOAs differ
    seq: list[tuple[str, float]] = []
    for code, d in zip(msoa, dist, strict=True):
        code = str(code)
        if code != OUTSIDE and (not seq or seq[-1][0] != code):
            seq.append((code, float(d)))
    le: dict[str, Any] | None = None
    distinct = list(dict.fromkeys(c for c, _ in seq))
    if len(distinct) >= 2:
        le = {"msoas_in_order": [{"msoa_code": c, "from_m": round(d, 1),
                                  **facts.le_dict(c)} for c, d in seq]}  # fmt: skip
        for sex in ("male", "female"):
            have = [(c, facts.le[c][sex]) for c in distinct
                    if sex in facts.le.get(c, {}) and not facts.le[c][sex].suppressed]  # fmt: skip
            have = [(c, e) for c, e in have if e.value is not None]
            if len(have) < 2:
                le[sex] = None
                continue
            lo = min(have, key=lambda ce: float(ce[1].value or 0))
            hi = max(have, key=lambda ce: float(ce[1].value or 0))
            cmp = indicators.compare(hi[1], lo[1])
            le[sex] = {
                "min": {"msoa_code": lo[0], **_est(lo[1])},
                "max": {"msoa_code": hi[0], **_est(hi[1])},
                "gap_years": None if cmp.difference is None else round(cmp.difference, 2),
                "significant": cmp.significant,
                "comparison": cmp.text,
            }
    deciles = [int(a["imd_decile"]) for a in with_imd]
    return Contrast(facts.imd_release, deciles, areas, step, at, le)


def _est(e: Estimate) -> dict[str, float | None]:
    return {"value": None if e.value is None else round(e.value, 2),
            "lower": None if e.lower is None else round(e.lower, 2),
            "upper": None if e.upper is None else round(e.upper, 2)}  # fmt: skip


# --- the heuristic -------------------------------------------------------------------------


@dataclass
class _Point:
    place: Place | None
    asset: Asset | None
    snap: Snap
    node: int
    fixed: bool
    decile: int | None
    times: OpenTimes | None
    weight: float = 1.0


class _Planner:
    """Greedy ratio insertion with 2-opt, over a distance matrix between the points."""

    def __init__(
        self,
        points: list[_Point],
        dist: NDArray[np.float64],
        start_utc: datetime,
        speed_m_min: float,
        dwell_min: float,
        max_m: float | None,
        max_min: float | None,
        max_stops: int,
        base_deciles: set[int],
    ) -> None:
        self.points = points
        self.dist = dist  # (n_points, n_points) street metres
        self.start = start_utc
        self.speed = speed_m_min
        self.dwell = dwell_min
        self.max_m = max_m
        self.max_min = max_min
        self.max_stops = max_stops
        self.base = base_deciles
        self.n_fixed = sum(1 for p in points if p.fixed)

    def value(self, p: _Point, t_min: float) -> float:
        if p.times is None:
            return 0.0
        is_open = p.times.is_open(self.start + timedelta(minutes=t_min))
        base = VALUE_OPEN if is_open else (VALUE_UNKNOWN if is_open is None else 0.0)
        return base * p.weight

    def contrast_bonus(self, seq: Sequence[int]) -> float:
        deciles = set(self.base)
        deciles |= {d for i in seq if (d := self.points[i].decile) is not None}
        if not deciles or not self.base:
            return 0.0
        return VALUE_PER_DECILE * (
            (max(deciles) - min(deciles)) - (max(self.base) - min(self.base))
        )

    def evaluate(self, seq: Sequence[int]) -> tuple[float, float, float, list[float]]:
        """(length m, duration min, score, arrival minute of each point)."""
        length, t, score = 0.0, 0.0, 0.0
        arrive = [0.0]
        for a, b in itertools.pairwise(seq):
            d = float(self.dist[a, b])
            length += d
            t += d / self.speed
            arrive.append(t)
            if not self.points[b].fixed:
                score += self.value(self.points[b], t)
                t += self.dwell
        return length, t, score + self.contrast_bonus(seq), arrive

    def spaced(self, seq: Sequence[int]) -> bool:
        """Every stop at least ``MIN_SPACING_M`` (street) from the places either side of it."""
        return all(
            self.dist[a, b] >= MIN_SPACING_M
            for a, b in itertools.pairwise(seq)
            if not (self.points[a].fixed and self.points[b].fixed)
        )

    def feasible(self, length: float, duration: float) -> bool:
        if self.max_m is not None and length > self.max_m + 1e-6:
            return False
        return not (self.max_min is not None and duration > self.max_min + 1e-6)

    def insert(self, seq: list[int]) -> list[int]:
        while sum(1 for i in seq if not self.points[i].fixed) < self.max_stops:
            length, _, score, _ = self.evaluate(seq)
            used = set(seq)
            best: tuple[float, float, list[int]] | None = None
            for c in range(self.n_fixed, len(self.points)):
                if c in used:
                    continue
                for pos in range(1, len(seq)):
                    a, b = seq[pos - 1], seq[pos]
                    added = float(self.dist[a, c] + self.dist[c, b] - self.dist[a, b])
                    if not math.isfinite(added):
                        continue
                    if min(self.dist[a, c], self.dist[c, b]) < MIN_SPACING_M:
                        continue
                    if self.max_m is not None and length + added > self.max_m + 1e-6:
                        continue
                    trial = [*seq[:pos], c, *seq[pos:]]
                    t_len, t_dur, t_score, _ = self.evaluate(trial)
                    if not self.feasible(t_len, t_dur):
                        continue
                    gain = t_score - score
                    if gain <= 1e-9:
                        continue
                    ratio = gain / (max(added, 0.0) + self.dwell * self.speed + 1.0)
                    if best is None or (ratio, -added) > (best[0], -best[1]):
                        best = (ratio, added, trial)
            if best is None:
                return seq
            seq = best[2]
        return seq

    def two_opt(self, seq: list[int]) -> list[int]:
        improved = True
        while improved:
            improved = False
            length, _, score, _ = self.evaluate(seq)
            fixed_pos = [k for k, i in enumerate(seq) if self.points[i].fixed]
            for lo, hi in itertools.pairwise(fixed_pos):
                for i in range(lo + 1, hi):
                    for j in range(i + 1, hi):
                        trial = [*seq[:i], *seq[i : j + 1][::-1], *seq[j + 1 :]]
                        t_len, t_dur, t_score, _ = self.evaluate(trial)
                        if (
                            t_len < length - 0.5
                            and t_score >= score - 1e-9
                            and self.feasible(t_len, t_dur)
                            and self.spaced(trial)
                        ):
                            seq, improved = trial, True
                            break
                    if improved:
                        break
                if improved:
                    break
        return seq

    def drop_worthless(self, seq: list[int]) -> list[int]:
        """Stops that bring nothing on arrival (closed once the walk is timed) are dropped."""
        changed = True
        while changed:
            changed = False
            _, _, score, arrive = self.evaluate(seq)
            for k, i in enumerate(seq):
                p = self.points[i]
                if p.fixed or self.value(p, arrive[k]) > 0.0:
                    continue
                trial = seq[:k] + seq[k + 1 :]
                if self.evaluate(trial)[2] >= score - 1e-9 and self.spaced(trial):
                    seq, changed = trial, True
                    break
        return seq

    def solve(self) -> list[int]:
        seq = list(range(self.n_fixed))
        if self.max_stops <= 0 or len(self.points) == self.n_fixed:
            return seq
        for _ in range(4):
            better = self.drop_worthless(self.two_opt(self.insert(seq)))
            if better == seq:
                break
            seq = better
        return seq

    def upper_bound(self) -> tuple[float, int]:
        """Best possible score: the ``max_stops`` best stops that fit the budget alone, each at
        its best value over the walk, plus the widest contrast all of them could add."""
        fixed = list(range(self.n_fixed))
        base_len, base_dur, _, _ = self.evaluate(fixed)
        bounds: list[float] = []
        deciles: set[int] = set(self.base)
        for c in range(self.n_fixed, len(self.points)):
            added = min(
                float(self.dist[a, c] + self.dist[c, b] - self.dist[a, b])
                for a, b in itertools.pairwise(fixed)
            )
            if not math.isfinite(added):
                continue
            if not self.feasible(base_len + added, base_dur + added / self.speed + self.dwell):
                continue
            p = self.points[c]
            if p.times is None:
                continue
            v = (VALUE_OPEN if p.times.ever_open() else 0.0) if p.times.known else VALUE_UNKNOWN
            v *= p.weight
            if v > 0:
                bounds.append(v)
                if p.decile is not None:
                    deciles.add(p.decile)
        top = sum(sorted(bounds, reverse=True)[: self.max_stops])
        widen = 0.0
        if self.base and deciles:
            widen = VALUE_PER_DECILE * (
                (max(deciles) - min(deciles)) - (max(self.base) - min(self.base))
            )
        return top + widen, len(bounds)


# --- the planner ---------------------------------------------------------------------------


def plan_walk(
    store: Store,
    from_: str | Place | tuple[float, float],
    to: str | Place | tuple[float, float] | None = None,
    *,
    via: Sequence[str | Place | tuple[float, float]] = (),
    loop: bool = False,
    at: str | datetime | None = None,
    max_km: float | None = None,
    max_minutes: float | None = None,
    speed_kmh: float = DEFAULT_SPEED_KMH,
    step_free: bool = False,
    dwell_min: float = DEFAULT_DWELL_MIN,
    max_stops: int = DEFAULT_MAX_STOPS,
    kinds: Sequence[str] | None = None,
    imd_release: int | None = None,
    profile_every_m: float = 50.0,
    assets_radius_m: float = ASSETS_RADIUS_M,
    network: WalkNetwork | None = None,
) -> WalkPlan:
    """Plan a walk (see the module docstring). The parameters are those of ``walk plan`` and of
    ``GET /api/walks/plan``; every bad one raises ``InputError`` naming it."""
    _check_number(speed_kmh, "speed_kmh", 0.5, 10.0)
    _check_number(max_km, "max_km", 0.0, 100.0)
    _check_number(max_minutes, "max_minutes", 0.0, 24 * 60.0)
    _check_number(profile_every_m, "profile_every_m", 1.0, 5000.0)
    _check_number(assets_radius_m, "assets_radius_m", 0.0, 5000.0)
    if not (math.isfinite(dwell_min) and 0 <= dwell_min <= 240):
        raise InputError("dwell_min must be between 0 and 240 minutes", field="dwell_min")
    if not 0 <= max_stops <= 20:
        raise InputError("max_stops must be between 0 and 20", field="max_stops")
    if loop and to is not None:
        raise InputError("give --to or --loop, not both", field="to")
    if not loop and to is None:
        raise InputError("give --to PLACE, or --loop to come back to the start", field="to")
    started = parse_start(at)
    notes: list[str] = [started.note] if started.note else []
    start = resolve_place(store, from_, field="from")
    vias = [resolve_place(store, v, field="via") for v in via]
    end = start if loop else resolve_place(store, to if to is not None else "", field="to")
    fixed_places = [start, *vias, end]
    net = network or current_network(store)

    # 1. join the fixed places to the network
    snaps = net.snap([p.lon for p in fixed_places], [p.lat for p in fixed_places],
                     step_free=step_free)  # fmt: skip
    names = ["from", *(["via"] * len(vias)), "to"]
    for place, snap, fname in zip(fixed_places, snaps, names, strict=True):
        if snap is None:
            raise _snap_error(net, place, fname, step_free)
    fixed_snaps = [s for s in snaps if s is not None]
    pieces = net.components(step_free)
    piece_of = [int(pieces[net.edge_u[s.edge]]) for s in fixed_snaps]
    if len(set(piece_of)) > 1:
        a = next(i for i, p in enumerate(piece_of) if p != piece_of[0])
        why = (
            "without steps (a step-free walk cannot join them; try without --step-free)"
            if step_free
            else "(the network has no link between them)"
        )
        raise InputError(
            f"{fixed_places[0].name} and {fixed_places[a].name} are in pieces of the walking "
            f"network that do not connect {why}",
            field=names[a],
        )

    facts = area_facts(store, imd_release)
    located = assets(store)
    kinds_set = set(kinds) if kinds else None

    # 2. candidate assets near enough to be worth a Dijkstra
    fixed_loc = {p.location_id for p in fixed_places if p.location_id}
    by_loc = {a.location_id: a for a in located.items}
    start_utc = started.at.astimezone(UTC)
    cands = (
        [a for a in located.items if a.location_id not in fixed_loc and _kind_ok(a, kinds_set)]
        if max_stops > 0
        else []
    )
    reach = max_km * 1000 if max_km is not None else None
    if max_minutes is not None:
        by_time = max_minutes * speed_kmh * 1000 / 60
        reach = by_time if reach is None else min(reach, by_time)
    cands, cand_snaps, cxy, det = _candidates(
        net, cands, fixed_places, reach, step_free, int(piece_of[0]), pieces
    )

    graph = net.graph([*fixed_snaps, *cand_snaps], step_free=step_free)
    fixed_nodes = graph.node_of_snap[: len(fixed_snaps)]
    cand_nodes = graph.node_of_snap[len(fixed_snaps) :]

    # 3. the shortest walk through the fixed places; the budget
    fdist, fpred = net.dijkstra(graph, fixed_nodes, limit=np.inf)
    legs = [float(fdist[i, fixed_nodes[i + 1]]) for i in range(len(fixed_nodes) - 1)]
    shortest = float(sum(legs))
    speed_m_min = speed_kmh * 1000 / 60
    default_budget = max_km is None and max_minutes is None
    max_m = max_km * 1000 if max_km is not None else None
    if default_budget:
        max_m = max(shortest * (1 + DEFAULT_SLACK_FRACTION), shortest + DEFAULT_SLACK_M)
    if max_m is not None and shortest > max_m + 1e-6:
        raise InputError(
            f"the budget is too short: the shortest walk from {start.name}"
            + "".join(f" via {v.name}" for v in vias)
            + f" to {end.name} is {shortest / 1000:.2f} km, over the {max_m / 1000:.2f} km "
            "allowed (--max-km)",
            field="max_km",
        )
    if max_minutes is not None and shortest / speed_m_min > max_minutes + 1e-6:
        raise InputError(
            f"the budget is too short: the shortest walk takes {shortest / speed_m_min:.0f} "
            f"minutes at {speed_kmh:g} km/h ({shortest / 1000:.2f} km), over the "
            f"{max_minutes:g} minutes allowed",
            field="max_minutes",
        )
    if shortest < 1.0 and not cands and not vias:
        raise InputError(_NOWHERE, field="via" if loop else "to")

    # candidates by value per metre of straight-line detour; keep the best few
    horizon_min = (max_minutes if max_minutes is not None else
                   (max_m or shortest) / speed_m_min + max_stops * dwell_min) + 60  # fmt: skip
    window_end = start_utc + timedelta(minutes=horizon_min)
    cap_m = min(c for c in (max_m, max_minutes * speed_m_min if max_minutes else None, np.inf)
                if c is not None)  # fmt: skip
    slack = cap_m - shortest
    prior: list[tuple[float, int]] = []
    base_path = _join_paths(net, graph, fpred, list(range(len(fixed_nodes))), fixed_nodes)
    base_contrast = contrast_of(facts, base_path.coords)
    base_deciles = set(base_contrast.deciles_in_order)
    cand_times: list[OpenTimes] = []
    cand_deciles: list[int | None] = []
    codes = facts.lsoa_of(cxy[:, 0], cxy[:, 1]) if len(cands) else np.zeros(0, dtype=object)
    for i, cand in enumerate(cands):
        ot = OpenTimes(cand, start_utc, window_end)
        cand_times.append(ot)
        cand_deciles.append(facts.decile(str(codes[i])))
        if det[i] > slack:
            prior.append((-1.0, i))
            continue
        v = (VALUE_OPEN if ot.ever_open() else 0.0) if ot.known else VALUE_UNKNOWN
        v *= _weight(cand)
        dcl = cand_deciles[-1]
        if dcl is not None and base_deciles:
            v += VALUE_PER_DECILE * max(0, min(base_deciles) - dcl, dcl - max(base_deciles))
        prior.append((v / (det[i] + dwell_min * speed_m_min + 1.0), i))
    n_cand = min(max(CANDIDATES_PER_STOP * max_stops, MIN_CANDIDATES), MAX_CANDIDATES)
    chosen = sorted(i for r, i in sorted(prior, reverse=True)[:n_cand] if r > 0)

    # 4. street distances between every point, then the heuristic
    points = [
        _Point(p, _asset_of(by_loc, p), s, n, True, None, None)
        for p, s, n in zip(fixed_places, fixed_snaps, fixed_nodes, strict=True)
    ] + [
        _Point(
            None,
            cands[i],
            cand_snaps[i],
            cand_nodes[i],
            False,
            cand_deciles[i],
            cand_times[i],
            _weight(cands[i]),
        )
        for i in chosen
    ]
    cdist, cpred = (
        net.dijkstra(graph, [p.node for p in points[len(fixed_nodes):]], limit=cap_m)
        if chosen else (np.zeros((0, graph.csr.shape[0])), np.zeros((0, graph.csr.shape[0]), dtype=np.int32))
    )  # fmt: skip
    all_dist = np.vstack([fdist, cdist])
    all_pred = np.vstack([fpred, cpred])
    nodes = [p.node for p in points]
    matrix = all_dist[:, nodes]
    matrix = np.minimum(matrix, matrix.T)  # cut-off rows: the other direction may be known
    planner = _Planner(points, matrix, start_utc, speed_m_min, dwell_min, max_m, max_minutes,
                       max_stops, base_deciles)  # fmt: skip
    seq = planner.solve()
    length, _duration, score, arrive_min = planner.evaluate(seq)
    upper, reachable = planner.upper_bound()
    if length < 1.0:
        raise InputError(_NOWHERE, field="via" if loop else "to")

    # 5. the street path, the stops, the profile
    path = _join_paths(net, graph, all_pred, seq, nodes)
    stops = _stops(points, seq, arrive_min, start_utc, dwell_min, planner, facts, located,
                   path, assets_radius_m, loop)  # fmt: skip
    walking_min = length / speed_m_min
    end_time = stops[-1].arrive
    profile, profile_note = _profile(store, path, stops, profile_every_m, facts.imd_release)
    if profile_note:
        notes.append(profile_note)
    contrast = contrast_of(facts, path.coords)
    safety = _safety(net, path)
    if any(s.illustrative_times for s in stops):
        notes.append(
            "Some opening times are marked illustrative in the directory (an example, not a "
            "confirmed timetable): check with the places before the walk."
        )
    attribution = [ATTRIBUTION_OGL, ATTRIBUTION_OSM]
    for text in located.attribution:
        if text not in attribution:
            attribution.append(text)
    budget = Budget(
        max_m=max_m, max_min=max_minutes, default=default_budget, shortest_m=shortest,
        used_m=length, used_min=(end_time - started.at).total_seconds() / 60,
        score=score, score_upper_bound=max(upper, score), candidates=len(chosen),
        candidates_reachable=reachable,
    )  # fmt: skip
    return WalkPlan(
        length_m=path.length_m,
        duration_min=(end_time - started.at).total_seconds() / 60,
        walking_min=walking_min,
        path=[(float(x), float(y)) for x, y in path.coords],
        stops=stops,
        profile=profile,
        contrast=contrast,
        network=net.stats(),
        start=started.at,
        speed_kmh=speed_kmh,
        step_free=step_free,
        loop=loop,
        budget=budget,
        safety=safety,
        attribution=attribution,
        notes=notes,
        network_source=_network_name(net),
        edges=list(path.edges),
    )


_NOWHERE = (
    "the walk goes nowhere: the start and the end are the same place and no via place or open "
    "asset fits the budget; give --via places or a larger budget"
)


def _kind_ok(asset: Asset, kinds: set[str] | None) -> bool:
    return (
        kinds is None
        or asset.abcd_kind in kinds
        or any(s.abcd_kind in kinds for s in asset.services)
    )


def _candidates(
    net: WalkNetwork,
    cands: list[Asset],
    fixed_places: list[Place],
    reach_m: float | None,
    step_free: bool,
    piece: int,
    pieces: NDArray[np.int32],
) -> tuple[list[Asset], list[Snap], NDArray[np.float64], NDArray[np.float64]]:
    """The assets whose straight-line detour from the nearest leg of the fixed walk could fit
    (a straight line is never longer than the street), joined to the network within
    ``STOP_SNAP_M`` on the fixed walk's piece: (assets, snaps, lon/lat, detour lower bound)."""
    if not cands:
        return [], [], np.zeros((0, 2)), np.zeros(0)
    fx = np.array([[p.lon, p.lat] for p in fixed_places])
    cxy = np.array([[a.lon, a.lat] for a in cands])
    n = len(cands)
    crow = np.vstack([np.atleast_1d(GEOD.inv(np.full(n, x), np.full(n, y), cxy[:, 0], cxy[:, 1])[2])
                      for x, y in fx])  # fmt: skip
    legs = np.array([float(GEOD.inv(*fx[i], *fx[i + 1])[2]) for i in range(len(fx) - 1)])
    det = (crow[:-1] + crow[1:] - legs[:, None]).min(axis=0)
    # the budget is not known before the street distances: a generous first cut
    cap = (reach_m - legs.sum()) if reach_m is not None else max(
        DEFAULT_SLACK_FRACTION * legs.sum() * 2, DEFAULT_SLACK_M * 2)  # fmt: skip
    keep = np.flatnonzero(det <= max(cap, 0.0))
    if not len(keep):
        return [], [], np.zeros((0, 2)), np.zeros(0)
    snaps = net.snap(cxy[keep, 0], cxy[keep, 1], step_free=step_free, max_m=STOP_SNAP_M)
    ok = [k for k, s in zip(keep, snaps, strict=True)
          if s is not None and int(pieces[net.edge_u[s.edge]]) == piece]  # fmt: skip
    joined = [s for s in snaps if s is not None and int(pieces[net.edge_u[s.edge]]) == piece]
    return [cands[k] for k in ok], joined, cxy[ok], det[ok]


def _weight(asset: Asset) -> float:
    """The best ABCD-kind weight among the asset's services (or its own kind)."""
    kinds = [s.abcd_kind for s in asset.services] + [asset.abcd_kind]
    return max((KIND_WEIGHT.get(k or "", 0.8) for k in kinds), default=0.8)


def _asset_of(by_loc: dict[str, Asset], place: Place) -> Asset | None:
    return by_loc.get(place.location_id) if place.location_id else None


def _join_paths(
    net: WalkNetwork,
    graph: RoutingGraph,
    pred: NDArray[np.int32],
    seq: Sequence[int],
    nodes: Sequence[int],
) -> Path:
    """The street path through points ``seq`` (rows of ``pred`` are the points' Dijkstra trees)."""
    coords: list[NDArray[np.float64]] = []
    edges: list[int] = []
    passed: list[int] = []
    passed_at: list[float] = []
    length = 0.0
    for a, b in itertools.pairwise(seq):
        if nodes[a] == nodes[b]:
            continue
        leg = net.path(graph, pred[a], nodes[a], nodes[b])
        coords.append(leg.coords if not coords else leg.coords[1:])
        edges += leg.edges
        passed += leg.nodes
        passed_at += [length + m for m in leg.nodes_at_m]
        length += leg.length_m
    if not coords:
        s = graph.snaps[nodes[seq[0]] - graph.n_base] if nodes[seq[0]] >= graph.n_base else None
        xy = np.array([[s.lon, s.lat]]) if s else net.node_lonlat[nodes[seq[0]]][None, :]
        return Path(np.vstack([xy, xy]), 0.0, [], [])
    return Path(np.vstack(coords), length, edges, passed, passed_at)


def _stops(
    points: list[_Point],
    seq: list[int],
    arrive_min: list[float],
    start_utc: datetime,
    dwell_min: float,
    planner: _Planner,
    facts: AreaFacts,
    located: Assets,
    path: Path,
    radius_m: float,
    loop: bool,
) -> list[WalkStop]:
    # distances along the path of each point: the walk's legs, cumulated
    out: list[WalkStop] = []
    along = 0.0
    last = len(seq) - 1
    for k, i in enumerate(seq):
        p = points[i]
        if k > 0:
            along += float(planner.dist[seq[k - 1], i])
        kind = "start" if k == 0 else "end" if k == last else "via" if p.fixed else "stop"
        t = start_utc + timedelta(minutes=arrive_min[k])  # earlier dwells included
        asset = p.asset
        times = p.times or (
            OpenTimes(asset, t - timedelta(hours=1), t + timedelta(hours=4)) if asset else None
        )
        is_open = times.is_open(t) if times else None
        open_now = {s.service_id for s in times.open_services(t)} if times else set()
        services: list[dict[str, Any]] = [
            {"service_id": s.service_id, "name": s.name, "abcd_kind": s.abcd_kind,
             "open": (s.service_id in open_now) if s.schedules else None,
             "description": s.description, "illustrative_times": s.illustrative}
            for s in (asset.services if asset else [])
        ]  # fmt: skip
        chosen = next((s for s in services if s["open"]), None) or (
            services[0] if services else None
        )
        name = p.place.name if p.place else (asset.name if asset else "Stop")
        if p.place is not None and p.place.kind == "location" and asset is not None:
            name = asset.name
        lon = p.place.lon if p.place else (asset.lon if asset else p.snap.lon)
        lat = p.place.lat if p.place else (asset.lat if asset else p.snap.lat)
        out.append(
            WalkStop(
                name=name, kind=kind, lon=lon, lat=lat, arrive=t.astimezone(LONDON),
                open=is_open, service_id=chosen["service_id"] if chosen else None,
                location_id=asset.location_id if asset else (p.place.location_id if p.place else None),
                abcd_kind=(chosen["abcd_kind"] if chosen else None) or (asset.abcd_kind if asset else None),
                distance_m=along, dwell_min=dwell_min if kind == "stop" else 0.0,
                to_street_m=p.snap.distance_m, services=services,
                facts=_facts(facts, located, lon, lat, radius_m, asset),
                illustrative_times=any(s["illustrative_times"] for s in services),
            )
        )  # fmt: skip
    if loop:
        out[-1].name = out[0].name
    return out


def _facts(
    facts: AreaFacts, located: Assets, lon: float, lat: float, radius_m: float, own: Asset | None
) -> dict[str, Any]:
    lsoa = str(facts.lsoa_of([lon], [lat])[0])
    msoa = str(facts.msoa_of([lon], [lat])[0])
    rec = facts.imd.get(lsoa)
    near = [(a, d) for a, d in located.within(lon, lat, radius_m) if own is None or a is not own]
    return {
        "lsoa_code": None if lsoa == OUTSIDE else lsoa,
        "lsoa_name": facts.lsoa.name_of(lsoa) if facts.lsoa is not None and lsoa != OUTSIDE else None,
        "imd_release": facts.imd_release,
        "imd_decile": rec[0] if rec else None,
        "imd_rank": rec[1] if rec else None,
        "msoa_code": None if msoa == OUTSIDE else msoa,
        "msoa_name": facts.msoa.name_of(msoa) if facts.msoa is not None and msoa != OUTSIDE else None,
        "life_expectancy": facts.le_dict(msoa) if msoa != OUTSIDE else None,
        "assets_radius_m": radius_m,
        "assets_within": len(near),
        "assets_nearest": [
            {"name": a.name, "abcd_kind": a.abcd_kind, "distance_m": round(d, 1)} for a, d in near[:5]
        ],
    }  # fmt: skip


def _profile(
    store: Store, path: Path, stops: list[WalkStop], every_m: float, imd_release: int | None
) -> tuple[dict[str, Any] | None, str | None]:
    from strengthmap.routes import RouteInput, Stop, profile_route

    if path.length_m < 1.0:
        return None, "the walk has no length: no profile"
    line = shapely.LineString(path.coords)
    route = RouteInput(
        line,
        [Stop(s.name, s.lon, s.lat) for s in stops],
        "walk",
        name=f"Walk from {stops[0].name} to {stops[-1].name}",
        attribution=[ATTRIBUTION_OSM],
        stop_distances_m=[min(s.distance_m, path.length_m) for s in stops],
    )
    try:
        profile = profile_route(store, route, every_m=every_m, imd_release=imd_release)
    except NotFound as exc:
        return None, f"no profile: {exc.message}"
    return profile.to_dict(), None


def _safety(net: WalkNetwork, path: Path) -> Safety:
    """Steps on the path, busy roads crossed (a busy road meeting the path at a junction it does
    not follow) and busy roads walked along (their carriageway, with its sidewalk)."""
    steps: list[dict[str, Any]] = []
    along: dict[tuple[str, str], float] = {}
    crossed: list[dict[str, Any]] = []
    dist = 0.0
    edge_at: list[tuple[float, int]] = []
    for e in path.edges:
        edge_at.append((dist, e))
        tags = net.ways[int(net.edge_way[e])]
        length = float(net.edge_length_m[e])
        if tags.get("highway") == "steps":
            steps.append({"name": tags.get("name"), "osm_id": tags.get("osm_id"),
                          "distance_m": round(dist, 1), "length_m": round(length, 1)})  # fmt: skip
        if tags.get("highway") in {"trunk", "trunk_link", "primary", "primary_link",
                                   "secondary", "secondary_link"}:  # fmt: skip
            key = (tags.get("name") or tags.get("ref") or "unnamed road", tags.get("highway", ""))
            along[key] = along.get(key, 0.0) + length
        dist += length
    # nodes: a busy road at a junction the path passes, not the way the path walks
    last_road: dict[str, float] = {}
    for k, n in enumerate(path.nodes):
        if path.nodes_at_m[k] < 1.0 or path.nodes_at_m[k] > path.length_m - 1.0:
            continue  # the start and the end are not crossings
        lo, hi = int(net.node_busy_ptr[n]), int(net.node_busy_ptr[n + 1])
        if lo == hi:
            continue
        here = path.nodes_at_m[k]
        walked = _ways_at(net, path, n)
        crossing_tag = next((w.get("crossing") or ("marked" if w.get("footway") == "crossing" else None)
                             for w in walked if w.get("crossing") or w.get("footway") == "crossing"),
                            None)  # fmt: skip
        walked_names = {w.get("name") for w in walked if w.get("name")} | {
            w.get("ref") for w in walked if w.get("ref")}  # fmt: skip
        walked_ids = {w.get("osm_id") for w in walked}
        for r in net.node_busy_road[lo:hi]:
            road = net.busy_roads[int(r)]
            label = road.get("name") or road.get("ref") or "unnamed road"
            if road.get("osm_id") in walked_ids or label in walked_names:
                continue
            if label in last_road and here - last_road[label] < 150:
                continue  # the two carriageways of one road, or one junction
            last_road[label] = here
            crossed.append({
                "name": road.get("name"), "ref": road.get("ref"), "highway": road.get("highway"),
                "distance_m": round(here, 1), "crossing": crossing_tag,
                "lon": round(float(net.node_lonlat[n, 0]), 6),
                "lat": round(float(net.node_lonlat[n, 1]), 6),
            })  # fmt: skip
    return Safety(
        steps,
        crossed,
        [{"name": k[0], "highway": k[1], "length_m": round(v, 1)} for k, v in along.items()],
    )


def _ways_at(net: WalkNetwork, path: Path, node: int) -> list[dict[str, str]]:
    """Tags of the path's edges that touch ``node``."""
    return [
        net.ways[int(net.edge_way[e])]
        for e in path.edges
        if int(net.edge_u[e]) == node or int(net.edge_v[e]) == node
    ]


__all__ = [
    "DEFAULT_DWELL_MIN",
    "DEFAULT_MAX_STOPS",
    "DEFAULT_SPEED_KMH",
    "Budget",
    "Contrast",
    "Safety",
    "WalkPlan",
    "WalkStop",
    "contrast_of",
    "densify",
    "plan_walk",
]
