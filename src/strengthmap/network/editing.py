"""Edit the network by hand: people, ties and directory records' part in it; create, update,
retire and restore, each with an audit entry, each only for an editor who may see the record.

Example:
    >>> from strengthmap.storage import open_store
    >>> from strengthmap.network.model import Viewer
    >>> store = open_store("sqlite://")
    >>> ann = Viewer.editor("ann@example.org")
    >>> amy = create_person(store, {"display_name": "Amy", "consent": "private"}, viewer=ann)
    >>> ben = create_person(store, {"id": "ben", "display_name": "Ben", "consent": "public"}, viewer=ann)
    >>> tie = create_tie(store, {"source": amy, "target": "ben", "type": "meets_with"}, viewer=ann)
    >>> update_tie(store, tie, {"weight": 3}, viewer=ann)
    {'weight': [1.0, 3.0]}
    >>> retire_tie(store, tie, viewer=ann)
    >>> [e["action"] for e in network_history(store, tie, viewer=ann)]
    ['create', 'update', 'retire']

A private person is seen, edited and retired only by the editor who added them (and by
admins): to anyone else it does not exist (``NotFound``, never ``Forbidden``, so not even its
existence is told). A tie's ends may be people or directory records (by id); a change of
consent records the day (``consent_recorded_on``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from strengthmap.errors import Forbidden, InputError, NotFound
from strengthmap.network.model import DIRECTORY_KINDS, MUTUAL_TYPES, Viewer, most_private
from strengthmap.network.places import known_lsoa_codes
from strengthmap.network.records import (
    audit,
    directory_kinds,
    set_retired,
    tie_id,
    upsert_member,
    upsert_person,
    upsert_tie,
)
from strengthmap.network.values import (
    check_dates,
    parse_area_code,
    parse_consent,
    parse_date,
    parse_node_id,
    parse_type,
    parse_weight,
)
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.base import new_uuid

ENTITIES = ("person", "tie", "network_member")


def _editor(viewer: Viewer) -> str:
    if not viewer.may_edit or viewer.actor is None:
        raise Forbidden("only editors may change the network")
    return viewer.actor


def _field(name: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ValueError as exc:
        raise InputError(str(exc), field=name) from None


def _text(
    values: dict[str, Any], name: str, *, required: bool = False, limit: int = 300
) -> str | None:
    value = values.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InputError("required", field=name)
        return None
    if not isinstance(value, str):
        raise InputError("not text", field=name)
    value = value.strip()
    if len(value) > limit:
        raise InputError(f"longer than {limit} characters", field=name)
    return value


_PERSON_TEXT = {"display_name": 200, "role": 200, "bio": 5000, "email": 300, "phone": 64}


def _person_values(store: Store, values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    allowed = set(_PERSON_TEXT) | {"id", "consent", "consent_recorded_on", "home_area_code"}
    for key in values:
        if key not in allowed:
            raise InputError(
                f"not an editable field of a person ({', '.join(sorted(allowed))})", field=key
            )
    out: dict[str, Any] = {}
    for name, limit in _PERSON_TEXT.items():
        if name in values or (creating and name == "display_name"):
            out[name] = _text(values, name, required=name == "display_name", limit=limit)
    if "consent" in values or creating:
        out["consent"] = _field("consent", parse_consent, values.get("consent"), "private")
    if "home_area_code" in values:
        out["home_area_code"] = _field(
            "home_area_code", parse_area_code, values.get("home_area_code"), known_lsoa_codes(store)
        )
    if "consent_recorded_on" in values:
        out["consent_recorded_on"] = _field(
            "consent_recorded_on", parse_date, values["consent_recorded_on"]
        )
    return out


def _visible_person(session: Session, pid: str, viewer: Viewer) -> schema.Person:
    person = session.get(schema.Person, pid)
    if person is None or not viewer.may_see(person.consent, person.added_by):
        raise NotFound(f"no person with id {pid}")
    return person


def create_person(store: Store, values: dict[str, Any], *, viewer: Viewer) -> str:
    """Add a person (``display_name`` required; ``consent`` private unless given); returns the id
    (``id`` if given, else a new UUID)."""
    actor = _editor(viewer)
    pid = _field("id", parse_node_id, str(values["id"])) if values.get("id") else new_uuid()
    checked = _person_values(store, {k: v for k, v in values.items() if k != "id"}, creating=True)
    checked.setdefault("consent_recorded_on", date.today())
    with store.transaction() as session:
        if session.get(schema.Person, pid) is not None or directory_kinds(session, [pid]):
            raise InputError(f"the id {pid!r} is taken", field="id")
        upsert_person(session, {"id": pid, "source": "manual", **checked}, actor=actor)
    return pid


def update_person(
    store: Store, pid: str, changes: dict[str, Any], *, viewer: Viewer
) -> dict[str, list[Any]]:
    """Change a person's fields; returns ``{"field": [old, new]}`` of what changed."""
    actor = _editor(viewer)
    checked = _person_values(store, changes, creating=False)
    with store.transaction() as session:
        person = _visible_person(session, pid, viewer)
        if person.retired_at is not None:
            raise InputError("the person is retired: restore them first", field="id")
        if "consent" in checked and checked["consent"] != person.consent:
            checked.setdefault("consent_recorded_on", date.today())
        before = {k: getattr(person, k) for k in checked}
        upsert_person(session, {"id": pid, **checked}, actor=actor)
        return {k: [_iso(before[k]), _iso(v)] for k, v in checked.items() if before[k] != v}


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def retire_person(store: Store, pid: str, *, viewer: Viewer, reason: str | None = None) -> None:
    """Withdraw a person (and so every tie of theirs) from the network; nothing is deleted."""
    actor = _editor(viewer)
    with store.transaction() as session:
        set_retired(session, _visible_person(session, pid, viewer), "person", True, actor, reason)


