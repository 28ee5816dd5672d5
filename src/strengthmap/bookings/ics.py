"""iCalendar (RFC 5545) for rooms and bookings: a room's busy times, a hirer's own booking.

Example:
    >>> from datetime import datetime, UTC
    >>> text = busy_calendar("Large meeting room", [(datetime(2026, 6, 1, 9, tzinfo=UTC),
    ...                                               datetime(2026, 6, 1, 11, tzinfo=UTC))])
    >>> "SUMMARY:Busy" in text and "DTSTART:20260601T090000Z" in text
    True

A room's calendar carries busy times only: no names, purposes or booking ids (each event's UID
is a hash of the busy time). Times are written in UTC (``Z``), which every calendar shows on
its own clock, so the clock changes need no VTIMEZONE.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from icalendar import Calendar, Event

from strengthmap.bookings.views import BookingView

PRODID = "-//Strengthmap//Room bookings//EN"
_STATUS = {"pending": "TENTATIVE", "confirmed": "CONFIRMED", "completed": "CONFIRMED"}


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def busy_calendar(
    room_name: str, busy: Sequence[tuple[datetime, datetime]], *, stamp: datetime | None = None
) -> str:
    """A room's busy times as an iCalendar feed (``GET /api/rooms/{id}/calendar.ics``)."""
    cal = _calendar(f"{room_name} (busy times)")
    dtstamp = stamp or datetime.now(UTC)
    for start, end in busy:
        ev = Event()
        key = f"{room_name}|{start.isoformat()}|{end.isoformat()}"
        ev.add("uid", hashlib.sha256(key.encode()).hexdigest()[:32] + "@strengthmap")
        ev.add("dtstamp", dtstamp.astimezone(UTC))
        ev.add("dtstart", start.astimezone(UTC))
        ev.add("dtend", end.astimezone(UTC))
        ev.add("summary", "Busy")
        ev.add("transp", "OPAQUE")
        ev.add("class", "PUBLIC")
        cal.add_component(ev)
    return str(cal.to_ical().decode("utf-8"))


def booking_calendar(
    booking: BookingView, *, location: str | None = None, stamp: datetime | None = None
) -> str:
    """One booking as an iCalendar event, for its hirer (their own details only)."""
    cal = _calendar(f"Booking: {booking.room_name or 'room'}")
    ev = Event()
    ev.add("uid", f"{booking.id}@strengthmap")
    ev.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    ev.add("dtstart", booking.start.astimezone(UTC))
    ev.add("dtend", booking.end.astimezone(UTC))
    title = booking.room_name or "Room booking"
    if booking.purpose:
        title = f"{title}: {booking.purpose}"
    ev.add("summary", title)
    if location:
        ev.add("location", location)
    ev.add("status", _STATUS.get(booking.status, "CANCELLED"))
    desc = [f"Booking reference {booking.id}", f"Status: {booking.status}"]
    if booking.charge_pence is not None:
        desc.append(f"Charge: £{booking.charge_pence / 100:,.2f}")
    ev.add("description", "\n".join(desc))
    cal.add_component(ev)
    return str(cal.to_ical().decode("utf-8"))


__all__ = ["PRODID", "booking_calendar", "busy_calendar"]
