"""walks: the walking network built from OSM ways, saved walks, the areas they cross, their notes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

``walk_network`` (model ``schema.WalkNetwork``): each pedestrian graph built from an OSM
extract, whole (node, edge and vertex arrays in one compressed blob) with its source file's
SHA-256 and build report; a newer extract retires the older row. ``walk``, ``walk_area`` and
``walk_note``: walks saved with their plan, listed per area, with notes private to editors
unless marked public. Nothing here is deleted: rows are retired.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strengthmap.storage.types import Geometry

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "walk_network",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("licence", sa.String(length=100), nullable=False),
        sa.Column("attribution", sa.Text(), nullable=False),
        sa.Column("builder_version", sa.Integer(), nullable=False),
        sa.Column("nodes", sa.Integer(), nullable=False),
        sa.Column("edges", sa.Integer(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("arrays", sa.LargeBinary(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_network")),
    )
    with op.batch_alter_table("walk_network", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_walk_network_sha256"), ["sha256"], unique=False)

    op.create_table(
        "walk",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leader", sa.String(length=200), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("path", Geometry(), nullable=True),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("duration_min", sa.Float(), nullable=True),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk")),
    )
    with op.batch_alter_table("walk", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_walk_starts_at"), ["starts_at"], unique=False)
        if op.get_bind().dialect.name == "postgresql":
            batch_op.create_index(
                "ix_walk_path_gist", ["path"], unique=False, postgresql_using="gist"
            )

    op.create_table(
        "walk_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("walk_id", sa.String(length=36), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=9), nullable=False),
        sa.Column("first_m", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["walk_id"], ["walk.id"], name=op.f("fk_walk_area_walk_id_walk")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_area")),
        sa.UniqueConstraint(
            "walk_id",
            "level",
            "vintage",
            "area_code",
            name=op.f("uq_walk_area_walk_id_level_vintage_area_code"),
        ),
    )
    with op.batch_alter_table("walk_area", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_walk_area_area_code"), ["area_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_walk_area_walk_id"), ["walk_id"], unique=False)

    op.create_table(
        "walk_note",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("walk_id", sa.String(length=36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("theme", sa.String(length=100), nullable=True),
        sa.Column("author", sa.String(length=300), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["walk_id"], ["walk.id"], name=op.f("fk_walk_note_walk_id_walk")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_walk_note")),
    )
    with op.batch_alter_table("walk_note", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_walk_note_walk_id"), ["walk_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("walk_note", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_walk_note_walk_id"))
    op.drop_table("walk_note")
    with op.batch_alter_table("walk_area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_walk_area_walk_id"))
        batch_op.drop_index(batch_op.f("ix_walk_area_area_code"))
    op.drop_table("walk_area")
    with op.batch_alter_table("walk", schema=None) as batch_op:
        if op.get_bind().dialect.name == "postgresql":
            batch_op.drop_index("ix_walk_path_gist", postgresql_using="gist")
        batch_op.drop_index(batch_op.f("ix_walk_starts_at"))
    op.drop_table("walk")
    with op.batch_alter_table("walk_network", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_walk_network_sha256"))
    op.drop_table("walk_network")
