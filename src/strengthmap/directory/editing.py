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

The editor's forms read and write through the functions at the end: ``list_services`` and
``list_organizations`` (pick lists), ``read_record``, and for the parts of a service (its places,
times, contacts and costs) ``service_parts``, ``read_part``, ``save_part`` (a form's values to
``edit_records`` ops, all or nothing) and ``retire_part``.

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
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from shapely.geometry import Point

from strengthmap.directory.records import free_of_charge
from strengthmap.directory.schedules import WEEKDAYS, describe_schedule, to_rrule
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


# --- what the editor's forms read and write ---------------------------------------------------


class ServiceSummary(NamedTuple):
    """A live service in the editor's list."""

    id: str
    name: str
    status: str | None
    last_verified: date | None


class OrganizationSummary(NamedTuple):
    """A live organisation in the editor's list and pick list."""

    id: str
    name: str
    last_verified: date | None


def list_services(store: Store) -> list[ServiceSummary]:
    """The live services, by name (the editor's list)."""
    svc = schema.Service
    with store.session() as session:
        rows = session.execute(
            sa.select(svc.id, svc.name, svc.status, svc.last_verified)
            .where(svc.retired_at.is_(None))
            .order_by(svc.name)
        ).all()
    return [ServiceSummary(*row) for row in rows]


def list_organizations(store: Store) -> list[OrganizationSummary]:
    """The live organisations, by name (the editor's list and the service form's pick list)."""
    org = schema.Organization
    with store.session() as session:
        rows = session.execute(
            sa.select(org.id, org.name, org.last_verified)
            .where(org.retired_at.is_(None))
            .order_by(org.name)
        ).all()
    return [OrganizationSummary(*row) for row in rows]


#: How a message names an entity where its English spelling differs from the ORUK name.
_SPOKEN = {"organization": "organisation"}


def read_record(store: Store, entity: str, rid: str, names: Iterable[str]) -> dict[str, Any]:
    """The fields ``names`` of one record (retired or not), for an edit form.

    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> sid = create_record(store, "service", {"name": "Lunch club"}, actor="cli")
    >>> read_record(store, "service", sid, ["name", "status"])
    {'name': 'Lunch club', 'status': 'active'}
    """
    with store.session() as session:
        row = session.get(_model(entity), rid)
        if row is None:
            raise NotFound(f"no {_SPOKEN.get(entity, entity)} with id {rid}")
        return {name: getattr(row, name) for name in names}


def service_name(store: Store, service_id: str) -> str:
    """The name of a service (``NotFound`` for an unknown id)."""
    return str(read_record(store, "service", service_id, ["name"])["name"])


#: The parts of a service that the editor changes one form at a time, and the form values each
#: takes (the web's forms name their fields the same; ``days`` is a list of ``MO``..``SU``,
#: ``private`` a flag).
PART_FIELDS: dict[str, tuple[str, ...]] = {
    "location": (
        "name", "description", "address_1", "address_2", "city", "state_province", "postcode",
        "access_description", "access_details",
    ),
    "schedule": ("mode", "days", "opens_at", "closes_at", "rrule", "notes"),
    "contact": ("name", "title", "email", "phone", "private"),
    "cost_option": ("cost", "amount", "option", "amount_description"),
}  # fmt: skip
#: The form values a part cannot do without, checked in this order.
PART_REQUIRED: dict[str, tuple[str, ...]] = {
    "location": ("name", "address_1", "city", "postcode"),
    "contact": ("name",),
}
#: The weekday codes a weekly schedule's ``days`` takes (RFC 5545 BYDAY).
BYDAY_CODES = tuple(d.upper() for d in WEEKDAYS)
_RRULE_PREFIX = re.compile(r"^\s*RRULE:", re.IGNORECASE)
#: One ``edit_records`` op: ``("create", entity, values)``, ``("update", entity, id, changes)``
#: or ``("retire", entity, id)``.
Op = tuple[Any, ...]


def _text(values: Mapping[str, Any], name: str) -> str | None:
    """A form value stripped; blank or missing is None (forms send empty strings)."""
    raw = values.get(name)
    text = str(raw).strip() if raw is not None else ""
    return text or None


def _flag(value: Any) -> bool:
    return value is True or value in ("on", "true", "1")


