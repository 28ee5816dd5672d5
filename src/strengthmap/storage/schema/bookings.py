"""Rooms, their rate cards, bookings (single and recurring) and the booking messages outbox.

Times are stored in UTC (:class:`UTCDateTime`: aware datetimes in, aware UTC datetimes out, on
both backends). A booking keeps its own ``block_starts_at`` / ``block_ends_at`` (its times widened
by the room's set-up and clean-up buffers when it was made), so that "two holding bookings of a
room never overlap, buffers included" is a condition on one row pair that the database itself
can enforce: an exclusion constraint on PostgreSQL and triggers on SQLite (migration 0007).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column

from strengthmap.storage.schema.base import Base, utcnow, uuid_pk

#: Booking statuses that hold the room (no two of these overlap in one room, buffers included).
HOLDING_STATUSES = ("pending", "confirmed", "completed")
#: Every booking status: a request is ``pending`` (holding the slot until ``hold_until``), then
#: ``confirmed`` or ``declined`` by staff, or ``expired`` when nobody decided in time;
#: ``cancelled`` by the hirer or staff; ``completed`` once a confirmed booking has ended.
BOOKING_STATUSES = ("pending", "confirmed", "declined", "cancelled", "expired", "completed")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC: timestamptz on PostgreSQL, UTC text on SQLite.

    Aware datetimes are converted to UTC on the way in (naive ones are refused: a wall time
    without a zone is ambiguous); values come back aware, in UTC, on both backends.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a zone (stored in UTC)")
        utc = value.astimezone(UTC)
        # SQLite keeps text: one format, no offset, so that text order is time order
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Room(Base):
    """A bookable space in a directory location: capacity, layouts, facilities, hours, rules.

    ``hours`` is a list of schedules (``strengthmap.directory.schedules.Recurrence`` fields, RFC
    5545 recurrence in Europe/London); ``hours_text`` is what the manager typed. ``closed`` is a
    list of ``{"from": date, "to": date, "reason": text}`` (inclusive local dates).
    """

    __tablename__ = "room"

    id: Mapped[str] = uuid_pk()
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[int | None] = mapped_column(Integer)
    accessibility: Mapped[str | None] = mapped_column(Text)  # free text, shown with facilities
    layouts: Mapped[list[Any] | None] = mapped_column()  # [{"name", "capacity"}]
    facilities: Mapped[list[Any] | None] = mapped_column()  # ["kitchen", "hearing_loop", ...]
    photos: Mapped[list[Any] | None] = mapped_column()  # [{"url", "alt"}]
    hours: Mapped[list[Any] | None] = mapped_column()  # [Recurrence fields]
    hours_text: Mapped[str | None] = mapped_column(Text)
    closed: Mapped[list[Any] | None] = mapped_column()  # [{"from", "to", "reason"}]
    min_minutes: Mapped[int] = mapped_column(Integer, default=30)
    max_minutes: Mapped[int | None] = mapped_column(Integer)
    step_minutes: Mapped[int] = mapped_column(Integer, default=15)
    setup_minutes: Mapped[int] = mapped_column(Integer, default=0)
    cleanup_minutes: Mapped[int] = mapped_column(Integer, default=0)
    horizon_days: Mapped[int] = mapped_column(Integer, default=365)
    cancel_free_days: Mapped[int] = mapped_column(Integer, default=7)
    cancel_fee_percent: Mapped[int] = mapped_column(Integer, default=50)
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class RoomRate(Base):
    """One line of a room's rate card: a hirer category's price per hour, half day and day."""

    __tablename__ = "room_rate"
    __table_args__ = (
        CheckConstraint(
            "per_hour_pence >= 0 AND (per_half_day_pence IS NULL OR per_half_day_pence >= 0) "
            "AND (per_day_pence IS NULL OR per_day_pence >= 0)",
            name="prices_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("room.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    per_hour_pence: Mapped[int] = mapped_column(Integer)
    per_half_day_pence: Mapped[int | None] = mapped_column(Integer)
    per_day_pence: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoomConcession(Base):
    """A concession on a room's rate card: percent or fixed amount off, for whom it holds."""

    __tablename__ = "room_concession"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("room.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    categories: Mapped[list[Any] | None] = mapped_column()  # None: every category
    percent_off: Mapped[int | None] = mapped_column(Integer)
    amount_off_pence: Mapped[int | None] = mapped_column(Integer)
    imd_decile_max: Mapped[int | None] = mapped_column(Integer)
    based_in: Mapped[list[Any] | None] = mapped_column()  # postcode districts/sectors, area codes
    applies_to: Mapped[str] = mapped_column(String(8), default="hire")  # hire | all
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoomExtra(Base):
    """An extra a hirer can add to a booking (kitchen, projector): a price per booking or hour."""

    __tablename__ = "room_extra"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[str] = mapped_column(ForeignKey("room.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    price_pence: Mapped[int] = mapped_column(Integer)
    per: Mapped[str] = mapped_column(String(8), default="booking")  # booking | hour
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BookingSeries(Base):
    """A recurring request: its RFC 5545 rule (in Europe/London) and exception dates."""

    __tablename__ = "booking_series"

    id: Mapped[str] = uuid_pk()
    room_id: Mapped[str] = mapped_column(ForeignKey("room.id"), index=True)
    rule: Mapped[str] = mapped_column(Text)
    exdates: Mapped[list[Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Booking(Base):
    """A hire of a room for a time range (UTC), with its hirer, quote and status.

    Two holding bookings (``HOLDING_STATUSES``) of one room never overlap, buffers included:
    ``[block_starts_at, block_ends_at)`` is the booking widened by the room's set-up and
    clean-up time. The library checks and writes under one lock (SQLite ``BEGIN IMMEDIATE``,
    PostgreSQL a row lock on the room); the database refuses any writer that skips it
    (PostgreSQL exclusion constraint, SQLite triggers; migration 0007).
    """

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(
            "block_starts_at <= starts_at AND block_ends_at >= ends_at", name="block_covers"
        ),
        Index("ix_booking_room_block", "room_id", "block_ends_at"),
    )

    id: Mapped[str] = uuid_pk()
    room_id: Mapped[str] = mapped_column(ForeignKey("room.id"), index=True)
    series_id: Mapped[str | None] = mapped_column(ForeignKey("booking_series.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    block_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    block_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the hirer (personal data: staff only; anonymised after the retention period)
    hirer_name: Mapped[str] = mapped_column(String(200))
    hirer_email: Mapped[str | None] = mapped_column(String(300))
    hirer_organisation: Mapped[str | None] = mapped_column(String(300))
    hirer_postcode: Mapped[str | None] = mapped_column(String(8))
    purpose: Mapped[str | None] = mapped_column(Text)
    token_hash: Mapped[str | None] = mapped_column(String(64))
    # kept after anonymisation (the equity report)
    hirer_category: Mapped[str] = mapped_column(String(16), default="resident")
    hirer_area_code: Mapped[str | None] = mapped_column(String(9))
    hirer_imd_decile: Mapped[int | None] = mapped_column(Integer)
    hirer_imd_release: Mapped[int | None] = mapped_column(Integer)
    people: Mapped[int | None] = mapped_column(Integer)
    layout: Mapped[str | None] = mapped_column(String(100))
    extras: Mapped[list[Any] | None] = mapped_column()
    quote: Mapped[dict[str, Any] | None] = mapped_column()
    list_pence: Mapped[int | None] = mapped_column(Integer)
    concession_pence: Mapped[int | None] = mapped_column(Integer)
    price_pence: Mapped[int | None] = mapped_column(Integer)  # the charge
    concession: Mapped[str | None] = mapped_column(String(200))  # the concession's name
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(300))
    decision_note: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(16))  # hirer | staff
    cancel_fee_pence: Mapped[int | None] = mapped_column(Integer)
    cancel_rule: Mapped[str | None] = mapped_column(Text)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BookingMessage(Base):
    """A message to a hirer (request received, confirmed, declined, cancelled).

    Every message is written here in the booking's own transaction (the outbox); when SMTP is
    configured it is sent after the commit and ``sent_at`` set, otherwise staff see it unsent.
    """

    __tablename__ = "booking_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("booking.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # received | confirmed | declined | cancelled
    to_addr: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


__all__ = [
    "BOOKING_STATUSES",
    "HOLDING_STATUSES",
    "Booking",
    "BookingMessage",
    "BookingSeries",
    "Room",
    "RoomConcession",
    "RoomExtra",
    "RoomRate",
    "UTCDateTime",
]
