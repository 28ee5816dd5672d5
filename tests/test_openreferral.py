"""The /openreferral feed: every endpoint walked and validated against the UK profile's JSON
Schemas, the UK filters against a plain-Python oracle, pagination, CORS, publishing rules."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from strengthmap.api import create_app
from strengthmap.directory import oruk
from strengthmap.settings import Settings
from strengthmap.storage import Store, open_store

SPEC = Path(__file__).resolve().parents[2] / "shared" / "specs" / "openreferral-uk-3.0"
NEW_WORTLEY = (-1.57538, 53.79023)  # lon, lat
NS = uuid.UUID("6b1c2f04-9a51-4d0e-8a43-1f1d2b7a0c11")


def _id(name: str) -> str:
    return str(uuid.uuid5(NS, name))


# --- schemas ---------------------------------------------------------------------------------


def _validators() -> dict[str, Any]:
    if not SPEC.is_dir():
        pytest.skip("the ORUK spec folder ../shared/specs is missing")
    modular = {p.name: json.loads(p.read_text()) for p in (SPEC / "schema").glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (name, Resource.from_contents(s, default_specification=DRAFT202012))
        for name, s in modular.items()
        if name != "openapi.json"
    )
    fc = jsonschema.Draft202012Validator.FORMAT_CHECKER

    def compiled(name: str) -> Any:
        doc = json.loads((SPEC / "schema" / "compiled" / name).read_text())
        return jsonschema.Draft202012Validator(doc, format_checker=fc)

    def local(name: str) -> Any:
        return jsonschema.Draft202012Validator(modular[name], registry=registry, format_checker=fc)

    page = json.loads((SPEC / "schema" / "openapi.json").read_text())["components"]["schemas"]
    page_schema = {**page["Page"], "required": [*page["Page"]["properties"], "contents"]}
    return {
        "page": jsonschema.Draft202012Validator(page_schema),
        "services": (compiled("service_list.json"), compiled("service.json")),
        "service_at_locations": (
            compiled("service_at_location_list.json"),
            compiled("service_at_location.json"),
        ),
        "organizations": (compiled("organization_list.json"), compiled("organization.json")),
        "taxonomies": (local("taxonomy.json"), local("taxonomy.json")),
        "taxonomy_terms": (local("taxonomy_term.json"), local("taxonomy_term.json")),
        "locations": (local("location.json"), local("location.json")),
    }


def _no_nulls(value: Any, path: str = "$") -> None:
    if value is None:
        raise AssertionError(f"null at {path}")
    if isinstance(value, dict):
        for k, v in value.items():
            _no_nulls(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_nulls(v, f"{path}[{i}]")


def walk_feed(client: TestClient, *, per_page: int = 7, max_pages: int = 1000) -> dict[str, int]:
    """GET every endpoint, every page and every record; validate each answer. Returns counts."""
    v = _validators()
    counts: dict[str, int] = {}
    root = client.get("/openreferral/")
    assert root.status_code == 200 and root.headers["access-control-allow-origin"] == "*"
    info = root.json()
    assert info["version"] == "3.0" and info["profile"].startswith("https://")
    assert client.get(info["openapi_url"]).status_code == 200
    for noun in (
        "services",
        "service_at_locations",
        "organizations",
        "locations",
        "taxonomies",
        "taxonomy_terms",
    ):
        list_v, one_v = v[noun]
        seen: list[str] = []
        page = 1
        while page <= max_pages:
            r = client.get(f"/openreferral/{noun}", params={"page": page, "per_page": per_page})
            assert r.status_code == 200, r.text
            assert r.headers["access-control-allow-origin"] == "*"
            body = r.json()
            v["page"].validate(body)
            _no_nulls(body)
            assert body["page_number"] == page and body["size"] == len(body["contents"])
            assert body["first_page"] == (page == 1)
            for item in body["contents"]:
                list_v.validate(item)
                seen.append(item["id"])
            if body["last_page"]:
                assert body["total_items"] == len(seen)
                break
            page += 1
        assert len(set(seen)) == len(seen), f"{noun}: a record on two pages"
        for rid in seen:
            r = client.get(f"/openreferral/{noun}/{rid}")
            assert r.status_code == 200, (noun, rid, r.text)
            assert r.headers["access-control-allow-origin"] == "*"
            record = r.json()
            one_v.validate(record)
            _no_nulls(record)
            assert record["id"] == rid
        counts[noun] = len(seen)
    return counts


# --- a small directory around New Wortley (ORUK JSON, through import_oruk) --------------------


def _service(
    name: str,
    description: str,
    *,
    point: tuple[float, float] | None,
    byday: str | None = None,
    hours: tuple[str, str] | None = None,
    terms: tuple[str, ...] = (),
    ages: tuple[int | None, int | None] = (None, None),
    contacts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    svc: dict[str, Any] = {
        "id": _id(name),
        "name": name,
        "description": description,
        "status": "active",
        "organization": {
            "id": _id("org"),
            "name": "New Wortley Community Association",
            "description": "Community centre on Tong Road",
        },
    }
    if ages[0] is not None:
        svc["minimum_age"] = ages[0]
    if ages[1] is not None:
        svc["maximum_age"] = ages[1]
    if point is not None:
        svc["service_at_locations"] = [
            {
                "id": _id(f"{name} sal"),
                "location": {
                    "id": _id(f"{name} loc"),
                    "location_type": "physical",
                    "name": f"{name} venue",
                    "longitude": point[0],
                    "latitude": point[1],
                    "addresses": [
                        {
                            "id": _id(f"{name} addr"),
                            "address_1": "Tong Road",
                            "city": "Leeds",
                            "state_province": "West Yorkshire",
                            "postal_code": "LS12 1BE",
                            "country": "GB",
                            "address_type": "physical",
                        }
                    ],
                },
            }
        ]
    if byday:
        assert hours is not None
        svc["schedules"] = [
            {
                "id": _id(f"{name} sched"),
                "freq": "WEEKLY",
                "byday": byday,
                "dtstart": "2025-01-01",
                "opens_at": hours[0],
                "closes_at": hours[1],
            }
        ]
    if terms:
        svc["attributes"] = [
            {
                "id": _id(f"{name} attr {t}"),
                "taxonomy_term": {"id": _id(f"term {t}"), "name": t.title(), "description": t},
            }
            for t in terms
        ]
    if contacts:
        svc["contacts"] = contacts
    return svc


DIRECTORY = [
    _service(
        "Community lunch",
        "Hot two-course lunch for anyone, pay as you feel",
        point=(-1.5750, 53.7905),
        byday="WE",
        hours=("12:00", "14:00"),
        terms=("food",),
        contacts=[
            {"id": _id("public contact"), "name": "Reception"},
            {"id": _id("private contact"), "name": "Teresa Private", "private": True},
        ],
    ),
    _service(
        "Lunch club for older people",
        "Lunches and a chat",
        point=(-1.5800, 53.7930),
        byday="TH",
        hours=("11:30", "13:30"),
        terms=("food", "older people"),
        ages=(60, None),
    ),
    _service(
        "Far lunch",
        "Lunch in Harehills",
        point=(-1.5100, 53.8120),
        byday="WE",
        hours=("12:00", "15:00"),
        terms=("food",),
    ),
    _service(
        "Money advice",
        "Debt and benefits advice",
        point=(-1.5752, 53.7906),
        byday="WE",
        hours=("10:00", "12:00"),
        terms=("money advice",),
        ages=(18, None),
    ),
    _service("Toddler group", "Songs and play for under fives", point=None, ages=(0, 5)),
    _service(
        "Retired lunch",
        "An old lunch that stopped",
        point=(-1.5750, 53.7905),
        byday="WE",
        hours=("12:00", "14:00"),
        terms=("food",),
    ),
]


def _fill(store: Store) -> None:
    oruk.import_oruk(store, DIRECTORY, source="test", licence="OGL-UK-3.0")
    if SPEC.is_dir():
        for p in sorted((SPEC / "examples").glob("*.json")):
            oruk.import_oruk(store, json.loads(p.read_text()), check_coordinates=False)
    with store.transaction() as s:
        from sqlalchemy import text

        s.execute(
            text("UPDATE service SET retired_at = CURRENT_TIMESTAMP WHERE id = :id"),
            {"id": _id("Retired lunch")},
        )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("feed") / "feed.sqlite"
    store = open_store(f"sqlite:///{path}")
    _fill(store)
    app = create_app(Settings(database_url=f"sqlite:///{path}"), store=store)
    with TestClient(app) as c:
        yield c
    store.close()


def _names(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    return [s["name"] for s in r.json()["contents"]]


# --- tests -----------------------------------------------------------------------------------


def test_walk_every_endpoint_and_validate(client: TestClient) -> None:
    counts = walk_feed(client, per_page=3)
    # 5 published services of ours + the spec example; retired records not published
    assert counts["services"] == 6
    assert counts["service_at_locations"] == 5
    assert counts["taxonomy_terms"] == 4  # food, older people, money advice + the example's
    assert counts["taxonomies"] == 1 and counts["organizations"] == 2


def test_walk_on_both_backends(store: Store) -> None:
    _fill(store)
    app = create_app(Settings(database_url="sqlite://"), store=store)
    with TestClient(app) as c:
        counts = walk_feed(c, per_page=50)
    # the retired service's venue is still a place: locations outlive services
    assert counts["services"] == 6 and counts["locations"] == 6


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine on a sphere of radius 6371 km (an independent check of the geodesic filter)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def _oracle(**f: Any) -> set[str]:
    """The services that should match, computed from DIRECTORY in plain Python."""
    out = set()
    for svc in DIRECTORY:
        if svc["name"].startswith("Retired"):
            continue
        blob = (svc["name"] + " " + svc["description"]).lower()
        if "text" in f and not all(w in blob for w in f["text"].lower().split()):
            continue
        terms = {a["taxonomy_term"]["name"].lower() for a in svc.get("attributes", [])}
        if "term" in f and f["term"] not in terms:
            continue
        locs = [s["location"] for s in svc.get("service_at_locations", [])]
        if "radius_m" in f and not any(
            _distance_m(NEW_WORTLEY, (loc["longitude"], loc["latitude"])) <= f["radius_m"]
            for loc in locs
        ):
            continue
        if "day" in f:
            scheds = svc.get("schedules", [])
            if not any(
                s["byday"] == f["day"]
                and s["opens_at"] < f.get("end", "24:00")
                and s["closes_at"] > f.get("start", "00:00")
                for s in scheds
            ):
                continue
        if "min_age" in f and svc.get("minimum_age", 0) > f["min_age"]:
            continue
        out.add(svc["name"])
    return out


@pytest.mark.parametrize(
    ("params", "oracle"),
    [
        ({"text": "lunch"}, {"text": "lunch"}),
        ({"search": "advice"}, {"text": "advice"}),
        ({"taxonomy_term_id": _id("term food")}, {"term": "food"}),
        (
            {"proximity": 1000, "lat": NEW_WORTLEY[1], "lon": NEW_WORTLEY[0]},
            {"radius_m": 1000},
        ),
        (
            {"day": "wednesday", "start_time": "13:00", "end_time": "16:00"},
            {"day": "WE", "start": "13:00", "end": "16:00"},
        ),
        ({"minimum_age": 16}, {"min_age": 16}),
        (
            {
                "text": "lunch",
                "taxonomy_term_id": _id("term food"),
                "proximity": 1000,
                "lat": NEW_WORTLEY[1],
                "lon": NEW_WORTLEY[0],
                "day": "wednesday",
                "start_time": "13:00",
                "end_time": "16:00",
            },
            {
                "text": "lunch",
                "term": "food",
                "radius_m": 1000,
                "day": "WE",
                "start": "13:00",
                "end": "16:00",
            },
        ),
    ],
)
def test_filters_match_an_independent_oracle(
    client: TestClient, params: dict[str, Any], oracle: dict[str, Any]
) -> None:
    expected = _oracle(**oracle)
    got = set(_names(client.get("/openreferral/services", params=params)))
    got.discard("Community Counselling")  # the spec example (no schedule that matches, far away)
    assert got == expected
    assert expected  # each case finds something
    sal = client.get("/openreferral/service_at_locations", params=params).json()
    sal_names = {i["service"]["name"] for i in sal["contents"]} - {"Community Counselling"}
    assert sal_names == expected - {"Toddler group"}  # no location, so no service_at_location


def test_lunch_on_a_wednesday_afternoon_near_new_wortley(client: TestClient) -> None:
    r = client.get(
        "/openreferral/services",
        params={
            "text": "lunch",
            "proximity": 1000,
            "lat": NEW_WORTLEY[1],
            "lon": NEW_WORTLEY[0],
            "day": "wednesday",
            "start_time": "13:00",
            "end_time": "16:00",
        },
    )
    assert _names(r) == ["Community lunch"]


def test_pagination(client: TestClient) -> None:
    pages = [
        client.get("/openreferral/services", params={"page": p, "per_page": 4}).json()
        for p in (1, 2, 3)
    ]
    assert [p["size"] for p in pages] == [4, 2, 0]
    assert [p["first_page"] for p in pages] == [True, False, False]
    assert [p["last_page"] for p in pages] == [False, True, True]
    assert [p["empty"] for p in pages] == [False, False, True]
    assert {p["total_items"] for p in pages} == {6} and {p["total_pages"] for p in pages} == {2}


def test_private_contacts_and_retired_records_are_not_published(client: TestClient) -> None:
    body = client.get(f"/openreferral/services/{_id('Community lunch')}").json()
    assert [c["name"] for c in body["contacts"]] == ["Reception"]
    assert "Teresa" not in json.dumps(body)
    r = client.get(f"/openreferral/services/{_id('Retired lunch')}")
    assert r.status_code == 404 and r.headers["access-control-allow-origin"] == "*"
    listed = client.get("/openreferral/services", params={"per_page": 100}).json()
    assert "Retired lunch" not in {s["name"] for s in listed["contents"]}


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/openreferral/services/not-there", 404),
        ("GET", "/openreferral/nothing", 404),
        ("GET", "/openreferral/services?page=0", 422),
        ("GET", "/openreferral/services?per_page=100000", 422),
        ("GET", "/openreferral/services?page=abc", 422),
        ("GET", "/openreferral/services?proximity=100", 422),
        ("GET", "/openreferral/services?start_time=25:00&day=mon", 422),
        ("GET", "/openreferral/services?taxonomy_term_id=nope", 404),
        ("POST", "/openreferral/services", 405),
        ("OPTIONS", "/openreferral/services", 204),
    ],
)
def test_errors_and_preflight_carry_cors(
    client: TestClient, method: str, url: str, status: int
) -> None:
    headers = {"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}
    r = client.request(method, url, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["access-control-allow-origin"] == "*"
    if status != 204:
        assert "message" in r.json()


def test_openapi_tags_and_operation_ids(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    ops = {
        path: op
        for path, item in doc["paths"].items()
        if path.startswith("/openreferral")
        for op in item.values()
    }
    tags = {path: op["tags"] for path, op in ops.items()}
    spec = json.loads((SPEC / "schema" / "openapi.json").read_text()) if SPEC.is_dir() else None
    required = {f"/openreferral{p}" for p in spec["paths"]} if spec else set()
    assert len(ops) == 13
    for path, t in tags.items():
        assert t == (["Required"] if path in required else ["Optional"]), path
    assert {p for p, t in tags.items() if t == ["Optional"]} == {
        "/openreferral/organizations",
        "/openreferral/organizations/{id}",
        "/openreferral/locations",
        "/openreferral/locations/{id}",
    }
    ids = [op["operationId"] for op in ops.values()]
    assert len(set(ids)) == 13 and all(ids)
    params = {p["name"] for p in ops["/openreferral/services"]["parameters"]}
    assert {
        "text",
        "taxonomy_term_id",
        "minimum_age",
        "maximum_age",
        "day",
        "start_time",
        "end_time",
        "proximity",
        "lat",
        "lon",
        "page",
        "per_page",
    } <= params


@pytest.mark.realdata
@pytest.mark.slow
def test_walk_every_endpoint_over_the_leeds_data(
    data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The Leeds load (with the OSM and NHS assets) published through every endpoint, each
    answer valid against the UK schemas."""
    from strengthmap.sources import load_data_dir

    path = tmp_path_factory.mktemp("leeds") / "leeds.sqlite"
    store = open_store(f"sqlite:///{path}")
    load_data_dir(store, data_dir, place="Leeds")
    with store.session() as s:
        from sqlalchemy import func, select

        from strengthmap.storage import schema

        n_services = s.scalar(
            select(func.count()).select_from(schema.Service).where(oruk.published(schema.Service))
        )
    app = create_app(Settings(database_url=f"sqlite:///{path}"), store=store)
    with TestClient(app) as c:
        counts = walk_feed(c, per_page=500)
        lunch = c.get(
            "/openreferral/services",
            params={"proximity": 2000, "lat": NEW_WORTLEY[1], "lon": NEW_WORTLEY[0]},
        ).json()
    store.close()
    assert n_services and counts["services"] == n_services
    assert counts["locations"] > 0 and counts["taxonomy_terms"] > 0
    assert lunch["total_items"] > 0  # assets within 2 km of New Wortley
