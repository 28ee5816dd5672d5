"""directory spatial index: an R*Tree of location points on SQLite

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

SQLite only (PostgreSQL has the GiST index on ``location.geometry``). ``location_rtree`` holds
each located ``location`` row's point (lon, lat in degrees, as a degenerate box keyed by the
location's rowid), kept in step by triggers, so "within R metres" searches read a few index
pages instead of scanning a latitude band.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE location_rtree USING rtree(id, min_lon, max_lon, min_lat, max_lat)",
    "CREATE TRIGGER location_rtree_ai AFTER INSERT ON location "
    "WHEN new.longitude IS NOT NULL AND new.latitude IS NOT NULL BEGIN "
    "INSERT INTO location_rtree VALUES "
    "(new.rowid, new.longitude, new.longitude, new.latitude, new.latitude); END",
    "CREATE TRIGGER location_rtree_au AFTER UPDATE OF longitude, latitude ON location BEGIN "
    "DELETE FROM location_rtree WHERE id = old.rowid; "
    "INSERT INTO location_rtree SELECT new.rowid, new.longitude, new.longitude, new.latitude, "
    "new.latitude WHERE new.longitude IS NOT NULL AND new.latitude IS NOT NULL; END",
    "CREATE TRIGGER location_rtree_ad AFTER DELETE ON location BEGIN "
    "DELETE FROM location_rtree WHERE id = old.rowid; END",
    "INSERT INTO location_rtree SELECT rowid, longitude, longitude, latitude, latitude "
    "FROM location WHERE longitude IS NOT NULL AND latitude IS NOT NULL",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("location_rtree_ai", "location_rtree_au", "location_rtree_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS location_rtree")
