"""Indicator values with 95% confidence intervals, counts, denominators and small-number suppression.

Example:
    >>> a = Estimate(78.1, 77.0, 79.2, count=310, denominator=40_000)
    >>> b = Estimate(82.6, 81.5, 83.7, count=250, denominator=42_000)
    >>> compare(a, b).text
    'significantly lower (CIs do not overlap)'
    >>> table = life_table(deaths=[17, 9, 4, 8, 20, 15, 24, 33, 50, 71, 100, 163, 263, 304, 536, 872, 1390, 1605, 1936, 1937],
    ...                    population=[7060, 35059, 46974, 48489, 43219, 38561, 46009, 57208, 61435, 55601, 50209, 56416,
    ...                                46411, 39820, 37978, 37039, 33288, 23306, 11936, 11936])
    >>> round(table.at_birth.value, 4), round(table.at_birth.lower, 4), round(table.at_birth.upper, 4)
    (80.1696, 79.8834, 80.4558)

Methods:

* Life expectancy: the Chiang II abridged life table (Chiang 1984) with 20 age bands (<1, 1-4,
  5-9, ..., 85-89 and the open interval 90+), a0 = 0.1 and a = 0.5 elsewhere, the variance of
  each probability of death per Chiang, and the Silcocks et al. (2001) term for the open 90+
  interval (binomial variance of its rate), exactly as in the PHE/OHID "Life expectancy calculator" and its technical guide
  (Public Health England 2018; ONS uses the same method for small-area life expectancy).
  95% CI = e ± 1.96 SE.
* Suppression (by default, ``SUPPRESSION``): a life expectancy whose total population is under
  5,000 person-years is withheld (Eayres & Williams 2004 showed estimates below that size are
  too unstable); a count under 10 is withheld (the usual disclosure-control floor). Suppressed
  values are ``None`` with ``suppressed=True``, never zero or a guess.
* Comparison: two estimates are "significantly different" only when their 95% CIs do not overlap
  (the conservative test used in PHE Fingertips); overlapping CIs read "not significantly
  different".

References: Chiang CL (1984) *The Life Table and its Applications*, Krieger, Malabar FL;
Silcocks PBS, Jenner DA, Reza R (2001) J Epidemiol Community Health 55:38-43;
Eayres D, Williams ES (2004) J Epidemiol Community Health 58:243-249;
Public Health England (2018) *Technical guide: confidence intervals* and the life expectancy
calculator (now OHID); the worked example above is the one in the test suite of the PHE R package
PHEindicatormethods (``phe_life_expectancy``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select

from strengthmap.errors import InputError
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.geo import LIFE_EXPECTANCY_BIRTH

#: z for a two-sided 95% interval, rounded to 1.96 as in the PHE/OHID calculator.
Z95 = 1.96

#: Start ages of the 20 standard abridged life-table bands (the last, 90, is the open 90+ band).
STANDARD_AGE_BANDS: tuple[int, ...] = (0, 1, *range(5, 95, 5))

#: The indicator id of life expectancy at birth in the store.
LIFE_EXPECTANCY = LIFE_EXPECTANCY_BIRTH


@dataclass(frozen=True)
class SuppressionRule:
    """When a value is withheld: too few events or too small a denominator."""

    min_count: float = 10
    min_le_person_years: float = 5000

    def describe(self) -> str:
        return (
            f"counts below {self.min_count:g} are suppressed; life expectancy is suppressed where "
            f"the population is below {self.min_le_person_years:,.0f} person-years "
            "(Eayres & Williams 2004) or the open 90+ band has no deaths"
        )


#: The default rule, applied unless a caller passes another.
SUPPRESSION = SuppressionRule()


@dataclass(frozen=True)
class Estimate:
    """A value with its 95% CI, count and denominator; all of value/lower/upper are None when suppressed.

    Example:
        >>> Estimate(80.0, 79.0, 81.0).overlaps(Estimate(80.5, 79.8, 81.2))
        True
    """

    value: float | None
    lower: float | None = None
    upper: float | None = None
    count: float | None = None
    denominator: float | None = None
    suppressed: bool = False

    @classmethod
    def withheld(cls, *, count: float | None = None, denominator: float | None = None) -> Estimate:
        return cls(None, None, None, count=count, denominator=denominator, suppressed=True)

    @property
    def has_ci(self) -> bool:
        return self.value is not None and self.lower is not None and self.upper is not None

    def overlaps(self, other: Estimate) -> bool | None:
        """True when the two 95% CIs overlap; None when either has no CI (cannot say)."""
        if not (self.has_ci and other.has_ci):
            return None
        assert self.lower is not None and self.upper is not None
        assert other.lower is not None and other.upper is not None
        return self.lower <= other.upper and other.lower <= self.upper

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Comparison:
    """How ``a`` stands against ``b``: the difference and whether the 95% CIs overlap."""

    difference: float | None  # a - b
    significant: bool | None  # None: one side has no value or no CI
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare(a: Estimate, b: Estimate) -> Comparison:
    """Compare two estimates by CI overlap (PHE Fingertips convention).

    Example:
        >>> compare(Estimate(80.0, 79.0, 81.0), Estimate(80.5, 79.8, 81.2)).text
        'not significantly different (CIs overlap)'
    """
    if a.value is None or b.value is None:
        return Comparison(None, None, "cannot compare: a value is suppressed or missing")
    diff = a.value - b.value
    overlap = a.overlaps(b)
    if overlap is None:
        return Comparison(diff, None, "cannot say: a confidence interval is missing")
    if overlap:
        return Comparison(diff, False, "not significantly different (CIs overlap)")
    word = "higher" if diff > 0 else "lower"
    return Comparison(diff, True, f"significantly {word} (CIs do not overlap)")


def suppress_count(
    count: float | None, denominator: float | None = None, *, rule: SuppressionRule = SUPPRESSION
) -> Estimate:
    """A count as an ``Estimate``, withheld when under the rule's ``min_count``.

    Example:
        >>> suppress_count(7).suppressed, suppress_count(12).value
        (True, 12)
    """
    if count is None or count < rule.min_count:
        return Estimate.withheld(denominator=denominator)
    return Estimate(count, count=count, denominator=denominator)


@dataclass(frozen=True)
class LifeTable:
    """An abridged life table: per band its start age, probability of death, survivors, life
    expectancy and 95% CI. ``at_birth`` is the band-0 estimate."""

    start_age: tuple[int, ...]
    q: tuple[float, ...]
    survivors: tuple[float, ...]
    expectancy: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    deaths: float
    person_years: float

    @property
    def at_birth(self) -> Estimate:
        return self.at_age(0)

    def at_age(self, age: int) -> Estimate:
        i = self.start_age.index(age)
        return Estimate(
            self.expectancy[i],
            self.lower[i],
            self.upper[i],
            count=self.deaths,
            denominator=self.person_years,
        )


def life_table(
    deaths: Sequence[float],
    population: Sequence[float],
    *,
    start_age: Sequence[int] = STANDARD_AGE_BANDS,
    a0: float = 0.1,
    z: float = Z95,
    radix: float = 100_000.0,
) -> LifeTable:
    """Chiang II abridged life table with 95% CIs, from deaths and person-years by age band.

    ``deaths[i]`` and ``population[i]`` (person-years: for a 5-year period, the sum of the five
    mid-year populations) belong to the band starting at ``start_age[i]``; the last band is open
    (90+). Raises ``InputError`` for negative numbers, deaths above the population, a band with no
    population, or an open band with no deaths (its rate would be 0 and its life expectancy
    infinite). See the module docstring for the method and references.
    """
    d = np.asarray(deaths, dtype=float)
    p = np.asarray(population, dtype=float)
    ages = np.asarray(start_age, dtype=float)
    k = len(ages)
    if not (len(d) == len(p) == k) or k < 2:
        raise InputError(
            f"deaths ({len(d)}), population ({len(p)}) and age bands ({k}) must have the same length (>= 2)"
        )
    if np.any(np.diff(ages) <= 0):
        raise InputError("age bands must be in ascending order", field="start_age")
    if np.any(d < 0) or np.any(p < 0):
        raise InputError("deaths and population cannot be negative")
    if np.any(p == 0):
        raise InputError("every age band needs a population above zero", field="population")
    if np.any(d > p):
        raise InputError("deaths exceed the population in an age band", field="deaths")
    if d[-1] == 0:
        raise InputError("no deaths in the open (last) age band: life expectancy is undefined")
    n = np.append(np.diff(ages), np.nan)  # band widths; the last is open
    a = np.full(k, 0.5)
    a[0] = a0 if ages[1] - ages[0] == 1 else 0.5
    m = d / p
    q = n * m / (1 + n * (1 - a) * m)
    q[-1] = 1.0
    survivors = np.empty(k)
    survivors[0] = radix
    for i in range(1, k):
        survivors[i] = survivors[i - 1] * (1 - q[i - 1])
    dead = survivors * q
    lived = np.empty(k)
    lived[:-1] = n[:-1] * (survivors[1:] + a[:-1] * dead[:-1])
    lived[-1] = survivors[-1] / m[-1]
    total = np.cumsum(lived[::-1])[::-1]
    e = total / survivors
    # Chiang variance of q (PHE form, in terms of the rate and the person-years)
    var_q = n**2 * m * (1 - a * n * m) / (p * (1 + (1 - a) * n * m) ** 3)
    e_next = np.append(e[1:], 0.0)
    term = survivors**2 * ((1 - a) * n + e_next) ** 2 * var_q
    # open band (Silcocks et al. 2001): l_w^2 / M_w^4 * Var(M_w), with the binomial
    # Var(M_w) = M_w (1 - M_w) / P_w used by the PHE calculator
    term[-1] = survivors[-1] ** 2 / m[-1] ** 4 * (m[-1] * (1 - m[-1]) / p[-1])
    var_e = np.cumsum(term[::-1])[::-1] / survivors**2
    se = np.sqrt(var_e)
    return LifeTable(
        start_age=tuple(int(x) for x in ages),
        q=tuple(float(x) for x in q),
        survivors=tuple(float(x) for x in survivors),
        expectancy=tuple(float(x) for x in e),
        lower=tuple(float(x) for x in e - z * se),
        upper=tuple(float(x) for x in e + z * se),
        deaths=float(d.sum()),
        person_years=float(p.sum()),
    )


def life_expectancy_at_birth(
    deaths: Sequence[float],
    population: Sequence[float],
    *,
    start_age: Sequence[int] = STANDARD_AGE_BANDS,
    rule: SuppressionRule = SUPPRESSION,
) -> Estimate:
    """Life expectancy at birth with its 95% CI, suppressed by ``rule`` (small populations).

    Example:
        >>> life_expectancy_at_birth([1] * 20, [100] * 20).suppressed   # 2,000 person-years
        True
    """
    py = float(np.sum(np.asarray(population, dtype=float)))
    dd = float(np.sum(np.asarray(deaths, dtype=float)))
    if py < rule.min_le_person_years or (len(deaths) and float(deaths[-1]) == 0):
        return Estimate.withheld(count=dd, denominator=py)
    return life_table(deaths, population, start_age=start_age).at_birth


# --- reading published values from the store ------------------------------------------------


def imd_releases(store: Store) -> list[int]:
    """The IMD releases loaded in the store, oldest first (e.g. ``[2019, 2025]``)."""
    with store.session() as session:
        rows = session.execute(select(schema.Deprivation.release).distinct()).scalars().all()
    return sorted(int(r) for r in rows)


#: LSOA vintage of each IMD release (IoD2019 on LSOA 2011, IoD2025 on LSOA 2021).
IMD_VINTAGE = {2019: 2011, 2025: 2021}


def latest_imd_release(store: Store) -> int:
    """The newest IMD release loaded; ``InputError`` when none is."""
    releases = imd_releases(store)
    if not releases:
        raise InputError("no IMD release is loaded: run `strengthmap data load` first")
    return releases[-1]


def imd_by_code(store: Store, release: int) -> dict[str, tuple[int, int, int]]:
    """``{lsoa_code: (imd_decile, imd_rank, n_areas)}`` for one IMD release (rank 1 = most deprived)."""
    with store.session() as session:
        rows = session.execute(
            select(
                schema.Area.code,
                schema.Deprivation.imd_decile,
                schema.Deprivation.imd_rank,
                schema.Deprivation.n_areas,
            )
            .join(schema.Area, schema.Area.id == schema.Deprivation.area_id)
            .where(schema.Deprivation.release == release)
        ).all()
    return {r[0]: (int(r[1]), int(r[2]), int(r[3])) for r in rows}


def indicator_values(
    store: Store,
    indicator_id: str = LIFE_EXPECTANCY,
    *,
    period: str | None = None,
    sexes: Iterable[str] = ("male", "female", "persons"),
) -> dict[str, dict[str, Estimate]]:
    """``{area_code: {sex: Estimate}}`` for one indicator (the latest period when not given)."""
    with store.session() as session:
        if period is None:
            period = session.execute(
                select(func.max(schema.IndicatorValue.period)).where(
                    schema.IndicatorValue.indicator_id == indicator_id
                )
            ).scalar_one_or_none()
            if period is None:
                return {}
        rows = session.execute(
            select(schema.Area.code, schema.IndicatorValue)
            .join(schema.Area, schema.Area.id == schema.IndicatorValue.area_id)
            .where(
                schema.IndicatorValue.indicator_id == indicator_id,
                schema.IndicatorValue.period == period,
                schema.IndicatorValue.sex.in_(list(sexes)),
            )
        ).all()
    out: dict[str, dict[str, Estimate]] = {}
    for code, v in rows:
        suppressed = bool(v.suppressed) or v.value is None
        est = (
            Estimate.withheld(count=v.count, denominator=v.denominator)
            if suppressed
            else Estimate(v.value, v.lower, v.upper, count=v.count, denominator=v.denominator)
        )
        out.setdefault(code, {})[v.sex] = est
    return out


def life_expectancy(store: Store, *, period: str | None = None) -> dict[str, dict[str, Estimate]]:
    """Published life expectancy at birth by MSOA: ``{msoa_code: {"male"|"female"|"persons": Estimate}}``."""
    return indicator_values(store, LIFE_EXPECTANCY, period=period)


def gap(a: Estimate, b: Estimate) -> float | None:
    """``|a - b|`` or None when either is suppressed."""
    if a.value is None or b.value is None:
        return None
    return abs(a.value - b.value)


def life_expectancy_range(store: Store) -> dict[str, dict[str, float]]:
    """Lowest, median and highest published MSOA life expectancy at birth (years), and how many
    MSOAs have one (``n``), per sex (male, female) among the loaded MSOAs; suppressed values are
    left out, and a sex with none is absent.

    >>> from strengthmap.storage import open_store
    >>> life_expectancy_range(open_store("sqlite://"))
    {}
    """
    out: dict[str, dict[str, float]] = {}
    by_code = life_expectancy(store)
    for sex in ("male", "female"):
        found: list[float] = []
        for e in by_code.values():
            v = e[sex].value if sex in e else None
            if v is not None and math.isfinite(v):
                found.append(float(v))
        if found:
            out[sex] = {
                "min": min(found),
                "median": statistics.median(found),
                "max": max(found),
                "n": len(found),
            }
    return out


__all__ = [
    "IMD_VINTAGE",
    "LIFE_EXPECTANCY",
    "STANDARD_AGE_BANDS",
    "SUPPRESSION",
    "Z95",
    "Comparison",
    "Estimate",
    "LifeTable",
    "SuppressionRule",
    "compare",
    "gap",
    "imd_by_code",
    "imd_releases",
    "indicator_values",
    "latest_imd_release",
    "life_expectancy",
    "life_expectancy_at_birth",
    "life_expectancy_range",
    "life_table",
    "suppress_count",
]
