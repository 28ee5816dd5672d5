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

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from shapely.geometry import Point

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
) -> list[dict[str, Any]]:
    tab = MODELS[table].__table__
    names = [c.name for c in tab.columns]
    out = []
    for row in rows:
        unknown = set(row) - set(names)
        if unknown:
            raise KeyError(f"{table}: no such column(s) {sorted(unknown)}")
        r = dict.fromkeys(names)
        for c in tab.columns:  # column defaults that are plain values (status, timezone ...)
            if c.default is not None and getattr(c.default, "is_scalar", False):
                r[c.name] = c.default.arg
        r.update(row)
        r["source"] = row.get("source") or source
        r["licence"] = row.get("licence") or licence
        r["last_verified"] = row.get("last_verified") or today
        r["created_at"] = row.get("created_at") or now
        r["updated_at"] = now
        if table == "location" and r.get("geometry") is None:
            lon, lat = r.get("longitude"), r.get("latitude")
            if lon is not None and lat is not None:
                r["geometry"] = Point(float(lon), float(lat))
        out.append(r)
    return out


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
    for table, table_rows in materialised.items():
        if not table_rows:
            continue
        prepared = _prepare(table, table_rows, source, licence, now, today)
        tab = MODELS[table].__table__
        # one statement per distinct key set keeps executemany uniform; every row has all keys
        stmt = insert(tab)
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"],
            set_={
                c.name: stmt.excluded[c.name]
                for c in tab.columns
                if c.name not in {"id", "created_at"}
            },
        )
        for start in range(0, len(prepared), _BATCH):
            session.execute(stmt, prepared[start : start + _BATCH])
        counts[table] = len(prepared)
    return counts


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
