"""stories: consent, moderation, redaction history, withdrawal tokens, themes, policy, full-text search

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

Extends ``story`` (a public ``number``, the derived ``audience`` every read filters on, the place
kept only to the teller's precision, moderation and withdrawal fields, the hash of the teller's
withdrawal token) and adds ``story_theme``, ``story_redaction``, ``story_policy`` and
``story_submission`` (the public form's rate limit). Existing rows are numbered in creation order.

The full-text index holds only stories that are not withdrawn:
* SQLite: ``story_fts``, an FTS5 external-content table over ``story(title, text)`` keyed by
  ``story.number`` (an explicit integer, so VACUUM cannot renumber it), kept in step by triggers
  that index a row only while ``withdrawn_at`` is null, so every writer keeps it right and a
  withdrawal leaves the index in the same transaction.
* PostgreSQL: a stored generated ``story_fts_vector`` (title weighted A, text D; empty once
  withdrawn) with a GIN index, and ``story_number_seq`` for the numbers.

``story_version`` (both backends, not a model) holds one counter that every insert, update and
delete of ``story`` and ``story_link`` bumps inside the writer's transaction (row triggers on
SQLite, statement triggers on PostgreSQL): ``strengthmap.stories.ranking`` keeps a search's
ranked matches in memory only while it is unchanged, so a withdrawal is seen by the very next
search in every process.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: ``strengthmap.stories.search`` queries these objects; keep the names in step.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE story_fts USING fts5(title, text, content='story', "
    "content_rowid='number', tokenize='porter unicode61 remove_diacritics 2')",
    # ranking: a title word counts four times a text word
    "INSERT INTO story_fts(story_fts, rank) VALUES ('rank', 'bm25(4.0, 1.0)')",
    "CREATE TRIGGER story_fts_ai AFTER INSERT ON story BEGIN "
    "INSERT INTO story_fts(rowid, title, text) "
    "SELECT new.number, new.title, new.text WHERE new.withdrawn_at IS NULL; END",
    "CREATE TRIGGER story_fts_ad AFTER DELETE ON story BEGIN "
    "INSERT INTO story_fts(story_fts, rowid, title, text) "
    "SELECT 'delete', old.number, old.title, old.text WHERE old.withdrawn_at IS NULL; END",
    "CREATE TRIGGER story_fts_au AFTER UPDATE OF number, title, text, withdrawn_at ON story BEGIN "
    "INSERT INTO story_fts(story_fts, rowid, title, text) "
    "SELECT 'delete', old.number, old.title, old.text WHERE old.withdrawn_at IS NULL; "
    "INSERT INTO story_fts(rowid, title, text) "
    "SELECT new.number, new.title, new.text WHERE new.withdrawn_at IS NULL; END",
    "INSERT INTO story_fts(story_fts) VALUES ('rebuild')",
]
#: Tables whose every write bumps ``story_version`` (the search caches' key).
VERSIONED = ("story", "story_link")
VERSION_TABLE = [
    "CREATE TABLE story_version (id INTEGER PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL, "
    "epoch VARCHAR(32) NOT NULL)",
]
SQLITE_VERSION = [
    f"CREATE TRIGGER story_version_{table}_{event.lower()} AFTER {event} ON {table} "
    "BEGIN UPDATE story_version SET n = n + 1 WHERE id = 1; END"
    for table in VERSIONED
    for event in ("INSERT", "UPDATE", "DELETE")
]
POSTGRES_VERSION = [
    # once per transaction: every UPDATE of one row in one transaction adds a row version that
    # the next must walk past, so a bump per statement made bulk writes quadratic
    "CREATE FUNCTION story_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF current_setting('strengthmap.story_version_tx', true) IS DISTINCT FROM "
    "txid_current()::text THEN "
    "UPDATE story_version SET n = n + 1 WHERE id = 1; "
    "PERFORM set_config('strengthmap.story_version_tx', txid_current()::text, true); "
    "END IF; RETURN NULL; END $$",
    *(
        f"CREATE TRIGGER story_version_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION story_version_bump()"
        for table in VERSIONED
    ),
]
PG_VECTOR = (
    "CASE WHEN withdrawn_at IS NULL THEN "
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, text), 'D') "
    "ELSE ''::tsvector END"
)
POSTGRES_FTS = [
    "CREATE SEQUENCE IF NOT EXISTS story_number_seq OWNED BY story.number",
    "SELECT setval('story_number_seq', coalesce(max(number), 0) + 1, false) FROM story",
    f"ALTER TABLE story ADD COLUMN story_fts_vector tsvector GENERATED ALWAYS AS ({PG_VECTOR}) STORED",
    "CREATE INDEX story_fts_gin ON story USING gin (story_fts_vector)",
]


def _new_story_columns() -> list[sa.Column]:
    """Fresh Column objects each time (a Column belongs to one Table, and several stores may be
    migrated in one process)."""
    return [
        sa.Column("number", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("audience", sa.String(length=8), nullable=False, server_default="team"),
        sa.Column("withdrawn_reason", sa.String(length=64), nullable=True),
        sa.Column("withdrawn_via", sa.String(length=8), nullable=True),
        sa.Column("place_precision", sa.String(length=8), nullable=True),
        sa.Column("place_kind", sa.String(length=16), nullable=True),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("relation", sa.String(length=32), nullable=True),
        sa.Column("consent_method", sa.String(length=16), nullable=True),
        sa.Column("recorded_by", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("moderated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("moderated_by", sa.String(length=300), nullable=True),
        sa.Column("moderation_note", sa.Text(), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("withdraw_token_hash", sa.String(length=64), nullable=True),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    for column in _new_story_columns():
        op.add_column("story", column)
    # number the stories that exist, oldest first; derive their audience (no story was public
    # before moderation existed, so an unmoderated one stays with the team)
    if bind.dialect.name == "postgresql":
        op.execute(
            "UPDATE story SET number = n.rn FROM (SELECT id, row_number() OVER "
            "(ORDER BY created_at, id) AS rn FROM story) AS n WHERE story.id = n.id"
        )
    else:
        op.execute(
            "UPDATE story SET number = (SELECT count(*) FROM story AS s2 WHERE "
            "s2.created_at < story.created_at OR (s2.created_at = story.created_at "
            "AND s2.id <= story.id))"
        )
    op.execute(
        "UPDATE story SET audience = CASE "
        "WHEN withdrawn_at IS NOT NULL THEN 'none' "
        "WHEN moderation <> 'approved' THEN 'team' "
        "WHEN consent = 'public' THEN 'public' "
        "WHEN consent = 'internal' THEN 'internal' ELSE 'team' END"
    )
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_number"), ["number"], unique=True)
        batch_op.create_index("ix_story_audience_created", ["audience", "created_at"], unique=False)
        batch_op.create_index("ix_story_number_audience", ["number", "audience"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_story_withdraw_token_hash"), ["withdraw_token_hash"], unique=True
        )
    with op.batch_alter_table("story_link", schema=None) as batch_op:
        batch_op.create_index("ix_story_link_target", ["target_kind", "target_id"], unique=False)

    op.create_table(
        "story_theme",
        sa.Column("slug", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_story_theme")),
    )
    op.create_table(
        "story_redaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("field", sa.String(length=8), nullable=False),
        sa.Column("start_pos", sa.Integer(), nullable=False),
        sa.Column("end_pos", sa.Integer(), nullable=False),
        sa.Column("removed_text", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["story_id"], ["story.id"], name=op.f("fk_story_redaction_story_id_story")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_redaction")),
    )
    with op.batch_alter_table("story_redaction", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_redaction_story_id"), ["story_id"], unique=False)
    op.create_table(
        "story_policy",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("set_by", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_story_policy")),
    )
    op.create_table(
        "story_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_submission")),
    )
    with op.batch_alter_table("story_submission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_submission_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_story_submission_key_hash"), ["key_hash"], unique=False
        )

    postgres = bind.dialect.name == "postgresql"
    # the epoch tells this database's counter from another's (a file made again at one path)
    epoch = uuid.uuid4().hex
    for statement in [*VERSION_TABLE, f"INSERT INTO story_version VALUES (1, 0, '{epoch}')"] + (
        POSTGRES_FTS + POSTGRES_VERSION if postgres else SQLITE_FTS + SQLITE_VERSION
    ):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in VERSIONED:
            op.execute(f"DROP TRIGGER IF EXISTS story_version_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS story_version_bump()")
        op.execute("DROP INDEX IF EXISTS story_fts_gin")
        op.execute("ALTER TABLE story DROP COLUMN IF EXISTS story_fts_vector")
        op.execute("DROP SEQUENCE IF EXISTS story_number_seq")
    else:
        for table in VERSIONED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS story_version_{table}_{event}")
        for name in ("story_fts_ai", "story_fts_ad", "story_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS story_fts")
    op.execute("DROP TABLE IF EXISTS story_version")
    op.drop_table("story_submission")
    op.drop_table("story_policy")
    op.drop_table("story_redaction")
    op.drop_table("story_theme")
    with op.batch_alter_table("story_link", schema=None) as batch_op:
        batch_op.drop_index("ix_story_link_target")
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_withdraw_token_hash"))
        batch_op.drop_index("ix_story_number_audience")
        batch_op.drop_index("ix_story_audience_created")
        batch_op.drop_index(batch_op.f("ix_story_number"))
    # dropping columns one by one (SQLite 3.35+ ALTER TABLE DROP COLUMN), never a table rebuild:
    # a rebuild would drop ``story`` and cascade to ``story_link``
    for column in reversed(_new_story_columns()):
        op.drop_column("story", column.name)
