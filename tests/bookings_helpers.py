"""Shared test data for the bookings tests: a location, a home postcode in a decile-1 LSOA, rooms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shapely.geometry import box
from sqlalchemy import func, select, text

from strengthmap.bookings.rooms import Room, RoomSpec, add_room
from strengthmap.storage import Store, schema

#: "Now" in the tests: Sunday 1 November 2026, 09:00 UTC (GMT).
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
#: A home postcode in a decile-1 LSOA (E01000001) and one in a decile-9 LSOA (E01000002).
POOR_PC, RICH_PC = "LS12 1JD", "LS16 6AA"
HOLDING = ("pending", "confirmed", "completed")


def add_location(store: Store, name: str = "Test Community Centre") -> str:
    with store.transaction() as s:
        loc = schema.Location(name=name, latitude=53.79, longitude=-1.57)
        s.add(loc)
        s.flush()
        return loc.id


def add_home_areas(store: Store) -> None:
    """Two LSOAs (2011) with IoD2019 deciles 1 and 9 and population, and a postcode in each."""
    with store.transaction() as s:
        poor = schema.Area(code="E01000001", name="Poor 001A", level="lsoa", vintage=2011,
                           lad_code="E08000035", geometry=box(-1.60, 53.78, -1.55, 53.80),
                           min_lon=-1.60, min_lat=53.78, max_lon=-1.55, max_lat=53.80)  # fmt: skip
        rich = schema.Area(code="E01000002", name="Rich 002A", level="lsoa", vintage=2011,
                           lad_code="E08000035", geometry=box(-1.65, 53.85, -1.60, 53.87),
                           min_lon=-1.65, min_lat=53.85, max_lon=-1.60, max_lat=53.87)  # fmt: skip
        s.add_all([poor, rich])
        s.flush()
        s.add(schema.Deprivation(release=2019, area_id=poor.id, n_areas=32844, imd_rank=100,
                                 imd_decile=1, pop_total=3000))  # fmt: skip
        s.add(schema.Deprivation(release=2019, area_id=rich.id, n_areas=32844, imd_rank=30000,
                                 imd_decile=9, pop_total=1000))  # fmt: skip
        s.add(schema.Postcode(postcode=POOR_PC, pcd7="LS121JD", lon=-1.575, lat=53.79))
        s.add(schema.Postcode(postcode=RICH_PC, pcd7="LS166AA", lon=-1.62, lat=53.86))


def make_room(store: Store, location_id: str | None = None, **kw: Any) -> Room:
    spec: dict[str, Any] = {"name": "Hall", "capacity": 40}
    spec.update(kw)
    return add_room(store, RoomSpec(location_id=location_id or add_location(store), **spec))


def overlapping_holds(store: Store) -> int:
    """An independent count of overlapping holding bookings (plain SQL over the table)."""
    sql = text(
        "SELECT count(*) FROM booking a JOIN booking b ON a.room_id = b.room_id AND a.id < b.id "
        "WHERE a.status IN ('pending','confirmed','completed') "
        "AND b.status IN ('pending','confirmed','completed') "
        "AND a.block_starts_at < b.block_ends_at AND b.block_starts_at < a.block_ends_at"
    )
    with store.engine.connect() as conn:
        return int(conn.execute(sql).scalar_one())


def counts(store: Store) -> dict[str, int]:
    with store.session() as s:
        return {
            t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (schema.Booking, schema.BookingSeries, schema.BookingMessage, schema.Room,
                      schema.RoomRate, schema.AuditEntry)
        }  # fmt: skip
