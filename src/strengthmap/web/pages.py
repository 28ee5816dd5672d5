"""The public web pages. Thin: each page calls library functions and renders a template.

Contract paths: ``/`` (home), ``/map``, ``/directory``, ``/services/{id}``, ``/areas/{code}``,
``/routes``, ``/about/data``, ``/login``. Editor pages live in ``web/editor.py``, admin pages in
``web/admin.py``. Every page works without JavaScript (forms are GET/POST, the map has a table
view); small vanilla scripts in ``static/`` add the map.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select

from strengthmap.api import maps
from strengthmap.api.auth import current_user, safe_next
from strengthmap.errors import InputError, StrengthmapError, Unauthorized
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.directory import ABCD_KINDS
from strengthmap.web.render import render

HERE = Path(__file__).parent

#: Plain-English names of the ABCD asset kinds.
KIND_LABELS = {
    "individual": "People and their gifts",
    "association": "Groups and associations",
    "institution": "Institutions",
    "physical_space": "Places and spaces",
    "economy": "Local economy",
    "culture": "Culture and stories",
}

router = APIRouter(include_in_schema=False)


def _store(request: Request) -> Store:
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


def _vendor_versions() -> dict[str, str]:
    out: dict[str, str] = {}
    path = HERE / "static" / "vendor" / "VERSIONS.txt"
    if path.is_file():
        for line in path.read_text().splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 2:
                out[parts[0].replace("-", "_")] = parts[1]
    return out


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    """What's strong first: assets by ABCD kind, a search box, links into every page."""
    store = _store(request)
    with store.session() as session:
        counts = dict(
            session.execute(
                select(schema.Service.abcd_kind, func.count())
                .where(schema.Service.retired_at.is_(None))
                .group_by(schema.Service.abcd_kind)
            ).all()
        )
        n_lsoa = session.scalar(
            select(func.count()).where(schema.Area.level == "lsoa", schema.Area.vintage == 2011)
        )
        n_datasets = session.scalar(select(func.count()).select_from(schema.Dataset))
        example = session.execute(
            select(schema.Area.code, schema.Area.name)
            .where(schema.Area.level == "lsoa", schema.Area.vintage == 2011)
            .order_by(schema.Area.code)
            .limit(1)
        ).first()
    kinds = [(k, KIND_LABELS[k], counts.get(k, 0)) for k in ABCD_KINDS]
    return render(
        request,
        "home.html",
        {
            "kinds": kinds,
            "total_assets": sum(counts.values()),
            "n_lsoa": n_lsoa,
            "n_datasets": n_datasets,
            "example_area": example,
            "place": request.app.state.settings.place,
        },
    )


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    """The login form (``POST /login`` is in ``strengthmap.api.auth``)."""
    if current_user(request).id:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next)}, data_page=False)


@router.get("/about/data", response_class=HTMLResponse)
def about_data(request: Request) -> HTMLResponse:
    """Every loaded source with its publisher, licence, dates and attribution."""
    with _store(request).session() as session:
        datasets = session.scalars(select(schema.Dataset).order_by(schema.Dataset.id)).all()
    return render(request, "about_data.html", {"datasets": datasets, "vendor": _vendor_versions()})


@router.get("/map", response_class=HTMLResponse)
def map_page(
    request: Request,
    indicator: str = Query("imd_decile"),
    vintage: int = Query(2011),
    taxonomy: str | None = Query(None),
    open_at: str | None = Query(None),
    free: bool | None = Query(None),
    view: str = Query("map"),
) -> HTMLResponse:
    """LSOAs coloured by IMD, a domain or life expectancy, with assets on top and a table view."""
    store = _store(request)
    try:
        table = maps.area_table(store, level="lsoa", vintage=vintage, indicator=indicator)
    except InputError as exc:
        raise InputError(str(exc.message), field="indicator") from exc
    return render(
        request,
        "map.html",
        {
            "table": table,
            "indicator": indicator,
            "vintage": vintage,
            "choices": maps.indicator_choices(),
            "taxonomy": taxonomy or "",
            "open_at": open_at or "",
            "free": free,
            "view": view,
            "kinds": [(k, KIND_LABELS[k]) for k in ABCD_KINDS],
        },
    )


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api") or request.url.path.endswith((".json", ".geojson")):
        return False
    return "text/html" in request.headers.get("accept", "")


def mount(app: FastAPI) -> None:
    """Add the pages, the auth middleware, the login and map routes and /static to ``app``."""
    from strengthmap.api import auth
    from strengthmap.web import admin, areas, directory, editor, editor_parts, routes

    auth.install(app)
    # the map's GeoJSON is ~0.5 MB for 482 LSOAs; gzip makes it ~5x smaller on slow connections
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(auth.router)
    app.include_router(maps.router)
    app.include_router(router)
    app.include_router(directory.router)
    app.include_router(routes.router)
    app.include_router(areas.router)
    app.include_router(editor.router)
    app.include_router(editor_parts.router)
    app.include_router(admin.router)

    # errors as HTML pages for browsers, JSON (the API's body) for everything else
    @app.exception_handler(StrengthmapError)
    async def _error(request: Request, exc: StrengthmapError) -> Response:
        if not _wants_html(request):
            return JSONResponse(exc.to_dict(), status_code=exc.http_status)
        if isinstance(exc, Unauthorized) and request.method == "GET":
            target = quote(
                str(request.url.path) + ("?" + request.url.query if request.url.query else "")
            )
            return RedirectResponse(f"/login?next={target}", status_code=303)
        headings = {
            401: "Please log in",
            403: "Not allowed",
            404: "Not found",
            409: "That clashes with something already there",
            422: "Please check what you entered",
            429: "Too many attempts",
        }
        context: dict[str, Any] = {
            "status": exc.http_status,
            "heading": headings.get(exc.http_status, "Something went wrong"),
            "message": str(exc),
        }
        return render(request, "error.html", context, status_code=exc.http_status, data_page=False)


__all__ = ["KIND_LABELS", "mount", "router"]
