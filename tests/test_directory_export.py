"""Exports: GeoJSON, GeoPackage (ogrinfo), ORUK CSV round trip, ORUK JSON, iCalendar against the schedule."""

from __future__ import annotations

import json
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil import rrule
from icalendar import Calendar

from strengthmap.directory.export import export, to_geojson, to_ical
from strengthmap.directory.imports import import_file
from strengthmap.directory.schedules import occurrences
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.storage import Store, open_store, schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "new-wortley-community-centre.csv"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("export") / "x.sqlite"
    store = open_store(f"sqlite:///{path}")
    import_file(store, EXAMPLE)
    return store


def _service(store: Store, text: str) -> str:
    return search_services(store, ServiceQuery(text=text)).items[0].service_id


def test_geojson_and_geopackage(loaded: Store, tmp_path: Path) -> None:
    doc = to_geojson(loaded)
    assert len(doc["features"]) == 8
    f = doc["features"][0]
    assert f["geometry"]["coordinates"] == [-1.57538, 53.79023]
    assert {"service_id", "name", "abcd_kind", "taxonomy", "licence", "last_verified"} <= set(
        f["properties"]
    )
    out = tmp_path / "d.gpkg"
    assert export(loaded, "gpkg", out) == 8
    info = subprocess.run(
        ["/usr/bin/ogrinfo", "-so", str(out), "services"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Feature Count: 8" in info.stdout and "Point" in info.stdout


def test_oruk_csv_round_trip(loaded: Store, tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    assert export(loaded, "oruk-csv", folder) == 8
    again = open_store(f"sqlite:///{tmp_path / 'again.sqlite'}")
    import_file(again, folder)
    for model in (schema.Service, schema.Location, schema.Schedule, schema.Attribute):
        with loaded.session() as a, again.session() as b:
            ra = {
                r.id: (getattr(r, "name", None), getattr(r, "opens_at", None))
                for r in a.query(model)
            }
            rb = {
                r.id: (getattr(r, "name", None), getattr(r, "opens_at", None))
                for r in b.query(model)
            }
            assert ra == rb, model


def test_oruk_json_export(loaded: Store, tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    assert export(loaded, "oruk-json", out) == 8
    doc = json.loads(out.read_text())
    assert {d["name"] for d in doc} >= {"Community lunch", "Large meeting room"}


@pytest.mark.parametrize("text", ["lunch", "toddler", "clinic"])
def test_ical_occurrences_match_the_schedule(loaded: Store, text: str) -> None:
    sid = _service(loaded, text)
    cal = Calendar.from_ical(to_ical(loaded, service_id=sid, today=date(2026, 11, 26)))
    events = list(cal.walk("VEVENT"))
    assert events
    with loaded.session() as s:
        scheds = {
            x.id: x for x in s.query(schema.Schedule).filter(schema.Schedule.service_id == sid)
        }
    assert len(events) == len(scheds)
    for ev in events:
        sched = scheds[str(ev["uid"]).split("@")[0]]
        start = ev.decoded("dtstart")
        end = ev.decoded("dtend")
        rule = rrule.rrulestr(ev["rrule"].to_ical().decode(), dtstart=start)
        exdates = set()
        for ex in (
            ev.get("exdate", [])
            if isinstance(ev.get("exdate"), list)
            else [ev.get("exdate")]
            if ev.get("exdate")
            else []
        ):
            exdates |= {d.dt.date() for d in ex.dts}
        window_end = start + timedelta(days=370)
        # dateutil expands on the wall clock of the zoned DTSTART, as RFC 5545 says
        from_ical = [
            (d, d + (end - start))
            for d in rule.between(start, window_end, inc=True)
            if d.date() not in exdates
        ]
        ours = [
            (o.start, o.end) for o in occurrences(sched, start, window_end) if o.start < window_end
        ]
        assert from_ical == ours and ours
        assert str(ev["summary"]).lower().find(text) >= 0 or text == "clinic"


def test_ical_per_location(loaded: Store) -> None:
    with loaded.session() as s:
        loc = s.query(schema.Location).one()
    cal = Calendar.from_ical(to_ical(loaded, location_id=loc.id))
    assert len(list(cal.walk("VEVENT"))) == 9
    assert all(isinstance(e.decoded("dtstart"), datetime) for e in cal.walk("VEVENT"))
