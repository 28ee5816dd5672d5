"""Booking requests, decisions and cancellations; no two holding bookings of a room ever overlap.

Example:
    >>> result = request_booking(store, BookingRequest(
    ...     room_id=room.id, start="2026-06-01T10:00", end="2026-06-01T12:00",
    ...     hirer_name="Ann Example", email="ann@example.org", category="charity"))  # doctest: +SKIP
    >>> result.status, result.quote["total_pence"]                               # doctest: +SKIP
    ('pending', 2400)
    >>> confirm_booking(store, result.id, actor="staff@example.org")[0].status   # doctest: +SKIP
    'confirmed'

The rule, and how it holds under concurrent writers: a booking *holds* its room while it is
``pending`` (until ``hold_until``), ``confirmed`` or ``completed``; it blocks
``[start - set-up, end + clean-up)``. Every write that can make a booking hold runs in one
transaction that first locks the room (SQLite: the transaction took the database write lock at
``BEGIN IMMEDIATE``; PostgreSQL: ``SELECT ... FOR UPDATE`` on the room row), expires the room's
lapsed holds, looks for clashes and only then writes. The database backs this up for any writer
that skips the library: an exclusion constraint on PostgreSQL and triggers on SQLite (migration
0007); if one fires, the library answers with the same :class:`BookingConflict`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from dateutil import rrule as _rrule
from dateutil.relativedelta import relativedelta
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from strengthmap.bookings import mail as _mail
from strengthmap.bookings.prices import Hirer as PriceHirer
from strengthmap.bookings.prices import Quote, compute_quote, parse_category, read_card
from strengthmap.bookings.rooms import Room, cancellation_rule_text, load_room
from strengthmap.bookings.times import (
    LONDON,
    Ambiguity,
    local_kind,
    localise,
    parse_day_or_time,
    parse_when,
    to_local,
    to_local_iso,
    utcnow,
)
from strengthmap.bookings.views import BookingConflict, BookingView, Clash
from strengthmap.errors import Conflict, Forbidden, InputError, NotFound
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.base import new_uuid
from strengthmap.storage.schema.bookings import BOOKING_STATUSES, HOLDING_STATUSES

B = schema.Booking
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: A recurring request may not run longer than this after its first date.
MAX_SERIES = relativedelta(years=2)
DEFAULT_HOLD = timedelta(hours=72)


@dataclass(frozen=True)
class HomeArea:
    """A hirer's home postcode and what it tells: the LSOA and its IMD decile (latest release)."""

    postcode: str | None
    area_code: str | None = None
    imd_decile: int | None = None
    imd_release: int | None = None


def home_area(store: Store, postcode: str | None) -> HomeArea:
    """Postcode -> LSOA (2011) and the IMD decile of the latest release loaded for it.

    A well-formed postcode outside the loaded lookup is kept, with no area (so no
    deprivation-based concession); a malformed one is refused.
    """
    if postcode is None or not postcode.strip():
        return HomeArea(None)
    from strengthmap.areas import area_profile, resolve_postcode
    from strengthmap.geography import OUTSIDE
    from strengthmap.sources.postcodes import POSTCODE, normalise_postcode

    pc = normalise_postcode(postcode)
    if not POSTCODE.match(pc):
        raise InputError(f"{postcode!r} is not a UK postcode (like LS12 1JD)", field="postcode")
    try:
        _, _, code = resolve_postcode(store, pc)
    except NotFound:
        return HomeArea(pc)
    if code == OUTSIDE:
        return HomeArea(pc)
    try:
        imd = area_profile(store, code, vintage=2011).get("imd")
    except NotFound:
        imd = None
    if imd is None:
        return HomeArea(pc, code, None, None)
    return HomeArea(pc, code, imd.get("decile"), imd.get("release"))


