"""Directory pages: ``/directory`` (search with every filter as a query parameter, results beside a
map) and ``/services/{id}`` (schedule, location, contacts, costs, freshness, add to calendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from strengthmap.accounts import has_role
from strengthmap.api import maps
from strengthmap.api.auth import current_user
from strengthmap.directory.oruk import to_oruk_service
from strengthmap.directory.search import search_services
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.directory import ABCD_KINDS
from strengthmap.web.render import render

router = APIRouter(include_in_schema=False)

DAYS = (
    ("mon", "Monday"), ("tue", "Tuesday"), ("wed", "Wednesday"), ("thu", "Thursday"),
    ("fri", "Friday"), ("sat", "Saturday"), ("sun", "Sunday"),
)  # fmt: skip
_BYDAY_NAMES = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday",
                "FR": "Friday", "SA": "Saturday", "SU": "Sunday"}  # fmt: skip
_ORDINALS = {"1": "first", "2": "second", "3": "third", "4": "fourth", "-1": "last"}
#: A record not checked for this many days is flagged as possibly out of date.
STALE_AFTER_DAYS = 365


def _store(request: Request) -> Store:
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


def describe_schedule(s: dict[str, Any]) -> str:
    """A schedule (ORUK fields) in plain English, e.g. "Every Wednesday, 12:00 to 14:00".

    >>> describe_schedule({"freq": "WEEKLY", "byday": "WE", "opens_at": "12:00", "closes_at": "14:00"})
    'Every Wednesday, 12:00 to 14:00'
    >>> describe_schedule({"freq": "MONTHLY", "byday": "1MO", "opens_at": "10:00"})
    'The first Monday of each month, from 10:00'
    """
    days = []
    monthly = s.get("freq") == "MONTHLY"
    for part in (s.get("byday") or "").split(","):
        part = part.strip().upper()
        if not part:
            continue
        ordinal, name = part[:-2], _BYDAY_NAMES.get(part[-2:], part[-2:])
        days.append(f"the {_ORDINALS.get(ordinal, ordinal)} {name}" if ordinal else name)
    interval = s.get("interval") or 1
    if days and monthly:
        when = f"{' and '.join(days)} of each month"
        when = when[0].upper() + when[1:]
    elif days:
        when = ("Every " if interval == 1 else f"Every {interval} weeks on ") + " and ".join(days)
    elif s.get("description"):
        when = str(s["description"])
    else:
        when = {"DAILY": "Every day", "WEEKLY": "Every week", "MONTHLY": "Every month"}.get(
            s.get("freq") or "", "See details"
        )
    opens, closes = s.get("opens_at"), s.get("closes_at")
    if opens and closes:
        when += f", {opens[:5]} to {closes[:5]}"
    elif opens:
        when += f", from {opens[:5]}"
    return when


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
) -> HTMLResponse:
    """Search the directory; every filter is a query parameter (so a search is a link)."""
    store = _store(request)
    params = {
        "q": q, "taxonomy": taxonomy, "kind": kind, "age": age, "free": free, "near": near,
        "radius_m": radius_m, "area": area, "day": day, "time": time,
        "start_time": start_time, "end_time": end_time,
    }  # fmt: skip
    query = maps.service_query(store, page=page, per_page=25, **params)  # type: ignore[arg-type]  # the dict's values are the declared types
    result = search_services(store, query)
    names = maps.location_names(store, [h.location_id for h in result.items if h.location_id])
    qs = str(request.url.query)
    with store.session() as session:
        terms = session.execute(
            select(schema.TaxonomyTerm.code, schema.TaxonomyTerm.name)
            .where(schema.TaxonomyTerm.retired_at.is_(None))
            .order_by(schema.TaxonomyTerm.name)
        ).all()
    return render(
        request,
        "directory.html",
        {
            "result": result,
            "params": params,
            "names": names,
            "days": DAYS,
            "times": maps.TIMES_OF_DAY,
            "kinds": ABCD_KINDS,
            "terms": terms,
            "assets_url": "/api/assets.geojson?" + qs,
            "query_string": qs,
            "searched": any(v not in (None, "", []) for v in params.values()),
        },
    )


@router.get("/services/{service_id}.ics")
def service_ics(request: Request, service_id: str) -> Response:
    """ "Add to calendar": the service's schedules as iCalendar (RFC 5545) recurring events in
    Europe/London, with RRULEs from ``strengthmap.directory.schedules.to_rrule``."""
    from icalendar import Calendar, Event, vRecur

    from strengthmap.directory.schedules import to_rrule

    with _store(request).session() as session:
        record = to_oruk_service(session, service_id)
    cal = Calendar()
    cal.add("prodid", "-//Strengthmap//directory//EN")
    cal.add("version", "2.0")
    place = ""
    schedules = list(record.get("schedules", []))
    for sal in record.get("service_at_locations", []):
        schedules += sal.get("schedules", [])
        loc = sal.get("location") or {}
        if loc.get("name") and not place:
            place = loc["name"]
    london = ZoneInfo("Europe/London")
    for i, sch in enumerate(schedules):
        rrule = to_rrule((sch.get("rrule") and sch) or _Rec(sch))
        start_day = date.fromisoformat(sch["dtstart"][:10]) if sch.get("dtstart") else date.today()
        opens = (sch.get("opens_at") or "09:00")[:5]
        closes = (sch.get("closes_at") or opens)[:5]
        ev = Event()
        ev.add("uid", f"{sch.get('id', i)}@strengthmap")
        ev.add("summary", record["name"])
        ev.add("dtstamp", datetime.now(UTC))
        start = datetime.combine(start_day, dtime.fromisoformat(opens), tzinfo=london)
        end = datetime.combine(start_day, dtime.fromisoformat(closes), tzinfo=london)
        ev.add("dtstart", start)
        ev.add("dtend", end if end > start else start)
        if rrule:
            ev.add("rrule", vRecur.from_ical(rrule))
        if place:
            ev.add("location", place)
        if record.get("description"):
            ev.add("description", record["description"])
        cal.add_component(ev)
    return Response(
        cal.to_ical(),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{service_id}.ics"'},
    )


def _Rec(sch: dict[str, Any]) -> Any:  # builds the schedules module's Recurrence
    from strengthmap.directory.schedules import Recurrence

    keys = ("freq", "interval", "byday", "bymonthday", "count", "wkst")
    return Recurrence(**{k: sch[k] for k in keys if sch.get(k) is not None})


@router.get("/services/{service_id}", response_class=HTMLResponse)
def service_page(request: Request, service_id: str) -> HTMLResponse:
    """One service: what, when, where, who to contact, what it costs, and how fresh the record is."""
    store = _store(request)
    user = current_user(request)
    with store.session() as session:
        record = to_oruk_service(session, service_id)  # skips private contacts
        row = session.get(schema.Service, service_id)
        private_contacts: list[Any] = []
        if has_role(user, "editor"):
            private_contacts = list(
                session.scalars(
                    select(schema.Contact).where(
                        schema.Contact.service_id == service_id,
                        schema.Contact.private.is_(True),
                        schema.Contact.retired_at.is_(None),
                    )
                )
            )
    last_verified = row.last_verified if row is not None else None
    age_days = (datetime.now(UTC).date() - last_verified).days if last_verified else None
    schedules = list(record.get("schedules", []))
    locations = []
    for sal in record.get("service_at_locations", []):
        schedules += sal.get("schedules", [])
        if sal.get("location"):
            locations.append(sal["location"])
    return render(
        request,
        "service.html",
        {
            "s": record,
            "abcd_kind": row.abcd_kind if row is not None else None,
            "schedules": [(describe_schedule(x), x) for x in schedules],
            "locations": locations,
            "private_contacts": private_contacts,
            "last_verified": last_verified,
            "age_days": age_days,
            "stale": age_days is None or age_days > STALE_AFTER_DAYS,
            "stale_after": STALE_AFTER_DAYS,
            "today": date.today(),
        },
    )


__all__ = ["STALE_AFTER_DAYS", "describe_schedule", "router"]
