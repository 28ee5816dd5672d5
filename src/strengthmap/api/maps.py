"""GeoJSON for the map: ``/api/areas.geojson`` (areas coloured by an indicator, with the legend)
and ``/api/assets.geojson`` (directory search results as points). Thin over ``strengthmap.maps``.

``GET /api/areas.geojson?level=lsoa&vintage=2011&indicator=imd_decile`` gives one feature per
area with ``code``, ``name``, ``value``, ``class`` (1-based colour class, null when there is no
value) and ``colour``; the collection carries ``legend`` (class, label, colour), ``indicator``,
``title`` and ``source`` (``strengthmap.maps.areas_geojson``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from strengthmap import maps
from strengthmap.directory.search import ServiceQuery
from strengthmap.server.deps import get_store
from strengthmap.storage import Store

router = APIRouter(prefix="/api", tags=["maps"])


def _shapes(request: Request, store: Store, level: str, vintage: int) -> list[maps.AreaShape]:
    """``maps.area_shapes``, kept on the app (boundaries change only when the data is loaded)."""
    cache: dict[tuple[Any, ...], list[maps.AreaShape]] = request.app.state.__dict__.setdefault(
        "_area_geometry_cache", {}
    )
    key = (level, vintage, store.is_empty())
    if key not in cache:
        cache[key] = maps.area_shapes(store, level=level, vintage=vintage)
    return cache[key]


@router.get("/areas.geojson")
def areas_geojson(
    request: Request,
    level: str = Query("lsoa", description="lsoa | msoa | ward | lad"),
    vintage: int = Query(2011, description="Boundary vintage, e.g. 2011 or 2021"),
    indicator: str = Query(
        "imd_decile", description="imd_decile, <domain>_decile, le_male, le_female, le_persons"
    ),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Areas as a GeoJSON FeatureCollection coloured by ``indicator``, with the legend."""
    return maps.areas_geojson(
        store,
        level=level,
        vintage=vintage,
        indicator=indicator,
        shapes=_shapes(request, store, level, vintage),
    )


@router.get("/assets.geojson")
def assets_geojson(
    q: str | None = Query(None, description="Free text"),
    taxonomy: list[str] | None = Query(None, description="Taxonomy term ids, codes or names"),
    kind: str | None = Query(None, description="ABCD kind"),
    age: str | None = Query(None, description="Age of the person (whole years)"),
    free: bool | None = Query(None),
    near: str | None = Query(None, description="Postcode or LON,LAT"),
    radius_m: str | None = Query(None, description="Metres from near (default 1500)"),
    area: str | None = Query(None, description="Area code"),
    day: str | None = Query(None, description="mon..sun or a date"),
    time: str | None = Query(None, description="morning | afternoon | evening"),
    start_time: str | None = Query(None),
    end_time: str | None = Query(None),
    open_at: str | None = Query(None, description='e.g. "wed 13:00" or "wed 13:00-16:00"'),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Directory search results (``search_services``) as GeoJSON points for the map."""
    query = ServiceQuery.from_params(
        store, text=q, taxonomy=taxonomy, taxonomy_sep=",", kind=kind, age=age, free=free,
        near=near, radius_m=radius_m, default_radius_m=1500, area=area, day=day, time=time,
        start_time=start_time, end_time=end_time, open_at=open_at, per_page=1000,
    )  # fmt: skip
    return maps.assets_geojson(store, query)


__all__ = ["router"]
