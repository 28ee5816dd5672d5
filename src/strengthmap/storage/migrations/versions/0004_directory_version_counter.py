"""directory version: a counter that every write to the searched directory tables bumps (SQLite)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

SQLite only. ``directory_version`` holds one row whose ``n`` goes up by one, in the writer's own
transaction, on every insert, update and delete of ``service``, ``location``,
``service_at_location`` and ``attribute`` (triggers, so every write path counts, whatever
process it runs in). ``strengthmap.directory.search.sqlite_candidates`` reads it in the same
read transaction as a search and keeps its in-memory candidate sets (services in a box, matching
a text, tagged with a term) only while it is unchanged. A rolled-back write rolls the counter back with it.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: The tables whose rows the candidate sets are computed from.
TABLES = ("service", "location", "service_at_location", "attribute")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def _trigger_name(table: str, event: str) -> str:
    return f"directory_version_{table}_{event.lower()}"


SQLITE = [
    "CREATE TABLE directory_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)",
    "INSERT INTO directory_version (id, n) VALUES (1, 0)",
    *(
        f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} "
        "BEGIN UPDATE directory_version SET n = n + 1 WHERE id = 1; END"
        for table in TABLES
        for event in EVENTS
    ),
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {_trigger_name(table, event)}")
        op.execute("DROP TABLE IF EXISTS directory_version")
