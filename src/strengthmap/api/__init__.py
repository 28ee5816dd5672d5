"""``create_app(settings)``: the FastAPI application: JSON API, Open Referral UK feed and web pages.

Example:
    >>> from strengthmap.settings import Settings
    >>> app = create_app(Settings(database_url="sqlite://"))
    >>> app.title
    'Strengthmap'
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from strengthmap import __version__
from strengthmap.errors import StrengthmapError
from strengthmap.settings import Settings
from strengthmap.storage import Store, open_store


def create_app(settings: Settings, *, store: Store | None = None) -> FastAPI:
    """Build the app over ``store`` (opened from ``settings.database_url`` when not given)."""
    from strengthmap.api import areas, directory, geography, openreferral, routes, system
    from strengthmap.web import pages

    app = FastAPI(
        title="Strengthmap",
        description="What's strong, not what's wrong: community assets, need and inequality.",
        version=__version__,
    )
    app.state.settings = settings
    app.state.store = store if store is not None else open_store(settings.database_url)

    @app.exception_handler(StrengthmapError)
    async def _strengthmap_error(request: Request, exc: StrengthmapError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    app.include_router(system.router)
    app.include_router(openreferral.router)  # /openreferral: the ORUK feed
    app.include_router(directory.router)  # /api/directory: search and editing
    app.include_router(geography.router)  # /api/areas/contrasts before /api/areas/{code}
    app.include_router(routes.router)
    app.include_router(areas.router)
    app.include_router(areas.postcodes_router)
    pages.mount(app)
    return app


def app_from_environment() -> FastAPI:
    """The app built from ``STRENGTHMAP_*`` variables alone (each worker of ``serve --workers``)."""
    return create_app(Settings.from_env())


__all__ = ["app_from_environment", "create_app"]
