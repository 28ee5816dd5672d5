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

Besides services, organisations and locations, the parts of a service can be edited the same
way: ``address`` and ``accessibility`` (of a location), ``service_at_location`` (links a service
to a location), ``schedule`` (checked with ``schedules.Recurrence.validate``: a bad day, time or
RRULE names its field), ``contact`` (``private`` contacts are never published) and
``cost_option`` (the service's ``free`` flag follows its cost options). ``edit_records`` applies
several creates and updates in one transaction (a location with its address, all or nothing):

    >>> lid, aid = edit_records(store, [
    ...     ("create", "location", {"name": "Hall", "latitude": 53.79, "longitude": -1.57}),
    ...     ("create", "address", {"location_id": "$0", "address_1": "1 Road", "city": "Leeds",
    ...                            "state_province": "West Yorkshire", "postal_code": "LS12 1BE"}),
    ... ], actor="cli")
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from shapely.geometry import Point

from strengthmap.directory.records import free_of_charge
from strengthmap.errors import Conflict, InputError, NotFound
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.base import utcnow

EDITABLE: dict[str, Any] = {
    "service": schema.Service,
    "organization": schema.Organization,
    "location": schema.Location,
    "address": schema.Address,
    "accessibility": schema.Accessibility,
    "service_at_location": schema.ServiceAtLocation,
    "schedule": schema.Schedule,
    "contact": schema.Contact,
    "phone": schema.Phone,
    "cost_option": schema.CostOption,
}
#: The parent a part must point at: (column, entity), at least one of them given.
_PARENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "address": (("location_id", "location"),),
    "accessibility": (("location_id", "location"),),
    "service_at_location": (("service_id", "service"), ("location_id", "location")),
    "schedule": (
        ("service_id", "service"),
        ("service_at_location_id", "service_at_location"),
        ("location_id", "location"),
    ),
    "contact": (
        ("service_id", "service"),
        ("organization_id", "organization"),
        ("location_id", "location"),
    ),
    "phone": (
        ("contact_id", "contact"),
        ("service_id", "service"),
        ("location_id", "location"),
        ("organization_id", "organization"),
    ),
    "cost_option": (("service_id", "service"),),
    "service": (("organization_id", "organization"),),
    "location": (("organization_id", "organization"),),
}
#: Parents that are all required (the others: at least one).
_ALL_PARENTS = {"service_at_location", "address", "accessibility", "cost_option"}
_SCHEDULE_FIELDS = (
    "freq", "interval", "byday", "bymonthday", "dtstart", "valid_from", "valid_to", "until",
    "count", "wkst", "rrule", "opens_at", "closes_at", "timezone",
)  # fmt: skip
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
            if py is bool:
                if isinstance(value, str):
                    if value.lower() not in {"true", "false", "yes", "no", "1", "0", "on", "off"}:
                        raise ValueError(value)
                    value = value.lower() in {"true", "yes", "1", "on"}
                value = bool(value)
            elif py is int and not isinstance(value, bool):
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
    if "name" in out and entity in {"service", "organization"} and not (out["name"] or "").strip():
        raise InputError("required", field="name")
    if entity == "phone" and "number" in out:
        out["number"] = _phone_number(out["number"])
    amount = out.get("amount") if entity == "cost_option" else None
    if amount is not None and not 0 <= amount < 100_000:
        raise InputError("an amount of 0 (free) or more, in pounds", field="amount")
    if entity == "address" and out.get("postal_code") is not None:
        out["postal_code"] = out["postal_code"].strip().upper()
    return out


def _phone_number(value: str | None) -> str:
    """A phone number as people write it (digits, spaces, +, brackets, hyphens), 6 to 15 digits.

    >>> _phone_number(" 0113 378 5005 ")
    '0113 378 5005'
    """
    number = " ".join((value or "").split())
    if not number:
        raise InputError("required", field="number")
    digits = sum(ch.isdigit() for ch in number)
    if not re.fullmatch(r"\+?[0-9 ()\-]+", number) or not 6 <= digits <= 15:
        raise InputError(
            f"not a phone number: {number!r} (digits, spaces, +, brackets; e.g. 0113 378 5005)",
            field="number",
        )
    return number


def _check_row(session: Any, entity: str, row: Any) -> None:
    """Checks of the whole record after the change: its parents exist, and a schedule expands."""
    links = _PARENTS.get(entity, ())
    given = [(col, parent) for col, parent in links if getattr(row, col) is not None]
    needed = links if entity in _ALL_PARENTS else ()
    for col, _parent in needed:
        if getattr(row, col) is None:
            raise InputError("required", field=col)
    if entity in {"schedule", "contact", "phone"} and not given:
        raise InputError(f"a {entity} needs a service, location or organisation", field=links[0][0])
    for col, parent in given:
        found = session.get(_model(parent), getattr(row, col))
        if found is None:
            raise InputError(f"no {parent} with id {getattr(row, col)!r}", field=col)
    if entity == "schedule":
        from strengthmap.directory.schedules import Recurrence

        if not (row.freq or row.rrule or row.dtstart or row.description):
            raise InputError("give a day (and times), an RRULE or a date", field="byday")
        rec = Recurrence.of({k: getattr(row, k) for k in _SCHEDULE_FIELDS})
        for fault in rec.validate():
            name, _, message = fault.partition(": ")
            raise InputError(message or fault, field=name if message else None)
    if entity == "address":
        for col in ("address_1", "city", "state_province", "postal_code"):
            if not (getattr(row, col) or "").strip():
                raise InputError("required", field=col)


