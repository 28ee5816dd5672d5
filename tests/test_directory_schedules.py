"""Schedules: RFC 5545 recurrence in Europe/London, "open at", OSM opening_hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strengthmap.directory.schedules import (
    Recurrence,
    occurrences,
    open_at,
    parse_opening_hours,
    parse_time,
    to_rrule,
)
from strengthmap.errors import InputError

LONDON = ZoneInfo("Europe/London")


def test_weekly_wednesday_keeps_local_time_across_clock_changes() -> None:
    lunch = Recurrence(
        freq="WEEKLY", byday="WE", dtstart=date(2025, 1, 1), opens_at="12:00", closes_at="14:00"
    )
    occ = occurrences(lunch, date(2025, 3, 1), date(2025, 11, 30))
    assert all(o.start.weekday() == 2 for o in occ)
    assert {o.start.timetz().replace(tzinfo=None) for o in occ} == {time(12)}
    # GMT before 30 March 2025, BST after, GMT again after 26 October
    assert occ[0].start.utcoffset() == timedelta(0)
    assert any(o.start.utcoffset() == timedelta(hours=1) for o in occ)
    assert occ[-1].start.utcoffset() == timedelta(0)
    assert {(o.end - o.start) for o in occ} == {timedelta(hours=2)}
    assert len(occ) == 39  # Wednesdays from 5 March to 26 November 2025


def test_first_monday_of_the_month() -> None:
    rec = Recurrence(
        freq="MONTHLY", byday="1MO", dtstart=date(2025, 1, 1), opens_at="18:00", closes_at="20:00"
    )
    starts = [o.start.date() for o in occurrences(rec, date(2025, 1, 1), date(2025, 7, 1))]
    assert starts == [
        date(2025, 1, 6),
        date(2025, 2, 3),
        date(2025, 3, 3),
        date(2025, 4, 7),
        date(2025, 5, 5),
        date(2025, 6, 2),
    ]
    assert to_rrule(rec) == "FREQ=MONTHLY;BYDAY=1MO"
    assert open_at(
        [rec], "mon", "19:00", "19:30", today=date(2025, 5, 20)
    )  # 2 June is within 5 weeks
    assert not open_at([rec], date(2025, 6, 9), "19:00", "19:30")
    assert open_at([rec], date(2025, 6, 2), "19:00", "19:30")


def test_term_time_with_exdates_and_rrule_text() -> None:
    half_term = (date(2025, 5, 28),)
    rec = Recurrence(
        rrule="RRULE:FREQ=WEEKLY;BYDAY=WE;UNTIL=20250716T235959",
        dtstart=date(2025, 4, 23),
        exdates=half_term,
        opens_at="09:30",
        closes_at="11:30",
    )
    days = [o.start.date() for o in occurrences(rec, date(2025, 4, 1), date(2025, 9, 1))]
    assert (
        date(2025, 5, 28) not in days
        and date(2025, 5, 21) in days
        and days[-1] == date(2025, 7, 16)
    )
    assert len(days) == 13 - 1  # 13 Wednesdays from 23 April to 16 July, less half term
    assert not open_at([rec], date(2025, 5, 28), "10:00", "11:00")
    assert open_at(
        [rec], "wed", "10:00", "11:00", today=date(2025, 5, 26)
    )  # other Wednesdays count
    assert not open_at([rec], "wed", "10:00", "11:00", today=date(2025, 8, 1))  # summer holiday


def test_overnight_and_all_day() -> None:
    night = Recurrence(
        freq="WEEKLY", byday="FR", opens_at="22:00", closes_at="02:00", dtstart=date(2025, 1, 1)
    )
    assert open_at([night], "sat", "01:00", "01:30", today=date(2025, 6, 1))
    assert open_at([night], date(2025, 6, 7), "01:00", "01:30")
    assert not open_at([night], "sat", "03:00", "04:00", today=date(2025, 6, 1))
    always = parse_opening_hours("24/7").schedules
    assert open_at(always, "sun", "03:00", "04:00")


def test_osm_opening_hours() -> None:
    oh = parse_opening_hours(
        "Mo-We 09:00-19:00; Th 09:00-18:00; Fr 09:00-17:00; Sa 10:00-17:00; Su 11:00-15:00; PH off"
    )
    assert [(s.byday, s.opens_at, s.closes_at) for s in oh.schedules] == [
        ("MO,TU,WE", "09:00", "19:00"), ("TH", "09:00", "18:00"), ("FR", "09:00", "17:00"),
        ("SA", "10:00", "17:00"), ("SU", "11:00", "15:00"),
    ]  # fmt: skip
    assert oh.notes == ["public-holiday rule ignored: PH off"]
    # a later rule overrides the days it names; split sessions; "closed"
    oh = parse_opening_hours("Mo-Fr 09:00-18:00; Tu 09:30-18:00")
    assert ("TU", "09:30", "18:00") in [(s.byday, s.opens_at, s.closes_at) for s in oh.schedules]
    oh = parse_opening_hours("Mo-Th 08:30-13:00,13:30-17:00; Fr 08:30-14:00; Sa-Su closed")
    assert not open_at(oh.schedules, "mon", "13:05", "13:25")
    assert open_at(oh.schedules, "fri", "13:00", "13:30") and not open_at(oh.schedules, "sat")
    assert parse_opening_hours("Mo-Fr 09:30-16.45").schedules[0].closes_at == "16:45"
    assert parse_opening_hours("off").schedules == []
    odd = parse_opening_hours("some events only")
    assert odd.schedules == [] and odd.notes == ["not understood, left out: some events only"]


def test_bad_values() -> None:
    with pytest.raises(InputError):
        parse_time("25:00")
    faults = Recurrence(
        freq="FORTNIGHTLY", byday="XX", opens_at="9am", rrule="FREQ=NEVER"
    ).validate()
    assert [f.split(":")[0] for f in faults] == ["freq", "byday", "opens_at", "rrule"]


_days = st.lists(
    st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"]), min_size=1, max_size=7, unique=True
)


@st.composite
def _recurrences(draw: st.DrawFn) -> Recurrence:
    # opening hours between 06:00 and 23:00 local: UK clock changes happen at 01:00 UTC
    opens = draw(st.integers(6 * 4, 20 * 4))
    length = draw(st.integers(1, 12))
    monthly = draw(st.booleans())
    byday = ",".join(draw(_days))
    if monthly:
        byday = f"{draw(st.sampled_from([1, 2, 3, -1]))}{byday.split(',')[0]}"
    start = draw(st.dates(date(2024, 1, 1), date(2026, 12, 31)))
    exdates = tuple(draw(st.lists(st.dates(date(2024, 1, 1), date(2027, 6, 30)), max_size=5)))
    o = timedelta(minutes=15 * opens)
    c = o + timedelta(minutes=15 * length)
    return Recurrence(
        freq="MONTHLY" if monthly else "WEEKLY",
        byday=byday,
        dtstart=start,
        exdates=exdates,
        opens_at=f"{o.seconds // 3600:02d}:{o.seconds // 60 % 60:02d}",
        closes_at=f"{c.seconds // 3600:02d}:{c.seconds // 60 % 60:02d}",
    )


@settings(max_examples=60, deadline=None)
@given(_recurrences(), st.dates(date(2024, 1, 1), date(2027, 1, 1)), st.integers(1, 120))
def test_occurrences_lie_in_the_window_and_keep_wall_clock_durations(
    rec: Recurrence, start: date, days: int
) -> None:
    end = start + timedelta(days=days)
    lo = datetime.combine(start, time(0), LONDON)
    hi = datetime.combine(end, time(0), LONDON)
    occ = occurrences(rec, start, end)
    expected = (
        parse_time(rec.closes_at or "").hour * 60
        + parse_time(rec.closes_at or "").minute
        - (parse_time(rec.opens_at or "").hour * 60 + parse_time(rec.opens_at or "").minute)
    )
    for o in occ:
        assert o.end > lo and o.start < hi
        assert o.start.date() >= (rec.dtstart or start) and o.start.date() not in rec.exdates
        # durations are the same in real (UTC) time: no session crosses a clock change
        real = o.end.astimezone(UTC) - o.start.astimezone(UTC)
        assert real == timedelta(minutes=expected)
        assert o.start.strftime("%H:%M") == rec.opens_at
    assert occ == sorted(occ) and len(set(occ)) == len(occ)


@settings(max_examples=60, deadline=None)
@given(
    _recurrences(),
    st.dates(date(2024, 1, 1), date(2027, 1, 1)),
    st.integers(0, 23 * 4),
    st.integers(1, 16),
)
def test_open_at_agrees_with_occurrences(rec: Recurrence, day: date, q0: int, qlen: int) -> None:
    t0 = timedelta(minutes=15 * q0)
    t1 = min(t0 + timedelta(minutes=15 * qlen), timedelta(hours=23, minutes=59))
    s = f"{t0.seconds // 3600:02d}:{t0.seconds // 60 % 60:02d}"
    e = f"{t1.seconds // 3600:02d}:{t1.seconds // 60 % 60:02d}"
    lo = datetime.combine(day, time.fromisoformat(s), LONDON)
    hi = datetime.combine(day, time.fromisoformat(e), LONDON)
    expected = any(
        o.end > lo and o.start < hi
        for o in occurrences(rec, day - timedelta(days=1), day + timedelta(days=1))
    )
    assert open_at([rec], day, s, e) == expected
    # the weekday form agrees with the dated form over the five weeks it looks at
    weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][day.weekday()]
    dated = any(open_at([rec], day + timedelta(days=7 * k), s, e) for k in range(5))
    assert open_at([rec], weekday, s, e, today=day) == dated
