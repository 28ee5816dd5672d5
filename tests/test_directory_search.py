"""search_services: every filter alone and combined, on SQLite and PostGIS, against a plain-Python oracle."""

from __future__ import annotations

import math
from datetime import date
from itertools import combinations

import pytest
from shapely.geometry import Point, box

from strengthmap.directory.search import ServiceQuery, parse_near, search_services
from strengthmap.errors import InputError, NotFound
from strengthmap.storage import Store, schema

NEW_WORTLEY = (-1.57538, 53.79023)
TODAY = date(2025, 6, 2)  # a Monday

# name, description, kind, (lon, lat) | None, min_age, max_age, cost, terms, schedules (byday, open, close)
ROWS = [
    ("Community lunch", "Hot two-course lunch for anyone", "association", (-1.5750, 53.7905), None, None, 0.0, ["food"], [("WE", "12:00", "14:00")]),
    ("Lunch club for older people", "Lunches and a chat", "association", (-1.5800, 53.7930), 60, None, 3.5, ["food", "older"], [("WE", "11:30", "13:30")]),
    ("Breakfast drop-in", "Toast and tea, open to all", "association", (-1.5760, 53.7900), None, None, 0.0, ["food"], [("MO,TU,WE,TH,FR", "08:00", "10:00")]),
    ("Far lunch", "Lunch in Harehills", "association", (-1.5100, 53.8120), None, None, 0.0, ["food"], [("WE", "12:00", "15:00")]),
    ("Money advice", "Debt and benefits advice", "institution", (-1.5750, 53.7905), 18, None, 0.0, ["money"], [("TH", "10:00", "12:00")]),
    ("Toddler group", "Songs and play for under fives and their carers", "association", None, 0, 5, None, ["children"], []),
    ("Retired lunch", "An old lunch that stopped", "association", (-1.5750, 53.7905), None, None, 0.0, ["food"], [("WE", "12:00", "14:00")]),
]  # fmt: skip


def _load(store: Store) -> dict[str, str]:
    ids: dict[str, str] = {}
    with store.transaction() as s:
        tax = schema.Taxonomy(name="test", description="")
        s.add(tax)
        s.flush()
        terms = {}
        parent = schema.TaxonomyTerm(code="wellbeing", name="Wellbeing", taxonomy_id=tax.id)
        s.add(parent)
        s.flush()
        for code in ("food", "older", "money", "children"):
            t = schema.TaxonomyTerm(
                code=code, name=code.title(), taxonomy_id=tax.id, parent_id=parent.id
            )
            s.add(t)
            s.flush()
            terms[code] = t.id
        for name, desc, kind, point, lo, hi, cost, codes, scheds in ROWS:
            svc = schema.Service(
                name=name, description=desc, abcd_kind=kind, minimum_age=lo, maximum_age=hi
            )
            if name.startswith("Retired"):
                svc.retired_at = schema.base.utcnow()
            s.add(svc)
            s.flush()
            ids[name] = svc.id
            if point is not None:
                loc = schema.Location(name=name, longitude=point[0], latitude=point[1])
                s.add(loc)
                s.flush()
                s.add(schema.ServiceAtLocation(service_id=svc.id, location_id=loc.id))
            if cost is not None:
                s.add(schema.CostOption(service_id=svc.id, amount=cost, currency="GBP"))
            for code in codes:
                s.add(
                    schema.Attribute(
                        link_id=svc.id, link_type="service", taxonomy_term_id=terms[code]
                    )
                )
            for byday, o, c in scheds:
                s.add(
                    schema.Schedule(
                        service_id=svc.id, freq="WEEKLY", byday=byday, opens_at=o, closes_at=c
                    )
                )
    return ids


def _names(store: Store, **kw: object) -> set[str]:
    page = search_services(store, ServiceQuery(per_page=1000, today=TODAY, **kw))  # type: ignore[arg-type]  # test passes filters through
    assert page.total == len(page.items)
    return {h.name for h in page.items}


