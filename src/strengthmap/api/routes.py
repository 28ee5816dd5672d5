"""``GET /api/routes/profile``: a route's inequality profile (the same record as ``strengthmap route profile --json``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from strengthmap import routes
from strengthmap.server.deps import get_settings, get_store
from strengthmap.settings import Settings
from strengthmap.storage import Store

router = APIRouter(prefix="/api/routes", tags=["routes"])


@router.get("/profile")
def profile_route(
    waypoints: str | None = Query(None, description='"NAME@LON,LAT;NAME@LON,LAT;..."'),
    osm_route: str | None = Query(None, description="OSM bus route ref, e.g. 7"),
    stops: str | None = Query(None, description="NaPTAN ATCO codes, comma separated"),
    preset: str | None = Query(None, description="a named route (strengthmap route presets)"),
    every: float = Query(250, description="sample every N metres"),
    imd_release: int | None = Query(None, description="2019 or 2025 (default: latest loaded)"),
    assets_radius_m: float | None = Query(
        None,
        description="count directory assets within N metres of each point (and list the nearest)",
    ),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> routes.RouteProfile:
    """Profile a route given as way-points, an OSM route ref, stop codes or a preset's name."""
    route = routes.route_from_one_of(
        {"waypoints": waypoints, "osm_route": osm_route, "stops": stops, "preset": preset},
        data_dir=settings.data_dir,
    )
    return routes.profile_route(
        store, route, every_m=every, imd_release=imd_release, radius_m=assets_radius_m
    )
