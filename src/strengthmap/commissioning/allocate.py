"""Proportionate universalism: split a budget across areas as a universal share per head plus a
share weighted by need (Marmot 2010), in whole pence that add up to the budget exactly.

Example:
    >>> import numpy as np
    >>> areas = AllocationInput(codes=("A", "B", "C"), population=np.array([1000, 1000, 2000]),
    ...                         need=np.array([30.0, 10.0, 20.0]), decile=np.array([1, 9, 5]))
    >>> plan = allocate(areas, AllocationOptions(budget_pence=100_000, universal_share=0.5,
    ...                                          gradient="rank"))
    >>> [(a.code, a.allocation_pence, a.vs_equal_pence) for a in plan.areas]
    [('A', 31250, 6250), ('B', 18750, -6250), ('C', 50000, 0)]
    >>> sum(a.allocation_pence for a in plan.areas)
    100000

The formula, in words: each area gets the universal share u of the budget B in proportion to
its population, and the rest in proportion to its population weighted by its need weight w;
then no area gets less than the floor F or more than the cap C, the difference being shared by
the other areas in proportion to their amounts; then amounts are rounded to whole pence by the
largest-remainder method (every area first gets the whole pence of its amount, the pence left
over go one each to the areas with the largest fractions, ties to the earlier code), so they
add up to B exactly.

In symbols: ``A_i = B * [ u * p_i / sum_j p_j + (1 - u) * p_i w_i / sum_j p_j w_j ]``, then
``A_i <- min(C, max(F, s * A_i))`` with the one s that makes ``sum_i A_i = B``.

Need weights w (need is oriented so that higher means more need):

* ``rank``: linear in the area's rank by need among the areas, 1 for the most needy down to
  1/N for the least: ``w_i = (N + 1 - r_i) / N`` (ties share their mean rank).
* ``decile``: by the area's decile, 1 (most deprived) to 10: default weights 10, 9, ..., 1
  (``decile_weights`` sets others). IMD deciles are England's as published; for life
  expectancy, deciles of need within the areas (equal counts).
* ``score``: the need value itself (the IMD score; for life expectancy, years below the
  highest in the areas).

An area with no need value (life expectancy ONS withheld) gets the population-weighted mean
weight, so its share per head is neither raised nor lowered by the need part; it is listed.

Summary: the share of the budget going to the most deprived fifth (IMD: England deciles 1 and
2, as published; life expectancy: the fifth of areas with the most need) against that fifth's
share of the population; and the concentration index of the allocation per head against need
(O'Donnell et al. 2008, with population weights): ``CI = (2 / mu) * sum_i f_i (x_i - mu)
(R_i - 1/2)``, where areas are ranked from least to most need, ``R_i`` is the fractional rank
(the population share of the areas before i plus half its own), ``f_i`` its population share,
``x_i`` the allocation per head and ``mu`` its mean. 0 is an equal split per head; positive
means the money goes where need is greater (at most 1).

References: Marmot M et al. (2010) *Fair Society, Healthy Lives* (The Marmot Review), London:
UCL Institute of Health Equity. O'Donnell O, van Doorslaer E, Wagstaff A, Lindelow M (2008)
*Analyzing Health Equity Using Household Survey Data*, ch. 8, Washington DC: World Bank.
Balinski ML, Young HP (2001) *Fair Representation*, Brookings (largest remainders).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from strengthmap.commissioning.areas import AREA_DATASETS, AreaTable, attribution, load_areas
from strengthmap.commissioning.need import need_scores
from strengthmap.errors import InputError
from strengthmap.storage import Store

#: Largest budget accepted, pounds.
MAX_BUDGET_POUNDS = 10**12
#: What need can be measured by in the allocator.
ALLOCATION_NEEDS = ("imd2019", "imd2025", "le")
GRADIENTS = ("rank", "decile", "score")
#: Default decile weights: 10 for the most deprived decile down to 1 for the least.
DEFAULT_DECILE_WEIGHTS = tuple(float(w) for w in range(10, 0, -1))


def parse_pounds(value: str | float | int | Decimal, *, field: str = "budget") -> int:
    """An amount of money in pounds -> whole pence; ``InputError`` naming ``field`` when it is
    not a number or has part-pence. Accepts ``1000000``, ``"1,000,000"``, ``"£1m"``, ``"250k"``.

    >>> parse_pounds("£1m"), parse_pounds("12.34"), parse_pounds(250)
    (100000000, 1234, 25000)
    """
    if isinstance(value, bool):
        raise InputError(f"not an amount of money: {value!r}", field=field)
    text = str(value).strip().replace(",", "").replace("£", "").replace("_", "").lower()
    scale = Decimal(1)
    m = re.fullmatch(r"([+-]?[0-9.]+(?:e[+-]?[0-9]+)?)\s*([km]|bn)?", text)
    if not m:
        raise InputError(f"not an amount of money: {value!r}", field=field)
    if m.group(2):
        scale = Decimal({"k": 1_000, "m": 1_000_000, "bn": 1_000_000_000}[m.group(2)])
    try:
        amount = Decimal(m.group(1)) * scale
    except InvalidOperation:
        raise InputError(f"not an amount of money: {value!r}", field=field) from None
    if not amount.is_finite():
        raise InputError(f"not an amount of money: {value!r}", field=field)
    pence = amount * 100
    if pence != pence.to_integral_value():
        raise InputError(f"{value!r} is not a whole number of pence", field=field)
    return int(pence)


def check_budget(budget_pence: int) -> int:
    """The budget in pence, or ``InputError``: not above 0, or over £10^12."""
    if budget_pence <= 0:
        raise InputError(
            f"the budget must be above £0 (got £{budget_pence / 100:,.2f})", field="budget"
        )
    if budget_pence > MAX_BUDGET_POUNDS * 100:
        raise InputError(
            f"the budget must be at most £{MAX_BUDGET_POUNDS:,} (got £{budget_pence / 100:,.2f})",
            field="budget",
        )
    return budget_pence


@dataclass(frozen=True)
class AllocationOptions:
    """One scenario's settings (money in pence)."""

    budget_pence: int
    universal_share: float = 0.5
    need: str = "imd2019"
    gradient: str = "rank"
    floor_pence: int = 0
    cap_pence: int | None = None
    decile_weights: tuple[float, ...] = DEFAULT_DECILE_WEIGHTS
    name: str | None = None

    def check(self) -> None:
        check_budget(self.budget_pence)
        u = self.universal_share
        if not isinstance(u, int | float) or not math.isfinite(u) or not 0 <= u <= 1:
            raise InputError(
                f"the universal share must be between 0 and 1 (got {u!r})", field="universal_share"
            )
        if self.need not in ALLOCATION_NEEDS:
            raise InputError(
                f"unknown need {self.need!r}; one of {', '.join(ALLOCATION_NEEDS)}", field="need"
            )
        if self.gradient not in GRADIENTS:
            raise InputError(
                f"unknown gradient {self.gradient!r}; one of {', '.join(GRADIENTS)}",
                field="gradient",
            )
        if self.floor_pence < 0:
            raise InputError("the floor must be £0 or more", field="floor")
        if self.cap_pence is not None and self.cap_pence <= 0:
            raise InputError("the cap must be above £0", field="cap")
        if self.cap_pence is not None and self.cap_pence < self.floor_pence:
            raise InputError("the cap is below the floor", field="cap")
        w = self.decile_weights
        if len(w) != 10 or any(not math.isfinite(x) or x < 0 for x in w) or not any(w):
            raise InputError(
                "decile weights are ten numbers of 0 or more, not all 0", field="decile_weights"
            )

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return f"u={self.universal_share:g} {self.need} {self.gradient}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.label,
            "budget_pence": self.budget_pence,
            "universal_share": self.universal_share,
            "need": self.need,
            "gradient": self.gradient,
            "floor_pence": self.floor_pence,
            "cap_pence": self.cap_pence,
            "decile_weights": list(self.decile_weights) if self.gradient == "decile" else None,
        }


