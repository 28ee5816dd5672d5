"""The one write path of the tabular importers: upsert directory rows by id, in bulk, in one transaction.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> sid = stable_id("example", "lunch")
    >>> rows = {"service": [{"id": sid, "name": "Community lunch", "abcd_kind": "association"}]}
    >>> with store.transaction() as session:
    ...     upsert_rows(session, rows, source="manual", licence="CC0-1.0")
    {'service': 1}

Rows are plain dicts keyed by table name (``organization``, ``service``, ``location``, ...).
Tables are written parent first, with ``INSERT ... ON CONFLICT (id) DO UPDATE``, so running an
import twice changes nothing. Every row gets the source and licence given unless it has its own;
a location with a longitude and latitude gets its point geometry; a service with cost options
and no ``free`` flag gets one (free when every option costs nothing).
"""

from __future__ import annotations

import operator
import struct
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from strengthmap.storage import schema
from strengthmap.storage.schema.base import utcnow

#: Stable ids: ``uuid5(NAMESPACE, "<source>/<ref>")``, so re-importing a record updates it.
NAMESPACE = uuid.UUID("6f1d6c52-3c1e-5b8e-9a43-7e2f3d0c9a10")

#: Parent tables before the tables that point at them.
TABLE_ORDER = (
    "taxonomy",
    "taxonomy_term",
    "organization",
    "organization_identifier",
    "service",
    "location",
    "address",
    "service_at_location",
    "schedule",
    "contact",
    "phone",
    "cost_option",
    "accessibility",
    "language",
    "service_area",
    "funding",
    "attribute",
)
MODELS: dict[str, Any] = {
    m.__tablename__: m
    for m in (
        schema.Taxonomy,
        schema.TaxonomyTerm,
        schema.Organization,
        schema.OrganizationIdentifier,
        schema.Service,
        schema.Location,
        schema.Address,
        schema.ServiceAtLocation,
        schema.Schedule,
        schema.Contact,
        schema.Phone,
        schema.CostOption,
        schema.Accessibility,
        schema.Language,
        schema.ServiceArea,
        schema.Funding,
        schema.Attribute,
    )
}
_BATCH = 2000
_WKB_POINT = struct.Struct("<BIdd")
_SELF_REFERENCING = {"organization", "taxonomy_term"}


def stable_id(source: str, ref: str) -> str:
    """A UUID that is the same every time for the same source and reference.

    >>> stable_id("osm", "node/21468571") == stable_id("osm", "node/21468571")
    True
    """
    return str(uuid.uuid5(NAMESPACE, f"{source}/{ref}"))


def _prepare(
    table: str,
    rows: list[dict[str, Any]],
    source: str | None,
    licence: str | None,
    now: datetime,
    today: date,
) -> tuple[list[str], list[list[Any]]]:
    """Every row as a full list of the table's columns (defaults, provenance, geometry filled)."""
    tab = MODELS[table].__table__
    names = [c.name for c in tab.columns]
    known = set(names)
    defaults = [
        c.default.arg if c.default is not None and getattr(c.default, "is_scalar", False) else None
        for c in tab.columns
    ]
    pairs = list(zip(names, defaults, strict=True))
    i_source, i_licence = names.index("source"), names.index("licence")
    i_verified, i_created, i_updated = (
        names.index("last_verified"),
        names.index("created_at"),
        names.index("updated_at"),
    )
    geo = (
        (names.index("geometry"), names.index("longitude"), names.index("latitude"))
        if table == "location"
        else None
    )
    out: list[list[Any]] = []
    for row in rows:
        if not known.issuperset(row):
            raise KeyError(f"{table}: no such column(s) {sorted(set(row) - known)}")
        r: list[Any] = [row.get(n, d) for n, d in pairs]
        if r[i_source] is None:
            r[i_source] = source
        if r[i_licence] is None:
            r[i_licence] = licence
        if r[i_verified] is None:
            r[i_verified] = today
        if r[i_created] is None:
            r[i_created] = now
        r[i_updated] = now
        if (
            geo is not None
            and r[geo[0]] is None
            and r[geo[1]] is not None
            and r[geo[2]] is not None
        ):
            r[geo[0]] = _point_wkb(float(r[geo[1]]), float(r[geo[2]]))
        out.append(r)
    return names, out


def _point_wkb(lon: float, lat: float) -> bytes:
    """ISO WKB of a 2-D point, little-endian: what ``shapely.to_wkb(Point(lon, lat))`` gives."""
    return _WKB_POINT.pack(1, 1, lon, lat)


