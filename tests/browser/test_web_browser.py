"""The web app in headless Chromium against the real server on the Leeds data.

Covers the issue's "must show" list: the Wednesday lunch near New Wortley found from the home
page; 482 LSOAs drawn with a legend and recoloured; the route page's figures equal the CLI's;
screenshots of every page at desktop and phone width; no request leaves 127.0.0.1; every
state-changing route refuses anonymous callers, admin routes refuse editors, forms without a
CSRF token are refused, and script payloads render inert. axe-core runs on every page.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from browserkit import (
    DESKTOP,
    PHONE,
    LiveServer,
    Visit,
    axe_violations,
    open_visit,
    screenshot,
)

pytestmark = pytest.mark.browser

LUNCH_ID = "5b0c7f2e-6f7a-4a0e-9d2b-1c1d2e3f4a01"
WALK_ID = "5b0c7f2e-6f7a-4a0e-9d2b-1c1d2e3f4b01"
AREA = "E01011276"
CENTRE_HAREHILLS_WETHERBY = (
    "Centre@-1.5478,53.7965;Harehills@-1.5100,53.8120;Wetherby@-1.3860,53.9280"
)

PUBLIC_PAGES = {
    "home": "/",
    "map": "/map",
    "directory": "/directory",
    "directory-search": "/directory?q=lunch&day=wed&time=afternoon",
    "service": f"/services/{LUNCH_ID}",
    "area": f"/areas/{AREA}",
    "routes": "/routes?route=centre-harehills-wetherby",
    "about-data": "/about/data",
    "login": "/login",
}
PRIVATE_PAGES = {
    "admin": ("admin", "/admin"),
    "edit": ("editor", "/edit"),
    "edit-service": ("editor", f"/edit/services/{LUNCH_ID}"),
    "edit-location-new": ("editor", f"/edit/services/{LUNCH_ID}/locations/new"),
    "edit-schedule-new": ("editor", f"/edit/services/{LUNCH_ID}/schedules/new"),
    "edit-contact-new": ("editor", f"/edit/services/{LUNCH_ID}/contacts/new"),
    "edit-cost-new": ("editor", f"/edit/services/{LUNCH_ID}/cost-options/new"),
    "edit-organizations": ("editor", "/edit/organizations"),
    "edit-organization-new": ("editor", "/edit/organizations/new"),
}


def _first_part(live_server: LiveServer, slug: str) -> str:
    """The edit page of the lunch's first part of a kind (a location, a schedule ...)."""
    from strengthmap.web.editor_parts import service_parts

    items = service_parts(live_server.store, LUNCH_ID)[slug]
    assert items, slug
    return f"/edit/services/{LUNCH_ID}/{slug}/{items[0]['id']}"


def _check_page(v: Visit, name: str, path: str, width: str) -> list[str]:
    response = v.goto(path)
    problems = []
    if response is None or response.status != 200:
        problems.append(f"{path}: HTTP {response.status if response else 'none'}")
    screenshot(v.page, f"{name}-{width}")
    for violation in axe_violations(v.page):
        problems.append(
            f"{path} [{width}]: axe {violation['impact']} {violation['id']}: {violation['help']} {violation['nodes']}"
        )
    return problems