@dataclass(frozen=True)
class BookingRequest:
    """A request as a hirer (or staff for them) makes it; no account needed.

    ``start`` / ``end``: ISO text (London wall time unless an offset is given) or aware
    datetimes. ``repeat``: an RFC 5545 RRULE with COUNT or UNTIL (at most 2 years), e.g.
    ``FREQ=WEEKLY;COUNT=10``, ``FREQ=WEEKLY;INTERVAL=2;UNTIL=20270301``,
    ``FREQ=MONTHLY;BYDAY=1MO;COUNT=12``; ``exceptions``: dates to leave out.
    ``accept_free``: book the free occurrences of a series and list the others (otherwise a
    series is all or nothing). ``ambiguous``: which 01:xx on the night the clocks go back.
    """

    room_id: str
    start: str | datetime
    end: str | datetime
    hirer_name: str
    email: str
    category: str
    organisation: str | None = None
    postcode: str | None = None
    purpose: str | None = None
    people: int | None = None
    layout: str | None = None
    extras: Sequence[str] = ()
    repeat: str | None = None
    exceptions: Sequence[date | str] = ()
    accept_free: bool = False
    ambiguous: Ambiguity | None = None


@dataclass(frozen=True)
class RequestResult:
    """What a request made: ``id`` (the booking, or the series), its status and quote.

    ``token`` is the hirer's secret for cancelling online (only its hash is stored); it is
    returned once, to the requester, and put in their message.
    """

    id: str
    status: str
    quote: dict[str, Any]
    bookings: tuple[BookingView, ...]
    series_id: str | None = None
    skipped: tuple[Clash, ...] = ()
    token: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "quote": self.quote,
            "series_id": self.series_id,
            "bookings": [
                {
                    "id": b.id,
                    "start": to_local_iso(b.start),
                    "end": to_local_iso(b.end),
                    "status": b.status,
                }
                for b in self.bookings
            ],
            "skipped": [c.to_dict() for c in self.skipped],
            "hold_until": to_local_iso(self.bookings[0].hold_until)
            if self.bookings and self.bookings[0].hold_until
            else None,
            "hirer_token": self.token,
        }


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- rules --------------------------------------------------------------------------------------


