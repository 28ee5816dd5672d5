"""The health gap: slope and relative index of inequality (SII, RII) of life expectancy across
IMD deciles, with 95% confidence intervals by simulation, and the gap between the most and least
deprived deciles, per period.

Example:
    >>> fit = sii([75.9, 78.3, 83.8, 83.6, 80.5, 81.1, 81.7, 84.2, 80.6, 86.3],
    ...           [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534],
    ...           se=[1.64, 1.58, 1.51, 1.78, 1.7, 1.56, 1.37, 1.4, 2.43, 1.57],
    ...           repetitions=100_000, seed=1)
    >>> round(fit.sii, 4), round(fit.rii, 5)
    (7.0002, 1.08971)

Method (Low & Low 2004; exactly as the PHE/OHID R package PHEindicatormethods ``phe_sii``,
file ``R/SII_function.R`` and ``SimulationFunc`` in ``R/utils.R``, ukhsa-collaboration
repository, commit 0031e305105d675dae6af8529d6e611eff92faaa):

* Quantiles are ordered from most deprived (decile 1) to least deprived (decile 10). Each gets
  a relative rank b: the midpoint of its share of the population in the cumulative
  distribution (decile 1 with 12% of the people has b = 0.06).
* A weighted regression through the origin, ``y * sqrt(a) = alpha * sqrt(a) + beta * b *
  sqrt(a)`` (a = the decile's share of the population), fits the values; the SII is beta (the
  fitted difference between the least and the most deprived end), the RII is
  ``(alpha + beta) / alpha``.
* Confidence intervals: each decile's value is drawn ``repetitions`` times (100,000 by default)
  from a normal distribution with its standard error (from its 95% CI: ``(upper - lower) /
  (2 * 1.959964)``), the regression is refitted on every draw, and the limits are the draws at
  positions ``round(repetitions * 0.025)`` and ``round(repetitions * 0.975)`` of the sorted SIIs
  (and RIIs). The random draws are numpy's (seeded, so a result repeats), not R's, so limits
  agree with ``phe_sii`` to simulation error.

Life expectancy by decile: ONS publishes life expectancy by MSOA, not by LSOA or decile, and
deaths by age for LSOAs are not open data, so a decile's life expectancy here is the
population-weighted mean of the life expectancy of the MSOAs its LSOAs lie in (the official
LSOA -> MSOA lookup; mid-year LSOA population as weights), and its standard error
``sqrt(sum(w_m^2 se_m^2))`` over those MSOAs (w_m: the decile's population share in MSOA m;
the MSOA estimates taken as independent). LSOAs whose MSOA value ONS withheld are left out and
counted. Deciles are by default local (the place's LSOAs ranked by their published England rank
and cut into ten groups of as equal a count as can be); ``deciles="national"`` uses the
published England deciles.

Positive SII: people in the least deprived areas live longer, by about SII years from one end of
the social gradient to the other. The gap "decile 1 vs 10" is the least deprived decile's life
expectancy minus the most deprived one's, with a 95% CI from their standard errors.

References: Low A, Low A (2004) Measuring the gap: quantifying and comparing local health
inequalities. *J Public Health* 26(4):388-395. Public Health England (now OHID),
PHEindicatormethods (R), ``phe_sii``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from strengthmap.commissioning.areas import (
    AREA_DATASETS,
    attribution,
    imd_values,
    life_expectancy_periods,
    life_expectancy_values,
    load_areas,
)
from strengthmap.errors import InputError
from strengthmap.storage import Store

#: z of a two-sided 95% interval (R's ``qnorm(0.975)``, as ``phe_sii`` uses).
Z975 = 1.959963984540054
#: The measures ``commission gap`` takes.
GAP_MEASURES = ("le_male", "le_female", "le_persons")
#: Default number of simulations (``phe_sii``'s default).
REPETITIONS = 100_000
#: Seed of the simulations unless another is given (results repeat run to run).
SEED = 20_040_388


@dataclass(frozen=True)
class SiiFit:
    """SII and RII with their confidence limits (``phe_sii``)."""

    sii: float
    sii_lower: float
    sii_upper: float
    rii: float
    rii_lower: float
    rii_upper: float
    intercept: float
    repetitions: int
    confidence: float
    seed: int | None


def relative_ranks(population: ArrayLike) -> NDArray[np.float64]:
    """Midpoints of each quantile's share in the cumulative population (``FindXValues``).

    >>> relative_ranks([12, 10, 78]).round(3).tolist()
    [0.06, 0.17, 0.61]
    """
    p = np.asarray(population, dtype=np.float64)
    share = p / p.sum()
    return np.asarray(np.cumsum(share) - share / 2)


def sii(
    values: ArrayLike,
    population: ArrayLike,
    *,
    se: ArrayLike | None = None,
    lower: ArrayLike | None = None,
    upper: ArrayLike | None = None,
    repetitions: int = REPETITIONS,
    confidence: float = 0.95,
    seed: int | None = SEED,
) -> SiiFit:
    """SII and RII of ``values`` over quantiles ordered most deprived first, with confidence
    limits by simulation (``phe_sii`` with ``value_type = 0``). Give ``se`` or the 95%
    ``lower``/``upper`` limits of each value."""
    y = np.asarray(values, dtype=np.float64)
    pop = np.asarray(population, dtype=np.float64)
    k = len(y)
    if not 5 <= k <= 100:
        raise InputError(f"the SII needs 5 to 100 quantiles (got {k})", field="quantiles")
    if len(pop) != k or np.any(~np.isfinite(pop)) or np.any(pop <= 0):
        raise InputError("every quantile needs a population above 0", field="population")
    if se is not None:
        s = np.asarray(se, dtype=np.float64)
    elif lower is not None and upper is not None:
        s = (np.asarray(upper, dtype=np.float64) - np.asarray(lower, dtype=np.float64)) / Z975 / 2
    else:
        raise InputError("give the standard errors or the 95% limits", field="se")
    if len(s) != k or np.any(~np.isfinite(s)) or np.any(s < 0) or np.any(~np.isfinite(y)):
        raise InputError(
            "every quantile needs a value and a standard error of 0 or more", field="se"
        )
    if repetitions < 1000:
        raise InputError("at least 1,000 repetitions", field="repetitions")
    if not 0.5 <= confidence < 1:
        raise InputError("confidence must be in [0.5, 1)", field="confidence")
    a = pop / pop.sum()
    b = relative_ranks(pop)
    sqrt_a = np.sqrt(a)
    x = np.column_stack([sqrt_a, b * sqrt_a])  # k x 2 design
    solve = np.linalg.solve(x.T @ x, x.T)  # 2 x k: (X'X)^-1 X'
    alpha, beta = solve @ (y * sqrt_a)
    rng = np.random.default_rng(seed)
    draws = rng.normal(y[:, None], s[:, None], size=(k, repetitions))
    params = solve @ (draws * sqrt_a[:, None])
    sims_sii = np.sort(params[1])
    sims_rii = np.sort((params[0] + params[1]) / params[0])
    upper_p = confidence + (1 - confidence) / 2
    # R: sorted[round(reps * p)], 1-based; round half to even in both languages
    lo_pos = round(repetitions * (1 - upper_p)) - 1
    hi_pos = round(repetitions * upper_p) - 1
    return SiiFit(
        sii=float(beta),
        sii_lower=float(sims_sii[lo_pos]),
        sii_upper=float(sims_sii[hi_pos]),
        rii=float((alpha + beta) / alpha),
        rii_lower=float(sims_rii[lo_pos]),
        rii_upper=float(sims_rii[hi_pos]),
        intercept=float(alpha),
        repetitions=repetitions,
        confidence=confidence,
        seed=seed,
    )


@dataclass(frozen=True)
class DecileValue:
    """Life expectancy of one IMD decile (1 = most deprived)."""

    decile: int
    population: int
    lsoas: int
    value: float
    lower: float
    upper: float
    se: float
    left_out_lsoas: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "decile": self.decile,
            "population": self.population,
            "lsoas": self.lsoas,
            "value": round(self.value, 3),
            "lower": round(self.lower, 3),
            "upper": round(self.upper, 3),
            "left_out_lsoas": self.left_out_lsoas,
        }


@dataclass(frozen=True)
class PeriodGap:
    """The gap measures of one period."""

    period: str
    fit: SiiFit
    gap: float
    gap_lower: float
    gap_upper: float
    deciles: tuple[DecileValue, ...]

    def to_dict(self) -> dict[str, Any]:
        f = self.fit
        return {
            "period": self.period,
            "sii": round(f.sii, 4),
            "sii_lower": round(f.sii_lower, 4),
            "sii_upper": round(f.sii_upper, 4),
            "rii": round(f.rii, 5),
            "rii_lower": round(f.rii_lower, 5),
            "rii_upper": round(f.rii_upper, 5),
            "gap_decile1_vs_10": round(self.gap, 3),
            "gap_lower": round(self.gap_lower, 3),
            "gap_upper": round(self.gap_upper, 3),
            "deciles": [d.to_dict() for d in self.deciles],
        }


@dataclass(frozen=True)
class Trend:
    """From the first period to the last: is the gap closing, is the poorest end rising fastest?"""

    first: str
    last: str
    sii_change: float
    sii_change_lower: float
    sii_change_upper: float
    decile1_change: float
    decile10_change: float

    @property
    def gap_closing(self) -> bool | None:
        """True / False when the SII's change is significant (its CI excludes 0), else None."""
        if self.sii_change_upper < 0:
            return True
        if self.sii_change_lower > 0:
            return False
        return None

    def to_dict(self) -> dict[str, Any]:
        closing = self.gap_closing
        return {
            "from": self.first,
            "to": self.last,
            "sii_change": round(self.sii_change, 4),
            "sii_change_lower": round(self.sii_change_lower, 4),
            "sii_change_upper": round(self.sii_change_upper, 4),
            "gap_closing": closing,
            "decile1_change": round(self.decile1_change, 3),
            "decile10_change": round(self.decile10_change, 3),
            "poorest_rising_fastest": self.decile1_change > self.decile10_change,
            "says": (
                "the gap is closing (the SII fell, significantly)"
                if closing
                else "the gap is widening (the SII rose, significantly)"
                if closing is False
                else "no significant change in the gap (the SII's change has a CI including 0)"
            ),
        }


