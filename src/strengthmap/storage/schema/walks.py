"""Walks: the routable walking network built from OSM ways, saved walks, the areas they cross, notes.

``walk_network`` keeps each built network whole (its node, edge and vertex arrays as one
compressed ``.npz`` blob, read in one go: a planner never reads a node on its own) with its
source file's SHA-256, licence and build report; loading a newer extract retires the older row,
never deletes it. ``walk`` is a walk saved with its plan; ``walk_area`` lists the areas its path
crosses (so walks are listed per area); ``walk_note`` holds what was seen ("what's strong"),
private to editors unless marked public.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from strengthmap.storage.schema.base import Base, utcnow, uuid_pk
from strengthmap.storage.types import Geometry


class WalkNetwork(Base):
    """A pedestrian graph built from one OSM extract (``strengthmap.walks.network``)."""

    __tablename__ = "walk_network"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))  # the source file's name
    source_file: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(16))  # geojson | osm | pbf
    licence: Mapped[str] = mapped_column(String(100))
    attribution: Mapped[str] = mapped_column(Text)
    builder_version: Mapped[int] = mapped_column(Integer)
    nodes: Mapped[int] = mapped_column(Integer)
    edges: Mapped[int] = mapped_column(Integer)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    report: Mapped[dict[str, Any]] = mapped_column()  # the build report (rules, pieces dropped)
    arrays: Mapped[bytes] = mapped_column(LargeBinary)  # np.savez_compressed of the graph
    built_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class Walk(Base):
    """A walk kept with its plan (the ``plan_walk`` JSON), when it happens and who took part."""

    __tablename__ = "walk"
    __table_args__ = (
        Index("ix_walk_path_gist", "path", postgresql_using="gist").ddl_if(dialect="postgresql"),
    )

    id: Mapped[str] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime | None] = mapped_column(index=True)  # aware; Europe/London shown
    leader: Mapped[str | None] = mapped_column(String(200))  # personal: editors only
    participants: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="plan")  # plan | gpx
    plan: Mapped[dict[str, Any]] = mapped_column()
    path: Mapped[BaseGeometry | None] = mapped_column(Geometry())
    length_m: Mapped[float] = mapped_column(Float)
    duration_min: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class WalkArea(Base):
    """An area a saved walk's path crosses (LSOA of the plan's IMD release, MSOA 2011)."""

    __tablename__ = "walk_area"
    __table_args__ = (UniqueConstraint("walk_id", "level", "vintage", "area_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    walk_id: Mapped[str] = mapped_column(ForeignKey("walk.id"), index=True)
    level: Mapped[str] = mapped_column(String(8))
    vintage: Mapped[int] = mapped_column(Integer)
    area_code: Mapped[str] = mapped_column(String(9), index=True)
    first_m: Mapped[float] = mapped_column(Float)  # where along the path it is first reached


class WalkNote(Base):
    """What the walkers saw ("what's strong"): private to editors unless ``public``."""

    __tablename__ = "walk_note"

    id: Mapped[str] = uuid_pk()
    walk_id: Mapped[str] = mapped_column(ForeignKey("walk.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    theme: Mapped[str | None] = mapped_column(String(100))
    author: Mapped[str | None] = mapped_column(String(300))  # personal: editors only
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


__all__ = ["Walk", "WalkArea", "WalkNetwork", "WalkNote"]
