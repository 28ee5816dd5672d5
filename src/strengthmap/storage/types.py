"""Column types that differ by backend: geometry is WKB in a BLOB on SQLite, a real PostGIS geometry on PostgreSQL.

Values are shapely geometries in lon/lat (EPSG:4326) on both backends.
"""

from __future__ import annotations

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.dialects.postgresql.base import ischema_names as postgresql_ischema_names
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import expression
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import UserDefinedType

SRID = 4326


class Geometry(UserDefinedType[BaseGeometry]):
    """A geometry column: ``geometry(Geometry, 4326)`` on PostGIS, ``BLOB`` (WKB) on SQLite."""

    cache_ok = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # reflection passes the type modifiers ("Geometry", 4326); the column is always 4326
        super().__init__()

    def get_col_spec(self, **kw: Any) -> str:
        return f"geometry(Geometry,{SRID})"

    def bind_processor(self, dialect: Any) -> Any:
        def process(value: BaseGeometry | bytes | None) -> bytes | None:
            if value is None:
                return None
            if isinstance(value, bytes | bytearray | memoryview):
                return bytes(value)
            return shapely.to_wkb(value, include_srid=False)

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        def process(value: Any) -> BaseGeometry | None:
            if value is None:
                return None
            if isinstance(value, str):  # psycopg may hand back hex WKB
                return shapely.from_wkb(bytes.fromhex(value))
            return shapely.from_wkb(bytes(value))

        return process

    def bind_expression(self, bindvalue: Any) -> Any:
        return _GeomFromWKB(bindvalue)

    def column_expression(self, col: Any) -> Any:
        return _AsBinary(col)


class _GeomFromWKB(FunctionElement[Any]):
    inherit_cache = True
    name = "geom_from_wkb"


class _AsBinary(FunctionElement[Any]):
    inherit_cache = True
    name = "as_binary"
    type = Geometry()


# let reflection (Alembic autogenerate) recognise PostGIS columns
postgresql_ischema_names["geometry"] = Geometry


@compiles(Geometry, "sqlite")
def _geometry_sqlite(type_: Geometry, compiler: Any, **kw: Any) -> str:
    return "BLOB"


@compiles(_GeomFromWKB)
def _from_wkb_default(element: _GeomFromWKB, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_GeomFromWKB, "postgresql")
def _from_wkb_pg(element: _GeomFromWKB, compiler: Any, **kw: Any) -> str:
    return f"ST_GeomFromWKB({compiler.process(element.clauses, **kw)}, {SRID})"


@compiles(_AsBinary)
def _as_binary_default(element: _AsBinary, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(_AsBinary, "postgresql")
def _as_binary_pg(element: _AsBinary, compiler: Any, **kw: Any) -> str:
    return f"ST_AsBinary({compiler.process(element.clauses, **kw)})"


def literal_geometry(geom: BaseGeometry) -> Any:
    """A bound geometry parameter usable in PostGIS expressions (``ST_DWithin(col, :g, ...)``)."""
    return expression.bindparam(None, geom, type_=Geometry())


__all__ = ["SRID", "Geometry", "literal_geometry"]
