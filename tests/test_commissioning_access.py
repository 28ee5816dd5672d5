"""Access to assets (2SFCA / E2SFCA): hand-computed cases, the sparse geodesic pairs against a
brute-force computation, bad input, and equality with PySAL ``access`` on the Leeds GPs."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray
from pyproj import Geod

from strengthmap.commissioning.access import (
    GEODESIC,
    CatchmentPairs,
    Demand,
    GeodesicDistance,
    Points,
    Supply,
    access_to_assets,
    demand_from_areas,
    two_step_fca,
    weighting,
)
from strengthmap.commissioning.areas import load_areas
from strengthmap.commissioning.supply import directory_supply
from strengthmap.errors import InputError
from strengthmap.storage import Store

GEOD = Geod(ellps="WGS84")


class TableDistance:
    """A DistanceProvider from a written-out distance table (metres), for hand-computed cases."""

    name = "table"

    def __init__(self, table: Sequence[Sequence[float]]) -> None:
        self.d = np.asarray(table, dtype=np.float64)

    def pairs_within(
        self,
        origins: Points,
        destinations: Points,
        max_m: float,
        *,
        exact_at: Sequence[float] | None = None,
    ) -> CatchmentPairs:
        o, d = np.nonzero(self.d <= max_m)
        return CatchmentPairs(
            o.astype(np.intp), d.astype(np.intp), self.d[o, d], np.ones(len(o), dtype=bool)
        )

    def nearest(
        self, origins: Points, destinations: Points
    ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        j = np.argmin(self.d, axis=1).astype(np.intp)
        return j, self.d[np.arange(len(j)), j]


# three areas, two supply points; distances in metres, catchment 1,000 m
DIST = [
    [300.0, 1500.0],  # A: S1 in reach, S2 not
    [800.0, 600.0],  # B: both
    [2500.0, 900.0],  # C: S2 only
]
DEMAND = Demand(
    codes=("A", "B", "C"),
    population=np.array([1000, 2000, 500]),
    lon=np.zeros(3),
    lat=np.zeros(3),
)
SUPPLY = Supply(ids=("S1", "S2"), lon=np.zeros(2), lat=np.zeros(2), capacity=np.array([2.0, 1.0]))


def test_2sfca_by_hand() -> None:
    # S1 serves A and B: R1 = 2 / (1000 + 2000); S2 serves B and C: R2 = 1 / (2000 + 500)
    r1 = 2 / 3000
    r2 = 1 / 2500
    want = {"A": 1000 * r1, "B": 1000 * (r1 + r2), "C": 1000 * r2}  # per 1,000 residents
    got = two_step_fca(DEMAND, SUPPLY, catchment_m=1000, distance=TableDistance(DIST))
    assert {a.code: a.access for a in got.areas} == pytest.approx(want, rel=1e-15)
    assert [a.in_reach for a in got.areas] == [1, 2, 1]
    assert [(a.nearest_id, a.nearest_m) for a in got.areas] == [
        ("S1", 300.0),
        ("S2", 600.0),
        ("S2", 900.0),
    ]
    assert got.distance == "table" and got.pairs == 4
    # the whole supply is handed out: sum of P_i * A_i / 1000 = 3 supply units
    assert sum(a.population * a.access / 1000 for a in got.areas) == pytest.approx(3.0)


def test_e2sfca_bands_by_hand() -> None:
    bands = [(400, 1.0), (800, 0.5), (1000, 0.25)]
    # S1: A at 300 m (weight 1), B at 800 m (0.5, an upper edge belongs to its band)
    d1 = 1000 * 1.0 + 2000 * 0.5
    # S2: B at 600 m (0.5), C at 900 m (0.25)
    d2 = 2000 * 0.5 + 500 * 0.25
    r1, r2 = 2 / d1, 1 / d2
    want = {
        "A": 1000 * r1 * 1.0,
        "B": 1000 * (r1 * 0.5 + r2 * 0.5),
        "C": 1000 * r2 * 0.25,
    }
    assert want == pytest.approx({"A": 1.0, "B": 0.5 + 1000 / 2250, "C": 250 / 1125})
    got = two_step_fca(
        DEMAND, SUPPLY, catchment_m=1000, method="e2sfca", bands=bands,
        distance=TableDistance(DIST),
    )  # fmt: skip
    assert {a.code: a.access for a in got.areas} == pytest.approx(want, rel=1e-15)


def test_e2sfca_gaussian_by_hand() -> None:
    def g(d: float) -> float:
        return math.exp(-(d**2) / (2 * 500.0**2))

    d1 = 1000 * g(300) + 2000 * g(800)
    d2 = 2000 * g(600) + 500 * g(900)
    want = {
        "A": 1000 * 2 / d1 * g(300),
        "B": 1000 * (2 / d1 * g(800) + 1 / d2 * g(600)),
        "C": 1000 * 1 / d2 * g(900),
    }
    got = two_step_fca(
        DEMAND, SUPPLY, catchment_m=1000, method="e2sfca", decay="gaussian", sigma_m=500,
        distance=TableDistance(DIST),
    )  # fmt: skip
    assert {a.code: a.access for a in got.areas} == pytest.approx(want, rel=1e-15)


def test_default_e2sfca_bands_are_thirds_weighted_as_luo_and_qi() -> None:
    w = weighting("e2sfca", 1500)
    assert w.bands == ((500.0, 1.0), (1000.0, 0.68), (1500.0, 0.22))
    d = np.array([0.0, 500.0, 500.1, 1000.0, 1499.9, 1500.0, 1500.1])
    assert w.weights(d).tolist() == [1.0, 1.0, 0.68, 0.68, 0.22, 0.22, 0.0]
    assert weighting("e2sfca", 1000, decay="gaussian").sigma_m == 500


def test_catchment_edge_is_decided_by_the_exact_geodesic_distance() -> None:
    lon0, lat0 = -1.55, 53.80
    # supply points due north, east and south-west at 999.99 m and 1000.01 m (pyproj forward)
    az = [0.0, 0.0, 90.0, 90.0, 225.0, 225.0]
    dist = [999.99, 1000.01, 999.99, 1000.01, 999.99, 1000.01]
    lons, lats, _ = GEOD.fwd([lon0] * 6, [lat0] * 6, az, dist)
    demand = Demand(("X",), np.array([100]), np.array([lon0]), np.array([lat0]))
    supply = Supply(tuple("abcdef"), np.asarray(lons), np.asarray(lats), np.ones(6))
    for method in ("2sfca", "e2sfca"):
        got = two_step_fca(demand, supply, catchment_m=1000, method=method)
        assert got.areas[0].in_reach == 3, method
    got = two_step_fca(demand, supply, catchment_m=1000)
    assert got.areas[0].access == pytest.approx(3 / 100 * 1000)
    assert got.areas[0].nearest_m == pytest.approx(999.99, abs=1e-6)


def _brute(o: Points, d: Points, max_m: float) -> dict[tuple[int, int], float]:
    grid_i, grid_j = np.meshgrid(np.arange(len(o)), np.arange(len(d)), indexing="ij")
    i, j = grid_i.ravel(), grid_j.ravel()
    _, _, dist = GEOD.inv(o.lon[i], o.lat[i], d.lon[j], d.lat[j])
    keep = dist <= max_m
    return {
        (int(a), int(b)): float(c) for a, b, c in zip(i[keep], j[keep], dist[keep], strict=True)
    }


@pytest.mark.parametrize("lat0", [53.8, -33.9, 0.0, 78.2])
def test_sparse_pairs_equal_every_pair_measured(lat0: float) -> None:
    rng = np.random.default_rng(7)
    o = Points(rng.uniform(-1.7, -1.4, 400) + 0 * lat0, rng.uniform(lat0 - 0.1, lat0 + 0.1, 400))
    d = Points(rng.uniform(-1.7, -1.4, 600), rng.uniform(lat0 - 0.1, lat0 + 0.1, 600))
    want = _brute(o, d, 3000)
    provider = GeodesicDistance()
    exact = provider.pairs_within(o, d, 3000)
    got = {
        (int(a), int(b)): float(c)
        for a, b, c in zip(exact.origin, exact.destination, exact.distance_m, strict=True)
    }
    assert got.keys() == want.keys()
    # Karney's where the catchment's edge is near, the chord formula (2e-8 m) elsewhere
    assert max(abs(got[k] - want[k]) for k in want) < 2e-8
    # with band edges most pairs are not measured, yet each lands in the same band
    edges = [1000.0, 2000.0, 3000.0]
    banded = provider.pairs_within(o, d, 3000, exact_at=edges)
    assert {
        (int(a), int(b)) for a, b in zip(banded.origin, banded.destination, strict=True)
    } == want.keys()
    assert banded.exact.mean() < 0.2
    w = weighting("e2sfca", 3000, bands=[(1000, 1.0), (2000, 0.5), (3000, 0.25)])
    true = np.array(
        [want[(int(a), int(b))] for a, b in zip(banded.origin, banded.destination, strict=True)]
    )
    assert np.array_equal(w.weights(banded.distance_m), w.weights(true))
    # nearest: the same as measuring everything
    idx, dist = provider.nearest(o, d)
    i, j = np.meshgrid(np.arange(len(o)), np.arange(len(d)), indexing="ij")
    _, _, full = GEOD.inv(o.lon[i.ravel()], o.lat[i.ravel()], d.lon[j.ravel()], d.lat[j.ravel()])
    full = full.reshape(len(o), len(d))
    assert np.array_equal(dist, full.min(axis=1))
    assert np.array_equal(idx, full.argmin(axis=1))


def test_chord_formula_equals_karney_everywhere_up_to_50_km() -> None:
    from strengthmap.commissioning.access import chord_geodesic_m

    rng = np.random.default_rng(11)
    n = 20_000
    for lat0 in np.linspace(-89.9, 89.9, 19):
        lon1 = rng.uniform(-180, 180, n)  # across the antimeridian too
        lat1 = np.clip(lat0 + rng.uniform(-0.05, 0.05, n), -89.999, 89.999)
        far = rng.uniform(0, 50_000, n)
        lon2, lat2, _ = GEOD.fwd(lon1, lat1, rng.uniform(0, 360, n), far)
        want = GEOD.inv(lon1, lat1, lon2, lat2)[2]
        got = chord_geodesic_m(lon1, lat1, np.asarray(lon2), np.asarray(lat2))
        assert np.max(np.abs(got - want)) < 2e-8, lat0


def test_fca_sums_to_the_supply_within_reach() -> None:
    rng = np.random.default_rng(3)
    n, m = 300, 80
    demand = Demand(
        tuple(f"a{i}" for i in range(n)), rng.integers(500, 3000, n),
        rng.uniform(-1.7, -1.4, n), rng.uniform(53.7, 53.9, n),
    )  # fmt: skip
    supply = Supply(
        tuple(f"s{j}" for j in range(m)), rng.uniform(-1.7, -1.4, m), rng.uniform(53.7, 53.9, m),
        rng.integers(1, 4, m).astype(float),
    )  # fmt: skip
    got = two_step_fca(demand, supply, catchment_m=2500)
    pairs = GEODESIC.pairs_within(
        Points(demand.lon, demand.lat), Points(supply.lon, supply.lat), 2500
    )
    reached = np.unique(pairs.destination)
    total = sum(a.population * a.access / 1000 for a in got.areas)
    assert total == pytest.approx(float(supply.capacity[reached].sum()), rel=1e-12)


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("catchment", [0, -5, 100_001, float("nan"), "abc"])
def test_bad_catchment_names_the_field(catchment: object) -> None:
    with pytest.raises(InputError) as err:
        two_step_fca(DEMAND, SUPPLY, catchment_m=catchment, distance=TableDistance(DIST))  # type: ignore[arg-type]
    assert err.value.field == "catchment_m"


def test_population_zero_and_no_supply_in_reach_are_named() -> None:
    zero = Demand(("A", "B", "C"), np.array([1000, 0, 500]), np.zeros(3), np.zeros(3))
    with pytest.raises(InputError, match="area B has population 0") as err:
        two_step_fca(zero, SUPPLY, catchment_m=1000, distance=TableDistance(DIST))
    assert err.value.field == "population"
    with pytest.raises(InputError, match="none of the 2 supply points") as err:
        two_step_fca(DEMAND, SUPPLY, catchment_m=100, distance=TableDistance(DIST))
    assert err.value.field == "supply"
    negative = Supply(("S1", "S2"), np.zeros(2), np.zeros(2), np.array([1.0, -1.0]))
    with pytest.raises(InputError) as err:
        two_step_fca(DEMAND, negative, catchment_m=1000, distance=TableDistance(DIST))
    assert err.value.field == "capacity"


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([(500, 1.0), (400, 0.5)], "rising"),
        ([(500, 1.0), (1500, 0.5)], "beyond the catchment"),
        ([(500, -1.0)], "rising"),
        ([(500, 0.0)], "every band weight is 0"),
    ],
)
def test_bad_bands(bands: list[tuple[float, float]], message: str) -> None:
    with pytest.raises(InputError, match=message) as err:
        weighting("e2sfca", 1000, bands=bands)
    assert err.value.field == "bands"


def _write(tmp_path: Path, features: list[dict[str, object]]) -> Path:
    path = tmp_path / "supply.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _point(lon: float, lat: float, **props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def test_supply_file_capacity_and_its_faults(tmp_path: Path) -> None:
    from strengthmap.commissioning.access import supply_from_geojson

    ok = supply_from_geojson(
        _write(tmp_path, [_point(-1.55, 53.80, name="Hub", capacity=3), _point(-1.54, 53.81)])
    )
    assert ok.capacity.tolist() == [3.0, 1.0] and ok.names == ("Hub", None)
    cases: list[tuple[list[dict[str, object]], int, str, str]] = [
        ([_point(-1.55, 53.80), _point(430_000, 433_000)], 2, "geometry.coordinates", "OSGB36"),
        ([_point(53.80, -1.55)], 1, "geometry.coordinates", "swapped"),
        ([_point(-1.55, 53.80, capacity="lots")], 1, "properties.capacity", "not a number"),
        ([_point(-1.55, 53.80, capacity=-2)], 1, "properties.capacity", "0 or more"),
        (
            [{"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}],
            1, "geometry.type", "not a Point",
        ),
    ]  # fmt: skip
    for features, row, field, message in cases:
        with pytest.raises(InputError, match=message) as err:
            supply_from_geojson(_write(tmp_path, features))
        assert (err.value.row, err.value.field) == (row, field)
        assert err.value.file is not None and err.value.file.endswith("supply.geojson")


# --- real data -------------------------------------------------------------------------------


def _pysal(
    demand: Demand, supply: Supply, catchment: float, weight_fn: object | None
) -> NDArray[np.float64]:
    """PySAL ``access`` on every (area, supply) pair with its geodesic distance."""
    from access import Access

    grid_i, grid_j = np.meshgrid(np.arange(len(demand)), np.arange(len(supply)), indexing="ij")
    i, j = grid_i.ravel(), grid_j.ravel()
    _, _, dist = GEOD.inv(demand.lon[i], demand.lat[i], supply.lon[j], supply.lat[j])
    costs = pd.DataFrame(
        {"origin": np.array(demand.codes)[i], "dest": np.array(supply.ids)[j], "cost": dist}
    )
    dem = pd.DataFrame(
        {"pop": np.asarray(demand.population, dtype=float)},
        index=pd.Index(demand.codes, name="geoid"),
    )
    sup = pd.DataFrame({"cap": supply.capacity}, index=pd.Index(supply.ids, name="sid"))
    model = Access(
        demand_df=dem, demand_value="pop", supply_df=sup, supply_value="cap", cost_df=costs,
        cost_origin="origin", cost_dest="dest", cost_name="cost",
    )  # fmt: skip
    if weight_fn is None:
        out = model.two_stage_fca(name="x", max_cost=catchment)
    else:
        out = model.enhanced_two_stage_fca(name="x", max_cost=catchment, weight_fn=weight_fn)
    # PySAL leaves areas with nothing in reach out (NaN): their access is 0
    return np.asarray(out["x_cap"].reindex(list(demand.codes)).fillna(0.0).to_numpy() * 1000)


@pytest.mark.realdata
def test_equal_to_pysal_access_on_the_leeds_gp_practices(leeds_store: Store) -> None:
    from access import weights

    table = load_areas(leeds_store)
    demand = demand_from_areas(table)
    found = directory_supply(leeds_store, taxonomy="gp-practice", sources=["ods_epraccur"])
    supply = found.points()
    assert len(table) == 482 and found.services == 86 and len(supply) == 86
    for catchment in (1500.0, 3000.0):
        third = catchment / 3
        cases: list[tuple[str, dict[str, Any], Any]] = [
            ("2sfca", {}, None),
            ("e2sfca", {}, weights.step_fn({third: 1.0, 2 * third: 0.68, catchment: 0.22})),
            ("e2sfca", {"decay": "gaussian"}, weights.gaussian(catchment / 2)),
        ]
        for method, kw, fn in cases:
            ours = two_step_fca(demand, supply, catchment_m=catchment, method=method, **kw)
            peer = _pysal(demand, supply, catchment, fn)
            got = ours.access
            assert np.count_nonzero(peer) > 300
            assert np.allclose(got, peer, rtol=1e-9, atol=0), (method, kw, catchment)
            assert np.array_equal(got == 0, peer == 0)


@pytest.mark.realdata
def test_access_to_assets_from_the_directory_and_its_notes(leeds_store: Store) -> None:
    result = access_to_assets(
        leeds_store, taxonomy="gp-practice", sources=["ods_epraccur"], catchment_m=1500
    )
    d = result.to_dict()
    assert {"method", "catchment_m", "distance", "areas"} <= d.keys()
    assert d["method"] == "2sfca" and d["distance"] == "geodesic" and d["catchment_m"] == 1500
    assert len(d["areas"]) == 482
    for a in d["areas"]:
        assert {"code", "population", "lon", "lat", "access", "in_reach", "nearest_m"} <= a.keys()
    assert sum(a["population"] for a in d["areas"]) == 798_786
    assert any("ODS" in line for line in d["attribution"])
    assert any("representative point" in n for n in d["notes"])
    with pytest.raises(InputError) as err:
        access_to_assets(leeds_store, taxonomy="no-such-term")
    assert err.value.field == "taxonomy"
    with pytest.raises(InputError) as err:
        access_to_assets(leeds_store, sources=["no-such-source"])
    assert err.value.field == "source"
