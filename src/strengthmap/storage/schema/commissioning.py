"""Commissioning cycles, the stages they pass through, the community involvement at each, and
where each directory source's data is complete (``source_coverage``).

Migration 0008 shapes these tables (``commission`` and ``commission_stage`` were placeholders in
0001, in ``community.py``). Nothing here is ever deleted: commissions and involvement events are
retired (``retired_at``), a newer coverage record retires the older one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from strengthmap.storage.schema.base import Base, utcnow, uuid_pk
from strengthmap.storage.types import Geometry

#: The stages of a commissioning cycle, in order (review leads back to analyse need).
COMMISSION_STAGES = ("analyse_need", "plan", "design_procure", "deliver", "review")
#: How residents were involved.
INVOLVEMENT_METHODS = ("walk", "story_circle", "workshop", "survey", "co_design_session")


class Commission(Base):
    """A commissioning cycle: what is bought, with what budget, for which areas, by whom, and
    where it stands (``stage``). ``public``: shown on the public pages (only the involvement
    marked public, never the owner's account)."""

    __tablename__ = "commission"

    id: Mapped[str] = uuid_pk()
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    # 64-bit on PostgreSQL; SQLite's INTEGER holds 64 bits already (migration 0008)
    budget_pence: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    place: Mapped[str | None] = mapped_column(String(100))
    areas: Mapped[list[Any] | None] = mapped_column()  # area codes (LSOA, MSOA or LAD)
    owner: Mapped[str | None] = mapped_column(String(300))  # the owning account's email
    stage: Mapped[str] = mapped_column(
        String(32), default="analyse_need", server_default="analyse_need"
    )
    cycle: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    method: Mapped[dict[str, Any] | None] = mapped_column()  # allocator options, shown with results
    allocation: Mapped[list[Any] | None] = mapped_column()  # per area: code, allocation_pence
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime | None] = mapped_column()
    retired_at: Mapped[datetime | None] = mapped_column()


class CommissionStage(Base):
    """One stay of a commission in one stage: entered ``started_on``, left ``ended_on`` (null
    while it is there). ``cycle`` counts the turns of the cycle (review -> analyse need)."""

    __tablename__ = "commission_stage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commission_id: Mapped[str] = mapped_column(
        ForeignKey("commission.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[str] = mapped_column(String(32))
    cycle: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InvolvementEvent(Base):
    """Residents involved at a stage: when, how, how many, which groups, the areas and IMD
    deciles they came from, what they said and what changed because of it. ``public``: may be
    shown on the commission's "you said, we did" page."""

    __tablename__ = "involvement_event"

    id: Mapped[str] = uuid_pk()
    commission_id: Mapped[str] = mapped_column(
        ForeignKey("commission.id", ondelete="CASCADE"), index=True
    )
    held_on: Mapped[date] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(32))
    residents: Mapped[int] = mapped_column(Integer, default=0)
    groups: Mapped[list[Any] | None] = mapped_column()  # names of groups / organisations
    areas: Mapped[list[Any] | None] = mapped_column()  # area codes the residents came from
    imd_deciles: Mapped[list[Any] | None] = mapped_column()  # 1 (most deprived) .. 10
    said: Mapped[str | None] = mapped_column(Text)
    changed: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime | None] = mapped_column()
    retired_at: Mapped[datetime | None] = mapped_column()


class SourceCoverage(Base):
    """Where a directory source's data is complete: a polygon (lon/lat) and/or a list of area
    codes. Recorded at import; a new record for a source retires the previous one."""

    __tablename__ = "source_coverage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(
        String(64), index=True
    )  # Service.source, e.g. "ods_epraccur"
    description: Mapped[str | None] = mapped_column(Text)
    geometry: Mapped[BaseGeometry | None] = mapped_column(Geometry(), nullable=True)
    area_codes: Mapped[list[Any] | None] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(300))
    retired_at: Mapped[datetime | None] = mapped_column()


__all__ = [
    "COMMISSION_STAGES",
    "INVOLVEMENT_METHODS",
    "Commission",
    "CommissionStage",
    "InvolvementEvent",
    "SourceCoverage",
]
