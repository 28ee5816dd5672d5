"""Rooms: a bookable space in a directory location, its facilities, bookable hours and rules.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> from strengthmap.directory.editing import create_record                   # doctest: +SKIP
    >>> room = add_room(store, RoomSpec(location_id=loc, name="Large meeting room",
    ...                                 capacity=60))                               # doctest: +SKIP
    >>> room.hours_text                                                             # doctest: +SKIP
    'Mo-Su 08:00-22:00'
    >>> parse_hours(["Mo-Fr 09:00-21:00; Sa 10:00-16:00"]).text
    'Mo-Fr 09:00-21:00; Sa 10:00-16:00'

Bookable hours reuse :mod:`strengthmap.directory.schedules`: an RFC 5545 rule with a local time
span (``FREQ=WEEKLY;BYDAY=MO,WE 09:00-17:00``; a rule alone means all day) or an OpenStreetMap
``opening_hours`` value (``Mo-Fr 09:00-21:00; Sa 10:00-16:00``). A room added without hours is
bookable 08:00-22:00 every day. Closed dates are local dates (inclusive ranges).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from strengthmap.bookings.times import LONDON, local_midnight, utcnow
from strengthmap.directory.schedules import (
    Recurrence,
    occurrences,
    parse_opening_hours,
    parse_time,
)
from strengthmap.errors import InputError, NotFound
from strengthmap.storage import Store, schema

if TYPE_CHECKING:
    from strengthmap.bookings.prices import RateCard

#: Facilities a room can have: code -> (label, is it about access for disabled people).
FACILITIES: dict[str, tuple[str, bool]] = {
    "step_free": ("Step-free access", True),
    "accessible_toilet": ("Accessible toilet", True),
    "hearing_loop": ("Hearing loop", True),
    "kitchen": ("Kitchen", False),
    "projector": ("Projector and screen", False),
    "wifi": ("Wi-Fi", False),
}
#: Bookable hours of a room added without any: 08:00-22:00 every day.
DEFAULT_HOURS_TEXT = "Mo-Su 08:00-22:00"
#: Steps a booking's start and end may fall on (minutes; each divides an hour).
STEPS = (5, 10, 15, 20, 30, 60)
#: ORUK accessibility ids are derived from the room and facility (stable across exports).
_ORUK_NAMESPACE = uuid.UUID("6f1f6b55-3a51-4a53-9a34-6b1c1f0b2d10")


@dataclass(frozen=True)
class Layout:
    """A way the room can be set out, and how many it seats that way."""

    name: str
    capacity: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "capacity": self.capacity}


@dataclass(frozen=True)
class Closure:
    """Local dates (inclusive) on which the room cannot be booked."""

    start: date
    end: date
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "reason": self.reason}

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Hours:
    """Bookable hours: schedules (RFC 5545 recurrences in Europe/London) and the text typed."""

    schedules: tuple[Recurrence, ...]
    text: str

    def to_json(self) -> list[dict[str, Any]]:
        out = []
        for s in self.schedules:
            d = {
                k: v
                for k, v in {
                    "freq": s.freq,
                    "interval": s.interval,
                    "byday": s.byday,
                    "rrule": s.rrule,
                    "dtstart": s.dtstart.isoformat() if s.dtstart else None,
                    "opens_at": s.opens_at,
                    "closes_at": s.closes_at,
                }.items()
                if v is not None
            }
            out.append(d)
        return out


@dataclass(frozen=True)
class RoomSpec:
    """What a manager gives to add a room (``rooms add``). ``hours``: texts, see :func:`parse_hours`."""

    location_id: str
    name: str
    capacity: int
    description: str | None = None
    hours: Sequence[str] = ()
    layouts: Sequence[Layout] = ()
    facilities: Sequence[str] = ()
    photos: Sequence[dict[str, str]] = ()
    closed: Sequence[Closure] = ()
    accessibility: str | None = None
    min_minutes: int = 30
    max_minutes: int | None = None
    step_minutes: int = 15
    setup_minutes: int = 0
    cleanup_minutes: int = 0
    horizon_days: int = 365
    cancel_free_days: int = 7
    cancel_fee_percent: int = 50


@dataclass(frozen=True)
class Room:
    """A room as the library, the CLI and the API show it (nothing personal in it)."""

    id: str
    name: str
    location_id: str
    location_name: str | None
    capacity: int | None
    description: str | None
    layouts: tuple[Layout, ...]
    facilities: tuple[str, ...]
    accessibility: str | None
    photos: tuple[dict[str, str], ...]
    hours: Hours
    closed: tuple[Closure, ...]
    min_minutes: int
    max_minutes: int | None
    step_minutes: int
    setup_minutes: int
    cleanup_minutes: int
    horizon_days: int
    cancel_free_days: int
    cancel_fee_percent: int
    bookable: bool
    retired: bool
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "location_id": self.location_id,
            "location_name": self.location_name,
            "capacity": self.capacity,
            "description": self.description,
            "layouts": [x.to_dict() for x in self.layouts],
            "facilities": [
                {"code": f, "label": FACILITIES[f][0]} for f in self.facilities if f in FACILITIES
            ],
            "accessibility": self.accessibility,
            "photos": [dict(p) for p in self.photos],
            "hours": self.hours.text,
            "hours_schedules": self.hours.to_json(),
            "closed": [c.to_dict() for c in self.closed],
            "min_minutes": self.min_minutes,
            "max_minutes": self.max_minutes,
            "step_minutes": self.step_minutes,
            "setup_minutes": self.setup_minutes,
            "cleanup_minutes": self.cleanup_minutes,
            "horizon_days": self.horizon_days,
            "cancellation": {
                "free_until_days_before": self.cancel_free_days,
                "fee_percent_after": self.cancel_fee_percent,
                "rule": cancellation_rule_text(self.cancel_free_days, self.cancel_fee_percent),
            },
            "bookable": self.bookable and not self.retired,
            **self.extra,
        }

    def max_people(self, layout: str | None) -> int | None:
        """The most people allowed (in ``layout`` when given)."""
        if layout:
            for x in self.layouts:
                if x.name.lower() == layout.lower():
                    return x.capacity if x.capacity is not None else self.capacity
            names = ", ".join(x.name for x in self.layouts) or "none"
            raise InputError(
                f"the room has no layout {layout!r} (layouts: {names})", field="layout"
            )
        return self.capacity

    def closure_on(self, day: date) -> Closure | None:
        return next((c for c in self.closed if c.covers(day)), None)

    def sessions(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
        """Bookable stretches overlapping ``[lo, hi)`` (UTC, merged, closed dates removed)."""
        return bookable_sessions(self.hours.schedules, self.closed, lo, hi)


def cancellation_rule_text(free_days: int, fee_percent: int) -> str:
    """The cancellation rule in words.

    >>> cancellation_rule_text(7, 50)
    'Free to cancel until 7 days before the start; after that the fee is 50% of the charge.'
    """
    if fee_percent == 0:
        return "Free to cancel at any time."
    return (
        f"Free to cancel until {free_days} day{'s' if free_days != 1 else ''} before the start; "
        f"after that the fee is {fee_percent}% of the charge."
    )


# --- hours ------------------------------------------------------------------------------------


def parse_hours(texts: Sequence[str] | str | None) -> Hours:
    """Bookable hours from RFC 5545 rules with a time span and/or OSM ``opening_hours`` texts.

    >>> h = parse_hours(["FREQ=WEEKLY;BYDAY=MO,WE 09:00-17:00", "FREQ=MONTHLY;BYDAY=1SA 10:00-14:00"])
    >>> [(s.rrule, s.opens_at, s.closes_at) for s in h.schedules]
    [('FREQ=WEEKLY;BYDAY=MO,WE', '09:00', '17:00'), ('FREQ=MONTHLY;BYDAY=1SA', '10:00', '14:00')]
    >>> parse_hours(None).text
    'Mo-Su 08:00-22:00'
    """
    if texts is None or (not isinstance(texts, str) and not texts):
        texts = [DEFAULT_HOURS_TEXT]
    if isinstance(texts, str):
        texts = [texts]
    schedules: list[Recurrence] = []
    for raw in texts:
        text = raw.strip()
        if not text:
            raise InputError("empty bookable hours", field="hours")
        if "FREQ=" in text.upper():
            schedules.append(_rrule_hours(text))
            continue
        parsed = parse_opening_hours(text)
        if parsed.notes:
            raise InputError(
                f"bookable hours {text!r}: {'; '.join(parsed.notes)} (use OSM opening_hours "
                "like 'Mo-Fr 09:00-21:00; Sa 10:00-16:00' or an RFC 5545 rule with a time span "
                "like 'FREQ=WEEKLY;BYDAY=MO,WE 09:00-17:00')",
                field="hours",
            )
        if not parsed.schedules:
            raise InputError(f"bookable hours {text!r} open at no time", field="hours")
        schedules.extend(parsed.schedules)
    return Hours(tuple(schedules), "; ".join(t.strip() for t in texts))


def _rrule_hours(text: str) -> Recurrence:
    body = text[6:].strip() if text.upper().startswith("RRULE:") else text
    anchor: date | None = None
    m = re.search(r"\s+from\s+(\d{4}-\d{2}-\d{2})\s*$", body)
    if m:
        try:
            anchor = date.fromisoformat(m[1])
        except ValueError:
            raise InputError(
                f"bookable hours {text!r}: {m[1]} is not a date", field="hours"
            ) from None
        body = body[: m.start()]
    elif _anchored(body):
        anchor = datetime.now(LONDON).date()
    rule, _, span = body.partition(" ")
    opens = closes = None
    span = span.strip()
    if span:
        a, sep, b = span.partition("-")
        if not sep:
            raise InputError(
                f"bookable hours {text!r}: the time span must be HH:MM-HH:MM", field="hours"
            )
        try:
            parse_time(a)
            parse_time(b)
        except InputError as exc:
            raise InputError(f"bookable hours {text!r}: {exc.message}", field="hours") from None
        opens, closes = a.strip(), b.strip()
    upper = rule.upper()
    if "COUNT=" in upper:
        raise InputError(
            f"bookable hours {text!r}: COUNT makes no sense for opening hours (use UNTIL)",
            field="hours",
        )
    rec = Recurrence(rrule=rule, opens_at=opens, closes_at=closes, dtstart=anchor)
    faults = rec.validate()
    if faults:
        raise InputError(f"bookable hours {text!r}: {'; '.join(faults)}", field="hours")
    return rec


def _anchored(rule: str) -> bool:
    """Whether a rule's dates depend on its first date (an INTERVAL over 1, or a monthly or
    yearly rule with no BYDAY / BYMONTHDAY, which repeats the first date's day)."""
    upper = rule.upper().split(" ")[0]
    interval = re.search(r"INTERVAL=(\d+)", upper)
    if interval and int(interval[1]) > 1:
        return True
    freq = re.search(r"FREQ=(\w+)", upper)
    if freq and freq[1] in ("MONTHLY", "YEARLY"):
        return not re.search(r"BY(DAY|MONTHDAY|YEARDAY|WEEKNO|SETPOS)=", upper)
    return False