@dataclass(frozen=True)
class AllocationInput:
    """The areas to split across, as aligned arrays: need higher = more need (NaN: unknown);
    ``decile`` 1..10 (1 = most deprived; 0 = unknown); ``most_deprived`` marks the most
    deprived fifth (by default deciles 1 and 2)."""

    codes: tuple[str, ...]
    population: NDArray[np.int64]
    need: NDArray[np.float64]
    decile: NDArray[np.int64]
    most_deprived: NDArray[np.bool_] | None = None
    names: tuple[str, ...] = ()
    need_unit: str = ""
    quintile_basis: str = "IMD deciles 1 and 2 (England, as published)"
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.codes)


@dataclass(frozen=True)
class AreaAllocation:
    """One area's share: ``vs_equal_pence`` is what it gains (+) or loses (-) against an equal
    split per head of the same budget."""

    code: str
    population: int
    need: float | None
    allocation_pence: int
    per_head_pence: float
    vs_equal_pence: int
    weight: float
    name: str | None = None
    at_floor: bool = False
    at_cap: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "population": self.population,
            "need": None if self.need is None else round(self.need, 6),
            "allocation_pence": self.allocation_pence,
            "per_head_pence": round(self.per_head_pence, 4),
            "vs_equal_pence": self.vs_equal_pence,
            "need_weight": round(self.weight, 6),
            "at_floor": self.at_floor,
            "at_cap": self.at_cap,
        }


