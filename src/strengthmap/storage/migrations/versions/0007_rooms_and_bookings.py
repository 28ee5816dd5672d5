"""rooms and bookings: rate cards, series, outbox, and no overlapping holding bookings, ever

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

``room`` gains layouts, facilities, photos, bookable hours (RFC 5545 schedules), closed dates,
length limits, set-up/clean-up buffers, a booking horizon and a cancellation rule; its
placeholder price columns (``hourly_price_pence``, ``price_rules``, ``step_free``) give way to
``room_rate`` / ``room_concession`` / ``room_extra`` and ``facilities`` (a room that was marked
step-free keeps it as a facility; the upgrade stops rather than drop a price someone entered).
``booking`` gains the hirer's category, home area and IMD decile, the quote, the decision and
cancellation, and ``block_starts_at`` / ``block_ends_at`` (the booking widened by the room's
buffers); ``booking_series`` and ``booking_message`` (the outbox) are new.

No two holding bookings (pending, confirmed, completed) of a room overlap, buffers included:

* PostgreSQL: ``EXCLUDE USING gist (room_id WITH =, tstzrange(block_starts_at, block_ends_at)
  WITH &&) WHERE (status IN holding)`` (extension ``btree_gist``), so even a writer that skips
  the library cannot break it.
* SQLite: triggers before insert and update that abort (``booking_overlap``) when the new or
  changed row would overlap a holding booking of the same room. The library itself checks and
  writes in one ``BEGIN IMMEDIATE`` transaction and names the clash; the triggers are the
  backstop for any other writer (they compare the UTC text the store writes, so a raw writer
  must use the same ``YYYY-MM-DD HH:MM:SS`` UTC form).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

HOLDING = "('pending', 'confirmed', 'completed')"
TS = sa.DateTime(timezone=True)

_OVERLAP = (
    "SELECT RAISE(ABORT, 'booking_overlap: the room is already held for an overlapping time') "
    "WHERE EXISTS (SELECT 1 FROM booking b WHERE b.room_id = NEW.room_id AND b.id <> NEW.id "
    f"AND b.status IN {HOLDING} AND b.block_starts_at < NEW.block_ends_at "
    "AND b.block_ends_at > NEW.block_starts_at);"
)
SQLITE_TRIGGERS = {
    "booking_no_overlap_insert": (
        f"CREATE TRIGGER booking_no_overlap_insert BEFORE INSERT ON booking "
        f"WHEN NEW.status IN {HOLDING} BEGIN {_OVERLAP} END"
    ),
    "booking_no_overlap_update": (
        "CREATE TRIGGER booking_no_overlap_update BEFORE UPDATE OF status, room_id, "
        f"block_starts_at, block_ends_at ON booking WHEN NEW.status IN {HOLDING} "
        f"BEGIN {_OVERLAP} END"
    ),
}
PG_CONSTRAINT = (
    "ALTER TABLE booking ADD CONSTRAINT booking_no_overlap EXCLUDE USING gist "
    "(room_id WITH =, tstzrange(block_starts_at, block_ends_at, '[)') WITH &&) "
    f"WHERE (status IN {HOLDING})"
)


def upgrade() -> None:
    bind = op.get_bind()
    priced = bind.execute(
        sa.text(
            "SELECT count(*) FROM room WHERE hourly_price_pence IS NOT NULL OR price_rules IS NOT NULL"
        )
    ).scalar_one()
    if priced:
        raise RuntimeError(
            f"{priced} room(s) have a price in the old placeholder columns: move it to a rate "
            "card (strengthmap rooms rates) before upgrading; nothing was changed"
        )
    # plain ALTER TABLE on both backends (SQLite >= 3.35 drops a plain column in place): a batch
    # copy of ``room`` would have to drop the table that bookings point at
    for name in ("layouts", "facilities", "photos", "hours", "closed"):
        op.add_column("room", sa.Column(name, sa.JSON(), nullable=True))
    op.add_column("room", sa.Column("hours_text", sa.Text(), nullable=True))
    # NOT NULL columns need a server default to be added to existing rows; it stays (the same
    # value as the model's default)
    for name, default in (
        ("min_minutes", "30"),
        ("step_minutes", "15"),
        ("setup_minutes", "0"),
        ("cleanup_minutes", "0"),
        ("horizon_days", "365"),
        ("cancel_free_days", "7"),
        ("cancel_fee_percent", "50"),
    ):
        op.add_column("room", sa.Column(name, sa.Integer(), nullable=False, server_default=default))
    op.add_column("room", sa.Column("max_minutes", sa.Integer(), nullable=True))
    # nullable: SQLite cannot add a column whose default is the time; existing rooms get "now"
    op.add_column("room", sa.Column("created_at", TS, nullable=True))
    op.execute("UPDATE room SET created_at = CURRENT_TIMESTAMP")
    bind.execute(
        sa.text("UPDATE room SET facilities = :f WHERE step_free").bindparams(
            sa.bindparam("f", ["step_free"], type_=sa.JSON())
        )
    )
    for name in ("hourly_price_pence", "price_rules", "step_free"):
        op.drop_column("room", name)

    op.create_table(
        "room_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("per_hour_pence", sa.Integer(), nullable=False),
        sa.Column("per_half_day_pence", sa.Integer(), nullable=True),
        sa.Column("per_day_pence", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.CheckConstraint(
            "per_hour_pence >= 0 AND (per_half_day_pence IS NULL OR per_half_day_pence >= 0) "
            "AND (per_day_pence IS NULL OR per_day_pence >= 0)",
            name=op.f("ck_room_rate_prices_not_negative"),
        ),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_room_rate_room_id_room")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_rate")),
    )
    op.create_index(op.f("ix_room_rate_room_id"), "room_rate", ["room_id"], unique=False)
    op.create_table(
        "room_concession",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=True),
        sa.Column("percent_off", sa.Integer(), nullable=True),
        sa.Column("amount_off_pence", sa.Integer(), nullable=True),
        sa.Column("imd_decile_max", sa.Integer(), nullable=True),
        sa.Column("based_in", sa.JSON(), nullable=True),
        sa.Column("applies_to", sa.String(length=8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.id"], name=op.f("fk_room_concession_room_id_room")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_concession")),
    )
    op.create_index(
        op.f("ix_room_concession_room_id"), "room_concession", ["room_id"], unique=False
    )
    op.create_table(
        "room_extra",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price_pence", sa.Integer(), nullable=False),
        sa.Column("per", sa.String(length=8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("retired_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["room_id"], ["room.id"], name=op.f("fk_room_extra_room_id_room")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_extra")),
    )
    op.create_index(op.f("ix_room_extra_room_id"), "room_extra", ["room_id"], unique=False)
    op.create_table(
        "booking_series",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("room_id", sa.String(length=36), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("exdates", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["room_id"], ["room.id"], name=op.f("fk_booking_series_room_id_room")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_series")),
    )
    op.create_index(op.f("ix_booking_series_room_id"), "booking_series", ["room_id"], unique=False)

    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("block_starts_at", TS, nullable=True))
        batch_op.add_column(sa.Column("block_ends_at", TS, nullable=True))
        batch_op.add_column(sa.Column("hold_until", TS, nullable=True))
        batch_op.add_column(sa.Column("hirer_organisation", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("hirer_postcode", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "hirer_category", sa.String(length=16), nullable=False, server_default="resident"
            )
        )
        batch_op.add_column(sa.Column("hirer_area_code", sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column("hirer_imd_decile", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("hirer_imd_release", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("people", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("layout", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("extras", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("quote", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("list_pence", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("concession_pence", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", TS, nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("decision_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", TS, nullable=True))
        batch_op.add_column(sa.Column("cancelled_by", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("cancel_fee_pence", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cancel_rule", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("anonymised_at", TS, nullable=True))
        batch_op.alter_column(
            "concession", existing_type=sa.String(length=64), type_=sa.String(length=200)
        )
    # placeholder statuses: a "requested" booking is a pending one (holding, never expiring)
    op.execute("UPDATE booking SET status = 'pending' WHERE status = 'requested'")
    op.execute(
        "UPDATE booking SET block_starts_at = starts_at, block_ends_at = ends_at "
        "WHERE block_starts_at IS NULL"
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.alter_column("block_starts_at", existing_type=TS, nullable=False)
        batch_op.alter_column("block_ends_at", existing_type=TS, nullable=False)
        batch_op.alter_column("hirer_category", server_default=None)
        batch_op.create_check_constraint(
            "block_covers", "block_starts_at <= starts_at AND block_ends_at >= ends_at"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_booking_series_id_booking_series"),
            "booking_series",
            ["series_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_booking_series_id"), ["series_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_booking_status"), ["status"], unique=False)
        batch_op.create_index("ix_booking_room_block", ["room_id", "block_ends_at"], unique=False)

    op.create_table(
        "booking_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("to_addr", sa.String(length=300), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("ics", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_booking_message_booking_id_booking")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_message")),
    )
    op.create_index(
        op.f("ix_booking_message_booking_id"), "booking_message", ["booking_id"], unique=False
    )
    op.create_index(
        op.f("ix_booking_message_created_at"), "booking_message", ["created_at"], unique=False
    )

    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(PG_CONSTRAINT)
    elif bind.dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE booking DROP CONSTRAINT IF EXISTS booking_no_overlap")
    elif bind.dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index(op.f("ix_booking_message_created_at"), table_name="booking_message")
    op.drop_index(op.f("ix_booking_message_booking_id"), table_name="booking_message")
    op.drop_table("booking_message")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_room_block")
        batch_op.drop_index(batch_op.f("ix_booking_status"))
        batch_op.drop_index(batch_op.f("ix_booking_series_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_booking_series_id_booking_series"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("ck_booking_block_covers"), type_="check")
        for name in (
            "series_id", "block_starts_at", "block_ends_at", "hold_until", "hirer_organisation",
            "hirer_postcode", "token_hash", "hirer_category", "hirer_area_code",
            "hirer_imd_decile", "hirer_imd_release", "people", "layout", "extras", "quote",
            "list_pence", "concession_pence", "decided_at", "decided_by", "decision_note",
            "cancelled_at", "cancelled_by", "cancel_fee_pence", "cancel_rule", "anonymised_at",
        ):  # fmt: skip
            batch_op.drop_column(name)
    op.drop_index(op.f("ix_booking_series_room_id"), table_name="booking_series")
    op.drop_table("booking_series")
    for table in ("room_extra", "room_concession", "room_rate"):
        op.drop_index(op.f(f"ix_{table}_room_id"), table_name=table)
        op.drop_table(table)
    op.add_column("room", sa.Column("step_free", sa.Boolean(), nullable=True))
    op.add_column("room", sa.Column("hourly_price_pence", sa.Integer(), nullable=True))
    op.add_column("room", sa.Column("price_rules", sa.JSON(), nullable=True))
    for name in (
        "layouts", "facilities", "photos", "hours", "hours_text", "closed", "min_minutes",
        "step_minutes", "setup_minutes", "cleanup_minutes", "horizon_days",
        "cancel_free_days", "cancel_fee_percent", "max_minutes", "created_at",
    ):  # fmt: skip
        op.drop_column("room", name)
