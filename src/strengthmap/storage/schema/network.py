"""The network of people and organisations: people, the directory records taking part, and ties.

A *node* of the network is a ``person`` or a directory record (``organization``, ``service``,
``location``); a ``network_member`` row gives a directory record what the network needs beyond
the directory (its home area and its consent in the network). A ``tie`` joins any two nodes,
with a type, a weight, start and end dates and its own consent. Nothing is ever deleted:
``retired_at`` withdraws a record (every read leaves it out) and the audit trail
(``audit_entry``) says who changed what and when.

Consent levels: ``private`` (only the editor who added the record, and admins), ``internal``
(signed-in users), ``public`` (anyone). ``added_by`` is the actor who added the record (a user's
email, or ``cli``); it is what makes a private record visible to its editor.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from strengthmap.storage.schema.base import Base, utcnow, uuid_pk

#: The kinds of node a tie can join.
TIE_NODE_KINDS = ("person", "organization", "service", "location")
#: Consent levels of a person's record, a tie or a story, from most to least private.
CONSENT_LEVELS = ("private", "internal", "public")
#: The tie types every network knows; ``custom`` carries its own label (``type_label``).
TIE_TYPES = ("runs", "volunteers_at", "refers_to", "funds", "meets_with", "partners_with", "custom")


class Person(Base):
    """A community builder, connector, resident or member of staff; private by default,
    published only with consent (``consent`` and the date it was recorded)."""

    __tablename__ = "person"

    id: Mapped[str] = uuid_pk()
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))  # e.g. "community builder"
    bio: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(300))  # never exported or shown publicly
    phone: Mapped[str | None] = mapped_column(String(64))  # never exported or shown publicly
    consent: Mapped[str] = mapped_column(String(16), default="private")
    consent_recorded_on: Mapped[date | None] = mapped_column(Date)
    home_area_code: Mapped[str | None] = mapped_column(String(9))  # LSOA code
    added_by: Mapped[str | None] = mapped_column(String(300))  # actor: user email or "cli"
    source: Mapped[str | None] = mapped_column(String(200))  # "manual", "csv:<file>", "kumu:<file>"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class NetworkMember(Base):
    """A directory record (organisation, service or location) taking part in the network: its
    home area when the record's own place does not say, and its consent in the network."""

    __tablename__ = "network_member"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the directory record's id
    kind: Mapped[str] = mapped_column(String(16))  # organization | service | location
    area_code: Mapped[str | None] = mapped_column(String(9))  # LSOA code
    consent: Mapped[str] = mapped_column(String(16), default="public")
    consent_recorded_on: Mapped[date | None] = mapped_column(Date)
    added_by: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class Tie(Base):
    """A typed, dated edge between two of person / organisation / service / location.

    ``source`` -> ``target`` is the direction of the type ("Teresa *volunteers at* the
    centre"); ``mutual`` ties (``meets_with``, ``partners_with``, Kumu's mutual or undirected
    connections) run both ways in a directed analysis. ``ended`` is the last day of the tie.
    """

    __tablename__ = "tie"

    id: Mapped[str] = uuid_pk()
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(36), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[str] = mapped_column(String(36), index=True)
    tie_type: Mapped[str] = mapped_column(String(32))  # one of TIE_TYPES
    type_label: Mapped[str | None] = mapped_column(String(64))  # the name of a custom type
    mutual: Mapped[bool] = mapped_column(Boolean, default=False)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    started: Mapped[date | None] = mapped_column(Date)
    ended: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    consent: Mapped[str] = mapped_column(String(16), default="internal")
    consent_recorded_on: Mapped[date | None] = mapped_column(Date)
    added_by: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


__all__ = ["CONSENT_LEVELS", "TIE_NODE_KINDS", "TIE_TYPES", "NetworkMember", "Person", "Tie"]
