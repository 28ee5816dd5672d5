"""Bulk writes, backend by backend: upsert many rows by primary key, insert many rows.

Example:
    >>> from strengthmap.storage import open_store, schema
    >>> store = open_store("sqlite://")
    >>> tab = schema.AuditEntry.__table__
    >>> from datetime import datetime, UTC
    >>> with store.transaction() as s:
    ...     insert_many(s, tab, ["actor", "action", "entity", "entity_id", "at"],
    ...                 [["cli", "import", "dataset", "x", datetime.now(UTC)]])
    >>> with store.session() as s:
    ...     s.query(schema.AuditEntry).count()
    1

Rows are lists of values in the order of ``names``. On SQLite they go straight to the driver's
``executemany`` (the statement compiled once, each value through its column type's own bind
processor, as SQLAlchemy would, without a parameter dict per row); on PostgreSQL through
SQLAlchemy Core's executemany in batches. ``large_write`` gives SQLite a page cache to match a
write that touches index pages all over the file. The directory's one write path
(``strengthmap.directory.records.upsert_rows``) goes through here, so it holds no backend code.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

#: Rows per statement on PostgreSQL.
BATCH = 2000
#: Rows above which a SQLite write gets the larger page cache.
LARGE = 20_000
#: The larger page cache, in KiB (taken only as pages are needed).
LARGE_CACHE_KIB = 262_144


def _dialect(session: Any) -> Any:
    return session.get_bind().dialect


def upsert_many(
    session: Any, table: sa.Table, names: list[str], rows: list[list[Any]], key: str = "id"
) -> None:
    """Insert each row, or update every given column but ``key`` and ``created_at`` of the row
    with the same ``key``. ``rows`` may be processed in place."""
    dialect = _dialect(session)
    insert: Any
    if dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values({n: sa.bindparam(n) for n in names})
    stmt = stmt.on_conflict_do_update(
        index_elements=[key],
        set_={n: stmt.excluded[n] for n in names if n not in {key, "created_at"}},
    )
    _execute_many(session, table, stmt, names, rows)


def insert_many(session: Any, table: sa.Table, names: list[str], rows: list[list[Any]]) -> None:
    """Insert every row (``rows`` may be processed in place)."""
    stmt = sa.insert(table).values({n: sa.bindparam(n) for n in names})
    _execute_many(session, table, stmt, names, rows)


@contextlib.contextmanager
def large_write(session: Any, rows: int) -> Iterator[None]:
    """Around a write of ``rows`` rows: on SQLite, above ``LARGE`` rows, a page cache of up to
    ``LARGE_CACHE_KIB`` for the connection, then (when the write succeeded) its usual size."""
    if _dialect(session).name != "sqlite" or rows <= LARGE:
        yield
        return
    old = session.execute(sa.text("PRAGMA cache_size")).scalar()
    session.execute(sa.text(f"PRAGMA cache_size=-{LARGE_CACHE_KIB}"))
    yield
    # after a failed write the session must be rolled back first, and the error must not be
    # masked: the connection then keeps the larger cache, which is harmless
    session.execute(sa.text(f"PRAGMA cache_size={int(old or -2000)}"))


def _execute_many(
    session: Any, table: sa.Table, stmt: Any, names: list[str], rows: list[list[Any]]
) -> None:
    dialect = _dialect(session)
    if dialect.name == "sqlite":
        _sqlite_executemany(session, dialect, table, stmt, names, rows)
        return
    for start in range(0, len(rows), BATCH):
        chunk = [dict(zip(names, row, strict=True)) for row in rows[start : start + BATCH]]
        session.execute(stmt, chunk)


def _sqlite_executemany(
    session: Any,
    dialect: Any,
    table: sa.Table,
    stmt: Any,
    names: Sequence[str],
    rows: list[list[Any]],
) -> None:
    compiled = stmt.compile(dialect=dialect)
    order = [names.index(k) for k in compiled.positiontup]
    procs = [table.c[names[i]].type.dialect_impl(dialect).bind_processor(dialect) for i in order]
    if order == list(range(len(names))):
        params = rows  # already in the statement's order: processed in place
    else:
        getter = operator.itemgetter(*order)
        params = [list(getter(row)) for row in rows]
    for pos, proc in enumerate(procs):
        if proc is None:
            continue
        cache: dict[Any, Any] = {}  # the same date, timestamp or flag is processed once
        same: dict[int, Any] = {}  # and the same dict or list object (JSON) once, by identity
        for p in params:
            v = p[pos]
            if v is None:
                continue  # None stays SQL NULL (never the JSON text 'null')
            if type(v) is dict or type(v) is list:  # unhashable; alive until the end of the call
                key = id(v)
                if key not in same:
                    same[key] = proc(v)
                p[pos] = same[key]
                continue
            try:
                p[pos] = cache[v]
            except KeyError:
                p[pos] = cache[v] = proc(v)
    # the driver's executemany, through SQLAlchemy only so that its cursor events still fire
    session.connection().exec_driver_sql(str(compiled), [tuple(p) for p in params])


__all__ = ["BATCH", "LARGE", "insert_many", "large_write", "upsert_many"]
