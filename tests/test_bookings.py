"""Rooms and bookings in the library, on SQLite and PostgreSQL: rules, prices, clashes, series,
clock changes, free slots, the public view, the equity report, anonymisation."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from bookings_helpers import (
    NOW,
    POOR_PC,
    RICH_PC,
    add_home_areas,
    add_location,
    counts,
    make_room,
    overlapping_holds,
)
from strengthmap.bookings import (
    BookingConflict,
    BookingRequest,
    Closure,
    Layout,
    RoomSpec,
    add_new_wortley_room,
    add_room,
    anonymise_bookings,
    cancel_booking,
    confirm_booking,
    decline_booking,
    equity_report,
    free_slots,
    get_booking,
    list_bookings,
    load_rate_card,
    location_facilities,
    public_availability,
    rate_card,
    read_rate_card,
    refresh_statuses,
    report_chart,
    report_csv,
    request_booking,
    room_ics,
    update_room,
)
from strengthmap.bookings.examples import RATES_FILE
from strengthmap.bookings.prices import rate_card_csv
from strengthmap.bookings.rooms import Room
from strengthmap.errors import Forbidden, InputError, NotFound
from strengthmap.storage import Store, schema

ROOT = Path(__file__).resolve().parent.parent
RATES = ROOT / "docs" / "examples" / "new-wortley-rates.csv"


def req(room_id: str, start: str, end: str, **kw: object) -> BookingRequest:
    base: dict[str, object] = {
        "hirer_name": "Ann Hirer",
        "email": "ann.hirer@example.org",
        "category": "voluntary",
        "organisation": "Wortley Knitters",
        "purpose": "Knit and natter",
    }
    base.update(kw)
    return BookingRequest(room_id=room_id, start=start, end=end, **base)  # type: ignore[arg-type]


# --- rooms ----------------------------------------------------------------------------------------


def test_room_without_hours_is_bookable_8_to_22_every_day(store: Store) -> None:
    room = make_room(store)
    d = room.to_dict()
    assert {"id", "name", "location_id", "capacity"} <= set(d)
    assert d["hours"] == "Mo-Su 08:00-22:00"
    a = free_slots(store, room.id, "2026-12-05", "2026-12-07", now=NOW)  # a Saturday and Sunday
    assert [s.to_dict()["start"][11:16] for s in a.free] == ["08:00", "08:00"]
    assert [s.to_dict()["end"][11:16] for s in a.free] == ["22:00", "22:00"]


def test_room_hours_from_rrule_and_opening_hours(store: Store) -> None:
    loc = add_location(store)
    fortnightly = make_room(
        store, loc, name="Studio", hours=["FREQ=WEEKLY;INTERVAL=2;BYDAY=MO 18:00-21:00"]
    )
    osm = make_room(store, loc, name="Lounge", hours=["Mo-Fr 09:00-17:00; Sa 10:00-12:00"])
    a = free_slots(store, osm.id, "2026-12-04", "2026-12-07", now=NOW)
    assert [(s.start.isoformat(), s.end.isoformat()) for s in a.free] == [
        ("2026-12-04T09:00:00+00:00", "2026-12-04T17:00:00+00:00"),
        ("2026-12-05T10:00:00+00:00", "2026-12-05T12:00:00+00:00"),
    ]
    mondays = free_slots(store, fortnightly.id, "2026-12-01", "2027-01-01", now=NOW).free
    assert len(mondays) == 2 and (mondays[1].start - mondays[0].start) == timedelta(days=14)


def test_update_room_keeps_its_hours_and_checks_changes(store: Store) -> None:
    room = make_room(store, hours=["Mo-Fr 09:00-17:00", "FREQ=MONTHLY;BYDAY=1SA 10:00-14:00"])
    changed = update_room(store, room.id, {"capacity": 30, "setup_minutes": 10})
    assert changed.hours == room.hours and changed.capacity == 30 and changed.setup_minutes == 10
    with pytest.raises(InputError) as err:
        update_room(store, room.id, {"hours": ["whenever"]})
    assert err.value.field == "hours"
    with pytest.raises(InputError):
        update_room(store, room.id, {"colour": "blue"})
    assert update_room(store, room.id, {"hours": ["Sa 10:00-12:00"]}).hours.text == "Sa 10:00-12:00"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"hours": ["Mo-Fr 9-5"]}, "hours"),
        ({"hours": ["FREQ=SOMETIMES 09:00-10:00"]}, "hours"),
        ({"facilities": ["jacuzzi"]}, "facilities"),
        ({"step_minutes": 7}, "step_minutes"),
        ({"min_minutes": 60, "max_minutes": 30}, "max_minutes"),
        ({"layouts": [Layout("theatre", 500)]}, "layouts"),
        ({"closed": [Closure(date(2027, 1, 2), date(2027, 1, 1))]}, "closed"),
    ],
)
def test_bad_room_names_the_field_and_writes_nothing(
    store: Store, kw: dict[str, object], field: str
) -> None:
    loc = add_location(store)
    before = counts(store)
    with pytest.raises(InputError) as err:
        add_room(store, RoomSpec(location_id=loc, **{"name": "Hall", "capacity": 40, **kw}))  # type: ignore[arg-type]
    assert err.value.field == field
    assert counts(store) == before


def test_room_needs_a_live_location(store: Store) -> None:
    with pytest.raises(NotFound):
        add_room(store, RoomSpec(location_id="no-such-place", name="Hall", capacity=10))


def test_location_facilities_for_the_oruk_feed(store: Store) -> None:
    loc = add_location(store)
    make_room(store, loc, name="Hall", facilities=["hearing_loop", "kitchen", "step_free"])
    f = location_facilities(store, loc).to_dict()
    assert [a["description"] for a in f["accessibility"]] == [
        "Hearing loop in the Hall",
        "Step-free access in the Hall",
    ]
    assert all(a["location_id"] == loc and len(a["id"]) == 36 for a in f["accessibility"])
    assert [x["facility"] for x in f["facilities"]] == ["kitchen"]
    # stable ids across calls (the feed must not churn)
    assert location_facilities(store, loc).to_dict() == f


# --- prices ---------------------------------------------------------------------------------------


def test_quote_lines_and_concessions(store: Store) -> None:
    add_home_areas(store)
    room = make_room(store)
    load_rate_card(store, room.id, RATES)
    # 3 h, a charity from a decile-9 area outside LS12: list price, no concession
    r = request_booking(store, req(room.id, "2026-12-01T10:00", "2026-12-01T13:00", category="charity",
                                   postcode=RICH_PC, extras=["kitchen"]), now=NOW)  # fmt: skip
    q = r.quote
    assert [
        (x["item"], x["list_pence"], x["concession_pence"], x["charge_pence"]) for x in q["lines"]
    ] == [
        ("hire", 3600, 0, 3600),
        ("extra:kitchen", 1000, 0, 1000),
    ]
    assert q["total_pence"] == 4600
    # a residents' group from a decile-1 area hires free (the extras are still charged)
    r = request_booking(store, req(room.id, "2026-12-02T10:00", "2026-12-02T14:00", category="resident",
                                   postcode=POOR_PC, extras=["kitchen"]), now=NOW)  # fmt: skip
    lines = r.quote["lines"]
    assert lines[0]["list_pence"] == 2800 and lines[0]["charge_pence"] == 0  # a half day
    assert lines[0]["concession"] == "Free for groups from the most deprived 10% of areas"
    assert r.quote["total_pence"] == 1000
    b = get_booking(store, r.id)
    assert (b.area_code, b.imd_decile, b.imd_release) == ("E01000001", 1, 2019)


def test_rate_card_csv_round_trip_and_errors(tmp_path: Path) -> None:
    card = read_rate_card(RATES)
    assert read_rate_card("again.csv", text=rate_card_csv(card)) == card
    assert RATES.read_bytes() == RATES_FILE.read_bytes()  # the shipped copy is the docs' file
    text = RATES.read_text()
    missing = tmp_path / "missing.csv"
    missing.write_text(text.replace(",per_day,", ",perday,"))
    with pytest.raises(InputError) as err:
        read_rate_card(missing)
    assert (err.value.file, err.value.row, err.value.field) == (str(missing), 1, "per_day")
    negative = tmp_path / "negative.csv"
    negative.write_text(text.replace("charity,12.00", "charity,-12.00"))
    with pytest.raises(InputError) as err:
        read_rate_card(negative)
    assert (err.value.row, err.value.field) == (4, "per_hour")
    assert "negative" in err.value.message
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(text.replace(",commercial,", ",pirates,"))
    with pytest.raises(InputError) as err:
        read_rate_card(unknown)
    assert (err.value.row, err.value.field) == (6, "category")


def test_bad_rate_card_leaves_the_old_one(store: Store, tmp_path: Path) -> None:
    room = make_room(store)
    load_rate_card(store, room.id, RATES)
    bad = tmp_path / "bad.csv"
    bad.write_text(RATES.read_text().replace("Kitchen,,,,,,,,,10.00", "Kitchen,,,,,,,,,-1"))
    with pytest.raises(InputError):
        load_rate_card(store, room.id, bad)
    assert rate_card(store, room.id) == read_rate_card(RATES)


def test_category_without_a_rate_is_refused(store: Store, tmp_path: Path) -> None:
    room = make_room(store)
    only = tmp_path / "only.csv"
    only.write_text("type,name,category,per_hour,per_half_day,per_day,percent_off,amount_off,imd_decile_max,based_in,price,per\n"
                    "rate,,charity,10,,,,,,,,\n")  # fmt: skip
    load_rate_card(store, room.id, only)
    with pytest.raises(InputError) as err:
        request_booking(
            store,
            req(room.id, "2026-12-01T10:00", "2026-12-01T11:00", category="commercial"),
            now=NOW,
        )
    assert err.value.field == "category"


# --- requests and the no-overlap rule -------------------------------------------------------------


def test_request_confirm_and_list(store: Store) -> None:
    room = make_room(store)
    r = request_booking(
        store,
        req(room.id, "2027-06-01T10:00", "2027-06-01T12:00"),
        now=NOW,
        hold=timedelta(hours=48),
    )
    d = r.to_dict()
    assert d["status"] == "pending" and set(d["quote"]) >= {"lines", "total_pence"}
    assert d["hold_until"] == "2026-11-03T09:00:00+00:00" and d["hirer_token"]
    [b] = list_bookings(store, room_id=room.id, now=NOW)
    assert b.to_dict()["start"] == "2027-06-01T10:00:00+01:00"  # BST, with its offset
    assert b.start == datetime(2027, 6, 1, 9, tzinfo=UTC)  # stored in UTC
    with store.engine.connect() as conn:  # UTC in the table itself, on both backends
        raw = conn.execute(text("SELECT starts_at FROM booking")).scalar_one()
    assert str(raw).startswith("2027-06-01 09:00:00")
    [c] = confirm_booking(store, r.id, actor="staff@example.org", now=NOW)
    assert c.status == "confirmed" and c.decided_by == "staff@example.org" and c.hold_until is None
    assert [m.kind for m in _messages(store)] == ["received", "confirmed"]


def _messages(store: Store) -> list[schema.BookingMessage]:
    with store.session() as s:
        return list(s.scalars(select(schema.BookingMessage).order_by(schema.BookingMessage.id)))


def test_clash_names_the_booking_and_buffers_count(store: Store) -> None:
    room = make_room(store, setup_minutes=15, cleanup_minutes=15)
    a = request_booking(store, req(room.id, "2026-12-01T10:00", "2026-12-01T12:00"), now=NOW)
    before = counts(store)
    with pytest.raises(BookingConflict) as err:  # starts in a's clean-up and its own set-up
        request_booking(
            store, req(room.id, "2026-12-01T12:15", "2026-12-01T13:00", hirer_name="Bo"), now=NOW
        )
    body = err.value.to_dict()
    assert body["error"] == "conflict" and err.value.exit_code == 5 and err.value.http_status == 409
    assert body["clashes"][0]["booking_id"] == a.id
    assert body["clashes"][0]["busy_to"] == "2026-12-01T12:15:00+00:00"
    assert a.id in str(err.value)
    assert "Ann" not in json.dumps(body)  # the clash names the booking, never its hirer
    assert counts(store) == before
    ok = request_booking(store, req(room.id, "2026-12-01T12:30", "2026-12-01T13:30"), now=NOW)
    assert ok.status == "pending"
    assert overlapping_holds(store) == 0


BAD = [
    ({"start": "2026-12-01T12:00", "end": "2026-12-01T12:00"}, "end"),
    ({"start": "2026-12-01T12:00", "end": "2026-12-01T11:00"}, "end"),
    ({"start": "2026-10-30T10:00", "end": "2026-10-30T11:00"}, "start"),  # in the past
    ({"start": "2028-12-01T10:00", "end": "2028-12-01T11:00"}, "start"),  # beyond the horizon
    ({"start": "2026-12-01T06:00", "end": "2026-12-01T09:00"}, "start"),  # before 08:00
    ({"start": "2026-12-25T10:00", "end": "2026-12-25T11:00"}, "start"),  # closed date
    ({"start": "2026-12-01T10:00", "end": "2026-12-01T10:15"}, "end"),  # shorter than 30 min
    ({"start": "2026-12-01T08:00", "end": "2026-12-01T21:00"}, "end"),  # longer than 12 h
    ({"start": "2026-12-01T10:05", "end": "2026-12-01T11:00"}, "start"),  # off the 15-min step
    ({"start": "2026-12-01T10:00", "end": "2026-12-01T11:00", "people": 41}, "people"),
    ({"start": "2026-12-01T10:00", "end": "2026-12-01T11:00", "layout": "ballroom"}, "layout"),
    ({"start": "2026-12-01T10:00", "end": "2026-12-01T11:00", "category": "pirates"}, "category"),
    ({"start": "2026-12-01T10:00", "end": "2026-12-01T11:00", "email": "not-an-email"}, "email"),
    ({"start": "2026-12-01T10:00", "end": "2026-12-01T11:00", "hirer_name": " "}, "hirer"),
    ({"start": "2026-12-01T10:00", "end": "2026-12-01T11:00", "postcode": "NOWHERE"}, "postcode"),
    ({"start": "tuesday", "end": "2026-12-01T11:00"}, "start"),
    ({"start": "2026-12-01T10:00", "end": "2026-12-01T11:00", "repeat": "FREQ=WEEKLY"}, "repeat"),
    (
        {
            "start": "2026-12-01T10:00",
            "end": "2026-12-01T11:00",
            "repeat": "FREQ=WEEKLY;UNTIL=20290101",
        },
        "repeat",
    ),
    (
        {"start": "2026-12-01T10:00", "end": "2026-12-01T11:00", "repeat": "FREQ=NEVER;COUNT=2"},
        "repeat",
    ),
    ({"start": "2026-12-01T10:00", "end": "2026-12-01T11:00", "extras": ["jacuzzi"]}, "extras"),
]


@pytest.mark.parametrize(("kw", "field"), BAD)
def test_bad_requests_name_the_field_and_write_nothing(
    store: Store, kw: dict[str, object], field: str
) -> None:
    room = make_room(
        store,
        max_minutes=12 * 60,
        closed=[Closure(date(2026, 12, 25), date(2026, 12, 26), "Christmas")],
    )
    before = counts(store)
    kw = dict(kw)
    start, end = str(kw.pop("start")), str(kw.pop("end"))
    with pytest.raises(InputError) as err:
        request_booking(store, req(room.id, start, end, **kw), now=NOW)
    assert err.value.field == field, err.value
    assert counts(store) == before


def test_unknown_room_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        request_booking(store, req("no-such-room", "2026-12-01T10:00", "2026-12-01T11:00"), now=NOW)


def test_a_room_closed_to_bookings(store: Store) -> None:
    room = make_room(store)
    update_room(store, room.id, {"bookable": False})
    with pytest.raises(InputError) as err:
        request_booking(store, req(room.id, "2026-12-01T10:00", "2026-12-01T11:00"), now=NOW)
    assert err.value.field == "room"
    assert free_slots(store, room.id, "2026-12-01", "2026-12-02", now=NOW).free == ()


# --- the clock changes ----------------------------------------------------------------------------


def test_spring_forward_time_does_not_exist(store: Store) -> None:
    room = make_room(store, hours=["Mo-Su 00:00-24:00"])
    with pytest.raises(InputError) as err:
        request_booking(store, req(room.id, "2027-03-28T01:30", "2027-03-28T03:00"), now=NOW)
    assert err.value.field == "start" and "does not exist" in err.value.message
    # 00:00 to 03:00 that night is two real hours, and is priced as two
    r = request_booking(store, req(room.id, "2027-03-28T00:00", "2027-03-28T03:00"), now=NOW)
    assert r.quote["minutes"] == 120
    b = get_booking(store, r.id)
    assert (b.end - b.start) == timedelta(hours=2)
    assert b.to_dict()["end"] == "2027-03-28T03:00:00+01:00"


def test_fall_back_time_asks_which(store: Store) -> None:
    room = make_room(store, hours=["Mo-Su 00:00-24:00"])
    before = counts(store)
    with pytest.raises(InputError) as err:
        request_booking(store, req(room.id, "2027-10-31T01:30", "2027-10-31T02:30"), now=NOW)
    assert err.value.field == "start" and "happens twice" in err.value.message
    assert "+01:00" in err.value.message and "+00:00" in err.value.message
    assert counts(store) == before
    first = request_booking(
        store, req(room.id, "2027-10-31T01:00", "2027-10-31T01:30", ambiguous="earlier"), now=NOW
    )
    second = request_booking(
        store, req(room.id, "2027-10-31T01:00+00:00", "2027-10-31T01:30+00:00"), now=NOW
    )
    a, b = get_booking(store, first.id), get_booking(store, second.id)
    assert a.start == datetime(2027, 10, 31, 0, 0, tzinfo=UTC)  # 01:00 BST
    assert b.start == datetime(2027, 10, 31, 1, 0, tzinfo=UTC)  # 01:00 GMT, an hour later
    assert a.to_dict()["start"] == "2027-10-31T01:00:00+01:00"
    assert b.to_dict()["start"] == "2027-10-31T01:00:00+00:00"
    with pytest.raises(BookingConflict):  # the later 01:00-01:30 is taken too
        request_booking(
            store, req(room.id, "2027-10-31T01:15", "2027-10-31T01:45", ambiguous="later"), now=NOW
        )
    # 00:00 to 03:00 that night lasts four real hours
    r = request_booking(store, req(room.id, "2027-10-31T04:00", "2027-10-31T06:00"), now=NOW)
    assert r.quote["minutes"] == 120


def test_weekly_series_keeps_local_time_across_the_clock_change(store: Store) -> None:
    room = make_room(store)
    r = request_booking(
        store,
        req(room.id, "2027-03-15T10:00", "2027-03-15T12:00", repeat="FREQ=WEEKLY;COUNT=4"),
        now=NOW,
    )
    starts = [b.start for b in r.bookings]
    assert [s.hour for s in starts] == [10, 10, 9, 9]  # UTC: GMT then BST
    assert {b.to_dict()["start"][11:16] for b in r.bookings} == {"10:00"}
    assert r.series_id == r.id and r.quote["occurrences"] == 4


# --- pending holds, decisions, cancellations ------------------------------------------------------


def test_pending_hold_lapses_and_the_slot_frees(store: Store) -> None:
    room = make_room(store)
    first = request_booking(
        store,
        req(room.id, "2026-12-01T10:00", "2026-12-01T12:00"),
        now=NOW,
        hold=timedelta(hours=1),
    )
    with pytest.raises(BookingConflict):
        request_booking(
            store,
            req(room.id, "2026-12-01T11:00", "2026-12-01T12:00"),
            now=NOW + timedelta(minutes=59),
        )
    later = NOW + timedelta(hours=2)
    assert [
        s.to_dict()["start"][11:16]
        for s in free_slots(store, room.id, "2026-12-01", "2026-12-02", now=later).free
    ] == ["08:00"]
    second = request_booking(store, req(room.id, "2026-12-01T11:00", "2026-12-01T12:00"), now=later)
    assert get_booking(store, first.id).status == "expired"
    with pytest.raises(BookingConflict) as err:  # too late: the time was taken
        confirm_booking(store, first.id, now=later)
    assert err.value.clashes[0].booking_id == second.id
    assert overlapping_holds(store) == 0


def test_expired_request_can_still_be_confirmed_while_free(store: Store) -> None:
    room = make_room(store)
    r = request_booking(
        store,
        req(room.id, "2026-12-01T10:00", "2026-12-01T12:00"),
        now=NOW,
        hold=timedelta(hours=1),
    )
    [b] = confirm_booking(store, r.id, now=NOW + timedelta(days=2))
    assert b.status == "confirmed"


def test_decline_frees_and_decisions_are_checked(store: Store) -> None:
    from strengthmap.errors import Conflict

    room = make_room(store)
    r = request_booking(store, req(room.id, "2026-12-01T10:00", "2026-12-01T12:00"), now=NOW)
    [d] = decline_booking(store, r.id, note="The hall is being painted", now=NOW)
    assert d.status == "declined" and d.decision_note == "The hall is being painted"
    with pytest.raises(Conflict):
        confirm_booking(store, r.id, now=NOW)
    request_booking(store, req(room.id, "2026-12-01T10:00", "2026-12-01T12:00"), now=NOW)
    with pytest.raises(NotFound):
        confirm_booking(store, "no-such-booking", now=NOW)


def test_cancellation_rule_and_fee(store: Store) -> None:
    room = make_room(store)
    load_rate_card(store, room.id, RATES)
    r = request_booking(
        store, req(room.id, "2026-12-01T10:00", "2026-12-01T12:00"), now=NOW
    )  # voluntary: 2 h = £20
    confirm_booking(store, r.id, now=NOW)
    with pytest.raises(Forbidden):
        cancel_booking(store, r.id, by="hirer", token="wrong", now=NOW)
    late = datetime(2026, 11, 28, 9, tzinfo=UTC)  # 3 days before: inside the 7-day rule
    [c] = cancel_booking(store, r.id, by="hirer", token=r.token, now=late)
    assert c.status == "cancelled" and c.cancelled_by == "hirer"
    assert c.cancel_fee_pence == 1000 and "7 days" in (c.cancel_rule or "")
    r2 = request_booking(store, req(room.id, "2026-12-01T10:00", "2026-12-01T12:00"), now=late)
    confirm_booking(store, r2.id, now=late)
    [c2] = cancel_booking(store, r2.id, by="staff", now=late)
    assert c2.cancel_fee_pence == 0
    r3 = request_booking(store, req(room.id, "2026-12-20T10:00", "2026-12-20T12:00"), now=NOW)
    confirm_booking(store, r3.id, now=NOW)
    [c3] = cancel_booking(store, r3.id, by="hirer", token=r3.token, now=NOW)  # 7 weeks ahead: free
    assert c3.cancel_fee_pence == 0


def test_completed_after_the_end(store: Store) -> None:
    room = make_room(store)
    r = request_booking(store, req(room.id, "2026-12-01T10:00", "2026-12-01T12:00"), now=NOW)
    confirm_booking(store, r.id, now=NOW)
    assert refresh_statuses(store, now=datetime(2026, 12, 1, 12, 30, tzinfo=UTC)) == {
        "expired": 0,
        "completed": 1,
    }
    assert get_booking(store, r.id).status == "completed"


# --- series ----------------------------------------------------------------------------------------


def test_series_is_all_or_nothing_unless_the_free_ones_are_accepted(store: Store) -> None:
    room = make_room(store)
    other = request_booking(
        store, req(room.id, "2026-12-15T18:00", "2026-12-15T19:00", hirer_name="Cy"), now=NOW
    )
    before = counts(store)
    weekly = req(room.id, "2026-12-01T18:30", "2026-12-01T20:00", repeat="FREQ=WEEKLY;COUNT=4")
    with pytest.raises(BookingConflict) as err:
        request_booking(store, weekly, now=NOW)
    assert [c.booking_id for c in err.value.clashes] == [other.id]
    assert "3 of the dates are free" in str(err.value)
    assert counts(store) == before
    r = request_booking(store, BookingRequest(**{**weekly.__dict__, "accept_free": True}), now=NOW)
    assert len(r.bookings) == 3 and [c.booking_id for c in r.skipped] == [other.id]
    assert {b.series_id for b in r.bookings} == {r.id}
    confirm_booking(store, r.id, now=NOW)  # a series id confirms every pending date
    assert {b.status for b in list_bookings(store, room_id=room.id, now=NOW) if b.series_id} == {
        "confirmed"
    }


def test_fortnightly_first_monday_and_exceptions(store: Store) -> None:
    room = make_room(store)
    fortnightly = request_booking(store, req(room.id, "2026-12-01T10:00", "2026-12-01T11:00",
                                             repeat="FREQ=WEEKLY;INTERVAL=2;COUNT=3"), now=NOW)  # fmt: skip
    assert [b.start.date().isoformat() for b in fortnightly.bookings] == [
        "2026-12-01",
        "2026-12-15",
        "2026-12-29",
    ]
    monthly = request_booking(store, req(room.id, "2026-12-07T18:00", "2026-12-07T20:00",
                                         repeat="FREQ=MONTHLY;BYDAY=1MO;UNTIL=20270601",
                                         exceptions=["2027-02-01"]), now=NOW)  # fmt: skip
    days = [b.start.date().isoformat() for b in monthly.bookings]
    assert days == ["2026-12-07", "2027-01-04", "2027-03-01", "2027-04-05", "2027-05-03"]


def test_series_dates_the_room_is_shut_are_listed(store: Store) -> None:
    room = make_room(
        store, closed=[Closure(date(2026, 12, 22), date(2026, 12, 22), "Christmas party")]
    )
    weekly = req(
        room.id,
        "2026-12-08T10:00",
        "2026-12-08T11:00",
        repeat="FREQ=WEEKLY;COUNT=3",
        accept_free=True,
    )
    r = request_booking(store, weekly, now=NOW)
    assert len(r.bookings) == 2
    assert [c.reason for c in r.skipped] == ["the room is closed on 2026-12-22 (Christmas party)"]


# --- free slots, the public view, iCalendar --------------------------------------------------------


def test_free_slots_leave_room_for_buffers(store: Store) -> None:
    room = make_room(store, setup_minutes=15, cleanup_minutes=30)
    request_booking(store, req(room.id, "2026-12-01T12:00", "2026-12-01T14:00"), now=NOW)
    a = free_slots(store, room.id, "2026-12-01", "2026-12-02", now=NOW).to_dict()
    # busy 11:45-14:30; a new booking needs its own 30 min clean-up before 11:45 and 15 min set-up after
    assert [(s["start"][11:16], s["end"][11:16]) for s in a["free"]] == [
        ("08:00", "11:15"),
        ("14:45", "22:00"),
    ]
    assert [(s["start"][11:16], s["end"][11:16]) for s in a["busy"]] == [("11:45", "14:30")]
    for start, end in (("08:15", "11:15"), ("14:45", "16:00")):  # bookable at the slot edges
        request_booking(store, req(room.id, f"2026-12-01T{start}", f"2026-12-01T{end}"), now=NOW)
    assert overlapping_holds(store) == 0


def test_free_slots_start_now_and_stop_at_the_horizon(store: Store) -> None:
    room = make_room(store, horizon_days=30)
    now = datetime(2026, 12, 1, 10, 7, tzinfo=UTC)
    a = free_slots(store, room.id, "2026-12-01", "2027-03-01", now=now)
    assert a.free[0].start == datetime(2026, 12, 1, 10, 15, tzinfo=UTC)
    assert a.free[-1].end <= now + timedelta(days=30)


PERSONAL = [
    "Ann Hirer",
    "ann.hirer@example.org",
    "Wortley Knitters",
    "Knit and natter",
    POOR_PC,
    "LS12",
]


def test_public_availability_and_ics_carry_no_personal_data(store: Store) -> None:
    add_home_areas(store)
    room = make_room(store)
    r = request_booking(
        store, req(room.id, "2026-12-01T10:00", "2026-12-01T12:00", postcode=POOR_PC), now=NOW
    )
    confirm_booking(store, r.id, now=NOW)
    request_booking(
        store, req(room.id, "2026-12-02T10:00", "2026-12-02T12:00", postcode=POOR_PC), now=NOW
    )
    public = json.dumps(
        public_availability(store, room.id, "2026-11-01", "2027-01-01", now=NOW).to_dict()
    )
    ics = room_ics(store, room.id, now=NOW)
    assert public.count('"start"') >= 3 and ics.count("BEGIN:VEVENT") == 2
    for text_ in (public, ics):
        for secret in [*PERSONAL, r.id, "E01000001", r.token or "-"]:
            assert secret not in text_, secret


# --- the database refuses a writer that skips the library ------------------------------------------


def test_raw_overlapping_insert_is_refused(store: Store) -> None:
    room = make_room(store)
    r = request_booking(store, req(room.id, "2026-12-01T10:00", "2026-12-01T12:00"), now=NOW)
    confirm_booking(store, r.id, now=NOW)
    raw = text(
        "INSERT INTO booking (id, room_id, starts_at, ends_at, block_starts_at, block_ends_at, status, "
        "hirer_name, hirer_category, created_at) VALUES (:id, :room, :s, :e, :s, :e, :status, 'Raw', "
        "'resident', :s)"
    )
    s = "2026-12-01 11:00:00" if store.dialect == "sqlite" else "2026-12-01 11:00:00+00"
    e = "2026-12-01 13:00:00" if store.dialect == "sqlite" else "2026-12-01 13:00:00+00"
    with pytest.raises(IntegrityError, match="overlap"), store.engine.begin() as conn:
        conn.execute(raw, {"id": "raw-1", "room": room.id, "s": s, "e": e, "status": "confirmed"})
    # a declined row may overlap (it holds nothing), but it may not then be made to hold
    with store.engine.begin() as conn:
        conn.execute(raw, {"id": "raw-2", "room": room.id, "s": s, "e": e, "status": "declined"})
    with pytest.raises(IntegrityError, match="overlap"), store.engine.begin() as conn:
        conn.execute(text("UPDATE booking SET status = 'pending' WHERE id = 'raw-2'"))
    assert overlapping_holds(store) == 0


def test_postgresql_has_the_exclusion_constraint(postgis_store: Store) -> None:
    with postgis_store.engine.connect() as conn:
        definition = conn.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'booking_no_overlap'"
            )
        ).scalar_one()
    assert (
        "EXCLUDE USING gist" in definition
        and "tstzrange(block_starts_at, block_ends_at" in definition
    )


# --- the equity report ------------------------------------------------------------------------------


def test_equity_report_by_category_and_decile(store: Store, tmp_path: Path) -> None:
    add_home_areas(store)
    room = make_room(store, name='=HYPERLINK("http://evil")')
    load_rate_card(store, room.id, RATES)
    made = [
        request_booking(
            store,
            req(
                room.id,
                "2026-12-01T10:00",
                "2026-12-01T14:00",
                category="resident",
                postcode=POOR_PC,
            ),
            now=NOW,
        ),
        request_booking(
            store,
            req(
                room.id,
                "2026-12-02T10:00",
                "2026-12-02T12:00",
                category="charity",
                postcode=RICH_PC,
            ),
            now=NOW,
        ),
        request_booking(
            store,
            req(
                room.id,
                "2027-01-05T10:00",
                "2027-01-05T11:00",
                category="statutory",
                postcode=RICH_PC,
            ),
            now=NOW,
        ),
    ]
    for r in made:
        confirm_booking(store, r.id, now=NOW)
    request_booking(
        store, req(room.id, "2027-01-06T10:00", "2027-01-06T11:00", category="commercial"), now=NOW
    )  # pending: not counted
    rep = equity_report(store, room_id=room.id, now=NOW)
    rows = {(r.month, r.dimension, r.group): r for r in rep.rows}
    assert rows[("2026-12", "all", "all")].hours == 6.0
    assert (
        rows[("2026-12", "all", "all")].income_pence == 2400
    )  # resident free (decile 1), charity 2 h
    assert rows[("2026-12", "category", "resident")].concession_pence == 2800
    assert rows[("2026-12", "imd_decile", "1")].hours == 4.0
    assert rows[("2027-01", "category", "statutory")].income_pence == 2500
    who = {w.group: w for w in rep.who_by_decile}
    assert who["1"].hours == 4.0 and who["9"].hours == 3.0
    assert who["1"].population_share == pytest.approx(0.75) and who[
        "9"
    ].population_share == pytest.approx(0.25)
    assert who["1"].ratio == pytest.approx((4 / 7) / 0.75)
    assert who["9"].ratio == pytest.approx((3 / 7) / 0.25)
    assert who["5"].missing is False  # no residents there either
    cats = {w.group: w for w in rep.who_by_category}
    assert cats["commercial"].missing and not cats["resident"].missing
    csv_text = report_csv(rep)
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text
    chart = report_chart(rep, tmp_path / "who.svg")
    assert chart.read_text().startswith("<?xml") and "Who uses our space" in chart.read_text()
    assert rep.to_dict()["chart"]["deciles"] == list(range(1, 11))


# --- personal data ----------------------------------------------------------------------------------


def test_anonymise_after_the_retention_period(store: Store) -> None:
    add_home_areas(store)
    room = make_room(store)
    old = request_booking(
        store, req(room.id, "2026-12-01T10:00", "2026-12-01T12:00", postcode=POOR_PC), now=NOW
    )
    confirm_booking(store, old.id, now=NOW)
    recent = request_booking(
        store, req(room.id, "2027-06-01T10:00", "2027-06-01T12:00", postcode=POOR_PC), now=NOW
    )
    later = datetime(2027, 12, 15, tzinfo=UTC)
    before = equity_report(store, now=later).to_dict()
    result = anonymise_bookings(store, retention_months=12, now=later)
    assert result.count == 1 and result.messages == 2
    a, b = get_booking(store, old.id), get_booking(store, recent.id)
    assert a.anonymised and a.hirer.email is None and a.hirer.postcode is None and a.purpose is None
    assert a.hirer.name == "(anonymised)" and a.hirer.organisation is None
    assert (a.area_code, a.imd_decile, a.category) == ("E01000001", 1, "voluntary")
    assert not b.anonymised and b.hirer.email == "ann.hirer@example.org"
    assert equity_report(store, now=later).to_dict() == before
    with store.engine.connect() as conn:
        dump = " ".join(
            str(v)
            for row in conn.execute(
                text("SELECT * FROM booking_message WHERE booking_id = :i"), {"i": old.id}
            )
            for v in row
        )
    assert "Ann" not in dump and "ann.hirer" not in dump
    assert anonymise_bookings(store, retention_months=12, now=later).count == 0


# --- the example -------------------------------------------------------------------------------------


def test_new_wortley_example_room(store: Store) -> None:
    from strengthmap.directory.imports import import_file

    import_file(
        store, ROOT / "docs" / "examples" / "new-wortley-community-centre.csv", None, actor="test"
    )
    room = add_new_wortley_room(store)
    assert (room.name, room.capacity, room.hours.text) == (
        "Large meeting room",
        60,
        "Mo-Fr 09:00-21:00",
    )
    again = add_new_wortley_room(store)  # idempotent: updated in place
    assert again.id == room.id
    card = rate_card(store, room.id)
    assert set(card.rates) == {"resident", "voluntary", "charity", "statutory", "commercial"}
    r = request_booking(
        store,
        req(
            room.id,
            "2026-12-01T18:00",
            "2026-12-01T20:00",
            category="resident",
            postcode="LS12 1JD",
        ),
        now=NOW,
    )
    assert r.quote["total_pence"] == 1200  # £16 less the LS12 community rate (25%)


@pytest.mark.realdata
def test_equity_report_on_the_leeds_data(data_dir: Path, tmp_path: Path) -> None:
    """Real postcodes to real LSOAs and IoD2019 deciles; residents' shares from File 6."""
    from strengthmap.areas import area_profile, resolve_postcode
    from strengthmap.directory.imports import import_file
    from strengthmap.sources import load_data_dir
    from strengthmap.storage import open_store

    store = open_store(f"sqlite:///{tmp_path / 'leeds.sqlite'}")
    load_data_dir(store, data_dir, place="Leeds")
    import_file(
        store, ROOT / "docs" / "examples" / "new-wortley-community-centre.csv", None, actor="test"
    )
    room = add_new_wortley_room(store)
    for day, pc, cat in (
        ("2026-12-01", "LS12 1JD", "resident"),
        ("2026-12-02", "LS16 6AA", "charity"),
        ("2026-12-03", "LS12 1JD", "voluntary"),
    ):
        try:
            resolve_postcode(store, pc)
        except NotFound:
            pytest.skip(f"{pc} is not in the postcode lookup")
        r = request_booking(
            store, req(room.id, f"{day}T18:00", f"{day}T20:00", category=cat, postcode=pc), now=NOW
        )
        confirm_booking(store, r.id, now=NOW)
    code = resolve_postcode(store, "LS12 1JD")[2]
    decile = area_profile(store, code, vintage=2011)["imd_releases"]["2019"]["decile"]
    rep = equity_report(store, release=2019, now=NOW)
    who = {w.group: w for w in rep.who_by_decile}
    assert who[str(decile)].bookings >= 2
    shares = [w.population_share for w in rep.who_by_decile if w.group.isdigit()]
    assert all(s is not None for s in shares) and sum(s or 0 for s in shares) == pytest.approx(1.0)
    assert rep.population_base.startswith("residents of the loaded LSOAs by IoD2019")
    store.close()