def restore_person(store: Store, pid: str, *, viewer: Viewer) -> None:
    actor = _editor(viewer)
    with store.transaction() as session:
        set_retired(session, _visible_person(session, pid, viewer), "person", False, actor)


# --- ties --------------------------------------------------------------------------------------


def _node_kind(session: Session, node_id: str, viewer: Viewer, field: str) -> tuple[str, str]:
    """The kind and consent of a live node the viewer may see (a tie's end)."""
    person = session.get(schema.Person, node_id)
    if person is not None:
        if person.retired_at is None and viewer.may_see(person.consent, person.added_by):
            return "person", person.consent
    else:
        found = directory_kinds(session, [node_id]).get(node_id)
        if found is not None and not found[2]:
            member = session.get(schema.NetworkMember, node_id)
            consent = member.consent if member and member.retired_at is None else "public"
            if member is None or viewer.may_see(member.consent, member.added_by):
                return found[0], consent
    raise InputError(f"no node with id {node_id!r} (a person or a directory record)", field=field)


def create_tie(store: Store, values: dict[str, Any], *, viewer: Viewer) -> str:
    """Add a tie: ``source``, ``target``, ``type`` (or ``custom:<name>``), and optionally
    ``weight``, ``start``, ``end``, ``consent`` (default: the most private of its ends), ``note``."""
    actor = _editor(viewer)
    allowed = {"source", "target", "type", "weight", "start", "end", "consent", "note"}
    for key in values:
        if key not in allowed:
            raise InputError(f"not a field of a tie ({', '.join(sorted(allowed))})", field=key)
    source = _text(values, "source", required=True)
    target = _text(values, "target", required=True)
    assert source is not None and target is not None
    if source == target:
        raise InputError("a tie from a node to itself", field="target")
    tie_type, label = _field("type", parse_type, str(values.get("type") or ""))
    weight = _field("weight", parse_weight, values.get("weight"))
    start = _field("start", parse_date, values.get("start"))
    end = _field("end", parse_date, values.get("end"))
    _field("end", check_dates, start, end)
    with store.transaction() as session:
        skind, sconsent = _node_kind(session, source, viewer, "source")
        tkind, tconsent = _node_kind(session, target, viewer, "target")
        consent = _field(
            "consent", parse_consent, values.get("consent"), most_private(sconsent, tconsent)
        )
        rid = tie_id(source, target, f"custom:{label}" if label else tie_type, start)
        if session.get(schema.Tie, rid) is not None:
            raise InputError("this tie (ends, type and start) exists already", field="type")
        upsert_tie(
            session,
            {
                "id": rid,
                "source_kind": skind,
                "source_id": source,
                "target_kind": tkind,
                "target_id": target,
                "tie_type": tie_type,
                "type_label": label,
                "weight": weight,
                "started": start,
                "ended": end,
                "note": _text(values, "note", limit=5000),
                "consent": consent,
                "consent_recorded_on": date.today(),
                "source": "manual",
                "mutual": tie_type in MUTUAL_TYPES,
            },
            actor=actor,
        )
    return rid


def _visible_tie(session: Session, rid: str, viewer: Viewer) -> schema.Tie:
    tie = session.get(schema.Tie, rid)
    if tie is None or not viewer.may_see(tie.consent, tie.added_by):
        raise NotFound(f"no tie with id {rid}")
    for end in (tie.source_id, tie.target_id):
        person = session.get(schema.Person, end)
        if person is not None and not viewer.may_see(person.consent, person.added_by):
            raise NotFound(f"no tie with id {rid}")
    return tie


