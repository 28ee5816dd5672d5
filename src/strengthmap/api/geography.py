"""``GET /api/areas/contrasts`` (neighbouring areas with the largest gaps) and ``GET /api/locate``."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from strengthmap import geography
from strengthmap.errors import InputError
from strengthmap.server.deps import get_store
from strengthmap.storage import Store

router = APIRouter(tags=["geography"])


@router.get("/api/areas/contrasts")
def contrasts(
    place: str | None = Query("Leeds"),
    near: str | None = Query(None, description="LON,LAT"),
    radius_m: float = Query(2000),
    by: Literal["imd", "le"] = Query("imd"),
    sex: Literal["male", "female", "persons"] = Query("persons"),
    imd_release: int | None = Query(None),
    limit: int = Query(10, ge=1, le=1000),
    store: Store = Depends(get_store),
) -> list[dict[str, Any]]:
    """The same records as ``strengthmap areas contrasts --json``."""
    point = None
    if near:
        try:
            lon, lat = (float(x) for x in near.split(","))
        except ValueError:
            raise InputError(f"near {near!r}: expected LON,LAT", field="near") from None
        point = (lon, lat)
    pairs = geography.contrasts(
        store,
        by=by,
        place=place,
        near=point,
        radius_m=radius_m,
        limit=limit,
        imd_release=imd_release,
        sex=sex,
    )
    return [p.to_dict() for p in pairs]


@router.get("/api/locate")
def locate(lon: float, lat: float, store: Store = Depends(get_store)) -> dict[str, Any]:
    """Every loaded area holding the point, by level and vintage (``"outside"`` where none)."""
    return geography.locate_point(store, lon, lat)
