"""``/areas/{code}``: one area: its assets and strengths first, then need (IMD and its seven
domains, life expectancy with 95% CIs and the Leeds range), then contrasts with neighbours.

Calls ``strengthmap.areas.area_profile``, ``strengthmap.directory.search.search_services`` and
``strengthmap.geography.contrasts``; printable (the print stylesheet drops navigation and maps).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from strengthmap.api.maps import DOMAIN_LABELS
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.errors import StrengthmapError
from strengthmap.storage import Store, schema
from strengthmap.web.pages import KIND_LABELS
from strengthmap.web.render import render

router = APIRouter(include_in_schema=False)


def _store(request: Request) -> Store:
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


def _le_range(store: Store) -> dict[str, dict[str, float]]:
    """Lowest, median and highest published MSOA life expectancy per sex among the loaded MSOAs."""
    from strengthmap import indicators

    out: dict[str, dict[str, float]] = {}
    by_code = indicators.life_expectancy(store)
    for sex in ("male", "female"):
        found: list[float] = []
        for e in by_code.values():
            v = e[sex].value if sex in e else None
            if v is not None and math.isfinite(v):
                found.append(float(v))
        if found:
            out[sex] = {
                "min": min(found),
                "median": statistics.median(found),
                "max": max(found),
                "n": len(found),
            }
    return out


@router.get("/areas/{code}", response_class=HTMLResponse)
def area_page(request: Request, code: str) -> HTMLResponse:
    """Strengths first, then need, then contrasts."""
    from strengthmap.areas import area_profile
    from strengthmap.geography import contrasts

    store = _store(request)
    profile = area_profile(store, code)
    assets = search_services(store, ServiceQuery(area_code=profile["code"], per_page=200))
    kinds: dict[str, int] = {}
    for h in assets.items:
        kinds[h.abcd_kind or "association"] = kinds.get(h.abcd_kind or "association", 0) + 1
    point = None
    with store.session() as session:
        area = (
            session.query(schema.Area)
            .filter_by(code=profile["code"], vintage=profile["vintage"], level=profile["level"])
            .first()
        )
        if area is not None and area.geometry is not None:
            rp = area.geometry.representative_point()
            point = (rp.x, rp.y)
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
            "assets": assets,
            "kinds": [(k, KIND_LABELS.get(k, k), n) for k, n in sorted(kinds.items())],
            "domain_labels": DOMAIN_LABELS,
            "le_range": _le_range(store),
            "contrasts": near,
            "point": point,
        },
    )


__all__ = ["router"]
