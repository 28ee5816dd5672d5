"""commissioning: commissions and their stages, involvement events, directory source coverage

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

* ``commission`` (a placeholder since 0001) gains its description, areas, owner, current stage
  and cycle, a public flag, who created it, and update / retire times; ``budget_pence`` becomes a
  64-bit integer (a budget up to £10^12 is 10^14 pence).
* ``commission_stage`` becomes one row per stay in a stage (``started_on`` .. ``ended_on``, the
  cycle, a note, who moved it). The placeholder's ``happened_on`` and ``involvement`` columns
  had no writer; any value they hold is carried over (into ``started_on`` and ``note``) before
  they go, so nothing is lost.
* ``involvement_event``: residents involved at a stage (the co-production log).
* ``source_coverage``: where each directory source's data is complete (a polygon and/or area
  codes), read by ``strengthmap.directory.coverage``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import strengthmap.storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # SQLite: only native ALTER TABLE ADD COLUMN here. Recreating ``commission`` (what batch
    # mode does for other changes) drops the old table, and with foreign keys on that deletes
    # its ``commission_stage`` rows by cascade. SQLite keeps 64-bit integers in INTEGER columns,
    # so ``budget_pence`` changes type on PostgreSQL only (the model says the same).
    if not sqlite:
        op.alter_column(
            "commission", "budget_pence", existing_type=sa.Integer(), type_=sa.BigInteger()
        )
    for column in (
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("areas", sa.JSON(), nullable=True),
        sa.Column("owner", sa.String(length=300), nullable=True),
        sa.Column("stage", sa.String(length=32), server_default="analyse_need", nullable=False),
        sa.Column("cycle", sa.Integer(), server_default="1", nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
    ):
        op.add_column("commission", column)

    # commission_stage is a child table: recreating it (batch mode) cascades nothing
    with op.batch_alter_table("commission_stage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cycle", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("started_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("actor", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    # carry over whatever the placeholder columns hold
    op.execute(
        "UPDATE commission_stage SET started_on = COALESCE(happened_on, CURRENT_DATE), "
        "created_at = CURRENT_TIMESTAMP, "
        "note = CASE WHEN involvement IS NULL THEN note "
        "WHEN note IS NULL THEN 'involvement: ' || involvement "
        "ELSE note || ' (involvement: ' || involvement || ')' END"
    )
    with op.batch_alter_table("commission_stage", schema=None) as batch_op:
        batch_op.alter_column("started_on", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column(
            "created_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.drop_column("involvement")
        batch_op.drop_column("happened_on")

    op.create_table(
        "involvement_event",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("commission_id", sa.String(length=36), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=True),
        sa.Column("areas", sa.JSON(), nullable=True),
        sa.Column("imd_deciles", sa.JSON(), nullable=True),
        sa.Column("said", sa.Text(), nullable=True),
        sa.Column("changed", sa.Text(), nullable=True),
        sa.Column("public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["commission_id"],
            ["commission.id"],
            name=op.f("fk_involvement_event_commission_id_commission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_involvement_event")),
    )
    with op.batch_alter_table("involvement_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_involvement_event_commission_id"), ["commission_id"], unique=False
        )

    op.create_table(
        "source_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("geometry", strengthmap.storage.types.Geometry(), nullable=True),
        sa.Column("area_codes", sa.JSON(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=300), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_coverage")),
    )
    with op.batch_alter_table("source_coverage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_coverage_source"), ["source"], unique=False)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("source_coverage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_coverage_source"))
    op.drop_table("source_coverage")
    with op.batch_alter_table("involvement_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_involvement_event_commission_id"))
    op.drop_table("involvement_event")
    with op.batch_alter_table("commission_stage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("happened_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("involvement", sa.String(length=32), nullable=True))
    op.execute("UPDATE commission_stage SET happened_on = started_on")
    with op.batch_alter_table("commission_stage", schema=None) as batch_op:
        batch_op.drop_column("created_at")
        batch_op.drop_column("actor")
        batch_op.drop_column("ended_on")
        batch_op.drop_column("started_on")
        batch_op.drop_column("cycle")
    # native DROP COLUMN (SQLite >= 3.35): recreating the parent table would cascade
    for name in (
        "retired_at", "updated_at", "created_by", "public", "cycle", "stage", "owner", "areas",
        "description",
    ):  # fmt: skip
        op.drop_column("commission", name)
    if not sqlite:
        op.alter_column(
            "commission", "budget_pence", existing_type=sa.BigInteger(), type_=sa.Integer()
        )
