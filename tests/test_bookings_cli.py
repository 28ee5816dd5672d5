"""The rooms and bookings commands: the Contract's flags, JSON keys and exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bookings_helpers import add_location, counts
from strengthmap.cli import main
from strengthmap.storage import open_store

ROOT = Path(__file__).resolve().parent.parent
RATES = ROOT / "docs" / "examples" / "new-wortley-rates.csv"
DAY = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
SERIES_DAY = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    store = open_store(url)
    loc = add_location(store)
    store.close()
    return url, loc


def run(url: str, *args: str) -> int:
    return main(["--database", url, *args])


def out_json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def test_rooms_add_and_list(db: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url, loc = db
    assert (
        run(url, "rooms", "add", "--location", loc, "--name", "Hall", "--capacity", "40", "--json")
        == 0
    )
    room = out_json(capsys)
    assert isinstance(room, dict)
    assert {"id", "name", "location_id", "capacity"} <= set(room)
    assert room["hours"] == "Mo-Su 08:00-22:00" and room["capacity"] == 40
    assert run(url, "rooms", "add", "--location", loc, "--name", "Studio", "--capacity", "12",
               "--hours", "Mo-Fr 09:00-17:00", "--hours", "FREQ=MONTHLY;BYDAY=1SA 10:00-14:00",
               "--facility", "hearing_loop", "--layout", "circle:12", "--rates", str(RATES),
               "--setup-minutes", "15", "--json") == 0  # fmt: skip
    studio = out_json(capsys)
    assert (
        isinstance(studio, dict)
        and studio["hours"] == "Mo-Fr 09:00-17:00; FREQ=MONTHLY;BYDAY=1SA 10:00-14:00"
    )
    assert run(url, "rooms", "list", "--json") == 0
    rooms = out_json(capsys)
    assert isinstance(rooms, list) and [r["name"] for r in rooms] == ["Hall", "Studio"]
    assert run(url, "rooms", "rates", studio["id"], "--json") == 0
    card = out_json(capsys)
    assert isinstance(card, dict) and len(card["rates"]) == 5


def test_rooms_bad_input_exits_2_and_writes_nothing(
    db: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, loc = db
    store = open_store(url)
    before = counts(store)
    bad = tmp_path / "bad.csv"
    bad.write_text(RATES.read_text().replace("charity,12.00", "charity,-12.00"))
    assert (
        run(
            url,
            "rooms",
            "add",
            "--location",
            loc,
            "--name",
            "Hall",
            "--capacity",
            "40",
            "--rates",
            str(bad),
        )
        == 2
    )
    err = " ".join(capsys.readouterr().err.split())
    assert "row 4" in err and "per_hour" in err and "negative" in err
    assert (
        run(
            url,
            "rooms",
            "add",
            "--location",
            loc,
            "--name",
            "Hall",
            "--capacity",
            "40",
            "--hours",
            "sometimes",
        )
        == 2
    )
    assert (
        run(url, "rooms", "add", "--location", "nowhere", "--name", "Hall", "--capacity", "4") == 4
    )
    assert counts(store) == before
    store.close()


def _room(url: str, loc: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run(url, "rooms", "add", "--location", loc, "--name", "Hall", "--capacity", "40",
               "--rates", str(RATES), "--json") == 0  # fmt: skip
    room = out_json(capsys)
    assert isinstance(room, dict)
    return str(room["id"])


def test_request_clash_confirm_list_report(
    db: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, loc = db
    rid = _room(url, loc, capsys)
    base = [
        "bookings",
        "request",
        "--room",
        rid,
        "--hirer",
        "Ann",
        "--email",
        "ann@example.org",
        "--category",
        "charity",
    ]
    assert run(url, *base, "--start", f"{DAY}T10:00", "--end", f"{DAY}T12:00", "--json") == 0
    made = out_json(capsys)
    assert isinstance(made, dict) and made["status"] == "pending"
    assert set(made["quote"]) >= {"lines", "total_pence"} and made["quote"]["total_pence"] == 2400
    # a clash exits 5 naming the booking; with --json the body is {"error": "conflict", "clashes": [...]}
    assert run(url, *base, "--start", f"{DAY}T11:00", "--end", f"{DAY}T13:00", "--json") == 5
    body = out_json(capsys)
    assert isinstance(body, dict) and body["error"] == "conflict"
    assert body["clashes"][0]["booking_id"] == made["id"]
    assert run(url, *base, "--start", f"{DAY}T11:00", "--end", f"{DAY}T13:00") == 5
    assert made["id"] in " ".join(capsys.readouterr().err.split())
    # bad input: exit 2, the field named
    assert run(url, *base, "--start", f"{DAY}T13:00", "--end", f"{DAY}T12:00") == 2
    assert "field end" in capsys.readouterr().err
    assert run(url, *base, "--start", "2027-03-28T01:30", "--end", "2027-03-28T03:00") == 2
    assert "does not exist" in " ".join(capsys.readouterr().err.split())
    assert (
        run(url, *base, "--start", f"{DAY}T10:00", "--end", f"{DAY}T12:00", "--category", "pirates")
        == 2
    )
    # a series, all or nothing
    assert run(url, *base, "--start", f"{SERIES_DAY}T18:00", "--end", f"{SERIES_DAY}T19:00",
               "--repeat", "FREQ=WEEKLY;COUNT=3", "--json") == 0  # fmt: skip
    series = out_json(capsys)
    assert (
        isinstance(series, dict)
        and len(series["bookings"]) == 3
        and series["series_id"] == series["id"]
    )
    assert run(url, "bookings", "confirm", made["id"], "--json") == 0
    confirmed = out_json(capsys)
    assert isinstance(confirmed, dict) and confirmed["status"] == "confirmed"
    assert run(url, "bookings", "decline", series["id"], "--note", "sorry") == 0
    capsys.readouterr()
    assert run(url, "bookings", "list", "--room", rid, "--json") == 0
    rows = out_json(capsys)
    assert isinstance(rows, list) and len(rows) == 4
    assert {"id", "start", "end", "status"} <= set(rows[0])
    assert rows[0]["start"][-6:] in ("+00:00", "+01:00")
    assert (
        run(
            url,
            "bookings",
            "list",
            "--room",
            rid,
            "--status",
            "declined",
            "--from",
            SERIES_DAY,
            "--json",
        )
        == 0
    )
    declined = out_json(capsys)
    assert isinstance(declined, list) and len(declined) == 3
    assert run(url, "bookings", "cancel", made["id"], "--by", "staff", "--json") == 0
    cancelled = out_json(capsys)
    assert (
        isinstance(cancelled, dict)
        and cancelled["status"] == "cancelled"
        and cancelled["cancel_rule"]
    )
    assert run(url, "bookings", "report", "--room", rid, "--json", "--csv", str(tmp_path / "r.csv"),
               "--chart", str(tmp_path / "r.svg")) == 0  # fmt: skip
    report = out_json(capsys)
    assert isinstance(report, dict) and {
        "rows",
        "who_by_decile",
        "who_by_category",
        "chart",
    } <= set(report)
    assert (tmp_path / "r.csv").read_text().startswith("table,room_id")
    assert run(url, "bookings", "outbox", "--json") == 0
    msgs = out_json(capsys)
    assert isinstance(msgs, list) and {m["kind"] for m in msgs} == {
        "received",
        "confirmed",
        "declined",
        "cancelled",
    }
    assert run(url, "bookings", "anonymise", "--json") == 0
    anon = out_json(capsys)
    assert isinstance(anon, dict) and (anon["anonymised"], anon["messages"]) == (0, 0)
    assert run(url, "rooms", "calendar", rid) == 0
    assert "BEGIN:VCALENDAR" in capsys.readouterr().out
    week = (datetime.fromisoformat(DAY) + timedelta(days=7)).date().isoformat()
    assert run(url, "rooms", "availability", rid, "--from", DAY, "--to", week, "--json") == 0
    public = out_json(capsys)
    assert isinstance(public, dict) and len(public["free"]) == 7 and public["busy"] == []
    assert "Ann" not in json.dumps(public) and "ann@example.org" not in json.dumps(public)


def test_unknown_room_exits_4(db: tuple[str, str]) -> None:
    url, _ = db
    assert run(url, "bookings", "request", "--room", "nope", "--start", f"{DAY}T10:00", "--end", f"{DAY}T11:00",
               "--hirer", "A", "--email", "a@example.org", "--category", "charity") == 4  # fmt: skip
    assert run(url, "bookings", "confirm", "nope") == 4
