"""Rendering shared by every page: the Jinja2 environment (autoescaped), the layout's context
(user, CSRF token, attribution) and HTML error pages.

Example:
    >>> render(request, "about_data.html", {"datasets": []})   # doctest: +SKIP
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from strengthmap.errors import StrengthmapError, Unauthorized
from strengthmap.server.deps import current_user

HERE = Path(__file__).parent
#: The vendored scripts, styles and images, served at ``/static``.
STATIC_DIR = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))


def safe_url(value: object) -> str | None:
    """The URL if it is http(s) or mailto, else None: a stored ``javascript:`` link never renders.

    >>> safe_url("https://example.org"), safe_url("javascript:alert(1)")
    ('https://example.org', None)
    """
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://", "mailto:")) else None


templates.env.filters["safe_url"] = safe_url


def freshness(last_verified: date | datetime | None, today: date | None = None) -> str:
    """How long ago a record was checked, in words (months of 30.44 days, years of 365.25).

    >>> freshness(date(2026, 1, 10), today=date(2026, 4, 20)), freshness(None)
    ('verified 3 months ago', 'not verified')
    >>> freshness(date(2026, 4, 20), today=date(2026, 4, 20))
    'verified today'
    """
    if last_verified is None:
        return "not verified"
    day = last_verified.date() if isinstance(last_verified, datetime) else last_verified
    days = ((today or date.today()) - day).days
    if days <= 0:
        return "verified today"
    if days == 1:
        return "verified yesterday"
    for size, unit in ((365.25, "year"), (30.44, "month"), (7, "week"), (1, "day")):
        n = int(days // size)
        if n >= 1:
            return f"verified {n} {unit}{'' if n == 1 else 's'} ago"
    return "verified today"  # unreachable: days >= 2 here


templates.env.filters["freshness"] = freshness

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


#: The error page's heading for each HTTP status.
ERROR_HEADINGS = {
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    409: "That clashes with something already there",
    422: "Please check what you entered",
    429: "Too many attempts",
}


def error_page(request: Request, exc: StrengthmapError) -> Response:
    """The HTML answer to a library error: the error page with the exception's status, or, for a
    page that needs a login, a redirect to ``/login?next=<this page>``."""
    if isinstance(exc, Unauthorized) and request.method == "GET":
        target = quote(
            str(request.url.path) + ("?" + request.url.query if request.url.query else "")
        )
        return RedirectResponse(f"/login?next={target}", status_code=303)
    context: dict[str, Any] = {
        "status": exc.http_status,
        "heading": ERROR_HEADINGS.get(exc.http_status, "Something went wrong"),
        "message": str(exc),
    }
    return render(request, "error.html", context, status_code=exc.http_status, data_page=False)


__all__ = [
    "ATTRIBUTION",
    "ERROR_HEADINGS",
    "NAV",
    "OSM_ATTRIBUTION",
    "STATIC_DIR",
    "error_page",
    "freshness",
    "render",
    "templates",
]