@pytest.mark.parametrize(("viewport", "width"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_every_page_renders_is_accessible_and_stays_local(
    browser: Any, live_server: LiveServer, viewport: dict[str, int], width: str
) -> None:
    v = open_visit(browser, live_server, viewport)
    problems: list[str] = []
    try:
        for name, path in PUBLIC_PAGES.items():
            problems += _check_page(v, name, path, width)
        pages = dict(PRIVATE_PAGES)
        for slug in ("locations", "schedules"):  # filled-in forms of existing parts
            pages[f"edit-{slug}-existing"] = ("editor", _first_part(live_server, slug))
        v.context.clear_cookies()
        v.login("editor")
        # a form sent back with errors beside its fields
        v.goto(f"/edit/services/{LUNCH_ID}/schedules/new")
        v.page.check("#f-days-WE")
        v.page.fill("#f-opens_at", "")
        v.page.evaluate("() => document.getElementById('f-opens_at').type = 'text'")
        v.page.fill("#f-opens_at", "25:00")
        v.page.click("#part-form button[type=submit]")
        v.page.wait_for_load_state("networkidle")
        assert v.page.locator("#e-opens_at").count() == 1
        v.console_errors.remove(  # the 422 itself is logged; nothing else may be
            "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
        )
        screenshot(v.page, f"edit-schedule-error-{width}")
        problems += [
            f"schedule error form [{width}]: axe {x['id']}" for x in axe_violations(v.page)
        ]
        for name, (role, path) in pages.items():
            v.context.clear_cookies()
            v.login(role)
            problems += _check_page(v, name, path, width)
    finally:
        v.context.close()
    assert v.offsite == [], f"requests left 127.0.0.1: {v.offsite}"
    assert [e for e in v.console_errors if "favicon" not in e] == []
    assert problems == []


def test_find_wednesday_lunch_near_new_wortley(visit: Visit) -> None:
    page = visit.page
    visit.goto("/")
    page.fill("#q", "lunch")
    page.click("form.search button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(visit.base + "/directory")
    page.select_option("#day", "wed")
    page.select_option("#time", "afternoon")
    page.fill("#near", "LS12 1BE")
    page.click("#search-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    results = page.locator("#results li[data-service]")
    names = results.locator("h3").all_inner_texts()
    assert "Wednesday Community Lunch" in names
    assert "Monday Morning Walk" not in names
    # the same result on the map beside the list
    page.wait_for_selector(f"#results-map [data-asset='{LUNCH_ID}']", state="attached")
    assert page.locator(f"#results-map [data-asset='{WALK_ID}']").count() == 0
    page.click(f"#results li[data-service='{LUNCH_ID}'] h3 a")
    page.wait_for_load_state("networkidle")
    body = page.inner_text("main")
    assert "Every Wednesday, 12:00 to 14:00" in body
    assert "New Wortley Community Centre" in body
    ics = page.request.get(visit.base + f"/services/{LUNCH_ID}.ics")
    assert ics.ok and "RRULE:FREQ=WEEKLY;BYDAY=WE" in ics.text()


def test_map_draws_every_leeds_lsoa_with_a_legend_and_recolours(visit: Visit) -> None:
    page = visit.page
    visit.goto("/map")
    page.wait_for_selector("#map[data-areas-drawn='482']")
    assert page.locator("#map path[data-code]").count() == 482
    legend = page.locator("#legend li").all_inner_texts()
    assert len(legend) == 11 and legend[0].startswith("1") and legend[-1] == "No data"
    before = page.eval_on_selector_all(
        "#map path[data-code]", "els => els.map(e => e.getAttribute('fill'))"
    )
    page.select_option("#indicator", "le_male")
    page.wait_for_selector("#map[data-shown-indicator='le_male']")
    after = page.eval_on_selector_all(
        "#map path[data-code]", "els => els.map(e => e.getAttribute('fill'))"
    )
    assert len(after) == 482
    assert sum(a != b for a, b in zip(before, after, strict=True)) > 100
    legend = page.locator("#legend li").all_inner_texts()
    assert len(legend) == 6 and "to" in legend[0]
    assert "Life expectancy" in page.inner_text("#legend-caption")
    # an area opens its profile
    page.locator(f"#map path[data-code='{AREA}']").dispatch_event("click")
    page.wait_for_url(re.compile(f"/areas/{AREA}$"))
    assert "Leeds 011C" in page.inner_text("h1")


def test_route_page_shows_the_same_figures_as_the_cli(
    visit: Visit, live_server: LiveServer
) -> None:
    from typer.testing import CliRunner

    from strengthmap.cli import app as cli_app

    result = CliRunner().invoke(
        cli_app,
        ["--database", live_server.store.url.render_as_string(hide_password=False), "route", "profile",
         "--waypoints", CENTRE_HAREHILLS_WETHERBY, "--assets-radius-m", "400", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    page = visit.page
    visit.goto("/routes")
    page.check("#route-centre-harehills-wetherby")
    page.click("#route-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => document.getElementById('route-chart').naturalWidth") > 0
    rows = page.locator("#route-table tbody tr")
    assert rows.count() == len(cli["points"])
    cells = page.eval_on_selector_all(
        "#route-table tbody tr",
        "trs => trs.map(tr => [...tr.cells].map(td => td.innerText.trim()))",
    )
    for p, row in zip(cli["points"], cells, strict=True):
        assert row[0] == f"{p['distance_m'] / 1000:.2f}"
        assert row[2] == (p["lsoa_code"] or "outside")
        assert row[4] == str(p["imd_decile"] or "–")
        for sex, col in (("male", 6), ("female", 7)):
            le = p["life_expectancy"][sex]
            want = (
                "–"
                if le["value"] is None
                else f"{le['value']:.1f} ({le['lower']:.1f}–{le['upper']:.1f})"
            )
            assert row[col] == want
        # the assets within 400 m (the page's default radius) of each point, as the CLI counts
        assert row[8] == str(p["assets_within"]["count"])
        for a in p["assets_within"]["nearest"]:
            assert f"{a['name'] or 'Unnamed'} (" in row[9]
    summary = page.inner_text("#route-assets-summary")
    assert summary.startswith(f"{cli['summary']['assets_near_route']} assets within 400 m")
    assert cli["summary"]["assets_near_route"] > 0
    # each of those assets is a marker on the map
    drawn = page.get_attribute("#route-map", "data-assets-drawn")
    assert drawn == str(cli["summary"]["assets_near_route"])
    assert (
        page.locator("#route-map path.route-asset").count() == cli["summary"]["assets_near_route"]
    )
    # another radius: the figures follow; none: the columns go
    page.select_option("#assets_radius_m", "100")
    page.click("#route-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "within 100 m" in page.inner_text("#route-assets-summary")
    page.select_option("#assets_radius_m", "")
    page.click("#route-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("#route-assets-summary").count() == 0
    assert page.get_attribute("#route-map", "data-assets-drawn") == "0"


# --- security ------------------------------------------------------------------------------

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _all_routes(routes: Any) -> list[tuple[str, set[str]]]:
    """(path, methods) of every route, through included routers (FastAPI >= 0.165 keeps them as
    ``_IncludedRouter`` entries whose ``effective_candidates()`` carry the prefixed paths)."""
    out: list[tuple[str, set[str]]] = []
    for route in routes:
        if hasattr(route, "effective_candidates"):
            out += _all_routes(route.effective_candidates())
        elif hasattr(route, "original_route"):  # an effective route: prefixed path
            out.append((route.path, set(getattr(route.original_route, "methods", None) or ())))
        elif hasattr(route, "path"):
            out.append((route.path, set(getattr(route, "methods", None) or ())))
    return out


def _state_changing_routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for path, methods in _all_routes(app.routes):
        for m in sorted(methods & UNSAFE):
            out.append((m, re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)))
    # the enumeration itself must work: these are known to exist
    assert {("POST", "/login"), ("POST", "/logout"), ("POST", "/admin/users")} <= set(out), out
    return sorted(set(out))


def test_openapi_lists_every_state_changing_operation(
    visit: Visit, live_server: LiveServer
) -> None:
    spec = json.loads(visit.page.request.get(visit.base + "/openapi.json").text())
    listed = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    visit.login("admin")
    token = str(visit.page.get_attribute("header form input[name=csrf_token]", "value"))
    for path, methods in _all_routes(live_server.app.routes):
        for m in methods & UNSAFE:
            if (m, path) in listed:
                continue
            # not listed: then it must change nothing even for an admin (e.g. a read-only
            # feed's catch-all that answers 405 Method Not Allowed)
            url = visit.base + re.sub(r"\{[^}]+\}", "x", path)
            r = visit.page.request.fetch(url, method=m, form={"csrf_token": token}, max_redirects=0)
            assert r.status == 405, (m, path, r.status)


def _csrf(v: Visit) -> str:
    v.goto("/login")
    return str(v.page.get_attribute("input[name=csrf_token]", "value"))


def test_anonymous_refused_on_every_state_changing_route(
    visit: Visit, live_server: LiveServer
) -> None:
    routes = _state_changing_routes(live_server.app)
    assert ("POST", "/admin/users") in routes and ("POST", "/logout") in routes
    token = _csrf(visit)
    wrong = []
    for method, path in routes:
        form = {"csrf_token": token, "email": "x@example.org", "password": "wrong password 123"}
        r = visit.page.request.fetch(visit.base + path, method=method, form=form, max_redirects=0)
        # 405: a route that exists only to refuse the method (a read-only feed) also refuses
        if r.status not in (401, 403, 405):
            wrong.append((method, path, r.status))
    assert wrong == []
    assert json.loads(visit.page.request.get(visit.base + "/api/me").text())["logged_in"] is False


def test_editor_refused_on_admin_routes(visit: Visit, live_server: LiveServer) -> None:
    visit.login("editor")
    token = str(visit.page.get_attribute("header form input[name=csrf_token]", "value"))
    admin_routes = [
        rp for rp in _state_changing_routes(live_server.app) if rp[1].startswith("/admin")
    ]
    assert admin_routes
    for method, path in admin_routes:
        r = visit.page.request.fetch(
            visit.base + path, method=method,
            form={"csrf_token": token, "email": "new@example.org", "password": "p" * 12, "role": "admin"},
            max_redirects=0,
        )  # fmt: skip
        assert r.status == 403, (method, path, r.status)
    assert visit.page.request.get(visit.base + "/admin", max_redirects=0).status == 403
    assert visit.page.request.get(visit.base + "/edit", max_redirects=0).status == 200


def test_form_without_csrf_token_is_refused(visit: Visit, live_server: LiveServer) -> None:
    from strengthmap import accounts

    visit.login("admin")
    form = {"email": "nocsrf@example.org", "password": "p" * 12, "role": "editor"}
    r = visit.page.request.post(visit.base + "/admin/users", form=form, max_redirects=0)
    assert r.status == 403
    r = visit.page.request.post(
        visit.base + "/admin/users", form={**form, "csrf_token": "forged"}, max_redirects=0
    )
    assert r.status == 403
    assert "nocsrf@example.org" not in [u.email for u in accounts.list_users(live_server.store)]
    # the login form too (login CSRF)
    r = visit.page.request.post(
        visit.base + "/login", form={"email": "a@b.org", "password": "x"}, max_redirects=0
    )
    assert r.status == 403


PAYLOADS = ("<script>window.__xss=1</script>", '<img src=x onerror="window.__xss=1">')


def test_script_payloads_in_editable_fields_render_inert(
    visit: Visit, live_server: LiveServer
) -> None:
    from strengthmap.directory.oruk import import_oruk

    evil = " ".join(PAYLOADS)
    sid = "5b0c7f2e-6f7a-4a0e-9d2b-1c1d2e3f4c01"
    import_oruk(
        live_server.store,
        {
            "id": sid, "name": f"Evil {evil}", "description": f"Desc {evil}", "status": "active",
            "url": "https://example.org/", "email": "evil@example.org",
            "schedules": [{"id": "5b0c7f2e-6f7a-4a0e-9d2b-1c1d2e3f4c02", "freq": "WEEKLY", "byday": "TU",
                           "opens_at": "10:00", "closes_at": "11:00", "notes": evil}],
            "cost_options": [{"id": "5b0c7f2e-6f7a-4a0e-9d2b-1c1d2e3f4c03", "option": evil, "amount": 1, "currency": "GBP"}],
            "contacts": [{"id": "5b0c7f2e-6f7a-4a0e-9d2b-1c1d2e3f4c04", "name": evil, "title": evil}],
            "service_at_locations": [{"id": "5b0c7f2e-6f7a-4a0e-9d2b-1c1d2e3f4c05", "location": {
                "id": "5b0c7f2e-6f7a-4a0e-9d2b-1c1d2e3f4c06", "name": f"Place {evil}", "location_type": "physical",
                "latitude": 53.7965, "longitude": -1.5478}}],
        },
    )  # fmt: skip
    visit.login("admin")
    # an admin-editable text field: a user's display name
    token = str(visit.page.get_attribute("header form input[name=csrf_token]", "value"))
    r = visit.page.request.post(
        visit.base + "/admin/users",
        form={"csrf_token": token, "email": "evil@example.org", "password": "p" * 12, "role": "viewer", "display_name": evil},
        max_redirects=0,
    )  # fmt: skip
    assert r.status == 303
    # every editable text field of the editor's service form
    from strengthmap.web.editor import SERVICE_FIELDS

    form = {"csrf_token": token, "abcd_kind": "culture", "status": "active"}
    for name, _label, kind, _help in SERVICE_FIELDS:
        if kind in ("text", "textarea", "url", "email"):
            form[name] = f"{name} {evil}"
    form["url"] = "javascript:window.__xss=1"
    r = visit.page.request.post(visit.base + "/edit/services", form=form, max_redirects=0)
    assert r.status == 303, r.text()
    edited = r.headers["location"].rsplit("/", 1)[1]
    visit.goto(f"/edit/services/{edited}")
    assert visit.page.input_value("#f-name") == form["name"]  # round-trips as text
    dialogs: list[str] = []
    visit.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in (f"/services/{sid}", f"/services/{edited}", f"/edit/services/{edited}",
                 "/directory?q=evil", "/admin", "/map", "/edit"):  # fmt: skip
        visit.goto(path)
        if path in ("/directory?q=evil", "/map"):  # open the asset's popup on the map
            marker = f".leaflet-container [data-asset='{sid}']"
            visit.page.wait_for_selector(marker, state="attached")
            visit.page.locator(marker).dispatch_event("click")
            visit.page.wait_for_selector(".leaflet-popup")
        assert visit.page.evaluate("() => window.__xss") is None, path
        assert visit.page.locator("main script").count() == 0, path
        assert visit.page.locator("main img[src=x], .leaflet-popup img[src=x]").count() == 0, path
        assert visit.page.locator("a[href^='javascript']").count() == 0, path
        if not path.startswith("/edit/"):  # (in the form the payload is an input's value)
            assert PAYLOADS[0] in visit.page.inner_text("body"), path  # shown as text
    assert dialogs == []


def test_area_page_puts_strengths_first_and_prints_to_one_to_three_pages(
    visit: Visit, tmp_path: Any
) -> None:
    import shutil
    import subprocess

    from browserkit import SCREENSHOTS

    page = visit.page
    visit.goto(f"/areas/{AREA}")
    order = page.eval_on_selector_all("main section", "els => els.map(e => e.id)")
    assert order == ["strengths", "need", "contrasts"]
    strengths = page.inner_text("#strengths")
    assert "In this area" in strengths and "Within a short walk" in strengths
    # the assets a short walk away are grouped by ABCD kind, with their freshness
    if page.locator("#assets-walk li").count():
        assert re.search(r"verified (today|yesterday|\d+ \w+ ago)|not verified", strengths)
    assert "Need: deprivation" in page.inner_text("#need")
    pdf = page.pdf(format="A4", print_background=False)
    assert pdf.startswith(b"%PDF")
    n_pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert 1 <= n_pages <= 3, n_pages
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "area-print.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm"):  # a look at the printed pages as images (else skipped)
        out = SCREENSHOTS / "area-print"
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(SCREENSHOTS / "area-print.pdf"), str(out)],
                       check=True)  # fmt: skip
        assert list(SCREENSHOTS.glob("area-print*.png"))
    # print media hides navigation and buttons
    page.emulate_media(media="print")
    assert not page.locator("header.site").is_visible()
    assert not page.locator("#print-page").is_visible()


def _post(v: Visit, path: str, form: dict[str, Any]) -> Any:
    return v.page.request.post(v.base + path, form=form, max_redirects=0)


def test_script_payloads_in_every_part_form_render_inert(
    visit: Visit, live_server: LiveServer
) -> None:
    """Every free-text field of the place, time, contact, cost and organisation forms takes
    both payloads; every page showing them keeps them as text."""
    from strengthmap.web.editor_parts import PARTS, TEXT_KINDS

    evil = " ".join(PAYLOADS)
    visit.login("editor")
    token = str(visit.page.get_attribute("header form input[name=csrf_token]", "value"))
    r = _post(visit, "/edit/services", {"csrf_token": token, "name": f"Part test {evil}",
                                        "abcd_kind": "culture", "status": "active"})  # fmt: skip
    assert r.status == 303
    sid = r.headers["location"].rsplit("/", 1)[1]
    base = f"/edit/services/{sid}"
    fixed = {
        "locations": {"postcode": "LS12 1BE"},
        "schedules": {"mode": "weekly", "days": "TU", "opens_at": "10:00", "closes_at": "11:00"},
        "contacts": {},
        "cost-options": {"cost": "amount", "amount": "1.50"},
    }
    texts: dict[str, list[str]] = {}
    for slug, part in PARTS.items():
        form: dict[str, Any] = {"csrf_token": token, **fixed[slug]}
        for f in part.fields:
            if f.kind in TEXT_KINDS and f.name not in fixed[slug] and f.name != "rrule":
                form[f.name] = f"{f.name} {evil}"
        texts[slug] = [k for k in form if k not in fixed[slug] and k != "csrf_token"]
        r = _post(visit, f"{base}/{slug}", form)
        assert r.status == 303, (slug, r.status, r.text()[:500])
    # the RRULE field: a payload is refused, and the form it comes back in keeps it as text
    r = _post(visit, f"{base}/schedules", {"csrf_token": token, "mode": "rrule", "rrule": evil})
    assert r.status == 422 and "<script>window" not in r.text()
    from strengthmap.web.editor_parts import ORGANIZATION_FIELDS

    org = {"csrf_token": token, "abcd_kind": "culture"}
    for f in ORGANIZATION_FIELDS:
        if f.kind in TEXT_KINDS:
            org[f.name] = f"{f.name} {evil}"
    org["website"] = "javascript:window.__xss=1"
    assert _post(visit, "/edit/organizations", org).status == 303
    assert all(texts.values()), texts  # every part had text fields to fill
    from strengthmap.web.editor_parts import service_parts

    parts = service_parts(live_server.store, sid)
    dialogs: list[str] = []
    visit.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    paths = [f"/services/{sid}", base, "/edit/organizations", "/edit",
             "/routes?route=station-new-wortley&assets_radius_m=800"]  # fmt: skip
    paths += [f"{base}/{slug}/{items[0]['id']}" for slug, items in parts.items()]
    for path in paths:
        visit.goto(path)
        if path.startswith("/routes"):  # open the tooltips of the assets on the map
            for el in visit.page.locator("#route-map path.route-asset").all()[:50]:
                el.dispatch_event("mouseover")
        assert visit.page.evaluate("() => window.__xss") is None, path
        assert visit.page.locator("main script").count() == 0, path
        assert visit.page.locator("img[src=x]").count() == 0, path
        assert visit.page.locator("a[href^='javascript']").count() == 0, path
    visit.goto(f"/services/{sid}")
    body = visit.page.inner_text("main")
    for name in ("name", "title", "address_1", "option"):  # shown to the public, as text
        assert f"{name} {PAYLOADS[0]}" in body, name
    assert dialogs == []
