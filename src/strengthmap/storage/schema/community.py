"""Routes and walks kept so their profile can be shown again.

People and ties live in ``network.py``, rooms and bookings in ``bookings.py``, stories in
``stories.py``, commissioning cycles in ``commissioning.py``.

Features for these come in later issues; the tables are here so the whole domain model of
DESIGN.md section 3 has a home from the first migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from strengthmap.storage.schema.base import Base, utcnow, uuid_pk
from strengthmap.storage.types import Geometry


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
]
