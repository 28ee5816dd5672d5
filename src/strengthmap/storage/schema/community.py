"""People and ties, rooms and bookings, routes and walks, and commissioning cycles.

Features for these come in later issues; the tables are here so the whole domain model of
DESIGN.md section 3 has a home from the first migration.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from strengthmap.storage.schema.base import Base, utcnow, uuid_pk
from strengthmap.storage.types import Geometry

#: The kinds of node a tie can join.
TIE_NODE_KINDS = ("person", "organization", "service", "location")
#: Consent levels of a person's record or a story, from most to least private.
CONSENT_LEVELS = ("private", "internal", "public")


class Person(Base):
    """A community builder, connector or resident; private by default, published only with consent."""

    __tablename__ = "person"

    id: Mapped[str] = uuid_pk()
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))  # e.g. "community builder"
    bio: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(64))
    consent: Mapped[str] = mapped_column(String(16), default="private")
    consent_recorded_at: Mapped[datetime | None] = mapped_column()
    home_area_code: Mapped[str | None] = mapped_column(String(9))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class Tie(Base):
    """A typed, dated edge between two of person / organisation / service / location."""

    __tablename__ = "tie"

    id: Mapped[str] = uuid_pk()
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(36), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(36), index=True)
    tie_type: Mapped[str] = mapped_column(String(32))  # e.g. "volunteers_at", "refers_to", "runs"
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    started: Mapped[date | None] = mapped_column(Date)
    ended: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[str] = mapped_column(String(16), default="internal")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Room(Base):
    """A bookable space in a location: capacity, accessibility, price rules and concessions."""

    __tablename__ = "room"

    id: Mapped[str] = uuid_pk()
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[int | None] = mapped_column(Integer)
    accessibility: Mapped[str | None] = mapped_column(Text)
    step_free: Mapped[bool | None] = mapped_column(Boolean)
    hourly_price_pence: Mapped[int | None] = mapped_column(Integer)  # standard rate, GBP pence
    price_rules: Mapped[list[Any] | None] = (
        mapped_column()
    )  # concessions: [{"who": ..., "percent_off": ...}]
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None] = mapped_column()


class Booking(Base):
    """A hire of a room for a time range (UTC). Two confirmed bookings of one room never overlap.

    SQLite enforces this in the booking code inside one IMMEDIATE transaction; PostgreSQL adds an
    exclusion constraint when the bookings feature lands.
    """

    __tablename__ = "booking"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[str] = uuid_pk()
    room_id: Mapped[str] = mapped_column(ForeignKey("room.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    hirer_name: Mapped[str] = mapped_column(String(200))
    hirer_email: Mapped[str | None] = mapped_column(String(300))
    purpose: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(
        String(16), default="requested"
    )  # requested|confirmed|cancelled
    price_pence: Mapped[int | None] = mapped_column(Integer)
    concession: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Route(Base):
    """An ordered line (bus route, walk or drawn path) kept so its profile can be shown again."""

    __tablename__ = "route"

    id: Mapped[str] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="path")  # bus | walk | path
    ref: Mapped[str | None] = mapped_column(String(32))
    waypoints: Mapped[list[Any] | None] = mapped_column()  # [{"name", "lon", "lat"}]
    geometry: Mapped[BaseGeometry | None] = mapped_column(Geometry())
    planned_for: Mapped[datetime | None] = mapped_column()  # walks: when the walk happens
    briefing: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Commission(Base):
    """A commissioning cycle (proportionate-universalism allocation) and its budget."""

    __tablename__ = "commission"

    id: Mapped[str] = uuid_pk()
    title: Mapped[str] = mapped_column(String(300))
    budget_pence: Mapped[int | None] = mapped_column(Integer)
    place: Mapped[str | None] = mapped_column(String(100))
    method: Mapped[dict[str, Any] | None] = (
        mapped_column()
    )  # allocator parameters, shown with results
    allocation: Mapped[list[Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CommissionStage(Base):
    """A stage of a commissioning cycle and the community involvement at it (co-production log)."""

    __tablename__ = "commission_stage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commission_id: Mapped[str] = mapped_column(
        ForeignKey("commission.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(32))  # analyse | plan | do | review
    involvement: Mapped[str | None] = mapped_column(String(32))  # inform|consult|involve|co-produce
    note: Mapped[str | None] = mapped_column(Text)
    happened_on: Mapped[date | None] = mapped_column(Date)


__all__ = [
    "CONSENT_LEVELS",
    "TIE_NODE_KINDS",
    "Booking",
    "Commission",
    "CommissionStage",
    "Person",
    "Room",
    "Route",
    "Tie",
]