def _from(rec: Recurrence, lo: datetime) -> Recurrence:
    """``rec`` expanded from just before ``lo`` when its dates do not depend on where it starts
    (so a year's hours cost a year of dates, not every date since the hours were set)."""
    if rec.count:
        return rec
    if rec.rrule is not None:
        if _anchored(rec.rrule):
            return rec
    elif (rec.interval or 1) != 1 or (rec.freq or "").upper() not in ("DAILY", "WEEKLY"):
        return rec
    start = lo.astimezone(LONDON).date() - timedelta(days=2)
    if rec.dtstart is not None and rec.dtstart >= start:
        return rec
    return replace(rec, dtstart=start)


def _recurrences(raw: list[Any] | None) -> tuple[Recurrence, ...]:
    if not raw:
        return parse_hours(None).schedules
    return tuple(Recurrence.of(d) for d in raw)


def bookable_sessions(
    schedules: Iterable[Recurrence], closed: Sequence[Closure], lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime]]:
    """Merged bookable stretches of ``schedules`` overlapping ``[lo, hi)``, minus closed days."""
    spans: list[tuple[datetime, datetime]] = []
    for rec in schedules:
        spans.extend((o.start, o.end) for o in occurrences(_from(rec, lo), lo, hi))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    if not closed:
        return merged
    cuts = []
    for c in closed:
        if c.end < lo.astimezone(LONDON).date() - timedelta(days=1):
            continue
        if c.start > hi.astimezone(LONDON).date() + timedelta(days=1):
            continue
        cuts.append((local_midnight(c.start), local_midnight(c.end + timedelta(days=1))))
    return subtract(merged, cuts)


