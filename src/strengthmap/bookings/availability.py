"""When a room is free: free slots for a date range, the public busy/free view, the busy-times feed.

Example:
    >>> slots = free_slots(store, room.id, "2026-06-01", "2026-06-08")    # doctest: +SKIP
    >>> slots.to_dict()["free"][0]                                       # doctest: +SKIP
    {'start': '2026-06-01T08:00:00+01:00', 'end': '2026-06-01T22:00:00+01:00', 'minutes': 840}

A *free slot* is a stretch in which a new booking fits: inside the bookable hours, not on a closed
date, from now (rounded up to the room's step) to the booking horizon, and clear of every holding
booking's blocked time widened by the new booking's own set-up and clean-up (so a booking made
anywhere inside a free slot can never clash). Stretches shorter than the room's minimum length
are left out. :func:`public_availability` and :func:`room_ics` carry busy and free times only:
never a hirer, a purpose or a booking id (a test crawls them for personal data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from strengthmap.bookings.core import holding_blocks
from strengthmap.bookings.ics import busy_calendar
from strengthmap.bookings.rooms import Room, load_room, subtract
from strengthmap.bookings.times import parse_day_or_time, to_local_iso, utcnow
from strengthmap.errors import InputError
from strengthmap.storage import Store

#: The longest range one availability question may cover.
MAX_RANGE = timedelta(days=3 * 366)


@dataclass(frozen=True)
class Span:
    """A stretch of time (aware datetimes)."""

    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": to_local_iso(self.start),
            "end": to_local_iso(self.end),
            "minutes": self.minutes,
        }


@dataclass(frozen=True)
class Availability:
    """A room's busy and free times over a range: nothing about who booked (public)."""

    room_id: str
    room_name: str
    start: datetime
    end: datetime
    free: tuple[Span, ...]
    busy: tuple[Span, ...]
    hours: str
    min_minutes: int
    step_minutes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "room_name": self.room_name,
            "from": to_local_iso(self.start),
            "to": to_local_iso(self.end),
            "timezone": "Europe/London",
            "hours": self.hours,
            "min_minutes": self.min_minutes,
            "step_minutes": self.step_minutes,
            "free": [s.to_dict() for s in self.free],
            "busy": [s.to_dict() for s in self.busy],
        }


def _range(start: str | date | datetime, end: str | date | datetime) -> tuple[datetime, datetime]:
    lo = parse_day_or_time(start, field="from")
    hi = parse_day_or_time(end, field="to")
    if hi <= lo:
        raise InputError("the end of the range must be after its start", field="to")
    if hi - lo > MAX_RANGE:
        raise InputError("a range of at most 3 years, please", field="to")
    return lo, hi


def _ceil(t: datetime, step: int) -> datetime:
    # London is a whole number of hours from UTC, so steps that divide an hour align in both
    s = step * 60
    stamp = int(t.timestamp())
    up = -(-stamp // s) * s
    return t + timedelta(seconds=up - stamp) - timedelta(microseconds=t.microsecond)


def _floor(t: datetime, step: int) -> datetime:
    s = step * 60
    stamp = int(t.timestamp())
    return t - timedelta(seconds=stamp % s, microseconds=t.microsecond)


def _merge(spans: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _compute(
    room: Room, blocks: list[tuple[datetime, datetime]], lo: datetime, hi: datetime, now: datetime
) -> tuple[list[Span], list[Span]]:
    open_from = max(lo, _ceil(now, room.step_minutes))
    open_to = min(hi, now + timedelta(days=room.horizon_days))
    free: list[Span] = []
    if open_to > open_from and room.bookable and not room.retired:
        sessions = [
            (max(s, open_from), min(e, open_to))
            for s, e in room.sessions(open_from, open_to)
            if e > open_from and s < open_to
        ]
        setup = timedelta(minutes=room.setup_minutes)
        cleanup = timedelta(minutes=room.cleanup_minutes)
        # a new booking [s, e) blocks [s - setup, e + cleanup): it must keep clear of each block
        cuts = [(bs - cleanup, be + setup) for bs, be in blocks]
        for s, e in subtract(sessions, cuts):
            s2, e2 = _ceil(s, room.step_minutes), _floor(e, room.step_minutes)
            if (e2 - s2) >= timedelta(minutes=room.min_minutes):
                free.append(Span(s2, e2))
    busy = [Span(max(s, lo), min(e, hi)) for s, e in _merge(blocks) if e > lo and s < hi]
    return free, busy


def free_slots(
    store: Store,
    room_id: str,
    start: str | date | datetime,
    end: str | date | datetime,
    *,
    now: datetime | None = None,
) -> Availability:
    """The room's free slots (and busy times) over ``[start, end)`` (dates: local midnight)."""
    now = now or utcnow()
    lo, hi = _range(start, end)
    with store.session() as session:
        _, room = load_room(session, room_id)
        margin = timedelta(minutes=room.setup_minutes + room.cleanup_minutes + 1)
        blocks = holding_blocks(session, room.id, lo - margin, hi + margin, now=now)
    free, busy = _compute(room, blocks, lo, hi, now)
    return Availability(room.id, room.name, lo, hi, tuple(free), tuple(busy), room.hours.text,
                        room.min_minutes, room.step_minutes)  # fmt: skip


def public_availability(
    store: Store,
    room_id: str,
    start: str | date | datetime,
    end: str | date | datetime,
    *,
    now: datetime | None = None,
) -> Availability:
    """The public view of a room's calendar: busy and free stretches only, never who or why.

    (The same answer as :func:`free_slots`; named for the callers that must never show more.)
    """
    return free_slots(store, room_id, start, end, now=now)


def room_ics(
    store: Store,
    room_id: str,
    *,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
    now: datetime | None = None,
) -> str:
    """The room's busy times as iCalendar (default: from 30 days ago to the horizon)."""
    now = now or utcnow()
    with store.session() as session:
        _, room = load_room(session, room_id)
        lo = (
            parse_day_or_time(start, field="from")
            if start is not None
            else now - timedelta(days=30)
        )
        hi = (
            parse_day_or_time(end, field="to")
            if end is not None
            else now + timedelta(days=room.horizon_days + 1)
        )
        blocks = holding_blocks(session, room.id, lo, hi, now=now)
    return busy_calendar(room.name, _merge(blocks), stamp=now)


__all__ = ["MAX_RANGE", "Availability", "Span", "free_slots", "public_availability", "room_ics"]
