"""``/routes``: the inequality profile along the documented bus route, a walk, or way-points clicked
on the map (``?waypoints=NAME@LON,LAT;...`` as in ``strengthmap route profile --waypoints``).

The page and ``/routes/chart.svg`` call ``strengthmap.routes.profile_route`` and
``strengthmap.charts.route_chart`` with the CLI's defaults, so the figures are the CLI's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from strengthmap.errors import InputError
from strengthmap.routes.presets import PRESETS as ROUTE_PRESETS
from strengthmap.routes.presets import get_preset
from strengthmap.routes.results import RouteProfile
from strengthmap.server.deps import get_store
from strengthmap.storage import Store
from strengthmap.storage.schema.directory import KIND_LABELS
from strengthmap.web.render import render

router = APIRouter(include_in_schema=False)

#: The routes offered by name: (label, way-points in the CLI's syntax), from ``routes.PRESETS``.
PRESETS: dict[str, tuple[str, str]] = {
    name: (p.label, p.waypoints) for name, p in ROUTE_PRESETS.items() if p.waypoints
}
#: Sampling distance: the CLI's default (``strengthmap route profile --every``).
EVERY_M = 250.0
#: The radius choices for assets near the route (``--assets-radius-m``), metres; 400 m is
#: about a five-minute walk.
ASSET_RADII_M = (100, 250, 400, 800)
DEFAULT_ASSET_RADIUS_M = 400


def _waypoints(route: str | None, waypoints: str | None) -> str | None:
    if waypoints and waypoints.strip():
        return waypoints.strip()
    if route:
        return get_preset(route).waypoints
    return None


def _profile(
    store: Store, text: str, imd_release: int | None, radius_m: float | None = None
) -> RouteProfile:
    from strengthmap.routes import profile_route, route_from

    return profile_route(
        store,
        route_from("waypoints", text),
        every_m=EVERY_M,
        imd_release=imd_release,
        radius_m=radius_m,
    )


def _markers(
    store: Store, profile: RouteProfile, radius_m: float, imd_release: int | None
) -> list[Any]:
    """The distinct assets within ``radius_m`` of any point of the profile, for the map:
    ``[lon, lat, name, abcd_kind]``. The same search as the profile's own ``assets_within``
    (``routes.Assets.within`` over the same points and the same cached asset table), so the
    markers are exactly the assets the summary counts."""
    import numpy as np

    from strengthmap.routes import profile_data

    assets = profile_data(store, imd_release).assets
    if assets is None or not len(assets) or not profile.points:
        return []
    lon = np.array([p.lon for p in profile.points], dtype=float)
    lat = np.array([p.lat for p in profile.points], dtype=float)
    found = sorted({int(j) for idx, _ in assets.within(lon, lat, radius_m) for j in idx})
    return [
        [round(float(assets.lonlat[j, 0]), 6), round(float(assets.lonlat[j, 1]), 6),
         assets.names[j] or "", assets.kinds[j] or ""]
        for j in found
    ]  # fmt: skip


@router.get("/routes", response_class=HTMLResponse)
def routes_page(
    request: Request,
    route: str | None = Query(None, description="A named route (PRESETS)"),
    waypoints: str | None = Query(None, description="NAME@LON,LAT;NAME@LON,LAT;..."),
    imd_release: int | None = Query(None, description="2019 or 2025 (default: latest loaded)"),
    assets_radius_m: str | None = Query(
        None, description="Assets within N metres of each point (blank: none; default 400)"
    ),
    store: Store = Depends(get_store),
) -> HTMLResponse:
    """Choose a route; see its chart, the table of every sampled point and the assets near it."""
    # a chosen preset wins over the way-points box (which the page fills with the last route)
    text = _waypoints(route, None) if route else _waypoints(None, waypoints)
    radius: float | None = float(DEFAULT_ASSET_RADIUS_M)
    if assets_radius_m is not None:
        try:
            radius = float(assets_radius_m) if assets_radius_m.strip() else None
        except ValueError:
            raise InputError("a number of metres", field="assets_radius_m") from None
    result = _profile(store, text, imd_release, radius) if text else None
    profile = result.to_dict() if result is not None else None
    markers = _markers(store, result, radius, imd_release) if result and radius else []
    chart_qs = (
        urlencode({"waypoints": text, **({"imd_release": imd_release} if imd_release else {})})
        if text
        else ""
    )
    return render(
        request,
        "routes.html",
        {
            "presets": PRESETS,
            "route": route if not waypoints else None,
            "waypoints": text or "",
            "profile": profile,
            "chart_qs": chart_qs,
            "imd_release": imd_release,
            "radius": radius,
            "radii": ASSET_RADII_M,
            "markers": markers,
            "kind_labels": KIND_LABELS,
        },
    )


@router.get("/routes/chart.svg")
def route_chart_svg(
    waypoints: str = Query(..., description="NAME@LON,LAT;NAME@LON,LAT;..."),
    imd_release: int | None = Query(None),
    store: Store = Depends(get_store),
) -> Response:
    """The route chart as SVG, drawn by ``strengthmap.charts.route_chart``."""
    from strengthmap.charts import route_chart

    profile = _profile(store, waypoints, imd_release)
    with tempfile.TemporaryDirectory() as tmp:
        path = route_chart(profile, Path(tmp) / "route.svg")
        body = path.read_bytes()
    return Response(body, media_type="image/svg+xml", headers={"Cache-Control": "max-age=300"})


__all__ = ["PRESETS", "router"]