@dataclass(frozen=True)
class AllocationSummary:
    """Who gets what, in a few numbers."""

    most_deprived_quintile_share: float
    most_deprived_quintile_population_share: float
    concentration_index: float
    gainers: int
    losers: int
    areas_without_need: int
    at_floor: int
    at_cap: int
    quintile_basis: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "most_deprived_quintile_share": round(self.most_deprived_quintile_share, 6),
            "most_deprived_quintile_population_share": round(
                self.most_deprived_quintile_population_share, 6
            ),
            "concentration_index": round(self.concentration_index, 6) + 0.0,
            "gainers": self.gainers,
            "losers": self.losers,
            "areas_without_need": self.areas_without_need,
            "at_floor": self.at_floor,
            "at_cap": self.at_cap,
            "quintile_basis": self.quintile_basis,
        }


@dataclass(frozen=True)
class Allocation:
    """``strengthmap commission allocate``: the split, its formula and its summary. The
    per-area records (``areas``) are made from the arrays on first use."""

    options: AllocationOptions
    formula: str
    symbols: str
    inputs: AllocationInput
    pence: NDArray[np.int64]
    vs_equal: NDArray[np.int64]
    weights: NDArray[np.float64]
    at_floor: NDArray[np.bool_]
    at_cap: NDArray[np.bool_]
    summary: AllocationSummary
    need_unit: str
    notes: list[str] = field(default_factory=list)
    attribution: list[str] = field(default_factory=list)

    @cached_property
    def areas(self) -> list[AreaAllocation]:
        a = self.inputs
        return [
            AreaAllocation(
                code=a.codes[i],
                population=int(a.population[i]),
                need=None if np.isnan(a.need[i]) else float(a.need[i]),
                allocation_pence=int(self.pence[i]),
                per_head_pence=float(self.pence[i] / a.population[i]),
                vs_equal_pence=int(self.vs_equal[i]),
                weight=float(self.weights[i]),
                name=a.names[i] if a.names else None,
                at_floor=bool(self.at_floor[i]),
                at_cap=bool(self.at_cap[i]),
            )
            for i in range(len(a))
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "formula_symbols": self.symbols,
            "budget_pence": self.options.budget_pence,
            "options": self.options.to_dict(),
            "need_unit": self.need_unit,
            "areas": [a.to_dict() for a in self.areas],
            "summary": self.summary.to_dict(),
            "notes": list(self.notes),
            "attribution": list(self.attribution),
        }


def largest_remainder(amounts: NDArray[np.float64], total: int) -> NDArray[np.int64]:
    """Whole units adding up to ``total``: the whole part of each amount, then one more for the
    largest fractions (ties to the earlier index).

    >>> largest_remainder(np.array([1.5, 1.5, 1.0]), 4).tolist()
    [2, 1, 1]
    """
    base = np.floor(amounts).astype(np.int64)
    left = int(total - base.sum())
    frac = amounts - base
    if left > 0:
        order = np.lexsort((np.arange(len(amounts)), -frac))
        base[order[:left]] += 1
    elif left < 0:  # float sums a hair over: take from the smallest fractions
        order = np.lexsort((-np.arange(len(amounts)), frac))
        base[order[:-left]] -= 1
    return base


