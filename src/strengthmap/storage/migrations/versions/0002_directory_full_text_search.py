"""directory full-text search: FTS5 on SQLite, a tsvector GIN index on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Kept apart from 0001 (which is regenerated from the models) because neither object is a model:
on SQLite ``service_fts`` is an FTS5 external-content table over ``service(name, description)``
kept in step by triggers (so every writer, whatever its path, keeps the index right); on
PostgreSQL a GIN index over the same ``to_tsvector`` expression that
``strengthmap.directory.search`` queries.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: The PostgreSQL expression; ``strengthmap.directory.search.PG_TSVECTOR`` must be the same text.
PG_TSVECTOR = "to_tsvector('english', coalesce(name, '') || ' ' || coalesce(description, ''))"

SQLITE = [
    "CREATE VIRTUAL TABLE service_fts USING fts5(name, description, content='service', "
    "content_rowid='rowid', tokenize='porter unicode61')",
    "CREATE TRIGGER service_fts_ai AFTER INSERT ON service BEGIN "
    "INSERT INTO service_fts(rowid, name, description) "
    "VALUES (new.rowid, new.name, coalesce(new.description, '')); END",
    "CREATE TRIGGER service_fts_ad AFTER DELETE ON service BEGIN "
    "INSERT INTO service_fts(service_fts, rowid, name, description) "
    "VALUES ('delete', old.rowid, old.name, coalesce(old.description, '')); END",
    "CREATE TRIGGER service_fts_au AFTER UPDATE OF name, description ON service BEGIN "
    "INSERT INTO service_fts(service_fts, rowid, name, description) "
    "VALUES ('delete', old.rowid, old.name, coalesce(old.description, '')); "
    "INSERT INTO service_fts(rowid, name, description) "
    "VALUES (new.rowid, new.name, coalesce(new.description, '')); END",
    "INSERT INTO service_fts(service_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX IF NOT EXISTS service_fts_gin ON service USING gin (({PG_TSVECTOR}))"
        )
    else:
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS service_fts_gin")
    else:
        for name in ("service_fts_ai", "service_fts_ad", "service_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS service_fts")