def _derive_free(rows: dict[str, list[dict[str, Any]]]) -> None:
    amounts: dict[str, list[float | None]] = {}
    for co in rows.get("cost_option", []):
        amounts.setdefault(co["service_id"], []).append(co.get("amount"))
    for svc in rows.get("service", []):
        if svc.get("free") is None and svc["id"] in amounts:
            known = [a for a in amounts[svc["id"]] if a is not None]
            if known:
                svc["free"] = all(a == 0 for a in known)


def upsert_rows(
    session: Any,
    rows: Mapping[str, Iterable[dict[str, Any]]],
    *,
    source: str | None = None,
    licence: str | None = None,
) -> dict[str, int]:
    """Insert or update every row by id, parents first; returns rows written per table."""
    unknown = set(rows) - set(TABLE_ORDER)
    if unknown:
        raise KeyError(f"not directory tables: {sorted(unknown)}")
    materialised = {t: [dict(r) for r in rows[t]] for t in TABLE_ORDER if t in rows}
    _derive_free(materialised)
    dialect = session.get_bind().dialect.name
    insert: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    today = now.date()
    counts: dict[str, int] = {}
    bind = session.get_bind()
    big = dialect == "sqlite" and sum(len(r) for r in materialised.values()) > 20_000
    if big:
        # a bulk write touches index pages all over the file: give it a page cache to match
        # (up to 256 MiB, taken only as needed), then the connection's usual size again
        old_cache = session.execute(sa.text("PRAGMA cache_size")).scalar()
        session.execute(sa.text("PRAGMA cache_size=-262144"))
    for table, table_rows in materialised.items():
        if not table_rows:
            continue
        names, prepared = _prepare(table, table_rows, source, licence, now, today)
        if table not in _SELF_REFERENCING:
            # in key order, the primary-key b-tree grows at its end instead of splitting pages
            # all over (random UUIDs); self-referencing tables keep parents first
            prepared.sort(key=lambda t: t[0])
        tab = MODELS[table].__table__
        stmt = insert(tab).values({n: sa.bindparam(n) for n in names})
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={n: stmt.excluded[n] for n in names if n not in {"id", "created_at"}},
        )
        if dialect == "sqlite":
            _sqlite_executemany(session, bind.dialect, tab, stmt, names, prepared)
        else:
            for start in range(0, len(prepared), _BATCH):
                chunk = [dict(zip(names, t, strict=True)) for t in prepared[start : start + _BATCH]]
                session.execute(stmt, chunk)
        counts[table] = len(prepared)
    if big:
        session.execute(sa.text(f"PRAGMA cache_size={int(old_cache or -2000)}"))
    return counts


def _sqlite_executemany(
    session: Any, dialect: Any, tab: Any, stmt: Any, names: list[str], rows: list[list[Any]]
) -> None:
    """Bulk upsert on SQLite straight through the driver: the statement is compiled once and
    each value goes through its column type's own bind processor (JSON, dates, WKB), exactly
    as SQLAlchemy would do it, without building a parameter dict per row."""
    compiled = stmt.compile(dialect=dialect)
    order = [names.index(k) for k in compiled.positiontup]
    procs = [tab.c[names[i]].type.dialect_impl(dialect).bind_processor(dialect) for i in order]
    if order == list(range(len(names))):
        params = rows  # already in the statement's order: processed in place
    else:
        getter = operator.itemgetter(*order)
        params = [list(getter(row)) for row in rows]
    for pos, proc in enumerate(procs):
        if proc is None:
            continue
        cache: dict[Any, Any] = {}  # the same date, timestamp or flag is processed once
        for p in params:
            v = p[pos]
            if v is None:
                continue  # None stays SQL NULL (never the JSON text 'null')
            try:
                p[pos] = cache[v]
            except KeyError:
                p[pos] = cache[v] = proc(v)
            except TypeError:  # unhashable (a dict or list for a JSON column)
                p[pos] = proc(v)
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        cursor.executemany(str(compiled), params)
    finally:
        cursor.close()


def retire_missing(session: Any, table: str, source: str, keep_ids: set[str]) -> int:
    """Retire (never delete) rows of ``source`` in ``table`` that a fresh import no longer has."""
    tab = MODELS[table].__table__
    ids = [
        r[0]
        for r in session.execute(
            sa.select(tab.c.id).where(tab.c.source == source, tab.c.retired_at.is_(None))
        )
        if r[0] not in keep_ids
    ]
    for start in range(0, len(ids), 500):
        session.execute(
            sa.update(tab).where(tab.c.id.in_(ids[start : start + 500])).values(retired_at=utcnow())
        )
    return len(ids)


__all__ = ["MODELS", "NAMESPACE", "TABLE_ORDER", "retire_missing", "stable_id", "upsert_rows"]
