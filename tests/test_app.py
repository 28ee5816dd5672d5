"""The app assembly (``strengthmap.server``): one error handler, the dependencies, the
compatibility names, "Add to calendar" as the library's calendar, and the labels and readers
the pages show."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

import strengthmap
from strengthmap import accounts, api, overview, server
from strengthmap.directory import editing
from strengthmap.directory.editing import create_record, edit_records
from strengthmap.directory.export import to_ical
from strengthmap.directory.profile import service_profile
from strengthmap.errors import NotFound, StrengthmapError
from strengthmap.server.app import create_app
from strengthmap.settings import Settings
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.directory import ABCD_KINDS, KIND_LABELS
from strengthmap.storage.schema.geo import DOMAIN_LABELS, IMD_DOMAINS
from strengthmap.web import editor_parts


def _client(store: Store) -> TestClient:
    return TestClient(
        create_app(Settings(database_url=str(store.url), secret_key="k"), store=store)
    )


def test_create_app_is_one_function_under_its_old_names() -> None:
    assert api.create_app is server.create_app is strengthmap.create_app is create_app
    assert api.app_from_environment is server.app_from_environment


def test_one_error_handler_answers_html_to_browsers_and_json_to_the_rest(
    sqlite_store: Store,
) -> None:
    app = create_app(Settings(database_url="sqlite://"), store=sqlite_store)
    assert [k for k in app.exception_handlers if isinstance(k, type)
            and issubclass(k, StrengthmapError)] == [StrengthmapError]  # fmt: skip
    c = TestClient(app)
    page = c.get("/services/no-such-id", headers={"accept": "text/html"})
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    data = c.get("/services/no-such-id")
    assert data.status_code == 404 and data.json()["error"] == "NotFound"
    # a JSON endpoint answers JSON even to a browser; a page that needs a login redirects to it
    api_error = c.get("/api/areas.geojson?indicator=x", headers={"accept": "text/html"})
    assert api_error.status_code == 422 and api_error.json()["field"] == "indicator"
    login = c.get("/edit", headers={"accept": "text/html"}, follow_redirects=False)
    assert (login.status_code, login.headers["location"]) == (303, "/login?next=/edit")
    assert c.get("/edit").status_code == 401
    refused = c.post("/api/directory/services", json={"name": "x"})
    assert refused.status_code == 401 and refused.json()["message"] == "log in first"


def test_roles_and_csrf_through_the_dependencies(sqlite_store: Store) -> None:
    accounts.create_user(sqlite_store, "v@example.org", password="p" * 12, role="viewer")
    c = _client(sqlite_store)
    c.get("/login")
    token = accounts.csrf_token("k", c.cookies["sm_csrf"])
    form = {"email": "v@example.org", "password": "p" * 12}
    assert c.post("/login", data=form, follow_redirects=False).status_code == 403  # no CSRF
    r = c.post("/login", data={**form, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/api/me").json() == {"email": "v@example.org", "role": "viewer",
                                       "logged_in": True}  # fmt: skip
    # a viewer may not edit (403), and the message says which role it needs
    r = c.post("/api/directory/services", json={"name": "x"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 403 and "editor" in r.json()["message"]


def _service_with_dates(store: Store) -> str:
    sid = edit_records(store, [
        ("create", "location", {"name": "Hall", "latitude": 53.79, "longitude": -1.57}),
        ("create", "service", {"name": "Lunch club", "description": "Hot lunch"}),
        ("create", "service_at_location", {"service_id": "$1", "location_id": "$0"}),
        ("create", "schedule", {"service_at_location_id": "$2", "freq": "WEEKLY",
                                "byday": "WE", "opens_at": "12:00", "closes_at": "14:00",
                                "dtstart": "2026-01-07", "valid_to": "2026-07-22",
                                "exdates": ["2026-02-18", "2026-04-01"]}),
    ], actor="t")[1]  # fmt: skip
    return sid


def _without_stamp(ics: bytes) -> str:
    return re.sub(r"DTSTAMP:[0-9TZ]+\r\n", "", ics.decode())


def test_add_to_calendar_is_the_librarys_calendar_with_exdates_and_ends(store: Store) -> None:
    sid = _service_with_dates(store)
    r = _client(store).get(f"/services/{sid}.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert r.headers["content-disposition"] == f'attachment; filename="{sid}.ics"'
    assert _without_stamp(r.content) == _without_stamp(to_ical(store, service_id=sid))
    [event] = Calendar.from_ical(r.content).walk("VEVENT")
    assert event.decoded("dtstart").isoformat() == "2026-01-07T12:00:00+00:00"
    assert event.decoded("dtend").isoformat() == "2026-01-07T14:00:00+00:00"
    exdates = event.get("exdate")
    excluded = {d.dt.date() for ex in (exdates if isinstance(exdates, list) else [exdates])
                for d in ex.dts}  # fmt: skip
    assert excluded == {date(2026, 2, 18), date(2026, 4, 1)}
    # the schedule's last day (valid_to), its end of day in London as UTC
    assert "UNTIL=20260722T225959Z" in r.content.decode().replace("\r\n ", "")
    assert str(event["location"]) == "Hall"
    assert _client(store).get("/services/nope.ics").status_code == 404


def test_a_services_page_shows_private_contacts_to_editors_only(store: Store) -> None:
    sid = create_record(store, "service", {"name": "Lunch club"}, actor="t")
    create_record(store, "contact", {"service_id": sid, "name": "Public Pat"}, actor="t")
    create_record(store, "contact", {"service_id": sid, "name": "Private Sam", "private": True,
                                     "email": "sam@example.org"}, actor="t")  # fmt: skip
    public = service_profile(store, sid)
    assert [c["name"] for c in public.record["contacts"]] == ["Public Pat"]
    assert public.private_contacts == [] and public.age_days == 0 and not public.stale
    editor = service_profile(store, sid, private_contacts=True)
    assert [(c.name, c.email) for c in editor.private_contacts] == [
        ("Private Sam", "sam@example.org")
    ]
    later = service_profile(store, sid, today=date.today().replace(year=date.today().year + 2))
    assert later.stale and later.age_days is not None and later.age_days > 365
    with pytest.raises(NotFound):
        service_profile(store, "nope")


def test_home_counts_and_datasets(store: Store) -> None:
    create_record(store, "service", {"name": "A", "abcd_kind": "association"}, actor="t")
    create_record(store, "service", {"name": "B", "abcd_kind": "culture"}, actor="t")
    gone = create_record(store, "service", {"name": "C", "abcd_kind": "culture"}, actor="t")
    editing.retire_record(store, "service", gone, actor="t")
    with store.transaction() as s:
        s.add(schema.Dataset(id="d1", title="T", publisher="P", licence="OGL-UK-3.0",
                             attribution="A", rows=3, published="2025"))  # fmt: skip
    o = overview.home_overview(store)
    assert o.total_assets == 2 and o.n_datasets == 1 and o.n_lsoa == 0
    assert [(k, n) for k, _, n in o.kinds] == [
        (k, {"association": 1, "culture": 1}.get(k, 0)) for k in ABCD_KINDS
    ]
    [d] = overview.list_datasets(store)
    assert (d.id, d.published, d.rows) == ("d1", "2025", 3)
    body: list[dict[str, Any]] = _client(store).get("/api/datasets").json()
    assert list(body[0]) == ["id", "title", "publisher", "licence", "attribution", "url",
                             "rows", "scope", "sha256", "loaded_at"]  # fmt: skip


def test_labels_cover_their_constants_in_order() -> None:
    assert tuple(KIND_LABELS) == ABCD_KINDS
    assert tuple(DOMAIN_LABELS) == ("imd", *IMD_DOMAINS)


def test_editor_forms_send_what_the_library_reads() -> None:
    """Every part's form fields are the library's ``PART_FIELDS``, marked required exactly where
    the library requires them."""
    for part in editor_parts.PARTS.values():
        names = tuple(f.name for f in part.fields)
        assert names == editing.PART_FIELDS[part.entity], part.slug
        required = tuple(f.name for f in part.fields if f.required)
        assert required == editing.PART_REQUIRED.get(part.entity, ()), part.slug
