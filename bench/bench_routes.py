"""Route profile speed: a 30 km route sampled every 10 m, after the indexes are built (target < 100 ms)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from common import record, versus
from strengthmap.routes import profile_data, profile_route
from strengthmap.sources import load_data_dir
from strengthmap.storage import open_store


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    if data_dir is None:
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.sqlite")
        load_data_dir(store, data_dir, place="Leeds")
        t0 = time.perf_counter()
        data = profile_data(store, 2019)
        yield record(
            "route: load areas and build indexes (LSOA 2011, MSOA 2011)",
            time.perf_counter() - t0,
            "s",
        )
        # a 30 km zig-zag across Leeds, sampled every 10 m (about 3,000 points)
        lon = np.linspace(-1.70, -1.30, 7)
        lat = np.array([53.75, 53.85, 53.76, 53.86, 53.77, 53.87, 53.80])
        text = ";".join(
            f"P{i}@{x:.5f},{y:.5f}" for i, (x, y) in enumerate(zip(lon, lat, strict=True))
        )
        from strengthmap.routes import route_from_waypoints

        route = route_from_waypoints(text)
        length = route.length_m()
        scale = 30_000 / length
        lat2 = 53.80 + (lat - 53.80) * scale
        lon2 = lon.mean() + (lon - lon.mean()) * scale
        route = route_from_waypoints(
            ";".join(
                f"P{i}@{x:.5f},{y:.5f}" for i, (x, y) in enumerate(zip(lon2, lat2, strict=True))
            )
        )
        best = float("inf")
        for _ in range(3 if quick else 5):
            t0 = time.perf_counter()
            prof = profile_route(store, route, every_m=10, data=data)
            best = min(best, time.perf_counter() - t0)
        n = len(prof.points)
        # peer: the same profile with the exact STRtree lookup only (no raster)
        for idx in (data.lsoa, data.msoa):
            assert idx is not None
        saved = (data.lsoa.raster, data.msoa.raster)  # type: ignore[union-attr]
        data.lsoa.raster = data.msoa.raster = None  # type: ignore[union-attr]
        t0 = time.perf_counter()
        exact = profile_route(store, route, every_m=10, data=data)
        peer_s = time.perf_counter() - t0
        data.lsoa.raster, data.msoa.raster = saved  # type: ignore[union-attr]
        assert exact.to_dict() == prof.to_dict()
        yield versus(f"route: profile {route.length_m() / 1000:.1f} km every 10 m ({n:,} points)", best,
                     "same profile, exact STRtree lookup only", peer_s, target_s=0.1, under_target=best < 0.1)  # fmt: skip
        # assets within 250 m of every point (k-d tree candidates, then the ellipsoid)
        assert data.assets is not None
        assets_s = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            with_assets = profile_route(store, route, every_m=10, data=data, radius_m=250)
            assets_s = min(assets_s, time.perf_counter() - t0)
        yield record(
            f"route: the same profile with assets within 250 m ({len(data.assets):,} assets)",
            assets_s,
            "s",
            assets_near_route=with_assets.summary.assets_near_route,
        )
        store.close()
