"""``/openreferral``: the Open Referral UK (HSDS 3.0 UK profile) read API over whatever the store holds.

Example:
    >>> from fastapi.testclient import TestClient
    >>> from strengthmap.api import create_app
    >>> from strengthmap.settings import Settings
    >>> client = TestClient(create_app(Settings(database_url="sqlite://")))
    >>> client.get("/openreferral/").json()["version"]
    '3.0'
    >>> client.get("/openreferral/services").json()["total_items"]
    0

The nine endpoints of the UK profile's OpenAPI file are tagged ``Required``; ``/organizations``
and ``/locations`` (not in that file) are tagged ``Optional``. The answers come from
``strengthmap.directory.oruk.feed``: listings in the standard page wrapper; ``/services`` and
``/service_at_locations`` take the UK filters (a ``ServiceQuery.from_params``, answered by
``search_services``). Every response, errors and CORS preflight included, carries
``Access-Control-Allow-Origin: *``. Records come from the serialisers of
``strengthmap.directory.oruk``: retired records and private contacts are never published and
empty optional fields are omitted, never null.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from strengthmap.directory import oruk
from strengthmap.directory.oruk import feed
from strengthmap.directory.oruk.feed import DEFAULT_PER_PAGE, MAX_PER_PAGE, page_wrapper
from strengthmap.directory.search import ServiceQuery
from strengthmap.errors import InputError, NotFound, StrengthmapError
from strengthmap.server.deps import get_store
from strengthmap.storage import Store

log = logging.getLogger(__name__)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "*",
    "Access-Control-Max-Age": "86400",
}
REQUIRED = "Required"
OPTIONAL = "Optional"


class _CorsRoute(APIRoute):
    """A route whose every answer (errors included) carries the CORS header of the feed."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except StrengthmapError as exc:
                response = JSONResponse(exc.to_dict(), status_code=exc.http_status)
            except RequestValidationError as exc:
                response = JSONResponse(
                    {
                        "error": "InputError",
                        "message": "; ".join(
                            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
                        ),
                    },
                    status_code=422,
                )
            except HTTPException as exc:
                response = JSONResponse(
                    {"error": "HTTPError", "message": str(exc.detail)},
                    status_code=exc.status_code,
                )
            except Exception:  # an answer without the header would hide the fault from browsers
                log.exception("openreferral feed failed on %s", request.url.path)
                response = JSONResponse(
                    {"error": "StrengthmapError", "message": "internal error"}, status_code=500
                )
            response.headers.update(CORS_HEADERS)
            return response

        return with_cors


router = APIRouter(prefix="/openreferral", route_class=_CorsRoute)


#: Filtered listings running at once in one worker process, by backend. On SQLite they are
#: CPU-bound (reads from the page cache, then Python), so more threads only contend for the GIL,
#: and beyond the store's connection pool (5) each extra thread opens and closes its own SQLite
#: connection. Measured with bench/bench_openreferral.py's full query over 5,000 services, 2
#: workers, 16 connections: server CPU a request 9.2 ms unlimited, 7.1 ms with 2, 6.5 ms with 1.
#: PostgreSQL answers over a socket, so a few threads overlap their waits.
SEARCH_THREADS = {"sqlite": 1, "postgresql": 4}
_SEARCH_LIMITERS: weakref.WeakKeyDictionary[Any, dict[str, anyio.CapacityLimiter]] = (
    weakref.WeakKeyDictionary()
)


async def _search_thread(
    fn: Callable[[dict[str, Any], Store], JSONResponse], filters: dict[str, Any], store: Store
) -> JSONResponse:
    """``fn(filters, store)`` in a worker thread, at most ``SEARCH_THREADS`` at once."""
    limiters = _SEARCH_LIMITERS.setdefault(asyncio.get_running_loop(), {})
    limiter = limiters.get(store.dialect)
    if limiter is None:
        limiter = limiters[store.dialect] = anyio.CapacityLimiter(
            SEARCH_THREADS.get(store.dialect, 4)
        )
    return await anyio.to_thread.run_sync(fn, filters, store, limiter=limiter)


def _json(value: Any) -> JSONResponse:
    return JSONResponse(value)


PAGE = Query(1, description="Page number of paginated result (1 is the first).")
PER_PAGE = Query(
    DEFAULT_PER_PAGE, description=f"Number of results in one page (1 to {MAX_PER_PAGE})."
)


