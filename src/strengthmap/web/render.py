"""Rendering shared by every page: the Jinja2 environment (autoescaped), the layout's context
(user, CSRF token, attribution) and HTML error pages.

Example:
    >>> render(request, "about_data.html", {"datasets": []})   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def safe_url(value: object) -> str | None:
    """The URL if it is http(s) or mailto, else None: a stored ``javascript:`` link never renders.

    >>> safe_url("https://example.org"), safe_url("javascript:alert(1)")
    ('https://example.org', None)
    """
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://", "mailto:")) else None


templates.env.filters["safe_url"] = safe_url

#: What must be shown wherever the data is shown (see ../shared/data/SOURCES.md).
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0: "
    "Office for National Statistics (boundaries, population, life expectancy, postcodes); "
    "Contains OS data © Crown copyright and database right 2021 and 2025; "
    "Contains Royal Mail data © Royal Mail copyright and database right 2025; "
    "English Indices of Deprivation 2019 and 2025, MHCLG; "
    "Contains NHS England Organisation Data Service (ODS) data."
)
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"

#: Pages of the top navigation (path, label).
NAV = (
    ("/", "Home"),
    ("/map", "Map"),
    ("/directory", "Directory"),
    ("/routes", "Routes"),
    ("/about/data", "Data and sources"),
)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    data_page: bool = True,
) -> HTMLResponse:
    """Render template ``name`` with the layout's context; ``data_page`` shows the attribution."""
    from strengthmap.api.auth import current_user

    settings = request.app.state.settings
    ctx: dict[str, Any] = {
        "user": current_user(request),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "nav": NAV,
        "attribution": ATTRIBUTION,
        "osm_attribution": OSM_ATTRIBUTION,
        "data_page": data_page,
        "tile_url": settings.tile_url,
        "path": request.url.path,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


__all__ = ["ATTRIBUTION", "NAV", "OSM_ATTRIBUTION", "render", "templates"]
