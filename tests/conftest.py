"""Shared fixtures: the store on both backends, the real data directory, the CLI runner.

``store`` runs each test twice: on a fresh SQLite file and on PostgreSQL + PostGIS (a database
on loopback, started by ``scripts/ensure-system.sh``). When the PostGIS server cannot be reached
the PostGIS case fails, never skips, unless STRENGTHMAP_TEST_POSTGIS=off is set by hand.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from strengthmap import accounts
from strengthmap.storage import Store, open_store, schema

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
POSTGIS_URL = os.environ.get(
    "STRENGTHMAP_TEST_POSTGIS_URL",
    "postgresql+psycopg://strengthmap:strengthmap@127.0.0.1:5432/strengthmap_test",
)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2id at its lowest cost (1 pass over 8 KiB) for the whole suite, which creates users
    and logs in hundreds of times; production keeps argon2-cffi's default cost
    (``tests/test_accounts.py`` checks it in a fresh process)."""
    previous = accounts.use_password_hasher(
        PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    yield
    accounts.use_password_hasher(previous)


def _real_data_dir() -> Path | None:
    env = os.environ.get("STRENGTHMAP_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "data")
    for c in candidates:
        if (c / "SOURCES.md").is_file() or (c / "boundaries").is_dir():
            return c.resolve()
    return None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real open data folder (../shared/data). Missing data fails in CI, skips elsewhere."""
    found = _real_data_dir()
    if found is None:
        if os.environ.get("CI") or os.environ.get("STRENGTHMAP_REQUIRE_REAL_DATA"):
            pytest.fail("the real data directory ../shared/data is missing")
        pytest.skip("no real data directory (../shared/data); set STRENGTHMAP_DATA_DIR")
    return found


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    store = open_store(f"sqlite:///{path}")
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture(scope="session")
def _postgis_store() -> Iterator[Store]:
    """A database of its own (``<test db>_<pid>``, dropped at the end) on the PostGIS server, so
    that concurrent pytest runs on one machine never truncate each other's tables."""
    if os.environ.get("STRENGTHMAP_TEST_POSTGIS") == "off":
        pytest.skip("PostGIS tests turned off by STRENGTHMAP_TEST_POSTGIS=off")
    try:
        server = open_store(POSTGIS_URL, upgrade=False)
        admin = server.engine.execution_options(isolation_level="AUTOCOMMIT")
        url = server.engine.url.set(database=f"{server.engine.url.database}_{os.getpid()}")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        # the schema is exactly what the migrations make
        store = open_store(url.render_as_string(hide_password=False))
    except Exception as exc:  # any failure to reach the server is a failure, not a skip
        pytest.fail(
            f"PostGIS at {POSTGIS_URL} is not reachable ({exc}); run scripts/ensure-system.sh"
        )
    yield store
    store.close()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    server.close()


def _truncate_all(store: Store) -> None:
    names = ", ".join(t.name for t in schema.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sqlite_store(tmp_path: Path, _sqlite_template: Path) -> Iterator[Store]:
    path = tmp_path / "store.sqlite"
    shutil.copy(_sqlite_template, path)
    store = open_store(f"sqlite:///{path}")
    yield store
    store.close()


@pytest.fixture
def postgis_store(_postgis_store: Store) -> Iterator[Store]:
    _truncate_all(_postgis_store)
    yield _postgis_store


@pytest.fixture(scope="session")
def _postgis_leeds_store(_postgis_store: Store) -> Iterator[Store]:
    """A separate PostGIS database (``<test db>_<pid>_leeds``, dropped at the end) for real data
    loaded once per session: ``postgis_store`` truncates the test database before each test,
    never this one."""
    url = _postgis_store.engine.url.set(database=f"{_postgis_store.engine.url.database}_leeds")
    admin = _postgis_store.engine.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    store = open_store(url.render_as_string(hide_password=False))
    yield store
    store.close()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=["sqlite", "postgis"])
def leeds_store(
    request: pytest.FixtureRequest, data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """The Leeds data directory (``load_data_dir(place="Leeds")``, assets included) loaded once
    per backend per session; shared by every test that asks, so tests must not change it."""
    from strengthmap.sources import load_data_dir

    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("leeds_store") / "leeds.sqlite"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        store = open_store(f"sqlite:///{path}")
    else:
        store = request.getfixturevalue("_postgis_leeds_store")
    load_data_dir(store, data_dir, place="Leeds")
    yield store
    if request.param == "sqlite":
        store.close()


@pytest.fixture(params=["sqlite", "postgis"])
def store(request: pytest.FixtureRequest) -> Store:
    """The store, once on SQLite and once on PostGIS."""
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]