def _query(store: Store, filters: dict[str, Any]) -> ServiceQuery:
    """The ``ServiceQuery`` of the feed's filters (the UK profile's names)."""
    f = filters
    feed.check_page(f["page"], f["per_page"])
    query = ServiceQuery.from_params(
        store,
        text=f["text"],
        taxonomy=f["taxonomy_term_id"],
        minimum_age=f["minimum_age"],
        maximum_age=f["maximum_age"],
        day=f["day"],
        start_time=f["start_time"],
        end_time=f["end_time"],
        lon=f["lon"],
        lat=f["lat"],
        postcode=f["postcode"],
        radius_m=f["proximity"],
        page=f["page"],
        per_page=f["per_page"],
    )
    if query.radius_m is not None and query.near is None:
        raise InputError("proximity needs lat and lon (or a postcode)", field="proximity")
    return query


async def _filters(
    text: str | None = Query(None, description="Full text search (name and description)."),
    search: str | None = Query(
        None, description="Full text search (the HSDS name of ``text``; either may be used)."
    ),
    taxonomy_term_id: str | None = Query(
        None, description="Services with this taxonomy term (id, code or name) or a narrower one."
    ),
    minimum_age: float | None = Query(
        None, description="Services open to people of this age and over (years)."
    ),
    maximum_age: float | None = Query(
        None, description="Services open to people up to this age (years)."
    ),
    day: str | None = Query(
        None, description="Services that run on this day (monday..sunday, mo..su, or a date)."
    ),
    start_time: str | None = Query(
        None, description="With ``day``: open at some time after this (HH:MM, Europe/London)."
    ),
    end_time: str | None = Query(
        None, description="With ``day``: open at some time before this (HH:MM, Europe/London)."
    ),
    proximity: float | None = Query(
        None, description="Within this many metres of ``lat``/``lon`` (or ``postcode``)."
    ),
    lat: float | None = Query(None, description="Latitude (WGS84) of the point for ``proximity``."),
    lon: float | None = Query(
        None, description="Longitude (WGS84) of the point for ``proximity``."
    ),
    postcode: str | None = Query(
        None, description="A postcode whose centroid is the point for ``proximity``."
    ),
    page: int = PAGE,
    per_page: int = PER_PAGE,
) -> dict[str, Any]:
    return {
        "text": text or search,
        "taxonomy_term_id": taxonomy_term_id,
        "minimum_age": minimum_age,
        "maximum_age": maximum_age,
        "day": day,
        "start_time": start_time,
        "end_time": end_time,
        "proximity": proximity,
        "lat": lat,
        "lon": lon,
        "postcode": postcode,
        "page": page,
        "per_page": per_page,
    }


def _filtered(f: dict[str, Any]) -> bool:
    return any(v is not None for k, v in f.items() if k not in ("page", "per_page"))


@router.get(
    "/",
    tags=[REQUIRED],
    operation_id="getAPIMetaInformation",
    summary="Information about this API and its relationship with HSDS.",
)
async def api_info(request: Request) -> JSONResponse:
    """The ORUK version, the profile's URL and where this API's OpenAPI document is."""
    return _json(
        {
            "version": oruk.ORUK_VERSION,
            "profile": oruk.ORUK_PROFILE_URL,
            "openapi_url": str(request.url_for("openapi")),
        }
    )


@router.get(
    "/services",
    tags=[REQUIRED],
    operation_id="getPaginatedListOfServices",
    summary="Paginated listing of services with their one-to-one fields, filtered.",
)
async def list_services(
    filters: dict[str, Any] = Depends(_filters), store: Store = Depends(get_store)
) -> JSONResponse:
    """Services matching every filter given (AND), best first, in the ORUK page wrapper."""
    return await _search_thread(_list_services, filters, store)


def _list_services(filters: dict[str, Any], store: Store) -> JSONResponse:
    return _json(feed.services_page(store, _query(store, filters)))


@router.get(
    "/services/{id}",
    tags=[REQUIRED],
    operation_id="getFullyNestedServiceById",
    summary="A fully nested service with all related data.",
)
def get_service(id: str, store: Store = Depends(get_store)) -> JSONResponse:
    return _json(feed.record(store, "service", id))


@router.get(
    "/taxonomies",
    tags=[REQUIRED],
    operation_id="getPaginatedListOfTaxonomies",
    summary="Paginated listing of taxonomies.",
)
def list_taxonomies(
    page: int = PAGE, per_page: int = PER_PAGE, store: Store = Depends(get_store)
) -> JSONResponse:
    return _json(feed.listing(store, "taxonomy", page=page, per_page=per_page))


@router.get(
    "/taxonomies/{id}",
    tags=[REQUIRED],
    operation_id="getTaxonomyById",
    summary="A taxonomy with its terms.",
)
def get_taxonomy(id: str, store: Store = Depends(get_store)) -> JSONResponse:
    return _json(feed.record(store, "taxonomy", id))


