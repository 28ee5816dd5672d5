"""The one error handler: a ``StrengthmapError`` answers as JSON or as an HTML page.

Library functions raise ``strengthmap.errors`` exceptions (``InputError`` 422, ``NotFound`` 404,
``Conflict`` 409, ``Unauthorized`` 401, ``Forbidden`` 403, ...); no handler catches them to
render. This handler turns them into the answer the client asked for: a browser asking for a
page (``Accept: text/html``, outside ``/api`` and ``.json`` / ``.geojson``) gets the error page
(``strengthmap.web.render.error_page``: a login redirect for a ``GET`` that needs a login);
everything else gets the JSON body ``{"error", "message", "field", ...}`` of
``StrengthmapError.to_dict`` with the exception's HTTP status. The Open Referral feed answers its
own errors (JSON with its CORS header) before they reach here.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from strengthmap.errors import StrengthmapError
from strengthmap.web.render import error_page


def wants_html(request: Request) -> bool:
    """The client is a browser asking for a page (not the JSON API or a data file)."""
    path = request.url.path
    if path.startswith("/api") or path.endswith((".json", ".geojson")):
        return False
    return "text/html" in request.headers.get("accept", "")


async def strengthmap_error(request: Request, exc: StrengthmapError) -> Response:
    """The HTML error page for a browser, the JSON error body for everything else."""
    if wants_html(request):
        return error_page(request, exc)
    return JSONResponse(exc.to_dict(), status_code=exc.http_status)


def install(app: FastAPI) -> None:
    """Make ``strengthmap_error`` the app's handler of every ``StrengthmapError``."""
    app.exception_handler(StrengthmapError)(strengthmap_error)


__all__ = ["install", "strengthmap_error", "wants_html"]
