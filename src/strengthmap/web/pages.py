"""The public web pages. Thin: each page calls library functions and renders a template.

Contract paths: ``/`` (home), ``/map``, ``/directory``, ``/services/{id}``, ``/areas/{code}``,
``/routes``, ``/about/data``, ``/login``. Login and logout live in ``web/auth.py``, directory
pages in ``web/directory.py``, editor pages in ``web/editor.py`` and ``web/editor_parts.py``,
admin pages in ``web/admin.py``. Every page works without JavaScript (forms are GET/POST, the
map has a table view); small vanilla scripts in ``static/`` add the map. The app is assembled
in ``strengthmap.server.app``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from strengthmap import maps, overview
from strengthmap.errors import InputError
from strengthmap.server.deps import get_settings, get_store
from strengthmap.settings import Settings
from strengthmap.storage import Store
from strengthmap.storage.schema.directory import ABCD_KINDS, KIND_LABELS
from strengthmap.web.render import STATIC_DIR, render

router = APIRouter(include_in_schema=False)


def _vendor_versions() -> dict[str, str]:
    out: dict[str, str] = {}
    path = STATIC_DIR / "vendor" / "VERSIONS.txt"
    if path.is_file():
        for line in path.read_text().splitlines()[1:]:
            parts = line.split()
            if len(parts) >= 2:
                out[parts[0].replace("-", "_")] = parts[1]
    return out


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> HTMLResponse:
    """What's strong first: assets by ABCD kind, a search box, links into every page."""
    o = overview.home_overview(store)
    return render(
        request,
        "home.html",
        {
            "kinds": o.kinds,
            "total_assets": o.total_assets,
            "n_lsoa": o.n_lsoa,
            "n_datasets": o.n_datasets,
            "example_area": o.example_area,
            "place": settings.place,
        },
    )


@router.get("/about/data", response_class=HTMLResponse)
def about_data(request: Request, store: Store = Depends(get_store)) -> HTMLResponse:
    """Every loaded source with its publisher, licence, dates and attribution."""
    datasets = overview.list_datasets(store)
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
    store: Store = Depends(get_store),
) -> HTMLResponse:
    """LSOAs coloured by IMD, a domain or life expectancy, with assets on top and a table view."""
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


__all__ = ["router"]
