"""Stories, routes and walks.

People and ties live in ``network.py``, rooms and bookings in ``bookings.py``, commissioning
cycles in ``commissioning.py``.

Features for these come in later issues; the tables are here so the whole domain model of
DESIGN.md section 3 has a home from the first migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from strengthmap.storage.schema.base import Base, utcnow, uuid_pk
from strengthmap.storage.types import Geometry


class Story(Base):
    """A story tied to places and assets, with its author's consent and a moderation state."""

    __tablename__ = "story"

    id: Mapped[str] = uuid_pk()
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    consent: Mapped[str] = mapped_column(String(16), default="private")
    moderation: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending|approved|rejected
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    themes: Mapped[list[Any] | None] = mapped_column()
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StoryLink(Base):
    """A story's link to an area, an asset or a walk."""

    __tablename__ = "story_link"
    __table_args__ = (UniqueConstraint("story_id", "target_kind", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[str] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # area | service | location | walk
    target_id: Mapped[str] = mapped_column(String(36))


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


__all__ = [
    "Route",
    "Story",
    "StoryLink",
]
