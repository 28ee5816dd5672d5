"""Point -> area (raster + exact, identical to geopandas), neighbours, contrasts, coordinate checks."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient

from strengthmap.cli import main
from strengthmap.errors import InputError, NotFound
from strengthmap.geography import (
    OUTSIDE,
    AreaIndex,
    check_lon_lat,
    contrasts,
    locate_point,
    neighbours,
)
from strengthmap.storage import Store, schema


@pytest.fixture
def leeds(leeds_store: Store) -> Store:
    """The Leeds store loaded once per backend per session (``leeds_store`` in conftest)."""
    return leeds_store


@pytest.fixture(scope="module")
def lsoa11(data_dir: Path) -> gpd.GeoDataFrame:
    return (
        gpd.read_file(data_dir / "boundaries" / "leeds_lsoa2011_bgc.geojson")
        .sort_values("LSOA11CD")
        .reset_index(drop=True)
    )


@pytest.mark.realdata
def test_raster_equals_exact_and_geopandas(lsoa11: gpd.GeoDataFrame) -> None:
    index = AreaIndex.from_geometries(lsoa11.LSOA11CD.tolist(), lsoa11.geometry.values)
    assert index.raster is not None and 0 < index.raster.edge_fraction() < 0.2
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = lsoa11.total_bounds
    x = rng.uniform(x0 - 0.02, x1 + 0.02, 200_000)
    y = rng.uniform(y0 - 0.02, y1 + 0.02, 200_000)
    # plus every boundary vertex (ties on shared edges) and a NaN
    vx, vy = shapely.get_coordinates(lsoa11.geometry.values).T
    x, y = np.concatenate([x, vx, [np.nan]]), np.concatenate([y, vy, [np.nan]])
    got = index.locate(x, y)
    assert (got == index.locate_exact(x, y)).all()
    assert got[-1] == OUTSIDE and (got == OUTSIDE).sum() > 1000
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x[:200_000], y[:200_000]), crs=4326)
    joined = gpd.sjoin(pts, lsoa11[["LSOA11CD", "geometry"]], predicate="within", how="left")
    joined = joined[~joined.index.duplicated(keep=False)]  # sjoin "within" has no tie rule
    expect = joined.LSOA11CD.fillna(OUTSIDE).to_numpy()
    assert (got[joined.index.to_numpy()] == expect).all()


def test_raster_handles_holes_multipolygons_and_collections() -> None:
    donut = shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (3, 1), (3, 3), (1, 3)]])
    islands = shapely.MultiPolygon([shapely.box(1.2, 1.2, 1.8, 1.8), shapely.box(5, 5, 6, 6)])
    coll = shapely.GeometryCollection(
        [shapely.box(7, 0, 8, 1), shapely.LineString([(8, 0), (9, 0)])]
    )
    index = AreaIndex.from_geometries(["A", "B", "C"], [donut, islands, coll], cells=5000)
    g = np.linspace(-0.5, 9.5, 301)
    xx, yy = np.meshgrid(g, g)
    assert (
        index.locate(xx.ravel(), yy.ravel()) == index.locate_exact(xx.ravel(), yy.ravel())
    ).all()
    assert index.locate([2, 1.5, 5.5, 7.5, 2.5, 20], [2, 1.5, 5.5, 0.5, 0.5, 20]).tolist() == [
        OUTSIDE, "B", "B", "C", "A", OUTSIDE]  # fmt: skip


def test_raster_equals_exact_on_awkward_shapes() -> None:
    """Overlaps (the tie rule), overlapping parts of one area, concave stars, holes touching the
    shell, slivers, a self-crossing ring, edges lying on cell-centre lines, and points on every
    vertex and centre line."""
    rng = np.random.default_rng(11)
    star = shapely.Polygon(
        [(5 + (2 if k % 2 else 0.7) * np.cos(k * np.pi / 7), 5 + (2 if k % 2 else 0.7) * np.sin(k * np.pi / 7))
         for k in range(14)]
    )  # fmt: skip
    shapes = [
        shapely.box(0, 0, 3, 3),
        shapely.box(2, 2, 4, 4),  # overlaps the first: ties go to the first
        shapely.MultiPolygon([shapely.box(6, 0, 8, 2), shapely.box(7, 1, 9, 3)]),  # parts overlap
        star,
        shapely.Polygon(
            [(0, 6), (3, 6), (3, 9), (0, 9)], [[(0, 7), (1, 7.5), (0, 8)]]
        ),  # hole on shell
        shapely.Polygon([(4, 8), (9, 8.001), (9, 8.002)]),  # sliver
        shapely.Polygon([(1, 4.05), (3, 4.05), (3, 5.05), (1, 5.05)]),  # on centre lines below
        shapely.Polygon([(6, 4), (9, 7), (9, 4), (6, 7)]),  # invalid: a bow-tie
    ]
    shapes += [
        shapely.buffer(shapely.Point(rng.uniform(0, 9, 2)), rng.uniform(0.1, 0.8), quad_segs=3)
        for _ in range(6)
    ]
    # a polygon whose vertices and horizontal edges lie exactly on cell centres (of the grid the
    # other shapes make: it sits inside their bounds, so the grid stays the same)
    grid = AreaIndex.from_geometries(
        [str(k) for k in range(len(shapes))], shapes, cells=10_000
    ).raster
    assert grid is not None
    cx0, cx1 = grid.x0 + 40.5 * grid.dx, grid.x0 + 60.5 * grid.dx
    cy0, cy1 = grid.y0 + 30.5 * grid.dy, grid.y0 + 45.5 * grid.dy
    shapes.append(shapely.Polygon([(cx0, cy0), (cx1, cy0), (cx1, cy1), (cx0, cy1)]))
    codes = [f"A{k:02d}" for k in range(len(shapes))]
    index = AreaIndex.from_geometries(codes, shapes, cells=10_000)
    r = index.raster
    assert r is not None and (r.x0, r.y0, r.dx, r.dy) == (grid.x0, grid.y0, grid.dx, grid.dy)
    assert (r.cells >= 0).mean() > 0.1
    g = np.linspace(-0.5, 10.5, 401)
    xx, yy = np.meshgrid(g, g)
    cx = r.x0 + (np.arange(r.shape[1]) + 0.5) * r.dx
    cy = r.y0 + (np.arange(r.shape[0]) + 0.5) * r.dy
    cxx, cyy = np.meshgrid(cx, cy)
    vx, vy = shapely.get_coordinates(np.asarray(shapes, dtype=object)).T
    x = np.concatenate([xx.ravel(), cxx.ravel(), vx, rng.uniform(-1, 11, 50_000)])
    y = np.concatenate([yy.ravel(), cyy.ravel(), vy, rng.uniform(-1, 11, 50_000)])
    assert (index.locate(x, y) == index.locate_exact(x, y)).all()
    assert index.locate([2.5, 3.5, 7.5, 5.0], [2.5, 3.5, 1.5, 5.0]).tolist() == [
        "A00",
        "A01",
        "A02",
        "A03",
    ]


def test_neighbours_rook_and_queen() -> None:
    boxes = [
        shapely.box(i / 100, j / 100, (i + 1) / 100, (j + 1) / 100)
        for j in range(3)
        for i in range(3)
    ]
    index = AreaIndex.from_geometries([f"A{k}" for k in range(9)], boxes)
    assert len(neighbours(index)) == 12
    assert len(neighbours(index, contiguity="queen")) == 20
    rook = neighbours(index)
    assert set(rook[rook.a == "A4"].b) == {"A5", "A7"} and (rook.shared_m > 600).all()


@pytest.mark.realdata
def test_neighbours_of_leeds_lsoas(lsoa11: gpd.GeoDataFrame) -> None:
    index = AreaIndex.from_geometries(
        lsoa11.LSOA11CD.tolist(), lsoa11.geometry.values, raster=False
    )
    pairs = neighbours(index)
    # independent: geopandas, boundaries that intersect along a line of some length
    g = lsoa11.set_geometry(shapely.buffer(lsoa11.geometry.values, 1e-6))  # degrees, on purpose
    j = gpd.sjoin(
        lsoa11[["LSOA11CD", "geometry"]], g[["LSOA11CD", "geometry"]], predicate="intersects"
    )
    j = j[j.LSOA11CD_left < j.LSOA11CD_right]
    assert set(zip(pairs.a, pairs.b, strict=True)) <= set(
        zip(j.LSOA11CD_left, j.LSOA11CD_right, strict=True)
    )
    assert 1200 < len(pairs) < 1500  # about 5.7 rook neighbours per LSOA


@pytest.mark.realdata
def test_contrasts_imd_and_le(leeds: Store, data_dir: Path) -> None:
    top = contrasts(leeds, by="imd", imd_release=2019, limit=5)
    imd = pd.read_csv(data_dir / "imd" / "leeds_imd2019_lsoa2011.csv").set_index("lsoa11cd")
    assert len(top) == 5 and top[0].gap == 9
    for c in top:
        assert c.a_value == imd.imd_decile[c.a_code] and c.b_value == imd.imd_decile[c.b_code]
        assert c.gap == c.b_value - c.a_value and c.distance_m < 5000
    gaps = [(c.gap, c.rank_gap) for c in contrasts(leeds, by="imd", imd_release=2019, limit=None)]
    assert gaps == sorted(gaps, reverse=True)
    le = contrasts(leeds, by="le", sex="male", near=(-1.5477, 53.7951), radius_m=1500, limit=3)
    ref = pd.read_csv(data_dir / "life_expectancy" / "leeds_le_birth_msoa2011_2016_2020.csv")
    ref = ref[ref.sex == "Males"].set_index("msoa11cd")
    for c in le:
        assert c.a_value == pytest.approx(ref.le_birth[c.a_code]) and c.b_value == pytest.approx(
            ref.le_birth[c.b_code]
        )
        assert c.ci_overlap == (ref.le_uci95[c.a_code] >= ref.le_lci95[c.b_code])
        assert c.significant is (not c.ci_overlap)
        assert "E02006875" not in (c.a_code, c.b_code)  # suppressed: left out
    with pytest.raises(NotFound):
        contrasts(leeds, place="Nowhere")


@pytest.mark.realdata
def test_locate_point_cli_and_api(leeds: Store, capsys: pytest.CaptureFixture[str]) -> None:
    where = locate_point(leeds, -1.5100, 53.8120)
    assert where["areas"]["msoa_2011"]["code"] == "E02002382"
    assert locate_point(leeds, -1.0815, 53.96)["areas"]["lsoa_2011"]["code"] == OUTSIDE
    url = leeds.url.render_as_string(hide_password=False)
    assert (
        main(
            [
                "--database",
                url,
                "areas",
                "contrasts",
                "--by",
                "imd",
                "--imd-release",
                "2019",
                "--limit",
                "2",
                "--json",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert [d["a_code"] for d in doc] == [
        c.a_code for c in contrasts(leeds, by="imd", imd_release=2019, limit=2)
    ]
    assert (
        main(["--database", url, "areas", "contrasts", "--near", "-1.5477,53.7951", "--by", "le"])
        == 0
    )
    assert "Contrasts by le" in capsys.readouterr().out

    from strengthmap.api import create_app
    from strengthmap.settings import Settings

    client = TestClient(create_app(Settings(database_url=url), store=leeds))
    r = client.get(
        "/api/areas/contrasts", params={"by": "le", "near": "-1.5477,53.7951", "radius_m": 1500}
    )
    assert r.status_code == 200 and r.json()[0]["by"] == "le"
    r = client.get("/api/locate", params={"lon": -1.51, "lat": 53.812})
    assert r.json()["areas"]["msoa_2011"]["code"] == "E02002382"
    assert client.get("/api/locate", params={"lon": 53.812, "lat": -1.51}).status_code == 422


def test_index_from_store(store: Store) -> None:
    with pytest.raises(NotFound):
        AreaIndex.from_store(store, level="lsoa", vintage=2011)
    with store.transaction() as s:
        s.add(
            schema.Area(
                code="E01000002",
                name="B",
                level="lsoa",
                vintage=2011,
                geometry=shapely.box(-1.6, 53.8, -1.5, 53.9),
            )
        )
        s.add(
            schema.Area(
                code="E01000001",
                name="A",
                level="lsoa",
                vintage=2011,
                geometry=shapely.box(-1.7, 53.8, -1.6, 53.9),
            )
        )
    index = AreaIndex.from_store(store, level="lsoa", vintage=2011)
    # a point on the shared edge goes to the first code; outside points are marked
    assert index.locate([-1.6, -1.55, -1.65, 0.0], [53.85, 53.85, 53.85, 0.0]).tolist() == [
        "E01000001", "E01000002", "E01000001", OUTSIDE]  # fmt: skip


def test_check_lon_lat() -> None:
    check_lon_lat(-1.5478, 53.7965)
    check_lon_lat(2.35, 48.85)  # Paris: valid lon/lat, not swapped
    with pytest.raises(InputError, match="swapped"):
        check_lon_lat(53.7965, -1.5478)
    with pytest.raises(InputError, match="OSGB36"):
        check_lon_lat(429_900, 433_600)
    with pytest.raises(InputError, match="finite"):
        check_lon_lat(float("nan"), 53.0)