def _days(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else list(value or [])
    return [str(d) for d in items]


def _part_model(entity: str) -> Any:
    if entity not in PART_FIELDS:
        raise InputError(f"not a part of a service: {entity!r}", field="entity")
    return EDITABLE[entity]


def _own_part(session: Any, entity: str, rid: str, service_id: str) -> Any:
    """The schedule, contact or cost option ``rid`` of this service (else ``NotFound``)."""
    model = _part_model(entity)
    row = session.get(model, rid)
    if row is None or getattr(row, "service_id", service_id) != service_id:
        raise NotFound(f"no {model.__tablename__} with id {rid} on this service")
    return row


def read_part(store: Store, entity: str, service_id: str, part_id: str) -> dict[str, Any]:
    """The form values of one part of a service (``PART_FIELDS[entity]``), plus the ids of the
    records it spans (``_address_id``, ``_access_id``, ``_phone_id``) that ``save_part`` updates."""
    with store.session() as session:
        if entity == "location":
            return _read_location(session, part_id)
        row = _own_part(session, entity, part_id, service_id)
        if entity == "schedule":
            return _read_schedule(row)
        if entity == "contact":
            return _read_contact(session, row)
        return {
            "cost": "free" if row.amount == 0 else "amount",
            "amount": row.amount if row.amount else None,
            "option": row.option,
            "amount_description": row.amount_description,
        }


def _read_location(session: Any, location_id: str) -> dict[str, Any]:
    loc = session.get(schema.Location, location_id)
    if loc is None:
        raise NotFound(f"no location with id {location_id}")
    addr = session.scalars(
        sa.select(schema.Address).where(
            schema.Address.location_id == location_id, schema.Address.retired_at.is_(None)
        )
    ).first()
    acc = session.scalars(
        sa.select(schema.Accessibility).where(
            schema.Accessibility.location_id == location_id,
            schema.Accessibility.retired_at.is_(None),
        )
    ).first()
    values = {"name": loc.name, "description": loc.description}
    if addr is not None:
        values.update(
            address_1=addr.address_1, address_2=addr.address_2, city=addr.city,
            state_province=addr.state_province, postcode=addr.postal_code, _address_id=addr.id,
        )  # fmt: skip
    if acc is not None:
        values.update(
            access_description=acc.description, access_details=acc.details, _access_id=acc.id
        )
    return values


def _read_schedule(row: Any) -> dict[str, Any]:
    simple = row.freq == "WEEKLY" and not row.rrule and (row.interval or 1) == 1
    days = [d for d in (row.byday or "").split(",") if d]
    values = {"opens_at": row.opens_at, "closes_at": row.closes_at, "notes": row.notes}
    if simple and all(d in BYDAY_CODES for d in days):
        values.update(mode="weekly", days=days)
    else:
        values.update(mode="rrule", rrule=row.rrule or to_rrule(row), days=[])
    return values


def _read_contact(session: Any, row: Any) -> dict[str, Any]:
    values = {"name": row.name, "title": row.title, "email": row.email, "private": row.private}
    phone = session.scalars(
        sa.select(schema.Phone)
        .where(schema.Phone.contact_id == row.id, schema.Phone.retired_at.is_(None))
        .order_by(schema.Phone.created_at, schema.Phone.id)
    ).first()
    if phone is not None:  # the contact's first phone; others (from imports) are kept as they are
        values.update(phone=phone.number, _phone_id=phone.id)
    return values


def part_ops(
    store: Store,
    entity: str,
    service_id: str,
    part_id: str | None,
    values: Mapping[str, Any],
    old: Mapping[str, Any],
) -> list[Op]:
    """The ``edit_records`` ops that make a part of a service what the form ``values`` say
    (``part_id`` None: a new one). ``old`` is what ``read_part`` answered (empty for a new
    part). Raises ``InputError`` naming the form field at fault.

    >>> from strengthmap.storage import open_store
    >>> part_ops(open_store("sqlite://"), "schedule", "s1", None,
    ...          {"mode": "weekly", "days": ["WE"], "opens_at": "12:00"}, {})
    [('create', 'schedule', {'service_id': 's1', 'opens_at': '12:00', 'closes_at': None, 'notes': None, 'freq': 'WEEKLY', 'byday': 'WE', 'rrule': None, 'interval': None})]
    """
    _part_model(entity)
    for name in PART_REQUIRED.get(entity, ()):
        if not _text(values, name):
            raise InputError("required", field=name)
    if entity == "location":
        return _location_ops(store, service_id, part_id, values, old)
    if entity == "schedule":
        return _schedule_ops(service_id, part_id, values)
    if entity == "contact":
        return _contact_ops(service_id, part_id, values, old)
    return _cost_ops(service_id, part_id, values)


def _location_ops(
    store: Store,
    service_id: str,
    location_id: str | None,
    form: Mapping[str, Any],
    old: Mapping[str, Any],
) -> list[Op]:
    from strengthmap.areas import resolve_postcode

    v = {name: _text(form, name) for name in PART_FIELDS["location"]}
    postcode = str(v["postcode"])
    try:
        lon, lat, _code = resolve_postcode(store, postcode)
    except NotFound as exc:
        raise InputError(str(exc.message), field="postcode") from None
    location = {"name": v["name"], "description": v["description"], "latitude": lat,
                "longitude": lon}  # fmt: skip
    address = {
        "address_1": v["address_1"], "address_2": v["address_2"], "city": v["city"],
        "state_province": v["state_province"] or v["city"], "postal_code": postcode,
    }  # fmt: skip
    access = {"description": v["access_description"], "details": v["access_details"]}
    ops: list[Op] = []
    if location_id is None:
        ops.append(("create", "location", location))
        ops.append(("create", "service_at_location", {"service_id": service_id,
                                                      "location_id": "$0"}))  # fmt: skip
        ref = "$0"
    else:
        ops.append(("update", "location", location_id, location))
        ref = location_id
    if old.get("_address_id"):
        ops.append(("update", "address", old["_address_id"], address))
    else:
        ops.append(("create", "address", {"location_id": ref, **address}))
    if old.get("_access_id"):
        ops.append(("update", "accessibility", old["_access_id"], access))
    elif access["description"] or access["details"]:
        ops.append(("create", "accessibility", {"location_id": ref, **access}))
    return ops


def _schedule_ops(service_id: str, rid: str | None, form: Mapping[str, Any]) -> list[Op]:
    mode = _text(form, "mode") or "weekly"
    opens, closes = _text(form, "opens_at"), _text(form, "closes_at")
    values: dict[str, Any] = {"opens_at": opens, "closes_at": closes, "notes": _text(form, "notes")}
    if mode == "weekly":
        days = [d for d in _days(form.get("days")) if d in BYDAY_CODES]
        if not days:
            raise InputError("tick at least one day", field="days")
        values.update(freq="WEEKLY", byday=",".join(days), rrule=None, interval=None)
    elif mode == "rrule":
        text = _text(form, "rrule")
        if not text:
            raise InputError("required: an RRULE such as FREQ=WEEKLY;BYDAY=WE", field="rrule")
        values.update(rrule=_RRULE_PREFIX.sub("", text), freq=None, byday=None, interval=None)
    else:
        raise InputError("choose weekly or an RRULE", field="mode")
    if rid is None:
        return [("create", "schedule", {"service_id": service_id, **values})]
    return [("update", "schedule", rid, values)]


def _contact_ops(
    service_id: str, rid: str | None, form: Mapping[str, Any], old: Mapping[str, Any]
) -> list[Op]:
    values: dict[str, Any] = {name: _text(form, name) for name in ("name", "title", "email")}
    values["private"] = _flag(form.get("private"))
    phone = _text(form, "phone")
    ops: list[Op] = []
    if rid is None:
        ops.append(("create", "contact", {"service_id": service_id, **values}))
        ref = "$0"
    else:
        ops.append(("update", "contact", rid, values))
        ref = rid
    if old.get("_phone_id") and phone:
        ops.append(("update", "phone", old["_phone_id"], {"number": phone}))
    elif old.get("_phone_id"):
        ops.append(("retire", "phone", old["_phone_id"]))
    elif phone:
        ops.append(("create", "phone", {"contact_id": ref, "number": phone}))
    return ops


def _cost_ops(service_id: str, rid: str | None, form: Mapping[str, Any]) -> list[Op]:
    kind = _text(form, "cost") or "amount"
    amount: float | None
    if kind == "free":
        amount = 0.0
    else:
        text = (_text(form, "amount") or "").lstrip("£")
        try:
            amount = float(text)
        except ValueError:
            raise InputError(
                "an amount in pounds, e.g. 2.50 (or choose Free)", field="amount"
            ) from None
    values = {"amount": amount, "currency": "GBP", "option": _text(form, "option"),
              "amount_description": _text(form, "amount_description")}  # fmt: skip
    if rid is None:
        return [("create", "cost_option", {"service_id": service_id, **values})]
    return [("update", "cost_option", rid, values)]


def save_part(
    store: Store,
    entity: str,
    service_id: str,
    part_id: str | None,
    values: Mapping[str, Any],
    *,
    actor: str,
) -> list[str]:
    """Create (``part_id`` None) or change one part of a service from its form values, all or
    nothing (``part_ops`` then ``edit_records``); returns the ids ``edit_records`` answers."""
    service_name(store, service_id)  # NotFound for an unknown service
    old = read_part(store, entity, service_id, part_id) if part_id is not None else {}
    return edit_records(
        store, part_ops(store, entity, service_id, part_id, values, old), actor=actor
    )


def retire_part(store: Store, entity: str, service_id: str, part_id: str, *, actor: str) -> None:
    """Retire one part of a service. A place is unlinked from this service only (its
    ``service_at_location`` retired), as other services may meet there too."""
    read_part(store, entity, service_id, part_id)  # NotFound unless it is there
    if entity != "location":
        retire_record(store, entity, part_id, actor=actor)
        return
    sal = schema.ServiceAtLocation
    with store.session() as session:
        link_ids = list(
            session.scalars(
                sa.select(sal.id).where(
                    sal.service_id == service_id,
                    sal.location_id == part_id,
                    sal.retired_at.is_(None),
                )
            )
        )
    for lid in link_ids:
        retire_record(store, "service_at_location", lid, actor=actor)


def _cost_label(amount: float | None, option: str | None) -> str:
    price = "Free" if amount == 0 else f"£{amount:.2f}" if amount is not None else "Cost"
    return price + (f": {option}" if option else "")


def service_parts(store: Store, service_id: str) -> dict[str, list[dict[str, Any]]]:
    """What a service's edit page lists, by part (``PART_FIELDS``' entities): each live place,
    schedule, contact and cost option as ``{"id", "label"}`` (schedules also ``editable``:
    False for one set at a place)."""
    sal, loc, sched = schema.ServiceAtLocation, schema.Location, schema.Schedule
    with store.session() as session:
        links = sa.select(sal.id).where(sal.service_id == service_id, sal.retired_at.is_(None))
        locations = session.execute(
            sa.select(loc.id, loc.name)
            .join(sal, sal.location_id == loc.id)
            .where(sal.id.in_(links))
            .order_by(loc.name)
        ).all()
        schedules = session.scalars(
            sa.select(sched)
            .where(
                sa.or_(sched.service_id == service_id, sched.service_at_location_id.in_(links)),
                sched.retired_at.is_(None),
            )
            .order_by(sched.id)
        ).all()
        contacts = session.scalars(
            sa.select(schema.Contact)
            .where(schema.Contact.service_id == service_id, schema.Contact.retired_at.is_(None))
            .order_by(schema.Contact.name)
        ).all()
        phones: dict[str, list[str]] = {}
        for contact_id, number in session.execute(
            sa.select(schema.Phone.contact_id, schema.Phone.number)
            .where(
                schema.Phone.contact_id.in_([c.id for c in contacts]),
                schema.Phone.retired_at.is_(None),
            )
            .order_by(schema.Phone.created_at, schema.Phone.id)
        ):
            phones.setdefault(str(contact_id), []).append(number)
        costs = session.scalars(
            sa.select(schema.CostOption)
            .where(
                schema.CostOption.service_id == service_id,
                schema.CostOption.retired_at.is_(None),
            )
            .order_by(schema.CostOption.id)
        ).all()
        return {
            "location": [{"id": r.id, "label": r.name or "Unnamed place"} for r in locations],
            "schedule": [
                {
                    "id": s.id,
                    "label": describe_schedule(
                        {
                            "freq": s.freq,
                            "byday": s.byday,
                            "interval": s.interval,
                            "opens_at": s.opens_at,
                            "closes_at": s.closes_at,
                            "description": s.description or s.rrule,
                        }
                    ),
                    "editable": s.service_id == service_id,
                }
                for s in schedules
            ],
            "contact": [
                {
                    "id": c.id,
                    "label": (c.name or "")
                    + (f", {', '.join(phones[c.id])}" if c.id in phones else "")
                    + (" (private)" if c.private else ""),
                }
                for c in contacts
            ],
            "cost_option": [{"id": c.id, "label": _cost_label(c.amount, c.option)} for c in costs],
        }


__all__ = [
    "BYDAY_CODES",
    "EDITABLE",
    "PART_FIELDS",
    "PART_REQUIRED",
    "Op",
    "OrganizationSummary",
    "ServiceSummary",
    "create_record",
    "edit_records",
    "history",
    "list_organizations",
    "list_services",
    "part_ops",
    "read_part",
    "read_record",
    "restore_record",
    "retire_part",
    "retire_record",
    "save_part",
    "service_name",
    "service_parts",
    "update_record",
]
