"""The Open Referral UK feed's answers: pages of records in the ORUK page wrapper, the services
and services at locations a ``ServiceQuery`` finds, one record by id.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> listing(store, "organization", page=1, per_page=50)["total_items"]
    0
    >>> page_wrapper([], 0, 1, 50)["last_page"]
    True

Listings hold published records only (``published``: not retired, not private) ordered by name
then id; ``services_page`` keeps ``search_services``' order (best first). The HTTP side (the
routes, their parameters, CORS) is ``strengthmap.api.openreferral``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from pyproj import Geod
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from strengthmap.directory.oruk.mapping import (
    ENTITIES,
    LOCATION_ONE_TO_ONE,
    ORG_ONE_TO_ONE,
    SAL_LIST,
    SERVICE_LIST,
    TAXONOMY_LIST,
    TERM_SHAPE,
    Shape,
)
from strengthmap.directory.oruk.serialise import (
    published,
    to_oruk_location,
    to_oruk_many,
    to_oruk_organization,
    to_oruk_service,
    to_oruk_service_at_location,
    to_oruk_taxonomy,
    to_oruk_taxonomy_term,
)
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.errors import InputError
from strengthmap.storage import Store, schema

#: Largest ``per_page`` served (the ORUK profile sets none; this bounds one response).
MAX_PER_PAGE = 1000
DEFAULT_PER_PAGE = 50
#: The shape of each entity in a listing (the one-to-one fields).
LIST_SHAPES: dict[str, Shape] = {
    "taxonomy": TAXONOMY_LIST,
    "taxonomy_term": TERM_SHAPE,
    "service_at_location": SAL_LIST,
    "organization": ORG_ONE_TO_ONE,
    "location": LOCATION_ONE_TO_ONE,
}
#: One fully nested record of each entity.
RECORDS: dict[str, Callable[[Session, str], dict[str, Any]]] = {
    "service": to_oruk_service,
    "taxonomy": to_oruk_taxonomy,
    "taxonomy_term": to_oruk_taxonomy_term,
    "service_at_location": to_oruk_service_at_location,
    "organization": to_oruk_organization,
    "location": to_oruk_location,
}
_GEOD = Geod(ellps="WGS84")


def page_wrapper(
    contents: list[dict[str, Any]], total: int, page: int, per_page: int
) -> dict[str, Any]:
    """The ORUK page: ``total_items, total_pages, page_number, size, first_page, last_page, empty, contents``."""
    total_pages = max(1, math.ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def check_page(page: int, per_page: int) -> None:
    """``InputError`` unless ``page`` >= 1 and 1 <= ``per_page`` <= ``MAX_PER_PAGE``."""
    if page < 1:
        raise InputError("page must be 1 or more", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InputError(f"per_page must be between 1 and {MAX_PER_PAGE}", field="per_page")


def listing(
    store: Store, entity: str, *, page: int, per_page: int, taxonomy_id: str | None = None
) -> dict[str, Any]:
    """One page of the published records of ``entity`` (a ``LIST_SHAPES`` key), by name then id;
    taxonomy terms may be limited to one taxonomy."""
    check_page(page, per_page)
    model = ENTITIES[entity].model
    where = [published(model)]
    if taxonomy_id and entity == "taxonomy_term":
        where.append(schema.TaxonomyTerm.taxonomy_id == taxonomy_id)
    with store.session() as session:
        total = session.scalar(select(func.count()).select_from(model).where(*where)) or 0
        order = [model.name, model.id] if hasattr(model, "name") else [model.id]
        ids = list(
            session.scalars(
                select(model.id)
                .where(*where)
                .order_by(*order)
                .offset((page - 1) * per_page)
                .limit(per_page)
            )
        )
        contents = to_oruk_many(session, entity, ids, LIST_SHAPES[entity])
    return page_wrapper(contents, total, page, per_page)


def record(store: Store, entity: str, rid: str) -> dict[str, Any]:
    """One published record of ``entity``, fully nested (``NotFound`` when there is none)."""
    with store.session() as session:
        return RECORDS[entity](session, rid)


def services_page(store: Store, query: ServiceQuery) -> dict[str, Any]:
    """The page of services ``query`` finds, best first, in the one-to-one list shape."""
    found = search_services(store, query)
    with store.session() as session:
        contents = to_oruk_many(
            session, "service", [h.service_id for h in found.items], SERVICE_LIST
        )
    return page_wrapper(contents, found.total, query.page, query.per_page)


def service_at_locations_page(store: Store, query: ServiceQuery) -> dict[str, Any]:
    """Page ``query.page`` of the services at locations whose service ``query`` finds (and whose
    location is within ``query.radius_m`` of ``query.near``, geodesic on WGS84, when given),
    ordered by the service's rank, then location name, then id."""
    check_page(query.page, query.per_page)
    sweep = replace(query, page=1, per_page=MAX_PER_PAGE)
    service_ids: list[str] = []
    while True:
        found = search_services(store, sweep)
        service_ids.extend(h.service_id for h in found.items)
        if sweep.page >= found.total_pages:
            break
        sweep.page += 1
    ids = _sal_ids(store, service_ids, query)
    first = (query.page - 1) * query.per_page
    with store.session() as session:
        contents = to_oruk_many(
            session, "service_at_location", ids[first : first + query.per_page], SAL_LIST
        )
    return page_wrapper(contents, len(ids), query.page, query.per_page)


def _sal_ids(store: Store, service_ids: Sequence[str], query: ServiceQuery) -> list[str]:
    sal, loc, svc = schema.ServiceAtLocation, schema.Location, schema.Service
    rank = {sid: i for i, sid in enumerate(service_ids)}
    rows: list[Any] = []
    with store.session() as session:
        for i in range(0, len(service_ids), 500):
            chunk = service_ids[i : i + 500]
            rows.extend(
                session.execute(
                    select(sal.id, sal.service_id, loc.name, loc.longitude, loc.latitude)
                    .join(loc, loc.id == sal.location_id)
                    .join(svc, svc.id == sal.service_id)
                    .where(
                        sal.service_id.in_(chunk),
                        sal.retired_at.is_(None),
                        loc.retired_at.is_(None),
                    )
                )
            )
    if query.near is not None and query.radius_m is not None:
        lon0, lat0 = query.near
        placed = [r for r in rows if r.longitude is not None and r.latitude is not None]
        if placed:
            _, _, dist = _GEOD.inv(
                [lon0] * len(placed),
                [lat0] * len(placed),
                [r.longitude for r in placed],
                [r.latitude for r in placed],
            )
            rows = [r for r, d in zip(placed, dist, strict=True) if d <= query.radius_m]
        else:
            rows = []
    rows.sort(key=lambda r: (rank[r.service_id], r.name or "", r.id))
    return [r.id for r in rows]


__all__ = [
    "DEFAULT_PER_PAGE",
    "LIST_SHAPES",
    "MAX_PER_PAGE",
    "RECORDS",
    "check_page",
    "listing",
    "page_wrapper",
    "record",
    "service_at_locations_page",
    "services_page",
]
