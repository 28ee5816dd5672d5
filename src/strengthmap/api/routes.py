"""``GET /api/routes/profile``: a route's inequality profile (the same record as ``strengthmap route profile --json``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from strengthmap import routes
from strengthmap.errors import InputError
from strengthmap.server.deps import get_settings, get_store
from strengthmap.settings import Settings
from strengthmap.storage import Store

router = APIRouter(prefix="/api/routes", tags=["routes"])


@router.get("/profile")
def profile_route(
    waypoints: str | None = Query(None, description='"NAME@LON,LAT;NAME@LON,LAT;..."'),
    osm_route: str | None = Query(None, description="OSM bus route ref, e.g. 7"),
    stops: str | None = Query(None, description="NaPTAN ATCO codes, comma separated"),
    every: float = Query(250, description="sample every N metres"),
    imd_release: int | None = Query(None, description="2019 or 2025 (default: latest loaded)"),
    assets_radius_m: float | None = Query(
        None,
        description="count directory assets within N metres of each point (and list the nearest)",
    ),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> dict[str, Any]:
    """Profile a route given as way-points, an OSM route ref or stop codes."""
    given = [x for x in (waypoints, osm_route, stops) if x is not None]
    if len(given) != 1:
        raise InputError("give exactly one of waypoints, osm_route, stops")
    if waypoints is not None:
        route = routes.route_from_waypoints(waypoints)
    elif osm_route is not None:
        route = routes.route_from_osm(osm_route, settings.data_dir)
    else:
        assert stops is not None
        route = routes.route_from_stops(stops, settings.data_dir)
    result = routes.profile_route(
        store, route, every_m=every, imd_release=imd_release, radius_m=assets_radius_m
    )
    return result.to_dict()