def _haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def _oracle(filters: dict[str, object]) -> set[str]:
    """An independent plain-Python answer over ROWS."""
    out = set()
    for name, desc, kind, point, lo, hi, cost, codes, scheds in ROWS:
        if name.startswith("Retired"):
            continue
        if "text" in filters and "lunch" not in (name + " " + desc).lower():
            continue
        if "taxonomy_term_ids" in filters and "food" not in codes:
            continue
        if "kind" in filters and kind != "association":
            continue
        if "age" in filters and not ((lo is None or lo <= 70) and (hi is None or hi >= 70)):
            continue
        if "free" in filters and cost != 0.0:
            continue
        if "radius_m" in filters and (point is None or _haversine_m(NEW_WORTLEY, point) > 1000):
            continue
        if "day" in filters and not any(
            "WE" in b.split(",") and o < "16:00" and c > "13:00" for b, o, c in scheds
        ):
            continue
        out.add(name)
    return out


FILTERS: dict[str, dict[str, object]] = {
    "text": {"text": "lunches"},
    "taxonomy_term_ids": {"taxonomy_term_ids": ["food"]},
    "kind": {"kind": "association"},
    "age": {"age": 70},
    "free": {"free": True},
    "radius_m": {"near": NEW_WORTLEY, "radius_m": 1000},
    "day": {"day": "wed", "start_time": "13:00", "end_time": "16:00"},
}


def test_every_filter_and_every_pair_matches_the_oracle(store: Store) -> None:
    _load(store)
    keys = list(FILTERS)
    for n in (1, 2, len(keys)):
        for combo in combinations(keys, n):
            kw: dict[str, object] = {}
            for k in combo:
                kw.update(FILTERS[k])
            assert _names(store, **kw) == _oracle(dict.fromkeys(combo)), combo


def test_lunch_on_wednesday_afternoon_near_new_wortley(store: Store) -> None:
    _load(store)
    page = search_services(
        store,
        ServiceQuery(
            text="lunch",
            taxonomy_term_ids=["Food"],
            near=NEW_WORTLEY,
            radius_m=1000,
            day="wednesday",
            start_time="13:00",
            end_time="16:00",
            today=TODAY,
        ),
    )
    # "Far lunch" is 4.9 km away, the breakfast is over by 10:00, the retired lunch is hidden
    assert {h.name for h in page.items} == {"Community lunch", "Lunch club for older people"}
    hit = next(h for h in page.items if h.name == "Community lunch")
    assert hit.distance_m == pytest.approx(_haversine_m(NEW_WORTLEY, (-1.5750, 53.7905)), rel=3e-3)
    assert hit.score is not None and hit.score > 0


def test_parent_term_matches_narrower_terms_and_pages(store: Store) -> None:
    _load(store)
    everything = search_services(store, ServiceQuery(taxonomy_term_ids=["wellbeing"], per_page=2))
    assert everything.total == 6 and len(everything.items) == 2 and everything.total_pages == 3
    seen = []
    for page in (1, 2, 3):
        p = search_services(
            store, ServiceQuery(taxonomy_term_ids=["wellbeing"], per_page=2, page=page)
        )
        seen += [h.name for h in p.items]
    assert len(set(seen)) == 6 and seen == sorted(seen, key=str.lower)


def test_retired_only_on_request_and_near_orders_by_distance(store: Store) -> None:
    _load(store)
    assert "Retired lunch" in _names(store, text="lunch", include_retired=True)
    page = search_services(store, ServiceQuery(near=NEW_WORTLEY))
    dists = [h.distance_m for h in page.items if h.distance_m is not None]
    assert dists == sorted(dists) and page.items[-1].distance_m is None  # no location: last


def test_area_filter(store: Store) -> None:
    ids = _load(store)
    with store.transaction() as s:
        s.add(
            schema.Area(
                code="E01099999",
                name="Test box",
                level="lsoa",
                vintage=2011,
                geometry=box(-1.578, 53.789, -1.574, 53.792),
            )
        )
        s.add(schema.ServiceArea(service_id=ids["Toddler group"], area_code="E01099999"))
    inside = {
        n for n, *_r in ROWS if _r[2] and box(-1.578, 53.789, -1.574, 53.792).covers(Point(_r[2]))
    }
    inside.discard("Retired lunch")
    assert _names(store, area_code="E01099999") == inside | {"Toddler group"}
    with pytest.raises(NotFound):
        search_services(store, ServiceQuery(area_code="E01000000"))


