"""Edit the directory by hand: create, update, retire and restore records, each with an audit entry.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> sid = create_record(store, "service", {"name": "Lunch club"}, actor="teresa@example.org")
    >>> update_record(store, "service", sid, {"description": "Hot lunch"}, actor="cli")
    {'description': [None, 'Hot lunch']}
    >>> retire_record(store, "service", sid, actor="cli")
    >>> [e["action"] for e in history(store, sid)]
    ['create', 'update', 'retire']

Nothing is ever deleted: ``retire_record`` sets ``retired_at`` (search and the feed hide the
record) and ``restore_record`` clears it. Each change writes an ``AuditEntry``: who (``actor``),
when, and what changed (``{"field": [old, new]}``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from shapely.geometry import Point

from strengthmap.errors import Conflict, InputError, NotFound
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.base import utcnow

EDITABLE: dict[str, Any] = {
    "service": schema.Service,
    "organization": schema.Organization,
    "location": schema.Location,
}
#: Columns no edit may set: identity, provenance timestamps, derived geometry.
_PROTECTED = {"id", "created_at", "updated_at", "retired_at", "geometry"}
_STATUSES = {"active", "inactive", "defunct", "temporarily closed"}


def _model(entity: str) -> Any:
    if entity not in EDITABLE:
        raise InputError(f"cannot edit {entity!r}; one of {', '.join(EDITABLE)}", field="entity")
    return EDITABLE[entity]


def _check(entity: str, values: dict[str, Any]) -> dict[str, Any]:
    """Fields known, types right, values in range; returns the values converted."""
    model = _model(entity)
    columns = {c.name: c for c in model.__table__.columns}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in columns or key in _PROTECTED:
            raise InputError(f"not an editable field of {entity}", field=key)
        col = columns[key]
        if value is None:
            if not col.nullable:
                raise InputError("required", field=key)
            out[key] = None
            continue
        try:
            py = col.type.python_type
        except NotImplementedError:
            py = object
        try:
            if py is int and not isinstance(value, bool):
                value = int(value)
            elif py is float:
                value = float(value)
            elif py is date and isinstance(value, str):
                value = date.fromisoformat(value)
            elif py is datetime and isinstance(value, str):
                value = datetime.fromisoformat(value)
            elif py is str and not isinstance(value, str):
                raise ValueError(value)
        except (TypeError, ValueError):
            raise InputError(f"not a valid {py.__name__}: {value!r}", field=key) from None
        out[key] = value
    if out.get("abcd_kind") is not None and out["abcd_kind"] not in schema.ABCD_KINDS:
        raise InputError(f"not an ABCD kind: {out['abcd_kind']!r}", field="abcd_kind")
    if entity == "service" and out.get("status") is not None and out["status"] not in _STATUSES:
        raise InputError(f"not an ORUK status: {out['status']!r}", field="status")
    if out.get("latitude") is not None and not -90 <= out["latitude"] <= 90:
        raise InputError("latitude out of range -90..90", field="latitude")
    if out.get("longitude") is not None and not -180 <= out["longitude"] <= 180:
        raise InputError("longitude out of range -180..180", field="longitude")
    if "name" in out and not (out["name"] or "").strip():
        raise InputError("required", field="name")
    return out


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date | datetime) else v


def _audit(
    session: Any, actor: str, action: str, entity: str, rid: str, changes: dict[str, Any] | None
) -> None:
    session.add(
        schema.AuditEntry(actor=actor, action=action, entity=entity, entity_id=rid, changes=changes)
    )


def create_record(store: Store, entity: str, values: dict[str, Any], *, actor: str) -> str:
    """Create a service, organization or location; returns its new (or given) UUID."""
    values = dict(values)
    rid = values.pop("id", None)
    checked = _check(entity, values)
    if entity in {"service", "organization"} and not checked.get("name"):
        raise InputError("required", field="name")
    model = _model(entity)
    with store.transaction() as session:
        if rid is not None and session.get(model, rid) is not None:
            raise Conflict(f"{entity} {rid} exists already")
        row = model(**checked, source=checked.get("source") or "manual")
        if rid is not None:
            row.id = str(rid)
        if entity == "organization" and row.description is None:
            row.description = ""
        if entity == "location":
            _set_point(row)
        if row.last_verified is None:
            row.last_verified = utcnow().date()
        session.add(row)
        session.flush()
        _audit(
            session,
            actor,
            "create",
            entity,
            row.id,
            {k: [None, _plain(v)] for k, v in checked.items()},
        )
        return str(row.id)


def _set_point(row: Any) -> None:
    if row.longitude is not None and row.latitude is not None:
        row.geometry = Point(row.longitude, row.latitude)
    else:
        row.geometry = None


def _get(session: Any, entity: str, rid: str) -> Any:
    row = session.get(_model(entity), rid)
    if row is None:
        raise NotFound(f"no {entity} with id {rid}")
    return row


def update_record(
    store: Store, entity: str, rid: str, changes: dict[str, Any], *, actor: str
) -> dict[str, list[Any]]:
    """Change fields of a record; returns ``{"field": [old, new]}`` for what really changed."""
    checked = _check(entity, changes)
    with store.transaction() as session:
        row = _get(session, entity, rid)
        diff = {}
        for key, value in checked.items():
            old = getattr(row, key)
            if old != value:
                diff[key] = [_plain(old), _plain(value)]
                setattr(row, key, value)
        if entity == "location" and {"latitude", "longitude"} & set(diff):
            _set_point(row)
        if diff:
            row.last_verified = utcnow().date()
            _audit(session, actor, "update", entity, rid, diff)
        return diff


def retire_record(
    store: Store, entity: str, rid: str, *, actor: str, reason: str | None = None
) -> None:
    """Hide a record from search and the feed without deleting it."""
    with store.transaction() as session:
        row = _get(session, entity, rid)
        if row.retired_at is not None:
            return
        row.retired_at = utcnow()
        _audit(
            session,
            actor,
            "retire",
            entity,
            rid,
            {
                "retired_at": [None, _plain(row.retired_at)],
                **({"reason": [None, reason]} if reason else {}),
            },
        )


def restore_record(store: Store, entity: str, rid: str, *, actor: str) -> None:
    """Bring a retired record back."""
    with store.transaction() as session:
        row = _get(session, entity, rid)
        if row.retired_at is None:
            return
        old = _plain(row.retired_at)
        row.retired_at = None
        _audit(session, actor, "restore", entity, rid, {"retired_at": [old, None]})


def history(store: Store, rid: str) -> list[dict[str, Any]]:
    """The audit trail of one record, oldest first."""
    with store.session() as session:
        rows = session.scalars(
            sa.select(schema.AuditEntry)
            .where(schema.AuditEntry.entity_id == rid)
            .order_by(schema.AuditEntry.at, schema.AuditEntry.id)
        ).all()
        return [
            {
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "entity": r.entity,
                "changes": r.changes,
            }
            for r in rows
        ]


__all__ = [
    "EDITABLE",
    "create_record",
    "history",
    "restore_record",
    "retire_record",
    "update_record",
]