def update_tie(
    store: Store, rid: str, changes: dict[str, Any], *, viewer: Viewer
) -> dict[str, list[Any]]:
    """Change a tie's weight, dates, consent, note or type; its ends stay (retire the tie and
    add another to change them)."""
    actor = _editor(viewer)
    fields = {
        "weight": "weight",
        "start": "started",
        "end": "ended",
        "consent": "consent",
        "note": "note",
        "type": "tie_type",
    }
    for key in changes:
        if key not in fields:
            raise InputError(f"not an editable field of a tie ({', '.join(fields)})", field=key)
    with store.transaction() as session:
        tie = _visible_tie(session, rid, viewer)
        new: dict[str, Any] = {}
        if "weight" in changes:
            new["weight"] = _field("weight", parse_weight, changes["weight"])
        if "start" in changes:
            new["started"] = _field("start", parse_date, changes["start"])
        if "end" in changes:
            new["ended"] = _field("end", parse_date, changes["end"])
        _field("end", check_dates, new.get("started", tie.started), new.get("ended", tie.ended))
        if "consent" in changes:
            new["consent"] = _field("consent", parse_consent, changes["consent"], tie.consent)
            if new["consent"] != tie.consent:
                new["consent_recorded_on"] = date.today()
        if "note" in changes:
            new["note"] = _text(changes, "note", limit=5000)
        if "type" in changes:
            new["tie_type"], new["type_label"] = _field(
                "type", parse_type, str(changes["type"] or "")
            )
        before = {k: getattr(tie, k) for k in new}
        diff = {k: [_iso(before[k]), _iso(v)] for k, v in new.items() if before[k] != v}
        if diff:
            for k, v in new.items():
                setattr(tie, k, v)
            audit(session, actor, "update", "tie", rid, diff)
        return diff


def retire_tie(store: Store, rid: str, *, viewer: Viewer, reason: str | None = None) -> None:
    actor = _editor(viewer)
    with store.transaction() as session:
        set_retired(session, _visible_tie(session, rid, viewer), "tie", True, actor, reason)


def restore_tie(store: Store, rid: str, *, viewer: Viewer) -> None:
    actor = _editor(viewer)
    with store.transaction() as session:
        set_retired(session, _visible_tie(session, rid, viewer), "tie", False, actor)


# --- directory records in the network -----------------------------------------------------------


def set_member(store: Store, record_id: str, values: dict[str, Any], *, viewer: Viewer) -> str:
    """Give a directory record its home area (``area_code``) and consent in the network;
    returns ``created``, ``updated`` or ``unchanged``."""
    actor = _editor(viewer)
    for key in values:
        if key not in ("area_code", "consent"):
            raise InputError("not an editable field (area_code, consent)", field=key)
    with store.transaction() as session:
        found = directory_kinds(session, [record_id]).get(record_id)
        if found is None or found[0] not in DIRECTORY_KINDS:
            raise NotFound(f"no directory record with id {record_id}")
        member = session.get(schema.NetworkMember, record_id)
        if member is not None and not viewer.may_see(member.consent, member.added_by):
            raise NotFound(f"no directory record with id {record_id}")
        checked: dict[str, Any] = {"id": record_id, "kind": found[0]}
        if "area_code" in values:
            checked["area_code"] = _field(
                "area_code", parse_area_code, values["area_code"], known_lsoa_codes(store)
            )
        if "consent" in values:
            checked["consent"] = _field("consent", parse_consent, values["consent"], "public")
            if member is None or member.consent != checked["consent"]:
                checked["consent_recorded_on"] = date.today()
        if member is None:
            checked.setdefault("consent", "public")
            checked.setdefault("consent_recorded_on", date.today())
            checked["source"] = "manual"
        return upsert_member(session, checked, actor=actor)


def network_history(store: Store, rid: str, *, viewer: Viewer) -> list[dict[str, Any]]:
    """The audit trail of a person, tie or member the viewer may see, oldest first."""
    _editor(viewer)
    with store.session() as session:
        if session.get(schema.Person, rid) is not None:
            _visible_person(session, rid, viewer)
        elif session.get(schema.Tie, rid) is not None:
            _visible_tie(session, rid, viewer)
        rows = session.scalars(
            sa.select(schema.AuditEntry)
            .where(schema.AuditEntry.entity_id == rid, schema.AuditEntry.entity.in_(ENTITIES))
            .order_by(schema.AuditEntry.at, schema.AuditEntry.id)
        ).all()
    if not rows:
        raise NotFound(f"no network record with id {rid}")
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
    "create_person",
    "create_tie",
    "network_history",
    "restore_person",
    "restore_tie",
    "retire_person",
    "retire_tie",
    "set_member",
    "update_person",
    "update_tie",
]