@router.get(
    "/taxonomy_terms",
    tags=[REQUIRED],
    operation_id="getPaginatedListOfTaxonomyTerms",
    summary="Paginated listing of taxonomy terms.",
)
def list_taxonomy_terms(
    taxonomy_id: str | None = Query(None, description="Only the terms of this taxonomy."),
    page: int = PAGE,
    per_page: int = PER_PAGE,
    store: Store = Depends(get_store),
) -> JSONResponse:
    return _json(
        feed.listing(store, "taxonomy_term", page=page, per_page=per_page, taxonomy_id=taxonomy_id)
    )


@router.get(
    "/taxonomy_terms/{id}",
    tags=[REQUIRED],
    operation_id="getTaxonomyTermById",
    summary="One taxonomy term.",
)
def get_taxonomy_term(id: str, store: Store = Depends(get_store)) -> JSONResponse:
    return _json(feed.record(store, "taxonomy_term", id))


@router.get(
    "/service_at_locations",
    tags=[REQUIRED],
    operation_id="getPaginatedListOfServiceAtLocation",
    summary="Paginated listing of services at locations with their one-to-one fields, filtered.",
)
async def list_service_at_locations(
    filters: dict[str, Any] = Depends(_filters), store: Store = Depends(get_store)
) -> JSONResponse:
    """Services at locations whose service matches every filter (and whose location is within
    ``proximity`` metres, geodesic on WGS84, when given), ordered by service then location name."""
    return await _search_thread(_list_service_at_locations, filters, store)


def _list_service_at_locations(filters: dict[str, Any], store: Store) -> JSONResponse:
    page, per_page = filters["page"], filters["per_page"]
    feed.check_page(page, per_page)
    if not _filtered(filters):
        return _json(feed.listing(store, "service_at_location", page=page, per_page=per_page))
    return _json(feed.service_at_locations_page(store, _query(store, filters)))


@router.get(
    "/service_at_locations/{id}",
    tags=[REQUIRED],
    operation_id="getServiceAtLocationWithNestedDataById",
    summary="A fully nested service at a location.",
)
def get_service_at_location(id: str, store: Store = Depends(get_store)) -> JSONResponse:
    return _json(feed.record(store, "service_at_location", id))


@router.get(
    "/organizations",
    tags=[OPTIONAL],
    operation_id="getPaginatedListOfOrganizations",
    summary="Paginated listing of organizations with their one-to-one fields.",
)
def list_organizations(
    page: int = PAGE, per_page: int = PER_PAGE, store: Store = Depends(get_store)
) -> JSONResponse:
    return _json(feed.listing(store, "organization", page=page, per_page=per_page))


@router.get(
    "/organizations/{id}",
    tags=[OPTIONAL],
    operation_id="getOrganizationById",
    summary="An organization with its identifiers and fully nested services.",
)
def get_organization(id: str, store: Store = Depends(get_store)) -> JSONResponse:
    return _json(feed.record(store, "organization", id))


@router.get(
    "/locations",
    tags=[OPTIONAL],
    operation_id="getPaginatedListOfLocations",
    summary="Paginated listing of locations with their one-to-one fields.",
)
def list_locations(
    page: int = PAGE, per_page: int = PER_PAGE, store: Store = Depends(get_store)
) -> JSONResponse:
    return _json(feed.listing(store, "location", page=page, per_page=per_page))


@router.get(
    "/locations/{id}",
    tags=[OPTIONAL],
    operation_id="getLocationById",
    summary="A location with its addresses, accessibility and attributes.",
)
def get_location(id: str, store: Store = Depends(get_store)) -> JSONResponse:
    return _json(feed.record(store, "location", id))


@router.options("/{path:path}", include_in_schema=False)
async def preflight(path: str) -> Response:
    """CORS preflight for any feed path."""
    return Response(status_code=204)


@router.api_route(
    "/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
async def not_in_feed(path: str, request: Request) -> Response:
    """Anything else under /openreferral: a JSON 404 (or 405 for writes), with the CORS header."""
    if request.method != "GET":
        return JSONResponse(
            {"error": "MethodNotAllowed", "message": "the Open Referral feed is read-only"},
            status_code=405,
            headers={"Allow": "GET, OPTIONS"},
        )
    raise NotFound(f"no Open Referral endpoint /openreferral/{path}")


__all__ = ["CORS_HEADERS", "MAX_PER_PAGE", "page_wrapper", "router"]
