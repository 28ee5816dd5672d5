"""Commissioning: source coverage, need beside strength, the health gap (SII/RII), the
proportionate-universalism allocator, commissions and their co-production log, and the CLI.

Small cases are built in the store here (a made-up place of 20 LSOAs) and computed by hand in
the tests; the real Leeds data checks the contract of each command."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box
from sqlalchemy import func, select
from typer.testing import CliRunner

from strengthmap.accounts import User
from strengthmap.cli import app as cli_app
from strengthmap.commissioning import allocate as alloc
from strengthmap.commissioning import cycle
from strengthmap.commissioning.gap import health_gap, local_deciles, relative_ranks, sii
from strengthmap.commissioning.need import area_coverage, need_strength, quadrant
from strengthmap.directory.coverage import (
    coverage_history,
    geodesic_circle,
    list_coverage,
    record_coverage,
    source_coverage,
)
from strengthmap.errors import Conflict, Forbidden, InputError, NotFound
from strengthmap.indicators import LIFE_EXPECTANCY
from strengthmap.storage import Store, schema

# --- a made-up place: 20 LSOAs (5 x 4 squares of 0.01 degrees), two to an MSOA ----------------

LAD = "E08900001"
LSOAS = [f"E0190{i:04d}" for i in range(1, 21)]
MSOAS = [f"E0290{i:04d}" for i in range(1, 11)]
X0, Y0, STEP = -1.60, 53.80, 0.01


def _cell(i: int) -> tuple[float, float, float, float]:
    col, row = i % 5, i // 5
    return (X0 + col * STEP, Y0 + row * STEP, X0 + (col + 1) * STEP, Y0 + (row + 1) * STEP)


def _centre(i: int) -> tuple[float, float]:
    x0, y0, x1, y1 = _cell(i)
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def build_place(store: Store, *, periods: tuple[str, ...] = ("2016 to 2020",)) -> None:
    """20 LSOAs with population, IMD 2019 (LSOA i has England rank 1 + 1,600 i), 10 MSOAs with
    life expectancy (MSOA m: male 74 + m years, female 79 + m; MSOA 10 male withheld), and a
    directory of two sources."""
    with store.transaction() as s:
        s.add(schema.Indicator(id=LIFE_EXPECTANCY, name="Life expectancy at birth", unit="years"))
        msoas = []
        for m, code in enumerate(MSOAS):
            geom = box(*_cell(2 * m)).union(box(*_cell(2 * m + 1)))
            area = schema.Area(
                code=code,
                name=f"Test {m + 1:03d}",
                level="msoa",
                vintage=2011,
                lad_code=LAD,
                geometry=geom,
            )
            s.add(area)
            msoas.append(area)
        s.flush()
        for i, code in enumerate(LSOAS):
            x0, y0, x1, y1 = _cell(i)
            area = schema.Area(
                code=code, name=f"Test {i // 2 + 1:03d}{'AB'[i % 2]}", level="lsoa", vintage=2011,
                lad_code=LAD, geometry=box(x0, y0, x1, y1), min_lon=x0, min_lat=y0, max_lon=x1,
                max_lat=y1, population=1000 + 100 * i, population_year=2020,
            )  # fmt: skip
            s.add(area)
            s.flush()
            s.add(schema.AreaLink(child_id=area.id, parent_id=msoas[i // 2].id, relation="parent"))
            rank = 1 + 1600 * i
            s.add(
                schema.Deprivation(
                    release=2019, area_id=area.id, n_areas=32844, imd_rank=rank,
                    imd_decile=math.ceil(rank * 10 / 32844),
                )
            )  # fmt: skip
        for m, area in enumerate(msoas):
            for p, period in enumerate(periods):
                for sex, base in (("male", 74.0), ("female", 79.0), ("persons", 76.5)):
                    withheld = sex == "male" and m == 9
                    value = base + (m + 1) + 0.5 * p * (10 - m) / 10
                    s.add(
                        schema.IndicatorValue(
                            indicator_id=LIFE_EXPECTANCY, area_id=area.id, period=period, sex=sex,
                            value=None if withheld else value,
                            lower=None if withheld else value - 1.0,
                            upper=None if withheld else value + 1.0, suppressed=withheld,
                        )
                    )  # fmt: skip


def add_asset(
    store: Store, name: str, lon: float, lat: float, *, kind: str = "association", source: str
) -> str:
    """A live service at a located place."""
    with store.transaction() as s:
        svc = schema.Service(name=name, abcd_kind=kind, source=source)
        loc = schema.Location(name=name, longitude=lon, latitude=lat, source=source)
        s.add_all([svc, loc])
        s.flush()
        s.add(schema.ServiceAtLocation(service_id=svc.id, location_id=loc.id, source=source))
        return svc.id


@pytest.fixture
def place(store: Store) -> Store:
    build_place(store)
    return store


def _count(store: Store, model: Any) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# --- coverage -------------------------------------------------------------------------------------


def test_coverage_falls_back_to_the_known_extents(store: Store) -> None:
    osm = source_coverage(store, "osm_community_pois")
    assert osm.basis == "known extent" and osm.geometry is not None
    # the circle of 2.5 km round central Leeds (SOURCES.md): its vertices are 2,500 m out
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    for x, y in list(osm.geometry.exterior.coords)[:-1:16]:
        assert geod.inv(-1.548567, 53.801277, x, y)[2] == pytest.approx(2500, abs=1e-6)
    assert source_coverage(store, "ods_epraccur").whole_place
    assert source_coverage(store, "manual").basis == "none"


def test_record_coverage_retires_the_old_record_with_an_audit_entry(place: Store) -> None:
    first = record_coverage(
        place, "osm_test", area_codes=[LSOAS[0], MSOAS[1]], actor="ana@example.org"
    )
    assert first.basis == "recorded" and first.area_codes == (LSOAS[0], MSOAS[1])
    west = box(X0, Y0, X0 + 2.5 * STEP, Y0 + 4 * STEP)
    second = record_coverage(place, "osm_test", polygon=west, description="west half")
    assert second.geometry is not None and second.geometry.equals(west)
    history = coverage_history(place, "osm_test")
    assert len(history) == 2  # kept, never deleted
    with place.session() as s:
        live = s.scalars(
            select(schema.SourceCoverage).where(schema.SourceCoverage.retired_at.is_(None))
        ).all()
        audits = s.scalars(
            select(schema.AuditEntry).where(schema.AuditEntry.entity == "source_coverage")
        ).all()
    assert [r.description for r in live] == ["west half"]
    assert len(audits) == 2 and audits[0].actor == "ana@example.org"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"area_codes": ["E01999999"]}, "area_codes"),
        ({"polygon": Point(0, 0)}, "polygon"),
        ({"polygon": box(400_000, 400_000, 450_000, 450_000)}, "polygon"),
        ({"polygon": {"type": "Nonsense"}}, "polygon"),
        ({}, "polygon"),
    ],
)
def test_bad_coverage_writes_nothing(place: Store, kwargs: dict[str, Any], field: str) -> None:
    record_coverage(place, "osm_test", area_codes=[LAD])
    with pytest.raises(InputError) as err:
        record_coverage(place, "osm_test", **kwargs)
    assert err.value.field == field
    assert _count(place, schema.SourceCoverage) == 1
    assert source_coverage(place, "osm_test").area_codes == (LAD,)


# --- need beside strength -------------------------------------------------------------------------


def _directory(place: Store) -> None:
    # "gp" covers the place (its district) and well beyond (a polygon: the two are unioned);
    # "osm" only the two western columns of areas
    record_coverage(
        place, "gp_test", area_codes=[LAD], polygon=box(X0 - 0.1, Y0 - 0.1, X0 + 0.2, Y0 + 0.2)
    )
    record_coverage(place, "osm_test", polygon=box(X0 - 0.05, Y0 - 0.05, X0 + 2 * STEP, Y0 + 0.1))
    for i in (0, 7, 12, 19):
        add_asset(place, f"GP {i}", *_centre(i), kind="institution", source="gp_test")
    add_asset(place, "Lunch club", *_centre(5), source="osm_test")
    add_asset(place, "Choir", *_centre(6), source="osm_test")
    add_asset(place, "Hall", *_centre(1), kind="physical_space", source="osm_test")
    add_asset(place, "Knit and natter", *_centre(18), source="manual")


def test_strength_is_not_measured_where_the_sources_never_looked(place: Store) -> None:
    _directory(place)
    result = need_strength(place, imd_release=2019, catchment_m=500)
    by_code = {a.code: a for a in result.areas}
    d = result.to_dict()
    assert [k["kind"] for k in d["kinds"]] == ["association", "institution", "physical_space"]
    # association: osm_test decides; manual (no coverage) counts but does not decide
    assoc = next(k for k in d["kinds"] if k["kind"] == "association")
    assert assoc["deciding_sources"] == ["osm_test"]
    assert assoc["sources_without_coverage"] == ["manual"]
    # columns 0-1 lie in osm_test's coverage; the others only in gp_test's: partly measured,
    # so their strength is not measured (institutions alone would read as "little strength")
    for i, code in enumerate(LSOAS):
        a = by_code[code]
        if i % 5 >= 2:
            assert a.strength is None and a.coverage == "partial"
            assert a.quadrant == "strength_not_measured"
            assert a.strength_by_kind["association"] is None
            assert a.strength_by_kind["institution"] is not None
        else:
            assert a.strength is not None and a.coverage in ("measured", "edge")
    # inside the coverage with no association in reach: 0, measured, not missing
    a15 = by_code[LSOAS[15]]
    assert a15.strength_by_kind["association"] == 0.0 and a15.coverage == "measured"
    assert d["counts"]["strength_not_measured"] == 12
    assert any("manual" in n for n in d["notes"])
    # the demand point of a square is its centre; its 500 m catchment reaches past column 1
    assert by_code[LSOAS[0]].coverage == "measured" and by_code[LSOAS[1]].coverage == "edge"


def test_strength_from_a_source_that_covers_the_place_is_measured_everywhere(place: Store) -> None:
    _directory(place)
    result = need_strength(place, imd_release=2019, sources=["gp_test"], catchment_m=800)
    assert {a.coverage for a in result.areas} <= {"measured", "edge"}
    assert all(a.strength is not None for a in result.areas)
    # strength = access / the place's population-weighted mean access: averages 1
    pops = np.array([a.population for a in result.areas], dtype=float)
    vals = np.array([a.strength for a in result.areas], dtype=float)
    assert float((pops * vals).sum() / pops.sum()) == pytest.approx(1.0)
    # need by rank (IoD2019 has no scores here): 100 * (n - rank + 0.5) / n
    a0 = result.areas[0]
    assert result.need.basis == "rank"
    assert a0.need == pytest.approx(100 * (32844 - 1 + 0.5) / 32844)
    # terciles: high need is the top third of need, low strength the bottom third of strength
    t = result.thresholds
    assert t.need == pytest.approx(float(np.quantile([a.need for a in result.areas], 2 / 3)))
    assert t.strength == pytest.approx(float(np.quantile(vals, 1 / 3)))
    for a in result.areas:
        assert a.quadrant == quadrant(a.need, a.strength, t)
    # the user's thresholds win
    own = need_strength(
        place, imd_release=2019, sources=["gp_test"], catchment_m=800, need_threshold=90,
        strength_threshold=0.5,
    )  # fmt: skip
    assert own.thresholds.need == 90 and own.thresholds.need_quantile is None


def test_need_from_life_expectancy_through_the_msoa_lookup(place: Store) -> None:
    _directory(place)
    result = need_strength(place, need="le_male", sources=["gp_test"], catchment_m=800)
    by_code = {a.code: a for a in result.areas}
    # LSOA i lies in MSOA i // 2 whose male LE is 74 + (i // 2 + 1); the highest published is
    # MSOA 9's 83 (MSOA 10's is withheld): need = years below it
    assert by_code[LSOAS[0]].need == pytest.approx(83 - 75)
    assert by_code[LSOAS[17]].need == pytest.approx(0.0)
    assert by_code[LSOAS[19]].need is None and by_code[LSOAS[19]].quadrant == "need_not_known"


def test_area_coverage_of_a_circle() -> None:
    from strengthmap.commissioning.areas import AreaTable

    table = AreaTable(
        codes=("a", "b", "c"), names=("a", "b", "c"), population=np.array([1, 1, 1]),
        population_year=2020, lon=np.array([-1.5, -1.5, -1.5]),
        lat=np.array([53.8, 53.8 + 1500 / 111_250, 53.8 + 3000 / 111_250]),
        point_kind=("centroid",) * 3, geometries=(Point(0, 0),) * 3, msoa=(None,) * 3, lad=(None,) * 3,
    )  # fmt: skip
    cov = area_coverage(geodesic_circle(-1.5, 53.8, 2500), table, 1000)
    assert cov.point_in.tolist() == [True, True, False]
    assert cov.catchment_in.tolist() == [True, False, False]


def test_bad_need_input_names_the_field(place: Store) -> None:
    _directory(place)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"need": "wealth"}, "need"),
        ({"basis": "score"}, "basis"),
        ({"need_quantile": 1.5}, "need_quantile"),
        ({"kinds": ["castle"]}, "kind"),
        ({"catchment_m": 0}, "catchment_m"),
        ({"imd_release": 2025}, "imd_release"),
    ]
    for kwargs, field in bad:
        with pytest.raises(InputError) as err:
            need_strength(place, **kwargs)
        assert err.value.field == field, kwargs


# --- the health gap ---------------------------------------------------------------------------------


def test_sii_and_rii_by_hand() -> None:
    # five quantiles of equal population: a = 0.2 each, b = 0.1, 0.3, 0.5, 0.7, 0.9; equal
    # weights make the regression ordinary least squares of y on b
    y = [70.0, 72.0, 73.0, 76.0, 79.0]
    b = [0.1, 0.3, 0.5, 0.7, 0.9]
    bm, ym = sum(b) / 5, sum(y) / 5
    slope = sum((bi - bm) * (yi - ym) for bi, yi in zip(b, y, strict=True)) / sum(
        (bi - bm) ** 2 for bi in b
    )
    intercept = ym - slope * bm
    assert slope == pytest.approx(22.0 / 2.0)  # sum((b-bm)(y-ym)) = 2.2, sum((b-bm)^2) = 0.4
    fit = sii(y, [500] * 5, se=[0.0] * 5, repetitions=1000)
    assert fit.sii == pytest.approx(slope, rel=1e-12)
    assert fit.intercept == pytest.approx(intercept, rel=1e-12)
    assert fit.rii == pytest.approx((intercept + slope) / intercept, rel=1e-12)
    # no sampling error: the simulated limits collapse onto the estimate
    assert fit.sii_lower == pytest.approx(slope) and fit.sii_upper == pytest.approx(slope)


def test_sii_weighted_regression_and_simulated_limits() -> None:
    # PHEindicatormethods' example (phe_sii documentation, Area1)
    y = np.array([75.9, 78.3, 83.8, 83.6, 80.5, 81.1, 81.7, 84.2, 80.6, 86.3])
    pop = np.array([7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534])
    se = np.array([1.64, 1.58, 1.51, 1.78, 1.7, 1.56, 1.37, 1.4, 2.43, 1.57])
    assert relative_ranks([12, 10, 78]).tolist() == pytest.approx([0.06, 0.17, 0.61])
    # independent: weighted least squares with weights a (numpy lstsq on sqrt(a) rows)
    a = pop / pop.sum()
    b = relative_ranks(pop)
    x = np.column_stack([np.ones(10), b]) * np.sqrt(a)[:, None]
    (alpha, beta), *_ = np.linalg.lstsq(x, y * np.sqrt(a), rcond=None)
    fit = sii(y, pop, se=se, repetitions=100_000, seed=11)
    assert fit.sii == pytest.approx(beta, rel=1e-12)
    assert fit.rii == pytest.approx((alpha + beta) / alpha, rel=1e-12)
    # the simulated 95% limits match the analytic ones (the fit is linear in y) to 1%
    cov = np.linalg.inv(x.T @ x) @ x.T @ np.diag(a * se**2) @ x @ np.linalg.inv(x.T @ x)
    half = 1.959964 * math.sqrt(cov[1, 1])
    assert fit.sii_upper - fit.sii == pytest.approx(half, rel=0.02)
    assert fit.sii - fit.sii_lower == pytest.approx(half, rel=0.02)
    # limits from the 95% CIs give the same as the standard errors; a seed repeats
    again = sii(
        y,
        pop,
        lower=y - 1.959963984540054 * se,
        upper=y + 1.959963984540054 * se,
        repetitions=100_000,
        seed=11,
    )
    assert again.sii_lower == pytest.approx(fit.sii_lower) and again.rii_upper == pytest.approx(
        fit.rii_upper
    )
    with pytest.raises(InputError):
        sii(y[:4], pop[:4], se=se[:4])


def test_local_deciles_cut_equal_counts() -> None:
    assert local_deciles(np.arange(20.0, 0, -1)).tolist() == [
        10,
        10,
        9,
        9,
        8,
        8,
        7,
        7,
        6,
        6,
        5,
        5,
        4,
        4,
        3,
        3,
        2,
        2,
        1,
        1,
    ]


def test_health_gap_by_decile_and_one_period_said_plainly(place: Store) -> None:
    gap = health_gap(place, measure="le_female", deciles="local", repetitions=2000)
    d = gap.to_dict()
    (p,) = d["periods"]
    # 20 LSOAs, local deciles of 2 (by rank: LSOA i is the i-th most deprived), each decile
    # one MSOA: decile k has the female LE of MSOA k, 79 + k
    assert [x["value"] for x in p["deciles"]] == pytest.approx([79.0 + k for k in range(1, 11)])
    assert p["gap_decile1_vs_10"] == pytest.approx(9.0)
    assert {"sii", "sii_lower", "sii_upper", "rii", "gap_decile1_vs_10"} <= p.keys()
    assert p["sii_lower"] < p["sii"] < p["sii_upper"]
    assert d["trend"] is None
    assert any("only one period is loaded" in n for n in d["notes"])
    # male: MSOA 10's value is withheld, so decile 10 has no value and the SII cannot be had
    with pytest.raises(InputError, match="decile 10"):
        health_gap(place, measure="le_male", repetitions=2000)


def test_health_gap_over_two_periods(store: Store) -> None:
    build_place(store, periods=("2011 to 2015", "2016 to 2020"))
    gap = health_gap(store, measure="le_female", repetitions=5000)
    d = gap.to_dict()
    assert [p["period"] for p in d["periods"]] == ["2011 to 2015", "2016 to 2020"]
    trend = d["trend"]
    # the second period adds 0.5 * (10 - m) / 10 to MSOA m: the most deprived end rose most
    assert trend["decile1_change"] == pytest.approx(0.5) and trend[
        "decile10_change"
    ] == pytest.approx(0.05)
    assert trend["poorest_rising_fastest"] is True
    assert trend["sii_change"] < 0


# --- the allocator ----------------------------------------------------------------------------------


def _input(
    pop: list[int], need: list[float], decile: list[int] | None = None
) -> alloc.AllocationInput:
    n = len(pop)
    return alloc.AllocationInput(
        codes=tuple(f"A{i}" for i in range(n)),
        population=np.array(pop, dtype=np.int64),
        need=np.array(need, dtype=np.float64),
        decile=np.array(decile or [1] * n, dtype=np.int64),
    )


def test_allocation_by_hand() -> None:
    # B = £1,000 = 100,000 p; u = 0.4; populations 100, 300, 600; rank gradient over needs
    # 5, 9, 1: ranks (1 = most need) 2, 1, 3; w = (N + 1 - r) / N = 2/3, 1, 1/3
    areas = _input([100, 300, 600], [5.0, 9.0, 1.0], [3, 1, 9])
    opts = alloc.AllocationOptions(budget_pence=100_000, universal_share=0.4, gradient="rank")
    plan = alloc.allocate(areas, opts)
    pw = [100 * 2 / 3, 300 * 1, 600 * 1 / 3]  # 66.67, 300, 200 -> total 566.67
    exact = [
        100_000 * (0.4 * p / 1000 + 0.6 * q / sum(pw))
        for p, q in zip([100, 300, 600], pw, strict=True)
    ]  # 11,058.82, 43,764.71, 45,176.47 p
    assert exact == pytest.approx([11_058.8235, 43_764.7059, 45_176.4706], abs=1e-3)
    # largest remainder: floors 11,058 + 43,764 + 45,176 = 99,998; the 2 pence left go to
    # the largest fractions (.8235 and .7059)
    assert [a.allocation_pence for a in plan.areas] == [11_059, 43_765, 45_176]
    # an equal split per head is 10,000 / 30,000 / 60,000 p
    assert [a.vs_equal_pence for a in plan.areas] == [1_059, 13_765, -14_824]
    assert [a.per_head_pence for a in plan.areas] == pytest.approx([110.59, 145.883333, 75.293333])
    s = plan.summary
    assert s.most_deprived_quintile_share == pytest.approx(43_765 / 100_000)  # decile 1 only
    assert s.most_deprived_quintile_population_share == pytest.approx(0.3)
    # concentration index over areas ranked by need (least first: A2, A0, A1), weights f =
    # 0.6, 0.1, 0.3, fractional ranks R = 0.3, 0.65, 0.85, x = per head
    f = np.array([0.6, 0.1, 0.3])
    r = np.array([0.3, 0.65, 0.85])
    x = np.array([45_176 / 600, 11_059 / 100, 43_765 / 300])
    mu = (f * x).sum()
    want_ci = 2 / mu * (f * (x - mu) * (r - 0.5)).sum()
    assert s.concentration_index == pytest.approx(want_ci, rel=1e-12)
    assert s.concentration_index > 0
    assert "40%" in plan.formula and "A_i = B * [ u * p_i" in plan.symbols


def test_largest_remainder_ties_go_to_the_earlier_area() -> None:
    assert alloc.largest_remainder(np.array([1 / 3, 1 / 3, 1 / 3]) * 100, 100).tolist() == [
        34,
        33,
        33,
    ]


def test_decile_and_score_gradients_by_hand() -> None:
    areas = _input([1000, 1000], [40.0, 10.0], [1, 10])
    plan = alloc.allocate(
        areas, alloc.AllocationOptions(budget_pence=110_000, universal_share=0, gradient="decile")
    )
    # weights 10 and 1: 10/11 and 1/11 of the budget
    assert [a.allocation_pence for a in plan.areas] == [100_000, 10_000]
    plan = alloc.allocate(
        areas, alloc.AllocationOptions(budget_pence=100_000, universal_share=0, gradient="score")
    )
    assert [a.allocation_pence for a in plan.areas] == [80_000, 20_000]


def test_floor_and_cap_by_hand() -> None:
    # four areas of 100 people; need shares 1:2:3:10 of £1,000 with u = 0 -> 62.5, 125,
    # 187.5, 625; a floor of £110 and a cap of £400: A0 -> 110, A3 -> 400, the £490 left
    # is shared by A1 and A2 as 2:3 -> 196 and 294 (and A0 at that scale would get 98 < 110)
    areas = _input([100] * 4, [1.0, 2.0, 3.0, 10.0])
    opts = alloc.AllocationOptions(
        budget_pence=100_000,
        universal_share=0,
        gradient="score",
        floor_pence=11_000,
        cap_pence=40_000,
    )
    plan = alloc.allocate(areas, opts)
    assert [a.allocation_pence for a in plan.areas] == [11_000, 19_600, 29_400, 40_000]
    assert [a.at_floor for a in plan.areas] == [True, False, False, False]
    assert [a.at_cap for a in plan.areas] == [False, False, False, True]
    assert plan.summary.at_floor == 1 and plan.summary.at_cap == 1


def test_an_equal_split_is_universal_share_one() -> None:
    areas = _input([123, 456, 789], [3.0, 2.0, 1.0])
    plan = alloc.allocate(
        areas, alloc.AllocationOptions(budget_pence=1_000_003, universal_share=1.0)
    )
    assert all(a.vs_equal_pence == 0 for a in plan.areas)
    assert plan.summary.concentration_index == pytest.approx(0.0, abs=1e-3)


def test_area_without_need_takes_the_mean_weight() -> None:
    areas = _input([100, 100, 100], [3.0, float("nan"), 1.0])
    plan = alloc.allocate(
        areas, alloc.AllocationOptions(budget_pence=300_000, universal_share=0, gradient="score")
    )
    # mean weight over the known areas: 2; A1 gets exactly the equal share per head
    assert [a.allocation_pence for a in plan.areas] == [150_000, 100_000, 50_000]
    assert plan.summary.areas_without_need == 1


@given(
    pops=st.lists(st.integers(1, 5000), min_size=1, max_size=40),
    budget=st.integers(1, 10**12),
    u=st.floats(0, 1),
    seed=st.integers(0, 2**16),
    gradient=st.sampled_from(["rank", "decile", "score"]),
    floor_frac=st.floats(0, 1),
)
@settings(max_examples=150, deadline=None)
def test_every_split_adds_up_to_the_budget_exactly(
    pops: list[int], budget: int, u: float, seed: int, gradient: str, floor_frac: float
) -> None:
    rng = np.random.default_rng(seed)
    n = len(pops)
    areas = _input(pops, list(rng.uniform(0, 80, n)), list(rng.integers(1, 11, n)))
    floor = int(budget * floor_frac / n)
    opts = alloc.AllocationOptions(
        budget_pence=budget, universal_share=u, gradient=gradient, floor_pence=floor
    )
    plan = alloc.allocate(areas, opts)
    pence = [a.allocation_pence for a in plan.areas]
    assert sum(pence) == budget
    assert min(pence) >= floor - 1  # a floor in whole pence, less at most a rounding penny
    assert sum(a.vs_equal_pence for a in plan.areas) == 0


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("1000000", 100_000_000),
        ("£1,000,000", 100_000_000),
        ("1m", 100_000_000),
        ("250k", 25_000_000),
        ("0.01", 1),
    ],
)
def test_parse_pounds(text: str, pence: int) -> None:
    assert alloc.parse_pounds(text) == pence


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"budget_pence": -100}, "budget"),
        ({"budget_pence": 0}, "budget"),
        ({"budget_pence": 10**14 + 1}, "budget"),
        ({"universal_share": 1.5}, "universal_share"),
        ({"universal_share": -0.1}, "universal_share"),
        ({"universal_share": float("nan")}, "universal_share"),
        ({"floor_pence": 40_000}, "floor"),
        ({"cap_pence": 10_000}, "cap"),
        ({"need": "wealth"}, "need"),
        ({"gradient": "steep"}, "gradient"),
        ({"decile_weights": (1.0,) * 9}, "decile_weights"),
    ],
)
def test_bad_allocation_input_names_the_field(kwargs: dict[str, Any], field: str) -> None:
    areas = _input([100, 100, 100], [1.0, 2.0, 3.0])
    opts = {"budget_pence": 100_000, **kwargs}
    with pytest.raises(InputError) as err:
        alloc.allocate(areas, alloc.AllocationOptions(**opts))
    assert err.value.field == field


def test_bad_money_and_population() -> None:
    for text in ("abc", "1.001", "", "nan", "inf"):
        with pytest.raises(InputError) as err:
            alloc.parse_pounds(text)
        assert err.value.field == "budget"
    with pytest.raises(InputError, match="A1 has population 0") as err:
        alloc.allocate(_input([100, 0], [1.0, 2.0]), alloc.AllocationOptions(budget_pence=100))
    assert err.value.field == "population"


def test_allocate_budget_over_the_place(place: Store) -> None:
    plan = alloc.allocate_budget(place, alloc.AllocationOptions(budget_pence=100_000_000))
    assert sum(a.allocation_pence for a in plan.areas) == 100_000_000
    assert len(plan.areas) == 20
    # decile of LSOA i: ceil((1 + 1600 i) * 10 / 32844): i = 0..4 lie in deciles 1 and 2
    assert plan.summary.most_deprived_quintile_population_share == pytest.approx(
        sum(1000 + 100 * i for i in range(5)) / sum(1000 + 100 * i for i in range(20))
    )
    le = alloc.allocate_budget(
        place, alloc.AllocationOptions(budget_pence=100_000_000, need="le", gradient="score")
    )
    assert le.summary.areas_without_need == 0  # persons LE is published for every MSOA here
    assert le.summary.quintile_basis.startswith(
        "the fifth of areas with the lowest life expectancy"
    )
    with pytest.raises(InputError) as err:
        alloc.allocate_budget(place, alloc.AllocationOptions(budget_pence=100, gradient="score"))
    assert err.value.field == "gradient"
    two = alloc.compare_scenarios(
        place,
        [
            alloc.AllocationOptions(budget_pence=100_000_000, universal_share=1.0, name="equal"),
            alloc.AllocationOptions(
                budget_pence=100_000_000, universal_share=0.2, gradient="decile"
            ),
        ],
    ).to_dict()
    names = [s["name"] for s in two["scenarios"]]
    assert names == ["equal", "u=0.2 imd2019 decile"]
    # both measured against one need (IMD 2019, the only release here): the equal split gives
    # the most deprived fifth exactly its population share
    assert two["reference_need"] == "imd2019"
    eq = two["scenarios"][0]["summary"]
    assert eq["most_deprived_quintile_share"] == pytest.approx(
        eq["most_deprived_quintile_population_share"], abs=1e-6
    )
    for name in names:
        assert sum(a["allocation_pence"][name] for a in two["areas"]) == 100_000_000
    assert all(a["vs_equal_pence"]["equal"] == 0 for a in two["areas"])


# --- commissions ------------------------------------------------------------------------------------

ANA = User(1, "ana@example.org", "commissioner")
ED = User(2, "ed@example.org", "editor")
VIEWER = User(3, "vi@example.org", "viewer")


def test_the_cycle_and_the_flag(place: Store) -> None:
    c = cycle.create_commission(
        place, ANA, title="Social prescribing", budget_pence=100_000_000, areas=[LAD],
        started_on=date(2026, 3, 2),
    )  # fmt: skip
    assert (c.stage, c.cycle, c.owner, c.flags) == ("analyse_need", 1, ANA.email, [])
    with pytest.raises(Conflict, match="moves on to plan first"):
        cycle.move_stage(place, ANA, c.id, "deliver")
    with pytest.raises(InputError) as err:
        cycle.move_stage(place, ANA, c.id, "plan", on=date(2026, 3, 1))
    assert err.value.field == "on"
    c = cycle.move_stage(place, ANA, c.id, "plan", on=date(2026, 4, 1))
    assert c.flags == [cycle.FLAG_NO_RESIDENTS]
    # flagged everywhere it appears
    assert cycle.list_commissions(place, ANA)[0].flags == [cycle.FLAG_NO_RESIDENTS]
    # involvement after it left does not clear the flag; a survey of no residents neither
    cycle.record_involvement(
        place, ANA, c.id, held_on=date(2026, 4, 5), stage="analyse_need", method="walk", residents=9
    )
    cycle.record_involvement(
        place,
        ANA,
        c.id,
        held_on=date(2026, 3, 20),
        stage="analyse_need",
        method="survey",
        residents=0,
    )
    assert cycle.get_commission(place, c.id, ANA).flags == [cycle.FLAG_NO_RESIDENTS]
    ev = cycle.record_involvement(
        place, ANA, c.id, held_on=date(2026, 3, 10), stage="analyse_need", method="story_circle",
        residents=11, groups=["Harehills Mums"], areas=[LSOAS[0], LSOAS[15]],
        said="We need somewhere warm to meet", changed="Warm spaces in the plan", public=True,
    )  # fmt: skip
    assert ev.imd_deciles == (1, 8)  # the published IMD 2019 deciles of those LSOAs
    assert cycle.get_commission(place, c.id, ANA).flags == []
    # retiring the only qualifying event brings the flag back
    cycle.retire_involvement(place, ANA, ev.id)
    assert cycle.get_commission(place, c.id, ANA).flags == [cycle.FLAG_NO_RESIDENTS]
    # through the stages and round to the next cycle
    for stage in ("design_procure", "deliver", "review"):
        c = cycle.move_stage(place, ANA, c.id, stage, on=date(2026, 5, 1))
    c = cycle.move_stage(place, ANA, c.id, "analyse_need", on=date(2026, 6, 1))
    assert (c.stage, c.cycle) == ("analyse_need", 2)
    assert [(s.stage, s.cycle, s.ended_on) for s in c.stages][-2:] == [
        ("review", 1, date(2026, 6, 1)), ("analyse_need", 2, None)
    ]  # fmt: skip
    with place.session() as s:
        actions = s.scalars(
            select(schema.AuditEntry.action)
            .where(schema.AuditEntry.entity_id == c.id)
            .order_by(schema.AuditEntry.id)
        ).all()
    assert actions.count("stage") == 5 and actions[0] == "create"


def test_public_face_shows_only_what_is_public_and_no_accounts(place: Store) -> None:
    c = cycle.create_commission(
        place, ANA, title="Men's sheds", owner="owner@example.org", started_on="2026-02-01"
    )
    cycle.record_involvement(
        place, ANA, c.id, held_on="2026-02-10", stage="analyse_need", method="walk", residents=7,
        said="The shed needs a ramp", changed="Ramp built", public=True,
    )  # fmt: skip
    cycle.record_involvement(
        place, ANA, c.id, held_on="2026-02-12", stage="analyse_need", method="workshop", residents=3,
        said="PRIVATE: a named resident's story", changed="PRIVATE note", public=False,
    )  # fmt: skip
    # not published: nobody without the role finds it at all
    for viewer in (None, VIEWER, ED):
        with pytest.raises(NotFound):
            cycle.get_commission(place, c.id, viewer)
        assert cycle.list_commissions(place, viewer) == []
    cycle.set_public(place, ANA, c.id, True)
    for viewer in (None, VIEWER, ED):
        public = cycle.get_commission(place, c.id, viewer)
        text = json.dumps(public.to_dict())
        assert public.view == "public"
        assert "PRIVATE" not in text and "@example.org" not in text
        assert "The shed needs a ramp" in text
        page = json.dumps(cycle.you_said_we_did(place, c.id, viewer).to_dict())
        assert "PRIVATE" not in page and "@" not in page and "Ramp built" in page
        assert [s.residents for s in cycle.list_commissions(place, viewer)] == [7]
    full = cycle.get_commission(place, c.id, ANA)
    assert full.owner == "owner@example.org" and len(full.involvement) == 2
    # even the commissioner's preview of "you said, we did" holds only the public items
    assert "PRIVATE" not in json.dumps(cycle.you_said_we_did(place, c.id, ANA).to_dict())


def test_only_commissioners_and_admins_change_commissions(place: Store) -> None:
    admin = User(9, "root@example.org", "admin")
    c = cycle.create_commission(place, admin, title="Lunch clubs")
    for user in (None, VIEWER, ED, User(4, "x@example.org", "commissioner", disabled=True)):
        with pytest.raises(Forbidden):
            cycle.create_commission(place, user, title="No")  # type: ignore[arg-type]
        with pytest.raises(Forbidden):
            cycle.move_stage(place, user, c.id, "plan")  # type: ignore[arg-type]
        with pytest.raises(Forbidden):
            cycle.record_involvement(
                place,
                user,  # type: ignore[arg-type]
                c.id,
                held_on="2026-01-01",
                stage="plan",
                method="walk",
                residents=1,
            )
    assert _count(place, schema.Commission) == 1
    assert cycle.move_stage(place, ANA, c.id, "plan").stage == "plan"


def test_bad_commission_input_writes_nothing(place: Store) -> None:
    c = cycle.create_commission(place, ANA, title="Walks")
    before = (
        _count(place, schema.Commission),
        _count(place, schema.InvolvementEvent),
        _count(place, schema.AuditEntry),
    )
    bad_involvement: list[tuple[dict[str, Any], str]] = [
        ({"stage": "dream"}, "stage"),
        ({"method": "telepathy"}, "method"),
        ({"residents": -1}, "residents"),
        ({"held_on": "2099-01-01"}, "held_on"),
        ({"held_on": "next tuesday"}, "held_on"),
        ({"areas": ["E01999999"]}, "areas"),
        ({"imd_deciles": [0, 11]}, "imd_deciles"),
    ]
    for change, field in bad_involvement:
        kwargs: dict[str, Any] = {
            "held_on": "2026-01-05",
            "stage": "analyse_need",
            "method": "walk",
            "residents": 4,
            **change,
        }
        with pytest.raises(InputError) as err:
            cycle.record_involvement(place, ANA, c.id, **kwargs)
        assert err.value.field == field, change
    bad_commissions: list[tuple[dict[str, Any], str]] = [
        ({"title": ""}, "title"),
        ({"title": "x", "budget_pence": -5}, "budget"),
        ({"title": "x", "areas": ["nope"]}, "areas"),
    ]
    for kwargs2, field in bad_commissions:
        with pytest.raises(InputError) as err:
            cycle.create_commission(place, ANA, **kwargs2)
        assert err.value.field == field
    with pytest.raises(InputError) as err:
        cycle.update_commission(place, ANA, c.id, {"owner_password": "x"})
    assert err.value.field == "owner_password"
    with pytest.raises(InputError):
        cycle.move_stage(place, ANA, c.id, "dream")
    after = (
        _count(place, schema.Commission),
        _count(place, schema.InvolvementEvent),
        _count(place, schema.AuditEntry),
    )
    assert after == before


def test_updates_and_allocation_are_audited(place: Store) -> None:
    c = cycle.create_commission(place, ANA, title="Walks", budget_pence=100_000_000)
    cycle.update_commission(place, ANA, c.id, {"title": "Health walks", "areas": [LSOAS[0]]})
    ev = cycle.record_involvement(
        place, ANA, c.id, held_on="2026-01-05", stage="analyse_need", method="walk", residents=4
    )
    cycle.update_involvement(
        place, ANA, ev.id, {"changed": "Routes avoid the ring road", "public": True}
    )
    plan = alloc.allocate_budget(place, alloc.AllocationOptions(budget_pence=100_000_000))
    kept = cycle.save_allocation(place, ANA, c.id, plan)
    assert (
        kept.allocation is not None
        and sum(a["allocation_pence"] for a in kept.allocation["areas"]) == 100_000_000
    )
    other = alloc.allocate_budget(place, alloc.AllocationOptions(budget_pence=5_000))
    with pytest.raises(Conflict):
        cycle.save_allocation(place, ANA, c.id, other)
    with place.session() as s:
        entries = s.scalars(select(schema.AuditEntry).order_by(schema.AuditEntry.id)).all()
    changes = [(e.entity, e.action) for e in entries]
    assert ("commission", "update") in changes and ("involvement_event", "update") in changes
    title = next(e for e in entries if e.action == "update" and e.entity == "commission")
    assert title.changes is not None and title.changes["title"] == ["Walks", "Health walks"]


def test_migration_carries_the_placeholder_rows_over(tmp_path: Path) -> None:
    from strengthmap.storage import open_store

    store = open_store(f"sqlite:///{tmp_path / 'old.sqlite'}", upgrade=False)
    store.upgrade("0005")
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO commission (id, title, budget_pence, created_at) VALUES ('c1', 'Old', 500, '2026-01-01 00:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO commission_stage (commission_id, stage, involvement, note, happened_on) VALUES ('c1', 'analyse', 'consult', 'kept', '2026-01-02')"
        )
    store.upgrade()
    with store.session() as s:
        row = s.get(schema.Commission, "c1")
        stage = s.scalars(select(schema.CommissionStage)).one()
    assert row is not None and (row.stage, row.cycle, row.public, row.budget_pence) == (
        "analyse_need",
        1,
        False,
        500,
    )
    assert stage.started_on == date(2026, 1, 2) and stage.note == "kept (involvement: consult)"
    # and back down: the rows stay (recreating the parent table would cascade them away)
    from alembic import command

    from strengthmap.storage import alembic_config

    with store.engine.begin() as conn:
        cfg = alembic_config(store.engine)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    with store.engine.connect() as conn:
        back = conn.exec_driver_sql("SELECT commission_id, happened_on FROM commission_stage").all()
        budget = conn.exec_driver_sql("SELECT budget_pence FROM commission").scalar_one()
    assert [tuple(r) for r in back] == [("c1", "2026-01-02")] and budget == 500
    store.close()


# --- the web: a commissioner is no directory editor -------------------------------------------------


def test_a_commissioner_cannot_edit_the_directory(sqlite_store: Store) -> None:
    from fastapi.testclient import TestClient

    from strengthmap import accounts
    from strengthmap.api import create_app
    from strengthmap.settings import Settings

    accounts.create_user(sqlite_store, "cara@example.org", password="p" * 12, role="commissioner")
    app = create_app(Settings(database_url=str(sqlite_store.url)), store=sqlite_store)
    c = TestClient(app)
    c.get("/login")
    token = accounts.csrf_token(app.state.settings.secret_key, c.cookies["sm_csrf"])
    r = c.post(
        "/login",
        data={"email": "cara@example.org", "password": "p" * 12, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert c.get("/edit").status_code == 403
    r = c.post(
        "/edit/organizations", data={"csrf_token": token, "name": "X", "abcd_kind": "association"}
    )
    assert r.status_code == 403
    assert _count(sqlite_store, schema.Organization) == 0


# --- the command line ---------------------------------------------------------------------------------


@pytest.fixture
def run(store: Store) -> Iterator[Any]:
    runner = CliRunner()
    url = store.engine.url.render_as_string(hide_password=False)

    def invoke(*args: str) -> Any:
        return runner.invoke(cli_app, ["--database", url, *args], catch_exceptions=False)

    yield invoke


def _main(store: Store, *args: str) -> tuple[int, str]:
    """The real entry point (errors become a message and an exit code)."""
    import contextlib
    import io

    from strengthmap.cli import main

    url = store.engine.url.render_as_string(hide_password=False)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["--database", url, *args])
    return code, " ".join(err.getvalue().split())  # rich wraps long lines


def test_cli_commands_and_their_json(place: Store, run: Any) -> None:
    _directory(place)
    out = json.loads(run("commission", "allocate", "--budget", "£1m", "--json").stdout)
    assert set(out) >= {"formula", "budget_pence", "areas", "summary"}
    assert out["budget_pence"] == 100_000_000
    assert set(out["areas"][0]) >= {
        "code",
        "population",
        "need",
        "allocation_pence",
        "per_head_pence",
        "vs_equal_pence",
    }
    assert set(out["summary"]) >= {
        "most_deprived_quintile_share",
        "most_deprived_quintile_population_share",
        "concentration_index",
    }
    out = json.loads(
        run(
            "commission", "access", "--kind", "institution", "--catchment-m", "800", "--json"
        ).stdout
    )
    assert (
        set(out) >= {"method", "catchment_m", "distance", "areas"} and out["distance"] == "geodesic"
    )
    out = json.loads(run("commission", "need-strength", "--imd-release", "2019", "--json").stdout)
    assert set(out["areas"][0]) >= {"code", "need", "strength", "quadrant", "coverage"}
    out = json.loads(
        run("commission", "gap", "--measure", "le_female", "--repetitions", "2000", "--json").stdout
    )
    assert set(out["periods"][0]) >= {
        "period",
        "sii",
        "sii_lower",
        "sii_upper",
        "rii",
        "gap_decile1_vs_10",
    }
    out = json.loads(run("commission", "coverage", "--json").stdout)
    assert {s["source"]: s["basis"] for s in out} == {
        "gp_test": "recorded",
        "manual": "none",
        "osm_test": "recorded",
    }
    made = json.loads(
        run(
            "commission",
            "create",
            "--title",
            "Walks",
            "--budget",
            "1m",
            "--started-on",
            "2026-03-01",
            "--json",
        ).stdout
    )
    moved = json.loads(
        run("commission", "stage", made["id"], "plan", "--on", "2026-03-05", "--json").stdout
    )
    assert moved["flags"] == [cycle.FLAG_NO_RESIDENTS]
    ev = json.loads(
        run(
            "commission",
            "involve",
            made["id"],
            "--on",
            "2026-03-02",
            "--stage",
            "analyse_need",
            "--method",
            "walk",
            "--residents",
            "8",
            "--said",
            "More benches",
            "--changed",
            "Benches on the route",
            "--public",
            "--json",
        ).stdout
    )
    assert ev["residents"] == 8
    shown = json.loads(run("commission", "show", made["id"], "--json").stdout)
    assert shown["flags"] == [] and shown["involvement_summary"]["residents"] == 8
    page = json.loads(run("commission", "you-said-we-did", made["id"], "--json").stdout)
    assert page["items"][0]["we_did"] == "Benches on the route"
    assert "compare" in run("commission", "--help").stdout


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["allocate", "--budget", "-5"], "budget"),
        (["allocate", "--budget", "0"], "budget"),
        (["allocate", "--budget", "lots"], "budget"),
        (["allocate", "--budget", "2000000000000"], "budget"),
        (["allocate", "--budget", "1m", "--universal-share", "1.2"], "universal_share"),
        (["allocate", "--budget", "100", "--floor", "50"], "floor"),
        (["access", "--catchment-m", "0"], "catchment_m"),
        (["access", "--catchment-m", "100001"], "catchment_m"),
        (["access", "--taxonomy", "no-such-term"], "taxonomy"),
        (["need-strength", "--need", "wealth"], "need"),
        (["gap", "--measure", "le_pets"], "measure"),
    ],
)
def test_cli_bad_input_exits_2_naming_the_field_and_writes_nothing(
    place: Store, args: list[str], field: str
) -> None:
    _directory(place)
    c = cycle.create_commission(place, ANA, title="Kept", budget_pence=10_000)
    before = (_count(place, schema.AuditEntry), _count(place, schema.Commission))
    code, err = _main(place, "commission", *args, "--json")
    assert code == 2, err
    assert f"field {field}" in err
    assert "Traceback" not in err
    # and saving an allocation that fails writes nothing either
    code, err = _main(place, "commission", "allocate", "--budget", "1m", "--save", c.id)
    assert code == 5 and "budget" in err
    assert (_count(place, schema.AuditEntry), _count(place, schema.Commission)) == before


def test_cli_bad_supply_files(place: Store, tmp_path: Path) -> None:
    osgb = tmp_path / "osgb.geojson"
    osgb.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [429_500, 433_800]}, "properties": {}}
    ]}))  # fmt: skip
    code, err = _main(place, "commission", "access", "--supply", str(osgb))
    assert (
        code == 2
        and "OSGB36" in err
        and "field geometry.coordinates" in err
        and "osgb.geojson" in err
    )
    far = tmp_path / "far.geojson"
    far.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.1, 51.5]}, "properties": {"capacity": 2}}
    ]}))  # fmt: skip
    code, err = _main(place, "commission", "access", "--supply", str(far))
    assert code == 2 and "field supply" in err and "none of the 1 supply points" in err


# --- real data: the commands' contract on Leeds --------------------------------------------------------


@pytest.mark.realdata
def test_need_strength_and_allocation_on_leeds(leeds_store: Store) -> None:
    result = need_strength(leeds_store, imd_release=2019)
    d = result.to_dict()
    assert len(d["areas"]) == 482
    # the 2022 OSM extract covers only its 2.5 km circle: most of Leeds is not measured, and
    # never shown as "no strength"
    outside = [a for a in d["areas"] if a["coverage"] == "not measured"]
    assert len(outside) > 400
    assert all(a["strength"] is None and a["quadrant"] == "strength_not_measured" for a in outside)
    gp = need_strength(leeds_store, imd_release=2025, sources=["ods_epraccur"]).to_dict()
    assert gp["need_basis"] == "score" and all(a["strength"] is not None for a in gp["areas"])
    plan = alloc.allocate_budget(leeds_store, alloc.AllocationOptions(budget_pence=100_000_000))
    assert sum(a.allocation_pence for a in plan.areas) == 100_000_000
    assert (
        plan.summary.most_deprived_quintile_share
        > plan.summary.most_deprived_quintile_population_share
    )
    gap = health_gap(leeds_store, measure="le_male", repetitions=5000).to_dict()
    assert len(gap["periods"]) == 1 and gap["trend"] is None
    assert gap["periods"][0]["sii"] > 0
    assert any("ODS" in line for line in gp["attribution"])
    assert list_coverage(leeds_store)[0].source in ("ods_epraccur", "osm_community_pois")


@pytest.mark.realdata
def test_recipe_figures(leeds_store: Store) -> None:
    """The figures of docs/recipes/commissioner-splits-1m.md, on both backends."""
    from strengthmap.commissioning.access import access_to_assets

    male = health_gap(leeds_store, measure="le_male").to_dict()["periods"][0]
    female = health_gap(leeds_store, measure="le_female").to_dict()["periods"][0]
    assert (male["sii"], male["sii_lower"], male["sii_upper"]) == pytest.approx(
        (8.29, 7.89, 8.69), abs=0.005
    )
    assert (female["sii"], female["sii_lower"], female["sii_upper"]) == pytest.approx(
        (6.21, 5.67, 6.76), abs=0.005
    )
    assert (male["rii"], female["rii"]) == pytest.approx((1.108, 1.076), abs=0.0005)
    assert (male["gap_decile1_vs_10"], female["gap_decile1_vs_10"]) == pytest.approx(
        (7.9, 6.0), abs=0.05
    )
    access = access_to_assets(
        leeds_store, taxonomy="gp-practice", sources=["ods_epraccur"], catchment_m=1500
    )
    none = [a for a in access.areas if a.in_reach == 0]
    assert (len(none), sum(a.population for a in none)) == (81, 128_306)
    assert float(np.median([a.nearest_m for a in access.areas])) == pytest.approx(759, abs=0.5)
    ns = need_strength(leeds_store, imd_release=2025).to_dict()
    assert ns["coverage_counts"] == {"measured": 16, "edge": 40, "partial": 0, "not measured": 426}
    assert ns["counts"]["look_here_first"] == 12
    gp = need_strength(
        leeds_store,
        imd_release=2025,
        taxonomy="gp-practice",
        sources=["ods_epraccur"],
        catchment_m=1500,
    )
    look = [a for a in gp.areas if a.quadrant == "look_here_first"]
    assert (len(look), sum(a.population for a in look)) == (42, 65_185)
    assert gp.thresholds.strength == pytest.approx(0.660, abs=0.0005)
    none = [a for a in look if a.strength == 0]
    assert (len(none), sum(a.population for a in none)) == (7, 10_514)
    assert gp.coverage_counts() == {"measured": 403, "edge": 79, "partial": 0, "not measured": 0}
    plan = alloc.allocate_budget(
        leeds_store,
        alloc.AllocationOptions(
            budget_pence=100_000_000, universal_share=0.5, need="imd2025", gradient="score"
        ),
    )
    s = plan.summary
    assert (
        s.most_deprived_quintile_share,
        s.most_deprived_quintile_population_share,
    ) == pytest.approx((0.442, 0.289), abs=0.0005)
    assert s.concentration_index == pytest.approx(0.213, abs=0.0005)
    assert (s.gainers, s.losers) == (188, 294)
    by_code = {a.code: a for a in plan.areas}
    assert (by_code["E01011433"].allocation_pence, by_code["E01011433"].vs_equal_pence) == (
        652_744,
        343_149,
    )
    assert sum(a.allocation_pence for a in plan.areas) == 100_000_000
