"""The store: migrations, both backends, geometry round-trips, transactions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from shapely.geometry import Point, Polygon
from sqlalchemy import inspect, select, text

from strengthmap.errors import ConfigError
from strengthmap.storage import Store, include_object_for, open_store, schema


def test_migrations_match_models(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include_object_for(store.dialect)}
        )
        diff = compare_metadata(ctx, schema.metadata)
    assert diff == []


def test_every_domain_noun_has_a_table(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    for noun in [
        "area", "area_link", "deprivation", "indicator", "indicator_value", "population_estimate",
        "postcode", "dataset", "organization", "service", "location", "service_at_location",
        "schedule", "taxonomy", "taxonomy_term", "contact", "cost_option", "person", "tie",
        "room", "booking", "story", "story_link", "route", "commission", "commission_stage",
        "user_account", "audit_entry",
    ]:  # fmt: skip
        assert noun in tables, noun


def test_geometry_round_trips(store: Store) -> None:
    square = Polygon([(-1.55, 53.79), (-1.54, 53.79), (-1.54, 53.80), (-1.55, 53.80)])
    with store.transaction() as s:
        s.add(schema.Area(code="E01000001", name="A", level="lsoa", vintage=2011, geometry=square))
    with store.session() as s:
        area = s.scalars(select(schema.Area)).one()
        assert area.geometry is not None
        assert area.geometry.equals(square)


def test_postgis_has_real_geometry_and_gist(postgis_store: Store) -> None:
    with postgis_store.engine.connect() as conn:
        udt = conn.execute(
            text(
                "SELECT udt_name FROM information_schema.columns WHERE table_name='area' AND column_name='geometry'"
            )
        ).scalar_one()
        assert udt == "geometry"
        indexdef = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname='ix_area_geometry_gist'")
        ).scalar_one()
        assert "gist" in indexdef.lower()
    square = Point(-1.5, 53.8).buffer(0.01)
    with postgis_store.transaction() as s:
        s.add(schema.Area(code="E01000002", name="B", level="lsoa", vintage=2011, geometry=square))
    with postgis_store.engine.connect() as conn:
        inside = conn.execute(
            text(
                "SELECT code FROM area WHERE ST_Contains(geometry, ST_SetSRID(ST_MakePoint(-1.5, 53.8), 4326))"
            )
        ).scalar_one()
        assert inside == "E01000002"


def test_sqlite_runs_with_wal_and_foreign_keys(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_transaction_is_all_or_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as s:
        s.add(schema.Area(code="E01000003", name="C", level="lsoa", vintage=2011))
        s.flush()
        raise RuntimeError("boom")
    with store.session() as s:
        assert s.scalars(select(schema.Area)).all() == []


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        open_store("mysql://nobody@nowhere/db")


SRC = Path(__file__).resolve().parent.parent / "src" / "strengthmap"


def _names_dialect(node: ast.expr) -> bool:
    """``x.dialect`` or ``x.dialect.name``."""
    return isinstance(node, ast.Attribute) and (
        node.attr == "dialect"
        or (
            node.attr == "name"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "dialect"
        )
    )


def backend_branches(source: str) -> list[int]:
    """The lines of ``source`` that ask which backend runs: ``is_postgis`` (the property, or a
    flag of that name passed on), or a comparison of ``.dialect`` / ``.dialect.name``. (Looking an
    adapter up by dialect is not a branch.)"""
    return sorted(
        {
            node.lineno
            for node in ast.walk(ast.parse(source))
            if (isinstance(node, ast.Attribute) and node.attr == "is_postgis")
            or (isinstance(node, ast.Name) and node.id == "is_postgis")
            or (isinstance(node, ast.arg) and node.arg == "is_postgis")
            or (
                isinstance(node, ast.Compare)
                and any(_names_dialect(side) for side in [node.left, *node.comparators])
            )
        }
    )


def test_the_backend_branch_finder_finds_branches() -> None:
    assert backend_branches("if store.is_postgis:\n    pass\n") == [1]
    assert backend_branches("x = 1\nok = engine.dialect.name != 'sqlite'\n") == [2]
    assert backend_branches("if 'postgresql' == store.dialect: pass") == [1]
    assert backend_branches(
        "def f(is_postgis: bool) -> int:\n    return 1 if is_postgis else 2"
    ) == [1, 2]
    assert backend_branches("backend = BACKENDS[store.dialect]") == []


def test_backend_differences_live_in_storage_or_adapters() -> None:
    """Outside ``storage/`` no module branches on the backend: a module whose SQL differs keeps
    one adapter per dialect behind one lookup (docs/architecture.md, "Backend adapters")."""
    found = {
        str(path.relative_to(SRC)): lines
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).parts[0] != "storage"
        and (lines := backend_branches(path.read_text(encoding="utf-8")))
    }
    assert found == {}
