"""The web layer in-process (no browser): map GeoJSON against an independent reading of the
source CSVs, the users CLI, cookies' flags, and errors as HTML for browsers."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from strengthmap import accounts
from strengthmap.api import create_app
from strengthmap.errors import Conflict
from strengthmap.settings import Settings
from strengthmap.storage import Store, open_store


@pytest.fixture(scope="module")
def leeds(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Any:
    from strengthmap.sources import load_data_dir

    path = tmp_path_factory.mktemp("webpages") / "leeds.sqlite"
    store = open_store(f"sqlite:///{path}")
    load_data_dir(store, data_dir, place="Leeds")
    yield store
    store.close()


def _client(store: Store) -> TestClient:
    return TestClient(create_app(Settings(database_url=str(store.url)), store=store))


def test_imd_deciles_on_the_map_equal_the_published_file(leeds: Store, data_dir: Path) -> None:
    fc = _client(leeds).get("/api/areas.geojson?indicator=health_decile").json()
    assert len(fc["features"]) == 482
    src = pd.read_csv(data_dir / "imd" / "leeds_imd2019_lsoa2011.csv")
    want = dict(zip(src.lsoa11cd, src.health_decile, strict=True))
    got = {f["properties"]["code"]: f["properties"]["value"] for f in fc["features"]}
    assert got == {k: float(v) for k, v in want.items()}
    assert all(f["properties"]["class"] == int(f["properties"]["value"]) for f in fc["features"])


def test_life_expectancy_on_lsoas_is_their_msoa_value(leeds: Store, data_dir: Path) -> None:
    fc = _client(leeds).get("/api/areas.geojson?indicator=le_female").json()
    le = pd.read_csv(data_dir / "life_expectancy" / "leeds_le_birth_msoa2011_2016_2020.csv")
    le = le[le.sex.str.lower().str.startswith("f")]
    by_msoa = dict(zip(le.msoa11cd, le.le_birth, strict=True))
    look = pd.read_csv(data_dir / "lookups" / "leeds_lsoa2011_to_msoa2011.csv")
    parent = dict(zip(look.lsoa11_code, look.msoa11_code, strict=True))
    n_none = 0
    for f in fc["features"]:
        want = by_msoa[parent[f["properties"]["code"]]]
        got = f["properties"]["value"]
        if pd.isna(want):
            assert got is None and f["properties"]["class"] is None
            n_none += 1
        else:
            assert got == pytest.approx(want)
    assert n_none > 0  # suppressed MSOAs stay grey, never filled in
    # quintile classes: each holds about a fifth of the areas with a value
    counts = pd.Series([f["properties"]["class"] for f in fc["features"]]).value_counts()
    assert set(counts.index) == {1, 2, 3, 4, 5}
    assert counts.min() >= 0.1 * (482 - n_none)


def test_unknown_indicator_is_a_422_naming_the_field(leeds: Store) -> None:
    r = _client(leeds).get("/api/areas.geojson?indicator=wealth")
    assert r.status_code == 422 and r.json()["field"] == "indicator"


def test_errors_are_html_for_browsers_and_json_for_the_api(leeds: Store) -> None:
    c = _client(leeds)
    page = c.get("/areas/E01999999", headers={"accept": "text/html"})
    assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
    api = c.get("/api/areas.geojson?indicator=wealth", headers={"accept": "text/html"})
    assert api.headers["content-type"].startswith("application/json")


def test_cookies_are_http_only_same_site_and_secure_over_https(sqlite_store: Store) -> None:
    accounts.create_user(sqlite_store, "a@example.org", password="p" * 12, role="editor")
    app = create_app(Settings(database_url="sqlite://"), store=sqlite_store)
    c = TestClient(app, base_url="https://testserver")
    c.get("/login")
    token = accounts.csrf_token(app.state.settings.secret_key, c.cookies["sm_csrf"])
    r = c.post("/login", data={"email": "a@example.org", "password": "p" * 12, "csrf_token": token},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_login_is_rate_limited(sqlite_store: Store) -> None:
    """Five failures in 15 minutes, counted across two apps on one store (as two worker
    processes are): the sixth attempt is refused with 429 by either."""
    accounts.create_user(sqlite_store, "b@example.org", password="p" * 12)
    clients = []
    for _ in range(2):
        app = create_app(Settings(database_url="sqlite://"), store=sqlite_store)
        c = TestClient(app)
        c.get("/login")
        clients.append(
            (c, accounts.csrf_token(app.state.settings.secret_key, c.cookies["sm_csrf"]))
        )
    statuses = [
        clients[i % 2][0]
        .post(
            "/login",
            data={"email": "b@example.org", "password": "wrong", "csrf_token": clients[i % 2][1]},
            follow_redirects=False,
        )
        .status_code
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def test_users_cli_create_list_disable(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from strengthmap.cli import app as cli_app

    db = f"sqlite:///{tmp_path / 'u.sqlite'}"
    run = CliRunner().invoke
    r = run(cli_app, ["--database", db, "users", "create", "c@example.org", "--role", "admin",
                      "--password-stdin"], input="a good long password\n")  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run(cli_app, ["--database", db, "users", "list", "--json"])
    assert '"role": "admin"' in r.stdout
    r = run(cli_app, ["--database", db, "users", "disable", "c@example.org"])
    assert r.exit_code == 0
    store = open_store(db)
    assert accounts.get_user(store, "c@example.org").disabled
    store.close()


def _editor_client(store: Store, email: str = "ed@example.org") -> tuple[TestClient, str]:
    """A client logged in as an editor, and its CSRF token."""
    with contextlib.suppress(Conflict):  # the user exists already (module-scoped store)
        accounts.create_user(store, email, password="p" * 12, role="editor")
    app = create_app(Settings(database_url=str(store.url)), store=store)
    c = TestClient(app)
    c.get("/login")
    token = accounts.csrf_token(app.state.settings.secret_key, c.cookies["sm_csrf"])
    r = c.post("/login", data={"email": email, "password": "p" * 12, "csrf_token": token},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    return c, token


def test_editor_adds_a_place_times_contacts_and_costs_through_the_audit_trail(
    leeds: Store,
) -> None:
    from strengthmap.areas import resolve_postcode
    from strengthmap.directory.editing import history
    from strengthmap.storage import schema

    c, token = _editor_client(leeds)
    r = c.post("/edit/organizations", data={"csrf_token": token, "name": "Wortley Friends",
                                            "abcd_kind": "association"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    with leeds.session() as s:
        org = s.query(schema.Organization).filter_by(name="Wortley Friends").one().id
    r = c.post("/edit/services", data={"csrf_token": token, "name": "Knit and natter",
                                       "abcd_kind": "association", "status": "active",
                                       "organization_id": org}, follow_redirects=False)  # fmt: skip
    sid = r.headers["location"].rsplit("/", 1)[1]
    base = f"/edit/services/{sid}"
    # a place: the postcode puts it on the map (the ONS centroid)
    place = {"csrf_token": token, "name": "Hall", "address_1": "1 Green Lane", "city": "Leeds",
             "postcode": "ls12 1be", "access_description": "Step-free"}  # fmt: skip
    bad = c.post(f"{base}/locations", data={**place, "postcode": "ZZ9 9ZZ"})
    assert bad.status_code == 422 and 'id="e-postcode"' in bad.text
    assert c.post(f"{base}/locations", data=place, follow_redirects=False).status_code == 303
    lon, lat, _ = resolve_postcode(leeds, "LS12 1BE")
    with leeds.session() as s:
        loc = s.query(schema.Location).filter_by(name="Hall").one()
        assert (loc.longitude, loc.latitude) == (lon, lat)
        acc = s.query(schema.Accessibility).filter_by(location_id=loc.id).one()
        assert acc.description == "Step-free"
        lid = loc.id
    # schedules: a bad time and a bad RRULE are shown beside their fields; nothing is written
    r = c.post(f"{base}/schedules", data={"csrf_token": token, "mode": "weekly", "days": ["WE"],
                                          "opens_at": "25:00"})  # fmt: skip
    assert r.status_code == 422 and 'id="e-opens_at"' in r.text and 'aria-invalid="true"' in r.text
    r = c.post(f"{base}/schedules", data={"csrf_token": token, "mode": "rrule",
                                          "rrule": "FREQ=SOMETIMES"})  # fmt: skip
    assert r.status_code == 422 and 'id="e-rrule"' in r.text
    r = c.post(f"{base}/schedules", data={"csrf_token": token, "mode": "weekly"})
    assert r.status_code == 422 and 'id="e-days"' in r.text
    for data in ({"mode": "weekly", "days": ["WE", "FR"], "opens_at": "13:00", "closes_at": "15:00"},
                 {"mode": "rrule", "rrule": "RRULE:FREQ=MONTHLY;BYDAY=1MO"}):  # fmt: skip
        assert c.post(f"{base}/schedules", data={"csrf_token": token, **data},
                      follow_redirects=False).status_code == 303  # fmt: skip
    # contacts, one private, one with a phone number (edited, then removed, then added back);
    # a cost option
    r = c.post(f"{base}/contacts", data={"csrf_token": token, "name": "Public Pat",
                                         "phone": "call me maybe"})  # fmt: skip
    assert r.status_code == 422 and 'id="e-phone"' in r.text
    assert c.post(f"{base}/contacts", data={"csrf_token": token, "name": "Public Pat",
                                            "phone": "0113 378 5005"},
                  follow_redirects=False).status_code == 303  # fmt: skip
    with leeds.session() as s:
        pat = s.query(schema.Contact).filter_by(name="Public Pat").one().id
        assert [p.number for p in s.query(schema.Phone).filter_by(contact_id=pat)] == [
            "0113 378 5005"
        ]
    assert 'value="0113 378 5005"' in c.get(f"{base}/contacts/{pat}").text
    for number in ("0113 378 0000", "", "+44 113 378 5005"):
        assert c.post(f"{base}/contacts/{pat}", data={"csrf_token": token, "name": "Public Pat",
                                                      "phone": number},
                      follow_redirects=False).status_code == 303  # fmt: skip
    with leeds.session() as s:
        phones = s.query(schema.Phone).filter_by(contact_id=pat).order_by(schema.Phone.created_at)
        # edited in place, then retired (never deleted), then a new one
        assert [(p.number, p.retired_at is None) for p in phones] == [
            ("0113 378 0000", False),
            ("+44 113 378 5005", True),
        ]
    assert "Public Pat, +44 113 378 5005" in c.get(base).text
    c.post(f"{base}/contacts", data={"csrf_token": token, "name": "Secret Sam", "private": "on"})
    r = c.post(f"{base}/cost-options", data={"csrf_token": token, "cost": "amount", "amount": "x"})
    assert r.status_code == 422 and 'id="e-amount"' in r.text
    c.post(f"{base}/cost-options", data={"csrf_token": token, "cost": "free", "option": "Tea"})
    page = c.get(base).text
    assert "Every Wednesday and Friday, 13:00 to 15:00" in page and "Secret Sam (private)" in page
    # what the public sees
    public = TestClient(c.app).get(f"/services/{sid}").text
    assert "Public Pat" in public and "Secret Sam" not in public
    assert 'href="tel:+441133785005"' in public and "0113 378 0000" not in public
    assert "Every Wednesday and Friday, 13:00 to 15:00" in public and "1 Green Lane" in public
    assert "Run by Wortley Friends" in public and "Free" in public
    assert "verified today" in public
    with leeds.session() as s:
        svc = s.get(schema.Service, sid)
        assert svc is not None and svc.free is True
    # every change is in the audit trail with the editor's email
    trail = history(leeds, lid)
    assert trail[0]["action"] == "create" and trail[0]["actor"] == "ed@example.org"
    # anonymous and CSRF-less posts are refused
    anon = TestClient(c.app)
    assert anon.post(f"{base}/contacts", data={"name": "x"}).status_code == 401
    assert c.post(f"{base}/contacts", data={"name": "x"}).status_code == 403
