"""``/api/areas``: one area's profile (the same record as ``strengthmap areas show --json``);
``/api/postcodes``: a postcode's point, LSOA and that LSOA's profile."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from strengthmap.areas import AreaProfile, area_profile, postcode_profile
from strengthmap.server.deps import get_store
from strengthmap.storage import Store

router = APIRouter(prefix="/api/areas", tags=["areas"])
postcodes_router = APIRouter(prefix="/api/postcodes", tags=["areas"])


@router.get("/{code}")
def get_area(
    code: str, vintage: int | None = None, store: Store = Depends(get_store)
) -> AreaProfile:
    """``GET /api/areas/E01011264``: code, name, level, parents, population, ``imd``,
    ``imd_releases`` and ``life_expectancy`` (404 for an unknown code)."""
    return area_profile(store, code, vintage=vintage)


@postcodes_router.get("/{postcode}")
def get_postcode(postcode: str, store: Store = Depends(get_store)) -> AreaProfile:
    """``GET /api/postcodes/LS12 1BE``: the LSOA profile with ``postcode: {postcode, lon, lat}``."""
    return postcode_profile(store, postcode)
