"""``create_app(settings)``: the one place the application is assembled.

Example:
    >>> from strengthmap.settings import Settings
    >>> app = create_app(Settings(database_url="sqlite://"))
    >>> app.title
    'Strengthmap'

It opens the store, adds the middleware (``AuthMiddleware``, then gzip outside it), mounts the
vendored static files, installs the one error handler and includes every router: the JSON API
and the Open Referral UK feed from ``strengthmap.api``, the pages from ``strengthmap.web``. A new
capability adds its routers to ``API_ROUTERS`` / ``WEB_ROUTERS`` below and nowhere else.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from strengthmap import __version__
from strengthmap.api import areas as api_areas
from strengthmap.api import auth as api_auth
from strengthmap.api import directory as api_directory
from strengthmap.api import geography as api_geography
from strengthmap.api import maps as api_maps
from strengthmap.api import openreferral, system
from strengthmap.api import routes as api_routes
from strengthmap.server import errors
from strengthmap.server.middleware import AuthMiddleware
from strengthmap.settings import Settings
from strengthmap.storage import Store, open_store
from strengthmap.web import admin, editor, editor_parts, pages
from strengthmap.web import areas as web_areas
from strengthmap.web import auth as web_auth
from strengthmap.web import directory as web_directory
from strengthmap.web import routes as web_routes
from strengthmap.web.render import STATIC_DIR

#: The JSON API and the feed, in the order their paths are matched.
API_ROUTERS: tuple[APIRouter, ...] = (
    system.router,
    openreferral.router,  # /openreferral: the ORUK feed
    api_directory.router,  # /api/directory: search and editing
    api_geography.router,  # /api/areas/contrasts before /api/areas/{code}
    api_routes.router,
    api_areas.router,
    api_areas.postcodes_router,
    api_auth.router,  # /api/me
    api_maps.router,  # /api/areas.geojson, /api/assets.geojson
)
#: The pages, in the order their paths are matched.
WEB_ROUTERS: tuple[APIRouter, ...] = (
    web_auth.router,  # GET and POST /login, POST /logout
    pages.router,
    web_directory.router,
    web_routes.router,
    web_areas.router,
    editor.router,
    editor_parts.router,
    admin.router,
)


def create_app(settings: Settings, *, store: Store | None = None) -> FastAPI:
    """Build the app over ``store`` (opened from ``settings.database_url`` when not given)."""
    app = FastAPI(
        title="Strengthmap",
        description="What's strong, not what's wrong: community assets, need and inequality.",
        version=__version__,
    )
    app.state.settings = settings
    app.state.store = store if store is not None else open_store(settings.database_url)
    app.add_middleware(AuthMiddleware)
    # the map's GeoJSON is ~0.5 MB for 482 LSOAs; gzip makes it ~5x smaller on slow connections
    app.add_middleware(GZipMiddleware, minimum_size=2048)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    errors.install(app)
    for router in (*API_ROUTERS, *WEB_ROUTERS):
        app.include_router(router)
    return app


def app_from_environment() -> FastAPI:
    """The app built from ``STRENGTHMAP_*`` variables alone (each worker of ``serve --workers``)."""
    return create_app(Settings.from_env())


__all__ = ["API_ROUTERS", "WEB_ROUTERS", "app_from_environment", "create_app"]