def _at_0005(url: str) -> Store:
    from strengthmap.storage import open_store

    store = open_store(url, upgrade=False)
    store.upgrade("0005")
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO location (id, location_type, name, created_at, updated_at) "
                          "VALUES ('loc-1', 'physical', 'Old hall', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"))  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO room (id, location_id, name, step_free, bookable) VALUES ('room-1', 'loc-1', 'Hall', :t, :t)"
            ),
            {"t": True},
        )
        conn.execute(text("INSERT INTO booking (id, room_id, starts_at, ends_at, hirer_name, status, created_at) VALUES "
                          "('b-1', 'room-1', '2026-12-01 10:00:00', '2026-12-01 12:00:00', 'Old', 'requested', '2025-01-01 00:00:00')"))  # fmt: skip
    return store


def test_migration_0007_keeps_existing_rooms_and_bookings(tmp_path: Path) -> None:
    store = _at_0005(f"sqlite:///{tmp_path / 'old.sqlite'}")
    store.upgrade()
    room = get_room_(store, "room-1")
    assert room.facilities == ("step_free",) and room.hours.text == "Mo-Su 08:00-22:00"
    b = get_booking(store, "b-1")
    assert (b.status, b.block_start, b.block_end) == ("pending", b.start, b.end)
    with pytest.raises(BookingConflict):  # the old booking holds its room
        request_booking(store, req("room-1", "2026-12-01T11:00", "2026-12-01T13:00"), now=NOW)


def test_migration_0007_will_not_drop_a_price(tmp_path: Path) -> None:
    store = _at_0005(f"sqlite:///{tmp_path / 'priced.sqlite'}")
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE room SET hourly_price_pence = 1500"))
    with pytest.raises(RuntimeError, match="rate card"):
        store.upgrade()
    assert store.current_revision() == "0005"


def get_room_(store: Store, room_id: str) -> Room:
    from strengthmap.bookings import get_room

    return get_room(store, room_id)