def subtract(
    spans: list[tuple[datetime, datetime]], cuts: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    """``spans`` minus ``cuts`` (both sorted or not; the result sorted, gaps removed)."""
    if not cuts:
        return list(spans)
    cuts = sorted(cuts)
    out: list[tuple[datetime, datetime]] = []
    j0 = 0
    for s, e in sorted(spans):
        cur = s
        # skip cuts that end before this span
        while j0 < len(cuts) and cuts[j0][1] <= s:
            j0 += 1
        j = j0
        while j < len(cuts) and cuts[j][0] < e:
            cs, ce = cuts[j]
            if cs > cur:
                out.append((cur, min(cs, e)))
            cur = max(cur, ce)
            if cur >= e:
                break
            j += 1
        if cur < e:
            out.append((cur, e))
    return out


# --- reading and writing rooms ----------------------------------------------------------------


def _room_of(row: schema.Room, location_name: str | None) -> Room:
    return Room(
        id=row.id,
        name=row.name,
        location_id=row.location_id,
        location_name=location_name,
        capacity=row.capacity,
        description=row.description,
        layouts=tuple(Layout(d["name"], d.get("capacity")) for d in row.layouts or []),
        facilities=tuple(row.facilities or []),
        accessibility=row.accessibility,
        photos=tuple(dict(p) for p in row.photos or []),
        hours=Hours(_recurrences(row.hours), row.hours_text or DEFAULT_HOURS_TEXT),
        closed=tuple(
            Closure(date.fromisoformat(c["from"]), date.fromisoformat(c["to"]), c.get("reason"))
            for c in row.closed or []
        ),
        min_minutes=row.min_minutes,
        max_minutes=row.max_minutes,
        step_minutes=row.step_minutes,
        setup_minutes=row.setup_minutes,
        cleanup_minutes=row.cleanup_minutes,
        horizon_days=row.horizon_days,
        cancel_free_days=row.cancel_free_days,
        cancel_fee_percent=row.cancel_fee_percent,
        bookable=row.bookable,
        retired=row.retired_at is not None,
    )


def room_from_row(session: Session, row: schema.Room) -> Room:
    loc = session.get(schema.Location, row.location_id)
    return _room_of(row, loc.name if loc is not None else None)


def load_room(session: Session, room_id: str, *, lock: bool = False) -> tuple[schema.Room, Room]:
    """The row and the typed room; ``lock`` takes a row lock (PostgreSQL ``FOR UPDATE``) so
    writers of one room's bookings queue up (SQLite's write transaction is already exclusive)."""
    stmt = select(schema.Room).where(schema.Room.id == room_id)
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound(f"no room with id {room_id!r}")
    return row, room_from_row(session, row)


def _check_int(value: Any, name: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{name} must be a whole number, not {value!r}", field=name)
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise InputError(f"{name} must be {bound}, not {value}", field=name)
    return value


def _validate(spec: RoomSpec, hours: Hours | None = None) -> Hours:
    if not spec.name.strip():
        raise InputError("a room needs a name", field="name")
    _check_int(spec.capacity, "capacity", 1, 100_000)
    _check_int(spec.min_minutes, "min_minutes", 5, 24 * 60)
    if spec.max_minutes is not None:
        _check_int(spec.max_minutes, "max_minutes", spec.min_minutes, 7 * 24 * 60)
    if spec.step_minutes not in STEPS:
        raise InputError(
            f"step_minutes must be one of {', '.join(map(str, STEPS))}, not {spec.step_minutes}",
            field="step_minutes",
        )
    _check_int(spec.setup_minutes, "setup_minutes", 0, 240)
    _check_int(spec.cleanup_minutes, "cleanup_minutes", 0, 240)
    _check_int(spec.horizon_days, "horizon_days", 1, 3 * 366)
    _check_int(spec.cancel_free_days, "cancel_free_days", 0, 365)
    _check_int(spec.cancel_fee_percent, "cancel_fee_percent", 0, 100)
    for f in spec.facilities:
        if f not in FACILITIES:
            raise InputError(
                f"unknown facility {f!r} (one of {', '.join(FACILITIES)})", field="facilities"
            )
    seen = set()
    for layout in spec.layouts:
        if not layout.name.strip() or layout.name.lower() in seen:
            raise InputError(
                f"layout names must be given and distinct: {layout.name!r}", field="layouts"
            )
        seen.add(layout.name.lower())
        if layout.capacity is not None:
            _check_int(layout.capacity, "layouts", 1, spec.capacity)
    for c in spec.closed:
        if c.end < c.start:
            raise InputError(
                f"closed dates {c.start}..{c.end}: the end is before the start", field="closed"
            )
    for p in spec.photos:
        if not str(p.get("url", "")).strip():
            raise InputError("a photo needs a url", field="photos")
    return hours if hours is not None else parse_hours(list(spec.hours) or None)


def parse_layout(text: str) -> Layout:
    """``"theatre:80"`` or ``"boardroom"`` -> a layout.

    >>> parse_layout("theatre:80")
    Layout(name='theatre', capacity=80)
    """
    name, sep, cap = text.partition(":")
    if not sep:
        return Layout(name.strip())
    try:
        return Layout(name.strip(), int(cap))
    except ValueError:
        raise InputError(
            f"layout {text!r}: capacity must be a whole number", field="layouts"
        ) from None


def parse_closure(text: str) -> Closure:
    """``"2026-12-25"``, ``"2026-12-24..2027-01-02"`` or either with ``"=reason"``.

    >>> parse_closure("2026-12-24..2027-01-02=Christmas")
    Closure(start=datetime.date(2026, 12, 24), end=datetime.date(2027, 1, 2), reason='Christmas')
    """
    days, _, reason = text.partition("=")
    a, _, b = days.partition("..")
    try:
        start = date.fromisoformat(a.strip())
        end = date.fromisoformat(b.strip()) if b.strip() else start
    except ValueError:
        raise InputError(
            f"closed dates {text!r}: use YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD", field="closed"
        ) from None
    if end < start:
        raise InputError(f"closed dates {text!r}: the end is before the start", field="closed")
    return Closure(start, end, reason.strip() or None)


def _audit(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    changes: dict[str, Any] | None,
) -> None:
    session.add(
        schema.AuditEntry(
            actor=actor, action=action, entity=entity, entity_id=entity_id, changes=changes
        )
    )


def add_room(
    store: Store, spec: RoomSpec, *, rates: RateCard | None = None, actor: str = "cli"
) -> Room:
    """Add a room to a directory location, with its rate card when given, in one transaction
    (all checks first; nothing is written on bad input)."""
    from strengthmap.bookings.prices import write_card

    hours = _validate(spec)
    with store.transaction() as session:
        loc = session.get(schema.Location, spec.location_id)
        if loc is None or loc.retired_at is not None:
            raise NotFound(f"no live directory location with id {spec.location_id!r}")
        row = schema.Room(
            location_id=spec.location_id,
            name=spec.name.strip(),
            description=spec.description,
            capacity=spec.capacity,
            accessibility=spec.accessibility,
            layouts=[x.to_dict() for x in spec.layouts] or None,
            facilities=list(dict.fromkeys(spec.facilities)) or None,
            photos=[dict(p) for p in spec.photos] or None,
            hours=hours.to_json(),
            hours_text=hours.text,
            closed=[c.to_dict() for c in spec.closed] or None,
            min_minutes=spec.min_minutes,
            max_minutes=spec.max_minutes,
            step_minutes=spec.step_minutes,
            setup_minutes=spec.setup_minutes,
            cleanup_minutes=spec.cleanup_minutes,
            horizon_days=spec.horizon_days,
            cancel_free_days=spec.cancel_free_days,
            cancel_fee_percent=spec.cancel_fee_percent,
            bookable=True,
        )
        session.add(row)
        session.flush()
        _audit(session, actor, "create", "room", row.id, {"name": [None, row.name]})
        if rates is not None:
            write_card(session, row.id, rates, actor=actor)
        return _room_of(row, loc.name)


#: Fields :func:`update_room` may change.
UPDATABLE = (
    "name", "description", "capacity", "hours", "layouts", "facilities", "photos", "closed",
    "accessibility", "min_minutes", "max_minutes", "step_minutes", "setup_minutes",
    "cleanup_minutes", "horizon_days", "cancel_free_days", "cancel_fee_percent", "bookable",
)  # fmt: skip


def update_room(store: Store, room_id: str, changes: dict[str, Any], *, actor: str = "cli") -> Room:
    """Change a room's details (``changes``: field -> new value, fields of :data:`UPDATABLE`).

    New buffers and rules apply to bookings made from now on; bookings already made keep the
    room blocked as they were made.
    """
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise InputError(f"cannot change {', '.join(unknown)}", field=unknown[0])
    with store.transaction() as session:
        row, room = load_room(session, room_id, lock=True)
        spec = RoomSpec(
            location_id=row.location_id,
            name=room.name,
            capacity=room.capacity or 1,
            description=room.description,
            hours=[room.hours.text],
            layouts=room.layouts,
            facilities=room.facilities,
            photos=room.photos,
            closed=room.closed,
            accessibility=room.accessibility,
            min_minutes=room.min_minutes,
            max_minutes=room.max_minutes,
            step_minutes=room.step_minutes,
            setup_minutes=room.setup_minutes,
            cleanup_minutes=room.cleanup_minutes,
            horizon_days=room.horizon_days,
            cancel_free_days=room.cancel_free_days,
            cancel_fee_percent=room.cancel_fee_percent,
        )
        bookable = changes.get("bookable", row.bookable)
        spec = replace(spec, **{k: v for k, v in changes.items() if k != "bookable"})
        # hours kept as they are unless changed (their text is not always one parseable value)
        hours = _validate(spec, None if "hours" in changes else room.hours)
        before = room.to_dict()
        row.name = spec.name.strip()
        row.description = spec.description
        row.capacity = spec.capacity
        row.accessibility = spec.accessibility
        row.layouts = [x.to_dict() for x in spec.layouts] or None
        row.facilities = list(dict.fromkeys(spec.facilities)) or None
        row.photos = [dict(p) for p in spec.photos] or None
        row.hours = hours.to_json()
        row.hours_text = hours.text
        row.closed = [c.to_dict() for c in spec.closed] or None
        for name in (
            "min_minutes", "max_minutes", "step_minutes", "setup_minutes", "cleanup_minutes",
            "horizon_days", "cancel_free_days", "cancel_fee_percent",
        ):  # fmt: skip
            setattr(row, name, getattr(spec, name))
        row.bookable = bool(bookable)
        session.flush()
        after = room_from_row(session, row)
        diff = {k: [before[k], v] for k, v in after.to_dict().items() if before.get(k) != v}
        _audit(session, actor, "update", "room", row.id, diff or None)
        return after


def retire_room(store: Store, room_id: str, *, actor: str = "cli") -> Room:
    """Retire a room: no new bookings, hidden from lists; kept, with its bookings."""
    with store.transaction() as session:
        row, _ = load_room(session, room_id, lock=True)
        if row.retired_at is None:
            row.retired_at = utcnow()
            _audit(session, actor, "retire", "room", row.id, None)
        return room_from_row(session, row)


def get_room(store: Store, room_id: str) -> Room:
    """One room (retired ones too)."""
    with store.session() as session:
        return load_room(session, room_id)[1]


def list_rooms(
    store: Store, *, location_id: str | None = None, include_retired: bool = False
) -> list[Room]:
    """Rooms by location name then room name."""
    with store.session() as session:
        stmt = select(schema.Room, schema.Location.name).join(
            schema.Location, schema.Location.id == schema.Room.location_id
        )
        if location_id is not None:
            stmt = stmt.where(schema.Room.location_id == location_id)
        if not include_retired:
            stmt = stmt.where(schema.Room.retired_at.is_(None))
        rows = session.execute(stmt).all()
        rooms = [_room_of(r, n) for r, n in rows]
    return sorted(rooms, key=lambda r: ((r.location_name or "").lower(), r.name.lower(), r.id))


# --- the location's accessibility and facilities in the ORUK feed -----------------------------


@dataclass(frozen=True)
class LocationFacilities:
    """What a location's rooms add to it in the Open Referral UK feed.

    ``accessibility``: ORUK ``accessibility`` objects (one per access facility of each live
    room); ``facilities``: the other facilities (kitchen, projector) per room, for the
    location's description or attributes. Nothing about bookings or hirers.
    """

    location_id: str
    accessibility: list[dict[str, Any]]
    facilities: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "location_id": self.location_id,
            "accessibility": self.accessibility,
            "facilities": self.facilities,
        }


def location_facilities(store: Store, location_id: str) -> LocationFacilities:
    """The ORUK accessibility entries and facility notes the location's rooms contribute.

    Example:
        >>> location_facilities(store, loc).accessibility[0]["description"]   # doctest: +SKIP
        'Hearing loop in the Large meeting room'
    """
    access: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for room in list_rooms(store, location_id=location_id):
        for code in room.facilities:
            label, is_access = FACILITIES[code]
            if is_access:
                access.append(
                    {
                        "id": str(uuid.uuid5(_ORUK_NAMESPACE, f"{room.id}/{code}")),
                        "location_id": location_id,
                        "description": f"{label} in the {room.name}",
                        "details": room.accessibility,
                        "url": None,
                    }
                )
            else:
                other.append(
                    {"room_id": room.id, "room": room.name, "facility": code, "label": label}
                )
        if room.accessibility and not any(FACILITIES[c][1] for c in room.facilities):
            access.append(
                {
                    "id": str(uuid.uuid5(_ORUK_NAMESPACE, f"{room.id}/notes")),
                    "location_id": location_id,
                    "description": f"{room.name}: {room.accessibility}",
                    "details": None,
                    "url": None,
                }
            )
    return LocationFacilities(location_id, access, other)


__all__ = [
    "DEFAULT_HOURS_TEXT",
    "FACILITIES",
    "STEPS",
    "UPDATABLE",
    "Closure",
    "Hours",
    "Layout",
    "LocationFacilities",
    "Room",
    "RoomSpec",
    "add_room",
    "bookable_sessions",
    "cancellation_rule_text",
    "get_room",
    "list_rooms",
    "load_room",
    "location_facilities",
    "parse_closure",
    "parse_hours",
    "parse_layout",
    "retire_room",
    "room_from_row",
    "subtract",
    "update_room",
]
