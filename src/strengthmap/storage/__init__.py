"""The one way to open the store: ``open_store(url)`` for SQLite (default) or PostgreSQL + PostGIS.

Example:
    >>> store = open_store("sqlite://")          # in memory, migrated to the latest schema
    >>> with store.transaction() as session:
    ...     n = session.query(schema.Area).count()
    >>> n
    0

SQLite runs with WAL and foreign keys on; PostgreSQL gets the PostGIS extension, real geometry
columns and GiST indexes. Backend specifics live only in this package.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from strengthmap.errors import ConfigError
from strengthmap.storage import schema

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Store:
    """An open database: its engine, a session factory, and which backend it is."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``: the key a module's backend adapters are looked up by
        (``directory.search.backend``), never a condition to branch on outside ``storage``."""
        return str(self.engine.dialect.name)

    def session(self) -> Session:
        """A new ORM session (caller manages the transaction)."""
        return self._sessions()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One all-or-nothing transaction: commits on success, rolls back on any exception."""
        session = self._sessions()
        try:
            # SQLite: take the write lock up front so two writers never interleave
            # (read-check-write invariants such as "no double booking" hold)
            session.connection(execution_options={"sqlite_immediate": True})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision`` (``strengthmap db upgrade``)."""
        from alembic import command

        with self.engine.begin() as connection:
            cfg = alembic_config(self.engine)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def is_empty(self) -> bool:
        """True when no official data has been loaded yet (no ``dataset`` rows)."""
        if not inspect(self.engine).has_table("dataset"):
            return True
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM dataset")).scalar_one() == 0

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"


def alembic_config(engine: Engine | None = None) -> Any:
    """The Alembic configuration of the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return cfg


def include_object_for(dialect: str) -> Any:
    """Alembic's filter for ``dialect``: GiST indexes exist only on PostgreSQL."""

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        if type_ == "index" and name and name.endswith("_gist"):
            return dialect == "postgresql"
        # the directory's full-text and spatial indexes and its version counter (migrations
        # 0002-0004, SQLite) and the stories' full-text index and version counter (0010) are not
        # models
        if name and name.startswith(
            ("service_fts", "location_rtree", "directory_version", "story_fts", "story_version")
        ):
            return False
        # PostGIS's own table is not ours to manage
        return not (type_ == "table" and name == "spatial_ref_sys")

    return include_object


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # a 64 MiB page cache and in-memory temp tables: random UUID keys and the FTS5 index make
    # bulk imports touch many pages (measured in bench/bench_directory_import.py)
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def create_store_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the backend's settings (SQLite pragmas, PostGIS driver)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"not a database URL: {url!r} ({exc})") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        in_memory = not database or database == ":memory:"
        if not in_memory:
            assert database is not None
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine_kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
        if in_memory:
            engine_kwargs["poolclass"] = StaticPool
        engine_kwargs.update(kwargs)
        engine = create_engine(parsed, **engine_kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)

        # pysqlite's own transaction handling is off; SQLAlchemy emits BEGIN itself, so that a
        # write transaction can take the write lock up front (BEGIN IMMEDIATE)
        @event.listens_for(engine, "connect")
        def _no_pysqlite_tx(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:///file or postgresql://...")


def open_store(url: str = "sqlite:///var/strengthmap.sqlite", *, upgrade: bool = True) -> Store:
    """Open (and by default migrate) the store at ``url``."""
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
                connection.commit()
    except OperationalError as exc:
        raise ConfigError(f"cannot open the store at {engine.url!r}: {exc.orig}") from exc
    store = Store(engine)
    if upgrade:
        store.upgrade()
    return store


__all__ = [
    "Store",
    "alembic_config",
    "create_store_engine",
    "include_object_for",
    "open_store",
    "schema",
]