@dataclass(frozen=True)
class HealthGap:
    """``strengthmap commission gap``: SII, RII and the decile gap, per period."""

    measure: str
    imd_release: int
    deciles: str
    periods: tuple[PeriodGap, ...]
    trend: Trend | None
    notes: list[str] = field(default_factory=list)
    attribution: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        f = self.periods[0].fit if self.periods else None
        return {
            "measure": self.measure,
            "unit": "years",
            "imd_release": self.imd_release,
            "deciles": self.deciles,
            "method": "SII/RII by weighted regression over IMD deciles (Low & Low 2004), 95% CIs by "
            "simulation as in PHEindicatormethods phe_sii",
            "repetitions": f.repetitions if f else None,
            "seed": f.seed if f else None,
            "periods": [p.to_dict() for p in self.periods],
            "trend": self.trend.to_dict() if self.trend else None,
            "notes": list(self.notes),
            "attribution": list(self.attribution),
        }


def local_deciles(england_rank: NDArray[np.float64]) -> NDArray[np.int64]:
    """Deciles within the areas: ranked by England rank (most deprived first), cut into ten
    groups of counts as equal as can be (the first ``n % 10`` groups take one more).

    >>> local_deciles(np.array([5.0, 1, 9, 3, 7, 2, 8, 4, 6, 10, 11])).tolist()
    [4, 1, 8, 2, 6, 1, 7, 3, 5, 9, 10]
    """
    n = len(england_rank)
    order = np.argsort(england_rank, kind="stable")
    sizes = np.full(10, n // 10)
    sizes[: n % 10] += 1
    labels = np.repeat(np.arange(1, 11), sizes)
    out = np.empty(n, dtype=np.int64)
    out[order] = labels
    return out


def decile_values(
    decile: NDArray[np.int64],
    population: NDArray[np.int64],
    msoa: Sequence[str | None],
    le: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
) -> list[DecileValue]:
    """Life expectancy per decile from LSOAs carrying their MSOA's value (module docstring)."""
    se = (upper - lower) / (2 * Z975)
    out = []
    for d in range(1, 11):
        in_d = decile == d
        ok = in_d & ~np.isnan(le) & ~np.isnan(se)
        if not ok.any():
            raise InputError(
                f"IMD decile {d} has no area with a published life expectancy: the SII needs all ten",
                field="deciles",
            )
        weights: dict[str, float] = {}
        for i in (int(j) for j in np.flatnonzero(ok)):
            key = msoa[i] or ""
            weights[key] = weights.get(key, 0.0) + float(population[i])
        total = sum(weights.values())
        first = {msoa[int(i)] or "": int(i) for i in np.flatnonzero(ok)}
        w = np.array([weights[m] / total for m in weights])
        v = np.array([le[first[m]] for m in weights])
        s = np.array([se[first[m]] for m in weights])
        value = float((w * v).sum())
        sd = float(np.sqrt((w**2 * s**2).sum()))
        out.append(
            DecileValue(
                decile=d,
                population=int(population[ok].sum()),
                lsoas=int(ok.sum()),
                value=value,
                lower=value - Z975 * sd,
                upper=value + Z975 * sd,
                se=sd,
                left_out_lsoas=int((in_d & ~ok).sum()),
            )
        )
    return out


def health_gap(
    store: Store,
    *,
    measure: str = "le_male",
    imd_release: int = 2019,
    deciles: str = "local",
    repetitions: int = REPETITIONS,
    seed: int | None = SEED,
    areas: Sequence[str] | None = None,
) -> HealthGap:
    """SII, RII and the decile 1 vs 10 gap of life expectancy for every period loaded."""
    if measure not in GAP_MEASURES:
        raise InputError(
            f"unknown measure {measure!r}; one of {', '.join(GAP_MEASURES)}", field="measure"
        )
    if deciles not in ("local", "national"):
        raise InputError(f"deciles are local or national, not {deciles!r}", field="deciles")
    table = load_areas(store, areas)
    imd = imd_values(store, table, imd_release)
    known = ~np.isnan(imd.rank)
    notes: list[str] = []
    if not known.all():
        notes.append(f"{int((~known).sum())} areas have no IMD {imd_release} figure: left out")
    if deciles == "local":
        dec = np.zeros(len(table), dtype=np.int64)
        dec[known] = local_deciles(imd.rank[known])
        notes.append(
            f"local deciles: the {int(known.sum())} LSOAs ranked by their England IMD {imd_release} "
            "rank and cut into ten groups of equal count (not the published England deciles)"
        )
    else:
        dec = np.where(known, np.nan_to_num(imd.decile), 0).astype(np.int64)
        notes.append(f"national deciles: the published England IMD {imd_release} deciles")
    periods = life_expectancy_periods(store)
    if not periods:
        raise InputError(
            "no life expectancy is loaded: run `strengthmap data load`", field="measure"
        )
    results: list[PeriodGap] = []
    for period in periods:
        le = life_expectancy_values(store, table, sex=measure[3:], period=period)
        dv = decile_values(dec, table.population, table.msoa, le.value, le.lower, le.upper)
        fit = sii(
            [d.value for d in dv], [d.population for d in dv], se=[d.se for d in dv],
            repetitions=repetitions, seed=seed,
        )  # fmt: skip
        g = dv[9].value - dv[0].value
        gse = float(np.hypot(dv[9].se, dv[0].se))
        results.append(PeriodGap(period, fit, g, g - Z975 * gse, g + Z975 * gse, tuple(dv)))
        left = sum(d.left_out_lsoas for d in dv)
        if left:
            notes.append(
                f"{period}: {left} LSOAs lie in MSOAs whose {measure} ONS withheld: left out"
            )
    trend: Trend | None = None
    if len(results) >= 2:
        first, last = results[0], results[-1]
        se_first = (first.fit.sii_upper - first.fit.sii_lower) / (2 * Z975)
        se_last = (last.fit.sii_upper - last.fit.sii_lower) / (2 * Z975)
        change = last.fit.sii - first.fit.sii
        cse = float(np.hypot(se_first, se_last))
        trend = Trend(
            first.period, last.period, change, change - Z975 * cse, change + Z975 * cse,
            last.deciles[0].value - first.deciles[0].value,
            last.deciles[9].value - first.deciles[9].value,
        )  # fmt: skip
    else:
        notes.append(
            f"only one period is loaded ({periods[0]}): whether the gap is closing, and whether "
            "the poorest end is rising fastest, needs at least two"
        )
    sources = attribution(store, *AREA_DATASETS, f"imd{imd_release}", "life_expectancy")
    return HealthGap(measure, imd_release, deciles, tuple(results), trend, notes, sources)


__all__ = [
    "GAP_MEASURES",
    "REPETITIONS",
    "SEED",
    "Z975",
    "DecileValue",
    "HealthGap",
    "PeriodGap",
    "SiiFit",
    "Trend",
    "decile_values",
    "health_gap",
    "local_deciles",
    "relative_ranks",
    "sii",
]
