"""Point -> area at scale: the raster index against geopandas.sjoin(predicate="within").

Synthetic England-sized tessellation (a jittered Voronoi of ~33,000 seeds clipped to a box) and
the real Leeds LSOAs; identical results asserted (points on no boundary; ties cannot occur).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from common import record, versus
from strengthmap.geography import OUTSIDE, AreaIndex


def _voronoi(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    side = int(np.sqrt(n))
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    x = (gx.ravel() + rng.uniform(0.1, 0.9, side * side)) / side * 8 - 6  # lon -6..2
    y = (gy.ravel() + rng.uniform(0.1, 0.9, side * side)) / side * 5 + 50  # lat 50..55
    box = shapely.box(-6, 50, 2, 55)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(np.column_stack([x, y])), extend_to=box)
    )
    cells = shapely.intersection(cells, box)
    codes = [f"X{i:06d}" for i in range(len(cells))]
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs=4326)


def _compare(name: str, polys: gpd.GeoDataFrame, n_points: int) -> Iterator[dict[str, Any]]:
    t0 = time.perf_counter()
    index = AreaIndex.from_geometries(polys.code.tolist(), polys.geometry.values)
    build_s = time.perf_counter() - t0
    assert index.raster is not None
    yield record(f"{name}: index build ({len(polys):,} areas, raster {index.raster.shape[0]}x{index.raster.shape[1]})",
                 build_s, "s", edge_cell_fraction=round(index.raster.edge_fraction(), 4))  # fmt: skip
    rng = np.random.default_rng(2)
    x0, y0, x1, y1 = polys.total_bounds
    x, y = rng.uniform(x0, x1, n_points), rng.uniform(y0, y1, n_points)
    t0 = time.perf_counter()
    ours = index.locate(x, y)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    joined = gpd.sjoin(pts, polys[["code", "geometry"]], predicate="within", how="left")
    peer_s = time.perf_counter() - t0
    joined = joined[~joined.index.duplicated(keep="first")]
    peer = joined.code.fillna(OUTSIDE).to_numpy()
    assert (ours == peer).all(), "raster index and geopandas.sjoin disagree"
    yield versus(f"{name}: locate {n_points:,} points", ours_s, "geopandas.sjoin(predicate='within')", peer_s,
                 points_per_s=round(n_points / ours_s))  # fmt: skip


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    n_points = 200_000 if quick else 1_000_000
    n_areas = 8_000 if quick else 33_000
    yield from _compare(f"synthetic Voronoi ~{n_areas:,}", _voronoi(n_areas), n_points)
    if data_dir is not None:
        leeds = gpd.read_file(data_dir / "boundaries" / "leeds_lsoa2011_bgc.geojson").rename(
            columns={"LSOA11CD": "code"}
        )
        yield from _compare(
            "Leeds LSOA 2011", leeds.sort_values("code").reset_index(drop=True), n_points
        )
