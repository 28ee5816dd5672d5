"""Directory pages: ``/directory`` (search with every filter as a query parameter, results beside a
map) and ``/services/{id}`` (schedule, location, contacts, costs, freshness, add to calendar)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from strengthmap.accounts import has_role
from strengthmap.directory.export import to_ical
from strengthmap.directory.profile import STALE_AFTER_DAYS, location_names, service_profile
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.directory.taxonomy import list_terms
from strengthmap.server.deps import current_user, get_store
from strengthmap.storage import Store
from strengthmap.storage.schema.directory import ABCD_KINDS
from strengthmap.web.render import render

router = APIRouter(include_in_schema=False)

DAYS = (
    ("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday"), ("thu", "Thursday"),
    ("fri", "Friday"), ("sat", "Saturday"), ("sun", "Sunday"),
)  # fmt: skip


@router.get("/directory", response_class=HTMLResponse)
def directory_page(
    request: Request,
    q: str | None = Query(None),
    taxonomy: list[str] | None = Query(None),
    kind: str | None = Query(None),
    age: str | None = Query(None),
    free: bool | None = Query(None),
    near: str | None = Query(None),
    radius_m: str | None = Query(None),
    area: str | None = Query(None),
    day: str | None = Query(None),
    time: str | None = Query(None),
    start_time: str | None = Query(None),
    end_time: str | None = Query(None),
    page: int = Query(1),
    store: Store = Depends(get_store),
) -> HTMLResponse:
    """Search the directory; every filter is a query parameter (so a search is a link)."""
    params = {
        "q": q, "taxonomy": taxonomy, "kind": kind, "age": age, "free": free, "near": near,
        "radius_m": radius_m, "area": area, "day": day, "time": time,
        "start_time": start_time, "end_time": end_time,
    }  # fmt: skip
    query = ServiceQuery.from_params(
        store, text=q, taxonomy=taxonomy, taxonomy_sep=",", kind=kind, age=age, free=free,
        near=near, radius_m=radius_m, default_radius_m=1500, area=area, day=day, time=time,
        start_time=start_time, end_time=end_time, page=page, per_page=25,
    )  # fmt: skip
    result = search_services(store, query)
    names = location_names(store, [h.location_id for h in result.items if h.location_id])
    qs = str(request.url.query)
    return render(
        request,
        "directory.html",
        {
            "result": result,
            "params": params,
            "names": names,
            "days": DAYS,
            "times": ServiceQuery.TIMES_OF_DAY,
            "kinds": ABCD_KINDS,
            "terms": list_terms(store),
            "assets_url": "/api/assets.geojson?" + qs,
            "query_string": qs,
            "searched": any(v not in (None, "", []) for v in params.values()),
        },
    )


@router.get("/services/{service_id}.ics")
def service_ics(service_id: str, store: Store = Depends(get_store)) -> Response:
    """ "Add to calendar": the service's schedules as iCalendar (RFC 5545) recurring events in
    Europe/London, with their excluded dates and end dates (``directory.export.to_ical``, the
    same calendar as ``strengthmap directory export --format ical --service ID``)."""
    return Response(
        to_ical(store, service_id=service_id),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{service_id}.ics"'},
    )


@router.get("/services/{service_id}", response_class=HTMLResponse)
def service_page(
    request: Request, service_id: str, store: Store = Depends(get_store)
) -> HTMLResponse:
    """One service: what, when, where, who to contact, what it costs, and how fresh the record is."""
    p = service_profile(
        store, service_id, private_contacts=has_role(current_user(request), "editor")
    )
    return render(
        request,
        "service.html",
        {
            "s": p.record,
            "abcd_kind": p.abcd_kind,
            "schedules": p.schedules,
            "locations": p.locations,
            "private_contacts": p.private_contacts,
            "last_verified": p.last_verified,
            "age_days": p.age_days,
            "stale": p.stale,
            "stale_after": STALE_AFTER_DAYS,
            "today": date.today(),
        },
    )


__all__ = ["router"]
