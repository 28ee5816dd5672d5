"""the network: consent dates, who added a record, custom tie types, retire never delete

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

``person``: ``consent_recorded_on`` (the date consent was recorded; replaces the unused
``consent_recorded_at`` time), ``added_by`` (the actor who added the record: a private person is
visible to that editor alone), ``source`` and ``updated_at``.
``tie``: ``type_label`` (the name of a ``custom`` type), ``mutual``, ``consent_recorded_on``,
``added_by``, ``source``, ``updated_at`` and ``retired_at`` (ties are retired, never deleted).
``network_member``: a directory record taking part in the network, with its home area and
consent in the network.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_member",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=9), nullable=True),
        sa.Column("consent", sa.String(length=16), nullable=False),
        sa.Column("consent_recorded_on", sa.Date(), nullable=True),
        sa.Column("added_by", sa.String(length=300), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_member")),
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("consent_recorded_at")
        batch_op.add_column(sa.Column("consent_recorded_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("added_by", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("updated_at", server_default=None)
    with op.batch_alter_table("tie", schema=None) as batch_op:
        batch_op.add_column(sa.Column("type_label", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("mutual", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("consent_recorded_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("added_by", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.current_timestamp(),
            )
        )
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("tie", schema=None) as batch_op:
        batch_op.alter_column("mutual", server_default=None)
        batch_op.alter_column("updated_at", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tie", schema=None) as batch_op:
        for name in (
            "retired_at",
            "updated_at",
            "source",
            "added_by",
            "consent_recorded_on",
            "mutual",
            "type_label",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("person", schema=None) as batch_op:
        for name in ("updated_at", "source", "added_by", "consent_recorded_on"):
            batch_op.drop_column(name)
        batch_op.add_column(
            sa.Column("consent_recorded_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.drop_table("network_member")
