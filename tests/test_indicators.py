"""Indicators: the Chiang II life table against the PHE worked example, CIs, suppression, store reads."""

from __future__ import annotations

import pytest

from strengthmap.errors import InputError
from strengthmap.indicators import (
    SUPPRESSION,
    Estimate,
    compare,
    indicator_values,
    life_expectancy_at_birth,
    life_table,
    suppress_count,
)
from strengthmap.storage import Store, schema

# The worked example of PHEindicatormethods (tests of phe_life_expectancy, PHE's R package that
# implements the OHID calculator): deaths and person-years in the 20 standard bands, and the
# published LE with 95% CI at each start age (R output, 8+ significant digits).
DEATHS = [17, 9, 4, 8, 20, 15, 24, 33, 50, 71, 100, 163, 263, 304, 536, 872, 1390, 1605, 1936, 1937]
POPS = [7060, 35059, 46974, 48489, 43219, 38561, 46009, 57208, 61435, 55601, 50209, 56416,
        46411, 39820, 37978, 37039, 33288, 23306, 11936, 11936]  # fmt: skip
PHE_VALUE = [80.16960813, 79.36245674, 75.44193645, 70.47299936, 65.52909542, 60.67510088,
             55.78835987, 50.92752727, 46.06740425, 41.24505636, 36.49322717, 31.83343842,
             27.26027992, 22.9719144, 18.76856852, 14.95858336, 11.51684445, 8.618849241,
             6.163942934, 6.16210635]  # fmt: skip
PHE_LOWER = [79.88336642, 79.09060194, 75.17480763, 70.20749699, 65.26623504, 60.41953895,
             55.53881063, 50.68361679, 45.82750376, 41.00928565, 36.2631218, 31.61090142,
             27.04436788, 22.7676441, 18.5769833, 14.78144225, 11.35045933, 8.45441757,
             5.984345957, 5.910935446]  # fmt: skip
PHE_UPPER = [80.45584984, 79.63431154, 75.70906527, 70.73850173, 65.79195581, 60.93066281,
             56.03790911, 51.17143776, 46.30730473, 41.48082707, 36.72333255, 32.05597542,
             27.47619196, 23.1761847, 18.96015373, 15.13572446, 11.68322956, 8.783280913,
             6.343539911, 6.413277255]  # fmt: skip


def test_chiang_ii_matches_phe_worked_example() -> None:
    t = life_table(DEATHS, POPS)
    assert t.expectancy == pytest.approx(PHE_VALUE, abs=1e-6)
    assert t.lower == pytest.approx(PHE_LOWER, abs=1e-6)
    assert t.upper == pytest.approx(PHE_UPPER, abs=1e-6)
    assert t.at_birth.count == sum(DEATHS) and t.at_birth.denominator == sum(POPS)


def test_life_table_by_hand_for_two_bands() -> None:
    # two bands: 0-1 (a0 = 0.1) and the open 1+; computed here by hand from the formulas
    d, p = [10.0, 50.0], [1000.0, 2000.0]
    m0, m1 = d[0] / p[0], d[1] / p[1]
    q0 = m0 / (1 + 0.9 * m0)
    l1 = 100_000 * (1 - q0)
    e0 = (1 * (l1 + 0.1 * (100_000 - l1)) + l1 / m1) / 100_000
    assert life_table(d, p, start_age=[0, 1]).at_birth.value == pytest.approx(e0, rel=1e-12)


def test_life_table_bad_input() -> None:
    with pytest.raises(InputError, match="negative"):
        life_table([-1, *DEATHS[1:]], POPS)
    with pytest.raises(InputError, match="exceed"):
        life_table([10**6, *DEATHS[1:]], POPS)
    with pytest.raises(InputError, match="open"):
        life_table([*DEATHS[:-1], 0], POPS)
    with pytest.raises(InputError, match="same length"):
        life_table(DEATHS[:-1], POPS)


def test_suppression_rule() -> None:
    small = life_expectancy_at_birth([1] * 20, [200] * 20)  # 4,000 person-years
    assert small.suppressed and small.value is None and small.denominator == 4000
    big = life_expectancy_at_birth(DEATHS, POPS)
    assert not big.suppressed and big.value == pytest.approx(PHE_VALUE[0], abs=1e-6)
    assert suppress_count(9).suppressed and suppress_count(10).value == 10
    assert "5,000 person-years" in SUPPRESSION.describe()


def test_compare_by_ci_overlap() -> None:
    a, b = Estimate(75.0, 74.0, 76.0), Estimate(80.0, 79.0, 81.0)
    c = compare(b, a)
    assert c.significant is True and c.difference == 5.0 and "higher" in c.text
    assert compare(Estimate(75.0, 74.0, 76.5), Estimate(76.0, 76.4, 77.0)).significant is False
    assert compare(Estimate.withheld(), a).significant is None
    assert compare(Estimate(75.0), a).significant is None


def test_indicator_values_from_store(store: Store) -> None:
    with store.transaction() as s:
        s.add(schema.Indicator(id="life_expectancy_birth", name="LE", unit="years"))
        s.add(schema.Area(code="E02000001", name="Somewhere 001", level="msoa", vintage=2011))
        s.flush()
        area_id = s.query(schema.Area.id).scalar()
        s.add(schema.IndicatorValue(indicator_id="life_expectancy_birth", area_id=area_id, period="2016 to 2020",
                                    sex="male", value=78.5, lower=77.0, upper=80.0, count=300, denominator=40000))  # fmt: skip
        s.add(schema.IndicatorValue(indicator_id="life_expectancy_birth", area_id=area_id, period="2016 to 2020",
                                    sex="female", suppressed=True, count=5, denominator=900))  # fmt: skip
    got = indicator_values(store)
    assert got["E02000001"]["male"] == Estimate(78.5, 77.0, 80.0, count=300, denominator=40000)
    assert got["E02000001"]["female"].suppressed and got["E02000001"]["female"].value is None