def need_weights(areas: AllocationInput, options: AllocationOptions) -> NDArray[np.float64]:
    """Each area's need weight w (see the module docstring); NaN where need is unknown."""
    need = areas.need
    known = ~np.isnan(need)
    w = np.full(len(areas), np.nan)
    if options.gradient == "rank":
        if known.any():
            # rank 1 = most need; ties share their mean rank
            r = rankdata(-need[known], method="average")
            n = int(known.sum())
            w[known] = (n + 1 - r) / n
    elif options.gradient == "decile":
        table = np.array((0.0, *options.decile_weights))
        d = areas.decile
        has = (d >= 1) & (d <= 10)
        w[has] = table[d[has]]
    else:
        if known.any() and np.any(need[known] < 0):
            raise InputError("a score gradient needs need values of 0 or more", field="gradient")
        w[known] = need[known]
    return w


def _fill(
    raw: NDArray[np.float64], budget: float, floor: float, cap: float | None
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """``clamp(s * raw, floor, cap)`` with the one s that makes it add up to ``budget``: the
    areas at the floor or cap stay there, the others share the rest in proportion to ``raw``.

    g(s) = sum of the clamped amounts rises with s and is linear between the points where an
    area reaches a bound; bisection finds the piece holding ``budget``, then s is solved on it.
    """
    n = len(raw)
    zeros = np.zeros(n, dtype=bool)
    if floor <= 0 and cap is None:
        return raw * (budget / raw.sum()), zeros, zeros
    hi_bound = math.inf if cap is None else cap
    if floor * n >= budget:
        return np.full(n, floor), np.ones(n, dtype=bool), zeros
    if cap is not None and cap * n <= budget:
        return np.full(n, cap), zeros, np.ones(n, dtype=bool)
    rs = np.sort(raw)
    prefix = np.concatenate([[0.0], np.cumsum(rs)])

    def sets(s: float) -> tuple[int, int, float]:
        n_floor = int(np.searchsorted(rs, floor / s, side="right"))  # s r <= floor
        first_cap = n if cap is None else int(np.searchsorted(rs, cap / s, side="left"))
        first_cap = max(first_cap, n_floor)
        return n_floor, first_cap, float(prefix[first_cap] - prefix[n_floor])

    def total(s: float) -> float:
        n_floor, first_cap, mid = sets(s)
        return floor * n_floor + (0.0 if cap is None else cap * (n - first_cap)) + s * mid

    lo, hi = 1e-300, 1.0
    while total(hi) < budget:
        hi *= 2.0
    for _ in range(200):
        mid_s = math.sqrt(lo * hi) if hi / lo > 4 else (lo + hi) / 2
        if total(mid_s) < budget:
            lo = mid_s
        else:
            hi = mid_s
        if hi - lo <= hi * 1e-15:
            break
    n_floor, first_cap, mid = sets(hi)
    pinned = floor * n_floor + (0.0 if cap is None else cap * (n - first_cap))
    scale = (budget - pinned) / mid if mid > 0 else hi
    x = np.clip(raw * scale, floor, hi_bound)
    at_floor = raw * scale <= floor
    at_cap = raw * scale >= hi_bound
    return x, at_floor, at_cap


def _concentration_index(
    x: NDArray[np.float64], need: NDArray[np.float64], pop: NDArray[np.float64]
) -> float:
    """Population-weighted concentration index of ``x`` over areas ranked by need (least first)."""
    known = ~np.isnan(need)
    if known.sum() < 2:
        return float("nan")
    x, need, pop = x[known], need[known], pop[known]
    f = pop / pop.sum()
    order = np.argsort(need, kind="stable")
    cum = np.cumsum(f[order])
    r_sorted = cum - f[order] / 2
    rank = np.empty_like(r_sorted)
    rank[order] = r_sorted
    # ties in need share their mean fractional rank (the order among them is arbitrary)
    uniq, inv = np.unique(need, return_inverse=True)
    if len(uniq) < len(need):
        sums = np.bincount(inv, weights=rank * f)
        wts = np.bincount(inv, weights=f)
        rank = (sums / wts)[inv]
    mu = float((f * x).sum())
    if mu == 0:
        return float("nan")
    return float(2.0 / mu * (f * (x - mu) * (rank - 0.5)).sum())


def _formula(options: AllocationOptions, need_unit: str) -> tuple[str, str]:
    u = options.universal_share
    b = options.budget_pence / 100
    grad = {
        "rank": "w = (N + 1 - rank by need) / N, 1 for the most needy area down to 1/N",
        "decile": "w by decile 1..10 (1 = most deprived): "
        + ", ".join(f"{w:g}" for w in options.decile_weights),
        "score": f"w = the need value ({need_unit})",
    }[options.gradient]
    bounds = []
    if options.floor_pence:
        bounds.append(f"no area below £{options.floor_pence / 100:,.2f}")
    if options.cap_pence is not None:
        bounds.append(f"no area above £{options.cap_pence / 100:,.2f}")
    words = (
        f"Each area gets {u:.0%} of the £{b:,.2f} budget in proportion to its population (the "
        f"universal share) and {1 - u:.0%} in proportion to its population weighted by need "
        f"({grad})"
        + (
            f"; {' and '.join(bounds)}, the difference shared by the others in proportion"
            if bounds
            else ""
        )
        + "; whole pence by largest remainder, adding up to the budget exactly."
    )
    symbols = (
        f"A_i = B * [ u * p_i / sum_j p_j + (1 - u) * p_i * w_i / sum_j p_j * w_j ], "
        f"B = {options.budget_pence} p, u = {u:g}"
        + (
            f"; A_i <- min(C, max(F, s * A_i)), F = {options.floor_pence} p"
            + (f", C = {options.cap_pence} p" if options.cap_pence is not None else "")
            if bounds
            else ""
        )
    )
    return words, symbols


def summarise(
    pence: NDArray[np.int64],
    vs_equal: NDArray[np.int64],
    at_floor: NDArray[np.bool_],
    at_cap: NDArray[np.bool_],
    areas: AllocationInput,
) -> AllocationSummary:
    """The summary of a split measured against the need (and most deprived fifth) of
    ``areas``: its own, or a reference one when scenarios are compared."""
    pop = np.asarray(areas.population, dtype=np.float64)
    budget = float(pence.sum())
    quintile = (
        areas.most_deprived
        if areas.most_deprived is not None
        else (areas.decile >= 1) & (areas.decile <= 2)
    )
    return AllocationSummary(
        most_deprived_quintile_share=float(pence[quintile].sum() / budget),
        most_deprived_quintile_population_share=float(pop[quintile].sum() / pop.sum()),
        concentration_index=_concentration_index(pence / pop, areas.need, pop),
        gainers=int((vs_equal > 0).sum()),
        losers=int((vs_equal < 0).sum()),
        areas_without_need=int(np.isnan(areas.need).sum()),
        at_floor=int(at_floor.sum()),
        at_cap=int(at_cap.sum()),
        quintile_basis=areas.quintile_basis,
    )


def allocate(areas: AllocationInput, options: AllocationOptions) -> Allocation:
    """Split ``options.budget_pence`` across ``areas`` (see the module docstring); pure, fast
    (arrays only: England's 32,844 LSOAs in a few milliseconds)."""
    options.check()
    n = len(areas)
    if n == 0:
        raise InputError("no areas to allocate to", field="areas")
    pop = np.asarray(areas.population, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(pop) | (pop <= 0))
    if len(bad):
        raise InputError(
            f"area {areas.codes[int(bad[0])]} has population {pop[int(bad[0])]:g}: "
            "every area needs a population above 0",
            field="population",
        )
    budget = options.budget_pence
    floor = options.floor_pence
    if floor * n > budget:
        raise InputError(
            f"a floor of £{floor / 100:,.2f} for each of {n:,} areas needs "
            f"£{floor * n / 100:,.2f}, more than the budget of £{budget / 100:,.2f}",
            field="floor",
        )
    cap = options.cap_pence
    if cap is not None and cap * n < budget:
        raise InputError(
            f"a cap of £{cap / 100:,.2f} for each of {n:,} areas pays out at most "
            f"£{cap * n / 100:,.2f}, less than the budget",
            field="cap",
        )
    w = need_weights(areas, options)
    missing = np.isnan(w)
    if missing.all():
        raise InputError("no area has a need value", field="need")
    mean_w = float((pop[~missing] * w[~missing]).sum() / pop[~missing].sum())
    w = np.where(missing, mean_w, w)
    u = float(options.universal_share)
    need_part = pop * w
    need_total = need_part.sum()
    if u < 1 and need_total <= 0:
        raise InputError(
            "every need weight is 0: nothing to weight the need share by", field="gradient"
        )
    shares = u * pop / pop.sum() + ((1 - u) * need_part / need_total if u < 1 else 0.0)
    amounts, at_floor, at_cap = _fill(
        shares * budget, float(budget), float(floor), None if cap is None else float(cap)
    )
    pence = largest_remainder(amounts, budget)
    equal = largest_remainder(pop / pop.sum() * budget, budget)
    vs_equal = pence - equal
    summary = summarise(pence, vs_equal, at_floor, at_cap, areas)
    words, symbols = _formula(options, areas.need_unit)
    notes = list(areas.notes)
    if summary.areas_without_need:
        notes.append(
            f"{summary.areas_without_need} areas have no need value: they take the mean need "
            "weight, so the need share neither raises nor lowers their share per head"
        )
    return Allocation(
        options, words, symbols, areas, pence, vs_equal, w, at_floor, at_cap, summary,
        areas.need_unit, notes,
    )  # fmt: skip


def allocation_input(
    store: Store, need: str = "imd2019", *, areas: Sequence[str] | None = None
) -> AllocationInput:
    """The loaded LSOA 2011 areas (or ``areas``) with population and need for the allocator."""
    if need not in ALLOCATION_NEEDS:
        raise InputError(
            f"unknown need {need!r}; one of {', '.join(ALLOCATION_NEEDS)}", field="need"
        )
    table: AreaTable = load_areas(store, areas)
    notes: list[str] = []
    if table.population_year:
        notes.append(f"population: ONS mid-{table.population_year} estimates on LSOA 2011")
    if need == "le":
        scores = need_scores(store, table, measure="le_persons")
        values = scores.values
        known = ~np.isnan(values)
        decile = np.zeros(len(table), dtype=np.int64)
        if known.any():
            # deciles of need within the areas, 1 = most need, equal counts
            from strengthmap.commissioning.gap import local_deciles

            decile[known] = local_deciles(-values[known])
        quintile = (decile >= 1) & (decile <= 2)
        basis = (
            "the fifth of areas with the lowest life expectancy (deciles of need within the areas)"
        )
        notes.append("need: life expectancy at birth (persons) of each area's MSOA, 2011 lookup")
    else:
        release = 2019 if need == "imd2019" else 2025
        scores = need_scores(store, table, measure="imd", imd_release=release)
        values = scores.values
        decile = np.nan_to_num(scores.imd_decile, nan=0).astype(np.int64)
        quintile = (decile >= 1) & (decile <= 2)
        basis = f"IMD {release} deciles 1 and 2 (England, as published)"
        if scores.notes:
            notes.append(
                f"IMD {release}: {len(scores.notes)} areas reach the release through the "
                "2011 -> 2021 lookup (merged: the merged area's figure; split: the mean of the parts)"
            )
    return AllocationInput(
        codes=table.codes,
        population=table.population,
        need=values,
        decile=decile,
        most_deprived=quintile,
        names=table.names,
        need_unit=scores.unit,
        quintile_basis=basis,
        notes=tuple(notes),
    )


def allocate_budget(
    store: Store, options: AllocationOptions, *, areas: Sequence[str] | None = None
) -> Allocation:
    """``strengthmap commission allocate``: the split over the loaded areas (or ``areas``)."""
    options.check()
    data = allocation_input(store, options.need, areas=areas)
    if options.gradient == "score" and options.need == "imd2019" and np.isnan(data.need).all():
        raise InputError("no IMD 2019 score is loaded", field="gradient")
    if options.gradient == "score" and options.need == "imd2019":
        # IoD2019 scores are not in the data directory: need_scores fell back to ranks
        scores_loaded = "score" in data.need_unit
        if not scores_loaded:
            raise InputError(
                "IMD 2019 scores are not loaded (the IoD2019 files publish ranks and deciles "
                "only): use --gradient rank or decile, or --need imd2025",
                field="gradient",
            )
    result = allocate(data, options)
    need_data = "life_expectancy" if options.need == "le" else options.need
    return replace(result, attribution=attribution(store, *AREA_DATASETS, need_data))


@dataclass(frozen=True)
class ScenarioComparison:
    """Two or more allocations of the same budget over the same areas, side by side. Each
    ``summaries`` entry measures a scenario against one reference need (``reference``: IMD
    2025 where loaded, else 2019), so that their most-deprived-fifth shares and concentration
    indexes compare like with like; each allocation keeps its own summary too."""

    scenarios: list[Allocation]
    reference: str
    summaries: list[AllocationSummary]

    def to_dict(self) -> dict[str, Any]:
        first = self.scenarios[0]
        names = [s.options.label for s in self.scenarios]
        return {
            "budget_pence": first.options.budget_pence,
            "reference_need": self.reference,
            "scenarios": [
                {
                    "name": s.options.label,
                    "options": s.options.to_dict(),
                    "formula": s.formula,
                    "summary": ref.to_dict(),
                    "summary_by_own_need": s.summary.to_dict(),
                }
                for s, ref in zip(self.scenarios, self.summaries, strict=True)
            ],
            "areas": [
                {
                    "code": a.code,
                    "name": a.name,
                    "population": a.population,
                    "allocation_pence": {
                        n: s.areas[i].allocation_pence
                        for n, s in zip(names, self.scenarios, strict=True)
                    },
                    "vs_equal_pence": {
                        n: s.areas[i].vs_equal_pence
                        for n, s in zip(names, self.scenarios, strict=True)
                    },
                }
                for i, a in enumerate(first.areas)
            ],
            "attribution": list(first.attribution),
        }


def compare_scenarios(
    store: Store,
    scenarios: Sequence[AllocationOptions],
    *,
    areas: Sequence[str] | None = None,
    reference: str | None = None,
) -> ScenarioComparison:
    """Allocate the same budget under each scenario over the same areas, and measure every
    split against one ``reference`` need (``imd2019``, ``imd2025`` or ``le``; default the
    newest IMD loaded)."""
    if len(scenarios) < 2:
        raise InputError("compare two or more scenarios", field="scenario")
    budgets = {s.budget_pence for s in scenarios}
    if len(budgets) != 1:
        raise InputError("the scenarios must share one budget", field="budget")
    labels = [s.label for s in scenarios]
    if len(set(labels)) != len(labels):
        scenarios = [replace(s, name=f"{i + 1}: {s.label}") for i, s in enumerate(scenarios)]
    if reference is None:
        from strengthmap.indicators import latest_imd_release

        reference = f"imd{latest_imd_release(store)}"
    if reference not in ALLOCATION_NEEDS:
        raise InputError(
            f"unknown reference need {reference!r}; one of {', '.join(ALLOCATION_NEEDS)}",
            field="reference",
        )
    results = [allocate_budget(store, s, areas=areas) for s in scenarios]
    ref = allocation_input(store, reference, areas=areas)
    summaries = [summarise(r.pence, r.vs_equal, r.at_floor, r.at_cap, ref) for r in results]
    return ScenarioComparison(results, reference, summaries)


__all__ = [
    "ALLOCATION_NEEDS",
    "DEFAULT_DECILE_WEIGHTS",
    "GRADIENTS",
    "MAX_BUDGET_POUNDS",
    "Allocation",
    "AllocationInput",
    "AllocationOptions",
    "AllocationSummary",
    "AreaAllocation",
    "ScenarioComparison",
    "allocate",
    "allocate_budget",
    "allocation_input",
    "check_budget",
    "compare_scenarios",
    "largest_remainder",
    "need_weights",
    "parse_pounds",
    "summarise",
]
