"""``/areas/{code}``: one area: its assets and strengths first, then need (IMD and its seven
domains, life expectancy with 95% CIs and the Leeds range), then contrasts with neighbours.

Calls ``strengthmap.areas.area_profile``, ``strengthmap.directory.search.search_services`` and
``strengthmap.geography.contrasts``; printable (the print stylesheet drops navigation and maps).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from strengthmap.areas import area_profile
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.errors import StrengthmapError
from strengthmap.geography import contrasts, representative_point
from strengthmap.indicators import life_expectancy_range
from strengthmap.server.deps import get_store
from strengthmap.storage import Store
from strengthmap.storage.schema.directory import KIND_LABELS
from strengthmap.storage.schema.geo import DOMAIN_LABELS
from strengthmap.web.render import render

router = APIRouter(include_in_schema=False)

#: "A short walk": assets this far (metres, on the ellipsoid) from the area's representative
#: point that are not inside the area; 800 m is about ten minutes on foot.
WALK_M = 800


def _by_kind(hits: list[Any]) -> list[tuple[str, str, int]]:
    """(kind, label, count) in ABCD order, kinds with none left out."""
    counts: dict[str, int] = {}
    for h in hits:
        counts[h.abcd_kind or "association"] = counts.get(h.abcd_kind or "association", 0) + 1
    return [(k, label, counts[k]) for k, label in KIND_LABELS.items() if k in counts]


@router.get("/areas/{code}", response_class=HTMLResponse)
def area_page(request: Request, code: str, store: Store = Depends(get_store)) -> HTMLResponse:
    """Strengths first, then need, then contrasts."""
    profile = area_profile(store, code)
    inside = search_services(store, ServiceQuery(area_code=profile["code"], per_page=200))
    point = representative_point(
        store, profile["code"], level=profile["level"], vintage=profile["vintage"]
    )
    walk: list[Any] = []
    if point is not None:
        inside_ids = {h.service_id for h in inside.items}
        nearby = search_services(store, ServiceQuery(near=point, radius_m=WALK_M, per_page=200))
        walk = [h for h in nearby.items if h.service_id not in inside_ids]
    near: dict[str, list[Any]] = {"imd": [], "le": []}
    if point is not None:
        for by in ("imd", "le"):
            try:
                near[by] = [
                    c.to_dict() for c in contrasts(store, by=by, near=point, radius_m=1500, limit=5)
                ]
            except StrengthmapError:
                near[by] = []
    return render(
        request,
        "area.html",
        {
            "p": profile,
            "assets": inside,
            "kinds": _by_kind(inside.items),
            "walk": walk,
            "walk_kinds": _by_kind(walk),
            "walk_m": WALK_M,
            "domain_labels": DOMAIN_LABELS,
            "le_range": life_expectancy_range(store),
            "contrasts": near,
            "point": point,
        },
    )


__all__ = ["router"]