def _derive_free(session: Any, service_id: str | None) -> None:
    """A service's ``free`` flag from its live cost options: free when every known amount is 0,
    not free when any is above 0, unknown (None) without amounts."""
    if service_id is None:
        return
    service = session.get(schema.Service, service_id)
    if service is None:
        return
    session.flush()
    amounts = session.scalars(
        sa.select(schema.CostOption.amount).where(
            schema.CostOption.service_id == service_id,
            schema.CostOption.retired_at.is_(None),
            schema.CostOption.amount.is_not(None),
        )
    ).all()
    service.free = free_of_charge(amounts)


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date | datetime) else v


def _audit(
    session: Any, actor: str, action: str, entity: str, rid: str, changes: dict[str, Any] | None
) -> None:
    session.add(
        schema.AuditEntry(actor=actor, action=action, entity=entity, entity_id=rid, changes=changes)
    )


def create_record(store: Store, entity: str, values: dict[str, Any], *, actor: str) -> str:
    """Create a record of any ``EDITABLE`` entity; returns its new (or given) UUID."""
    with store.transaction() as session:
        return _create(session, entity, values, actor)


def _create(session: Any, entity: str, values: dict[str, Any], actor: str) -> str:
    values = dict(values)
    rid = values.pop("id", None)
    checked = _check(entity, values)
    if entity in {"service", "organization"} and not checked.get("name"):
        raise InputError("required", field="name")
    model = _model(entity)
    if rid is not None and session.get(model, rid) is not None:
        raise Conflict(f"{entity} {rid} exists already")
    row = model(**checked, source=checked.get("source") or "manual")
    if rid is not None:
        row.id = str(rid)
    if entity == "organization" and row.description is None:
        row.description = ""
    if entity == "location":
        _set_point(row)
    if entity == "cost_option" and row.currency is None and row.amount is not None:
        row.currency = "GBP"
    if row.last_verified is None:
        row.last_verified = utcnow().date()
    _check_row(session, entity, row)
    session.add(row)
    session.flush()
    if entity == "cost_option":
        _derive_free(session, row.service_id)
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
    with store.transaction() as session:
        return _update(session, entity, rid, changes, actor)


def _update(
    session: Any, entity: str, rid: str, changes: dict[str, Any], actor: str
) -> dict[str, list[Any]]:
    checked = _check(entity, changes)
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
        _check_row(session, entity, row)
        row.last_verified = utcnow().date()
        if entity == "cost_option":
            _derive_free(session, row.service_id)
        _audit(session, actor, "update", entity, rid, diff)
    return diff


def edit_records(store: Store, ops: list[tuple[Any, ...]], *, actor: str) -> list[str]:
    """Several creates and updates in one transaction: all are written or none.

    Each op is ``("create", entity, values)``, ``("update", entity, id, changes)`` or
    ``("retire", entity, id)``; a value ``"$N"`` stands for the id of the record the N-th op
    created or updated (so an address can point at the location created just before it).
    Returns the id of every op's record.
    """
    ids: list[str] = []

    def resolve(values: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in values.items():
            if isinstance(v, str) and v.startswith("$") and v[1:].isdigit():
                v = ids[int(v[1:])]
            out[k] = v
        return out

    with store.transaction() as session:
        for op in ops:
            if op[0] == "create":
                ids.append(_create(session, op[1], resolve(op[2]), actor))
            elif op[0] == "update":
                _update(session, op[1], op[2], resolve(op[3]), actor)
                ids.append(str(op[2]))
            elif op[0] == "retire":
                _retire(session, op[1], op[2], actor)
                ids.append(str(op[2]))
            else:
                raise InputError(f"unknown edit {op[0]!r}: create, update or retire", field="op")
    return ids


def retire_record(
    store: Store, entity: str, rid: str, *, actor: str, reason: str | None = None
) -> None:
    """Hide a record from search and the feed without deleting it."""
    with store.transaction() as session:
        _retire(session, entity, rid, actor, reason)


def _retire(session: Any, entity: str, rid: str, actor: str, reason: str | None = None) -> None:
    row = _get(session, entity, rid)
    if row.retired_at is not None:
        return
    row.retired_at = utcnow()
    if entity == "cost_option":
        _derive_free(session, row.service_id)
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
        if entity == "cost_option":
            _derive_free(session, row.service_id)
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
    "edit_records",
    "history",
    "restore_record",
    "retire_record",
    "update_record",
]