def check_slot(room: Room, start: datetime, end: datetime, now: datetime) -> tuple[str, str] | None:
    """The first rule ``[start, end)`` breaks, as ``(field, message)``, or None.

    Rules: end after start; not in the past; within the horizon; on the room's step; length
    between the minimum and maximum; inside one bookable stretch of the hours; not on a closed
    date.
    """
    if end <= start:
        return (
            "end",
            f"the end ({to_local_iso(end)}) must be after the start ({to_local_iso(start)})",
        )
    if start < now:
        return "start", f"{to_local_iso(start)} is in the past"
    if start > now + timedelta(days=room.horizon_days):
        return "start", (
            f"{to_local_iso(start)} is beyond the booking horizon: this room can be booked up "
            f"to {room.horizon_days} days ahead"
        )
    step = room.step_minutes
    for name, t in (("start", start), ("end", end)):
        local = to_local(t)
        if local.second or local.microsecond or local.minute % step:
            return name, f"{name} {local.strftime('%H:%M:%S')} is not on a {step}-minute step"
    minutes = int((end - start).total_seconds() // 60)
    if minutes < room.min_minutes:
        return "end", f"the booking is {minutes} minutes; the room's minimum is {room.min_minutes}"
    if room.max_minutes is not None and minutes > room.max_minutes:
        return "end", f"the booking is {minutes} minutes; the room's maximum is {room.max_minutes}"
    day = to_local(start).date()
    last = to_local(end - timedelta(microseconds=1)).date()
    d = day
    while d <= last:
        closure = room.closure_on(d)
        if closure is not None:
            why = f" ({closure.reason})" if closure.reason else ""
            return "start", f"the room is closed on {d.isoformat()}{why}"
        d += timedelta(days=1)
    sessions = room.sessions(start - timedelta(days=1), end + timedelta(days=1))
    if not any(s <= start and end <= e for s, e in sessions):
        return "start", (
            f"{to_local_iso(start)} to {to_local_iso(end)} is outside the room's bookable "
            f"hours ({room.hours.text})"
        )
    return None


def _check_people(room: Room, people: int | None, layout: str | None) -> None:
    if people is None:
        room.max_people(layout)
        return
    if isinstance(people, bool) or not isinstance(people, int) or people < 1:
        raise InputError(
            f"people must be a whole number of at least 1, not {people!r}", field="people"
        )
    cap = room.max_people(layout)
    if cap is not None and people > cap:
        where = f" in the {layout} layout" if layout else ""
        raise InputError(
            f"{people} people is more than the room holds{where} ({cap})", field="people"
        )


def _block(room: Room, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    return start - timedelta(minutes=room.setup_minutes), end + timedelta(
        minutes=room.cleanup_minutes
    )


def expire_lapsed(session: Session, now: datetime, *, room_id: str | None = None) -> int:
    """Pending requests whose hold has lapsed become ``expired`` (inside the caller's transaction)."""
    stmt = update(B).where(B.status == "pending", B.hold_until.is_not(None), B.hold_until <= now)
    if room_id is not None:
        stmt = stmt.where(B.room_id == room_id)
    return int(session.execute(stmt.values(status="expired")).rowcount or 0)  # type: ignore[attr-defined]


def complete_ended(session: Session, now: datetime, *, room_id: str | None = None) -> int:
    """Confirmed bookings that have ended become ``completed``."""
    stmt = update(B).where(B.status == "confirmed", B.ends_at <= now)
    if room_id is not None:
        stmt = stmt.where(B.room_id == room_id)
    return int(session.execute(stmt.values(status="completed")).rowcount or 0)  # type: ignore[attr-defined]


def refresh_statuses(store: Store, *, now: datetime | None = None) -> dict[str, int]:
    """Expire lapsed holds and complete ended bookings, everywhere; returns the counts."""
    now = now or utcnow()
    with store.transaction() as session:
        return {"expired": expire_lapsed(session, now), "completed": complete_ended(session, now)}


def clashes_with(
    session: Session, room_id: str, block: tuple[datetime, datetime], *, exclude: str | None = None
) -> list[schema.Booking]:
    """Holding bookings of the room whose blocked time overlaps ``block``."""
    stmt = select(B).where(
        B.room_id == room_id,
        B.status.in_(HOLDING_STATUSES),
        B.block_starts_at < block[1],
        B.block_ends_at > block[0],
    )
    if exclude is not None:
        stmt = stmt.where(B.id != exclude)
    return list(session.scalars(stmt.order_by(B.block_starts_at)))


def _clash(start: datetime, end: datetime, other: schema.Booking) -> Clash:
    return Clash(
        start, end, "booked", other.id, other.block_starts_at, other.block_ends_at, other.status
    )


# --- recurrence ---------------------------------------------------------------------------------


def _occurrences(
    req: BookingRequest, start: datetime, end: datetime
) -> tuple[list[tuple[datetime, datetime] | Clash], str | None]:
    """Each occurrence's (start, end) (a Clash when its wall time does not exist) and the rule."""
    if not req.repeat:
        return [(start, end)], None
    rule = req.repeat.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[6:]
    upper = rule.upper()
    if "COUNT=" not in upper and "UNTIL=" not in upper:
        raise InputError("a recurrence needs an end: add COUNT=n or UNTIL=YYYYMMDD", field="repeat")
    first = to_local(start).replace(tzinfo=None)
    wall = to_local(end).replace(tzinfo=None) - first
    try:
        parsed = _rrule.rrulestr(rule, dtstart=first, ignoretz=True)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not an RFC 5545 rule: {exc}", field="repeat") from None
    limit = first + MAX_SERIES
    excluded: set[date] = set()
    for x in req.exceptions:
        try:
            excluded.add(x if isinstance(x, date) else date.fromisoformat(str(x).strip()))
        except ValueError:
            raise InputError(f"not a date (YYYY-MM-DD): {x!r}", field="exceptions") from None
    out: list[tuple[datetime, datetime] | Clash] = []
    for naive in parsed:
        if naive > limit:
            raise InputError(
                f"the series runs past {limit.date().isoformat()}: a recurring booking may run "
                "for at most 2 years",
                field="repeat",
            )
        if naive.date() in excluded:
            continue
        naive_end = naive + wall
        bad = next((t for t in (naive, naive_end) if local_kind(t) == "missing"), None)
        if bad is not None:
            approx = naive.replace(tzinfo=LONDON)
            out.append(
                Clash(
                    approx,
                    approx + wall,
                    f"{bad:%Y-%m-%d %H:%M} does not exist in Europe/London (the clocks go forward)",
                )
            )
            continue
        s = localise(naive, field="start", ambiguous=req.ambiguous or "earlier")
        e = localise(naive_end, field="end", ambiguous=req.ambiguous or "earlier")
        out.append((s, e))
    if not out:
        raise InputError("the recurrence gives no dates (all excepted?)", field="repeat")
    return out, rule


# --- requests -----------------------------------------------------------------------------------


def _validate_request(req: BookingRequest) -> tuple[str, datetime, datetime]:
    if not req.hirer_name or not req.hirer_name.strip():
        raise InputError("the hirer's name is needed", field="hirer")
    if len(req.hirer_name) > 200:
        raise InputError("the hirer's name is too long (200 characters at most)", field="hirer")
    if not req.email or not EMAIL.match(req.email.strip()):
        raise InputError(f"not an email address: {req.email!r}", field="email")
    category = parse_category(req.category)
    start = parse_when(req.start, field="start", ambiguous=req.ambiguous)
    end = parse_when(req.end, field="end", ambiguous=req.ambiguous)
    if end <= start:
        raise InputError(
            f"the end ({to_local_iso(end)}) must be after the start ({to_local_iso(start)})",
            field="end",
        )
    return category, start, end


def request_booking(
    store: Store,
    req: BookingRequest,
    *,
    now: datetime | None = None,
    hold: timedelta = DEFAULT_HOLD,
    actor: str = "public",
    mail: _mail.MailConfig | None = None,
    home: HomeArea | None = None,
) -> RequestResult:
    """Request a booking (or a series): checked, quoted and written ``pending``, or refused.

    Bad input raises :class:`InputError` naming the field; a clash raises
    :class:`BookingConflict` listing every clash (a series is all or nothing unless
    ``req.accept_free``). Nothing is written unless the request succeeds. ``home`` may be
    given to skip the postcode lookup (the caller resolved it).
    """
    now = now or utcnow()
    category, start, end = _validate_request(req)
    home = home if home is not None else home_area(store, req.postcode)
    hirer = PriceHirer(category, home.imd_decile, home.postcode, home.area_code)
    token = secrets.token_urlsafe(16)
    try:
        result = _request(store, req, category, start, end, hirer, home, now, hold, actor, token)
    except IntegrityError as exc:  # the database's own guard fired: a writer that skipped the lock
        if "overlap" not in str(exc.orig).lower() and "booking_no_overlap" not in str(exc.orig):
            raise
        raise BookingConflict(
            _clashes_now(store, req.room_id, start, end), note="another writer took the time first"
        ) from None
    _mail.deliver(store, mail, booking_ids=[b.id for b in result.bookings][:1])
    return result


def _clashes_now(store: Store, room_id: str, start: datetime, end: datetime) -> list[Clash]:
    with store.session() as session:
        _, room = load_room(session, room_id)
        return [
            _clash(start, end, o) for o in clashes_with(session, room_id, _block(room, start, end))
        ]


@dataclass
class _Plan:
    """A request checked and quoted against the room as read (outside the lock)."""

    room: Room
    fingerprint: tuple[Any, ...]
    rule: str | None
    slots: list[tuple[datetime, datetime, tuple[datetime, datetime], Quote]]
    problems: list[Clash]


def _fingerprint(row: schema.Room) -> tuple[Any, ...]:
    """The room's booking rules: if they change between the check and the lock, check again."""
    return (row.hours, row.closed, row.min_minutes, row.max_minutes, row.step_minutes,
            row.setup_minutes, row.cleanup_minutes, row.horizon_days, row.bookable,
            row.retired_at, row.capacity, row.layouts)  # fmt: skip


def _plan(
    session: Session,
    req: BookingRequest,
    start: datetime,
    end: datetime,
    hirer: PriceHirer,
    now: datetime,
) -> _Plan:
    row, room = load_room(session, req.room_id)
    if room.retired or not room.bookable:
        raise InputError(f"the room {room.name!r} is not taking bookings", field="room")
    _check_people(room, req.people, req.layout)
    card = read_card(session, room.id)
    occurrences, rule = _occurrences(req, start, end)
    slots: list[tuple[datetime, datetime, tuple[datetime, datetime], Quote]] = []
    problems: list[Clash] = []
    for occ in occurrences:
        if isinstance(occ, Clash):
            problems.append(occ)
            continue
        s, e = occ
        fault = check_slot(room, s, e, now)
        if fault is not None:
            if rule is None or fault[0] != "start":
                raise InputError(fault[1], field=fault[0])
            problems.append(Clash(s, e, fault[1]))
            continue
        slots.append((s, e, _block(room, s, e), compute_quote(card, s, e, hirer, req.extras)))
    return _Plan(room, _fingerprint(row), rule, slots, problems)


def _request(
    store: Store,
    req: BookingRequest,
    category: str,
    start: datetime,
    end: datetime,
    hirer: PriceHirer,
    home: HomeArea,
    now: datetime,
    hold: timedelta,
    actor: str,
    token: str,
) -> RequestResult:
    # checks and quotes first, without the lock (the quote is the rate card's as read now) ...
    with store.session() as read:
        plan = _plan(read, req, start, end, hirer, now)
    # ... then the lock: only the clash check and the writes are serialised
    with store.transaction() as session:
        row = session.scalars(
            select(schema.Room).where(schema.Room.id == req.room_id).with_for_update()
        ).first()
        if row is None or _fingerprint(row) != plan.fingerprint:  # the room changed meanwhile
            plan = _plan(session, req, start, end, hirer, now)
        room = plan.room
        expire_lapsed(session, now, room_id=room.id)
        series: schema.BookingSeries | None = None
        if plan.rule is not None:
            series = schema.BookingSeries(
                id=new_uuid(), room_id=room.id, rule=plan.rule,
                exdates=[str(x) for x in req.exceptions] or None,
            )  # fmt: skip
            session.add(series)
        problems = list(plan.problems)
        made: list[schema.Booking] = []
        quotes: list[tuple[str, Quote]] = []
        token_hash = _hash(token)
        for s, e, block, quote in plan.slots:
            others = clashes_with(session, room.id, block)  # autoflush: sees this series' dates
            if others:
                problems.extend(_clash(s, e, o) for o in others)
                continue
            b = schema.Booking(
                id=new_uuid(),
                created_at=now,
                room_id=room.id,
                series_id=series.id if series else None,
                starts_at=s,
                ends_at=e,
                block_starts_at=block[0],
                block_ends_at=block[1],
                status="pending",
                hold_until=min(now + hold, s),
                hirer_name=req.hirer_name.strip(),
                hirer_email=req.email.strip(),
                hirer_organisation=(req.organisation or "").strip() or None,
                hirer_postcode=home.postcode,
                purpose=(req.purpose or "").strip() or None,
                token_hash=token_hash,
                hirer_category=category,
                hirer_area_code=home.area_code,
                hirer_imd_decile=home.imd_decile,
                hirer_imd_release=home.imd_release,
                people=req.people,
                layout=req.layout,
                extras=list(dict.fromkeys(req.extras)) or None,
                quote=quote.to_dict(),
                list_pence=quote.list_pence,
                concession_pence=quote.concession_pence,
                price_pence=quote.total_pence,
                concession=quote.concession,
            )
            session.add(b)
            made.append(b)
            quotes.append((to_local(s).date().isoformat(), quote))
        problems.sort(key=lambda c: (c.start, c.busy_from or c.start))
        if problems and (not req.accept_free or not made):
            note = None
            if plan.rule is not None and made:
                note = f"{len(made)} of the dates are free: ask again accepting the free ones"
            raise BookingConflict(problems, note=note)
        views = tuple(BookingView.of(b, room.name) for b in made)
        for b in made:
            session.add(schema.AuditEntry(actor=actor, action="create", entity="booking", entity_id=b.id,
                                          changes={"status": [None, "pending"]}))  # fmt: skip
        _mail.queue(session, "received", views, location=room.location_name, token=token)
        quote_json = quotes[0][1].to_dict() if plan.rule is None else Quote.combine(quotes)
        return RequestResult(
            id=series.id if series else made[0].id,
            status="pending",
            quote=quote_json,
            bookings=views,
            series_id=series.id if series else None,
            skipped=tuple(problems),
            token=token,
        )


# --- decisions ----------------------------------------------------------------------------------


def _targets(session: Session, ident: str) -> list[schema.Booking]:
    one = session.get(B, ident)
    if one is not None:
        return [one]
    rows = list(session.scalars(select(B).where(B.series_id == ident).order_by(B.starts_at)))
    if not rows:
        raise NotFound(f"no booking or series with id {ident!r}")
    return rows


def _decide(
    store: Store,
    ident: str,
    action: Literal["confirm", "decline", "cancel"],
    *,
    actor: str,
    now: datetime | None,
    note: str | None,
    by: Literal["hirer", "staff"] = "staff",
    token: str | None = None,
    mail: _mail.MailConfig | None = None,
) -> list[BookingView]:
    now = now or utcnow()
    try:
        with store.transaction() as session:
            # lock the room first (the same order as requests), then work on its bookings
            probe = _targets(session, ident)
            _row, room = load_room(session, probe[0].room_id, lock=True)
            expire_lapsed(session, now, room_id=room.id)
            complete_ended(session, now, room_id=room.id)
            session.expire_all()
            targets = _targets(session, ident)
            if token is not None and any(
                t.token_hash is None or not secrets.compare_digest(t.token_hash, _hash(token))
                for t in targets
            ):
                raise Forbidden("that cancellation code does not match the booking")
            changed: list[schema.Booking] = []
            for b in targets:
                before = b.status
                if action == "confirm":
                    if b.status == "confirmed":
                        continue
                    if len(targets) > 1 and b.status in ("declined", "cancelled", "completed"):
                        continue
                    if b.status not in ("pending", "expired"):
                        raise Conflict(
                            f"booking {b.id} is {b.status}: only a pending request can be confirmed"
                        )
                    if b.starts_at <= now:
                        raise Conflict(
                            f"booking {b.id} started at {to_local_iso(b.starts_at)}: too late to confirm"
                        )
                    if b.status == "expired":
                        others = clashes_with(
                            session, room.id, (b.block_starts_at, b.block_ends_at), exclude=b.id
                        )
                        if others:
                            raise BookingConflict([_clash(b.starts_at, b.ends_at, o) for o in others],
                                                  note=f"booking {b.id}'s hold lapsed and the time was taken")  # fmt: skip
                    b.status = "confirmed"
                    b.hold_until = None
                elif action == "decline":
                    if b.status == "declined" or (
                        len(targets) > 1 and b.status not in ("pending", "expired")
                    ):
                        continue
                    if b.status not in ("pending", "expired"):
                        raise Conflict(
                            f"booking {b.id} is {b.status}: only a pending request can be declined"
                        )
                    b.status = "declined"
                    b.hold_until = None
                else:
                    if b.status == "cancelled" or (
                        len(targets) > 1 and b.status not in ("pending", "confirmed")
                    ):
                        continue
                    if b.status not in ("pending", "confirmed"):
                        raise Conflict(
                            f"booking {b.id} is {b.status}: only a pending or confirmed booking can be cancelled"
                        )
                    fee, rule = cancellation_fee(room, b, by=by, now=now)
                    b.status = "cancelled"
                    b.hold_until = None
                    b.cancelled_at = now
                    b.cancelled_by = by
                    b.cancel_fee_pence = fee
                    b.cancel_rule = rule
                if action in ("confirm", "decline"):
                    b.decided_at = now
                    b.decided_by = actor
                    b.decision_note = note
                elif note:
                    b.decision_note = note
                changed.append(b)
                session.add(schema.AuditEntry(actor=actor, action=action, entity="booking", entity_id=b.id,
                                              changes={"status": [before, b.status]}))  # fmt: skip
            session.flush()
            views = [BookingView.of(b, room.name) for b in changed]
            if views:
                kind = {"confirm": "confirmed", "decline": "declined", "cancel": "cancelled"}[
                    action
                ]
                _mail.queue(session, kind, views, location=room.location_name)
            all_views = [BookingView.of(b, room.name) for b in targets]
    except IntegrityError as exc:
        if "overlap" not in str(exc.orig).lower():
            raise
        raise BookingConflict([], note="the room is already held for that time") from None
    if views:
        _mail.deliver(store, mail, booking_ids=[views[0].id])
    return all_views


def cancellation_fee(room: Room, b: schema.Booking, *, by: str, now: datetime) -> tuple[int, str]:
    """The fee for cancelling ``b`` now and the rule that gave it (pence, words)."""
    rule = cancellation_rule_text(room.cancel_free_days, room.cancel_fee_percent)
    if by == "staff":
        return 0, "Cancelled by the centre: no fee."
    if b.status == "pending":
        return 0, "A request not yet confirmed: no fee. " + rule
    if b.starts_at - now >= timedelta(days=room.cancel_free_days):
        return 0, rule
    fee = ((b.price_pence or 0) * room.cancel_fee_percent + 50) // 100
    return fee, rule


def confirm_booking(store: Store, ident: str, *, actor: str = "cli", note: str | None = None,
                    now: datetime | None = None, mail: _mail.MailConfig | None = None) -> list[BookingView]:  # fmt: skip
    """Staff confirm a pending request (a booking id, or a series id: all its pending dates)."""
    return _decide(store, ident, "confirm", actor=actor, now=now, note=note, mail=mail)


def decline_booking(store: Store, ident: str, *, actor: str = "cli", note: str | None = None,
                    now: datetime | None = None, mail: _mail.MailConfig | None = None) -> list[BookingView]:  # fmt: skip
    """Staff decline a pending request (frees the time)."""
    return _decide(store, ident, "decline", actor=actor, now=now, note=note, mail=mail)


def cancel_booking(
    store: Store,
    ident: str,
    *,
    by: Literal["hirer", "staff"] = "staff",
    token: str | None = None,
    actor: str = "cli",
    note: str | None = None,
    now: datetime | None = None,
    mail: _mail.MailConfig | None = None,
) -> list[BookingView]:
    """Cancel a booking or series. ``by="hirer"`` applies the room's cancellation rule (a fee
    when late); the hirer acting alone must give their ``token``. Staff cancel with no fee."""
    if by not in ("hirer", "staff"):
        raise InputError(f"by must be 'hirer' or 'staff', not {by!r}", field="by")
    return _decide(
        store, ident, "cancel", actor=actor, now=now, note=note, by=by, token=token, mail=mail
    )


# --- reading ------------------------------------------------------------------------------------


def get_booking(store: Store, booking_id: str) -> BookingView:
    """One booking (staff view)."""
    with store.session() as session:
        b = session.get(B, booking_id)
        if b is None:
            raise NotFound(f"no booking with id {booking_id!r}")
        room = session.get(schema.Room, b.room_id)
        return BookingView.of(b, room.name if room else None)


def list_bookings(
    store: Store,
    *,
    room_id: str | None = None,
    status: str | Sequence[str] | None = None,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[BookingView]:
    """Bookings (staff view) overlapping ``[start, end)``, by start time; statuses refreshed first."""
    statuses = [status] if isinstance(status, str) else list(status or [])
    for s in statuses:
        if s not in BOOKING_STATUSES:
            raise InputError(
                f"unknown status {s!r} (one of {', '.join(BOOKING_STATUSES)})", field="status"
            )
    lo = parse_day_or_time(start, field="from") if start is not None else None
    hi = parse_day_or_time(end, field="to") if end is not None else None
    if lo is not None and hi is not None and hi <= lo:
        raise InputError("--to must be after --from", field="to")
    refresh_statuses(store, now=now)
    with store.session() as session:
        if room_id is not None and session.get(schema.Room, room_id) is None:
            raise NotFound(f"no room with id {room_id!r}")
        stmt = select(B, schema.Room.name).join(schema.Room, schema.Room.id == B.room_id)
        if room_id is not None:
            stmt = stmt.where(B.room_id == room_id)
        if statuses:
            stmt = stmt.where(B.status.in_(statuses))
        if lo is not None:
            stmt = stmt.where(B.ends_at > lo)
        if hi is not None:
            stmt = stmt.where(B.starts_at < hi)
        stmt = stmt.order_by(B.starts_at, B.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [BookingView.of(b, name) for b, name in session.execute(stmt).all()]


def holding_blocks(
    session: Session, room_id: str, lo: datetime, hi: datetime, *, now: datetime
) -> list[tuple[datetime, datetime]]:
    """Blocked stretches ``[block_start, block_end)`` of the room's holding bookings over
    ``[lo, hi)``, lapsed holds left out (read-only: nothing is written)."""
    rows = session.execute(
        select(B.block_starts_at, B.block_ends_at)
        .where(
            B.room_id == room_id,
            B.status.in_(HOLDING_STATUSES),
            B.block_ends_at > lo,
            B.block_starts_at < hi,
            or_(B.status != "pending", B.hold_until.is_(None), B.hold_until > now),
        )
        .order_by(B.block_starts_at)
    ).all()
    return [(r[0], r[1]) for r in rows]


__all__ = [
    "DEFAULT_HOLD",
    "MAX_SERIES",
    "BookingRequest",
    "HomeArea",
    "RequestResult",
    "cancel_booking",
    "cancellation_fee",
    "check_slot",
    "clashes_with",
    "complete_ended",
    "confirm_booking",
    "decline_booking",
    "expire_lapsed",
    "get_booking",
    "holding_blocks",
    "home_area",
    "list_bookings",
    "refresh_statuses",
    "request_booking",
]