def test_bad_queries_name_the_field(store: Store) -> None:
    with pytest.raises(InputError) as e:
        search_services(store, ServiceQuery(day="someday"))
    assert e.value.field == "day"
    with pytest.raises(InputError) as e:
        search_services(store, ServiceQuery(day="wed", start_time="25:00"))
    assert e.value.field == "start_time"
    with pytest.raises(InputError) as e:
        search_services(store, ServiceQuery(radius_m=100))
    assert e.value.field == "radius_m"
    with pytest.raises(InputError):
        search_services(store, ServiceQuery(text='"* -'))
    # FTS syntax in user text is neutralised, never an SQL error
    assert search_services(store, ServiceQuery(text='lunch" OR NEAR(*')).total == 0
    with pytest.raises(NotFound):
        search_services(store, ServiceQuery(taxonomy_term_ids=["no such term"]))


def test_parse_near_point_and_postcode(store: Store) -> None:
    assert parse_near(store, "-1.5, 53.8") == (-1.5, 53.8)
    with store.transaction() as s:
        s.add(schema.Postcode(postcode="LS12 1JD", pcd7="LS121JD", lon=-1.57538, lat=53.79023))
    assert parse_near(store, "ls121jd") == NEW_WORTLEY
    with pytest.raises(NotFound):
        parse_near(store, "LS99 9ZZ")
    with pytest.raises(InputError):
        parse_near(store, "not a place")


def test_spatial_index_follows_edits_and_pages_are_ranked(store: Store) -> None:
    from strengthmap.directory.editing import update_record

    ids = _load(store)
    near = {"near": NEW_WORTLEY, "radius_m": 1000}
    assert "Far lunch" not in _names(store, **near)
    with store.session() as s:
        sal = s.query(schema.ServiceAtLocation).filter_by(service_id=ids["Far lunch"]).one()
    update_record(
        store, "location", sal.location_id, {"longitude": -1.5752, "latitude": 53.7904}, actor="t"
    )
    assert "Far lunch" in _names(store, **near)
    # BM25 scores: positive for every match, and the page is in score order
    page = search_services(store, ServiceQuery(text="lunch", per_page=100))
    scores = {h.name: h.score for h in page.items}
    assert all(v is not None and v > 0 for v in scores.values())
    assert [h.score for h in page.items] == sorted((h.score for h in page.items), reverse=True)


def test_retired_locations_are_not_used(store: Store) -> None:
    from strengthmap.directory.editing import retire_record

    ids = _load(store)
    with store.session() as s:
        sal = s.query(schema.ServiceAtLocation).filter_by(service_id=ids["Money advice"]).one()
    assert "Money advice" in _names(store, near=NEW_WORTLEY, radius_m=1000)
    retire_record(store, "location", sal.location_id, actor="t")
    assert "Money advice" not in _names(store, near=NEW_WORTLEY, radius_m=1000)
    page = search_services(store, ServiceQuery(text="advice", near=NEW_WORTLEY))
    assert page.items[0].distance_m is None  # still listed, with no place to measure to


def test_term_lookup_follows_new_and_renamed_terms(store: Store) -> None:
    """The term index is cached per store; writing terms (here through other sessions, as
    another worker or the CLI would) must show in the very next search."""
    ids = _load(store)
    with pytest.raises(NotFound):
        _names(store, taxonomy_term_ids=["nature"])  # fills the cache without the term
    with store.transaction() as s:
        nature = schema.TaxonomyTerm(code="nature", name="Wild places")
        s.add(nature)
        s.flush()
        s.add(
            schema.Attribute(
                link_id=ids["Money advice"], link_type="service", taxonomy_term_id=nature.id
            )
        )
        nature_id = nature.id
    assert _names(store, taxonomy_term_ids=["nature"]) == {"Money advice"}
    with store.transaction() as s:  # a narrower term under it, named like no other
        s.add(schema.TaxonomyTerm(code="birds", name="Birdwatching", parent_id=nature_id))
    with store.transaction() as s:
        bird = s.query(schema.TaxonomyTerm).filter_by(code="birds").one()
        s.add(
            schema.Attribute(
                link_id=ids["Toddler group"], link_type="service", taxonomy_term_id=bird.id
            )
        )
    assert _names(store, taxonomy_term_ids=["WILD PLACES"]) == {"Money advice", "Toddler group"}
    with store.transaction() as s:  # renamed: the old code no longer names it
        s.get(schema.TaxonomyTerm, nature_id).code = "outdoors"  # type: ignore[union-attr]  # exists: added above
    assert _names(store, taxonomy_term_ids=["outdoors"]) == {"Money advice", "Toddler group"}
    with pytest.raises(NotFound):
        _names(store, taxonomy_term_ids=["nature"])
