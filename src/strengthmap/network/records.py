"""The network in the store: read it whole (``read_network``) or as a viewer may see it
(``load_network``), and write people, members and ties with an audit entry per change.

Example:
    >>> from strengthmap.storage import open_store
    >>> from strengthmap.network.model import Viewer
    >>> store = open_store("sqlite://")
    >>> with store.transaction() as s:
    ...     _ = upsert_person(s, {"id": "amy", "display_name": "Amy", "consent": "public"}, actor="cli")
    ...     _ = upsert_person(s, {"id": "ben", "display_name": "Ben", "consent": "private"}, actor="cli")
    >>> [n.id for n in load_network(store, Viewer.anonymous())]
    ['amy']

Nothing is ever deleted: retired records (``retired_at``) are left out of every read, and a tie
whose end is retired (or is a retired directory record) is left out with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from strengthmap.indicators import IMD_VINTAGE
from strengthmap.network.consent import visible_network
from strengthmap.network.model import (
    DIRECTORY_KINDS,
    MUTUAL_TYPES,
    Network,
    NetworkNode,
    NetworkTie,
    Viewer,
)
from strengthmap.network.places import default_release, directory_places
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.base import utcnow

#: Stable tie ids: ``uuid5(NAMESPACE, "tie/<source>/<target>/<type>/<start>")``, so importing
#: the same tie twice updates it.
NAMESPACE = uuid.UUID("0b6f3e8e-51d4-5b53-9c2a-6a1f4e9d2c71")
DIRECTORY_MODELS: dict[str, Any] = {
    "organization": schema.Organization,
    "service": schema.Service,
    "location": schema.Location,
}
#: Columns of each network table that an import or edit may set.
PERSON_FIELDS = (
    "display_name",
    "role",
    "bio",
    "email",
    "phone",
    "consent",
    "consent_recorded_on",
    "home_area_code",
    "source",
)
MEMBER_FIELDS = ("kind", "area_code", "consent", "consent_recorded_on", "source")
TIE_FIELDS = (
    "source_kind",
    "source_id",
    "target_kind",
    "target_id",
    "tie_type",
    "type_label",
    "mutual",
    "weight",
    "started",
    "ended",
    "note",
    "consent",
    "consent_recorded_on",
    "source",
)


def tie_id(source: str, target: str, type_code: str, start: date | None) -> str:
    """The stable id of a tie (same ends, type and start date: same tie).

    >>> tie_id("a", "b", "runs", None) == tie_id("a", "b", "runs", None)
    True
    """
    return str(uuid.uuid5(NAMESPACE, f"tie/{source}/{target}/{type_code}/{start or ''}"))


# --- reading ----------------------------------------------------------------------------------


def directory_kinds(session: Session, ids: Iterable[str]) -> dict[str, tuple[str, str, bool]]:
    """``{id: (kind, name, retired)}`` of the directory records among ``ids``."""
    wanted = sorted(set(ids))
    out: dict[str, tuple[str, str, bool]] = {}
    for kind, model in DIRECTORY_MODELS.items():
        for start in range(0, len(wanted), 5000):
            chunk = wanted[start : start + 5000]
            for rid, name, retired in session.execute(
                sa.select(model.id, model.name, model.retired_at).where(model.id.in_(chunk))
            ):
                out[rid] = (kind, name or "", retired is not None)
    return out


def read_network(store: Store, *, imd_release: int | None = None) -> Network:
    """The whole stored network, unfiltered (``viewer=None``): for trusted code only. Anything
    shown to someone goes through ``load_network`` (or ``consent.visible_network``)."""
    with store.session() as session:
        people = session.scalars(
            sa.select(schema.Person).where(schema.Person.retired_at.is_(None))
        ).all()
        members = {
            m.id: m
            for m in session.scalars(
                sa.select(schema.NetworkMember).where(schema.NetworkMember.retired_at.is_(None))
            )
        }
        ties = session.scalars(
            sa.select(schema.Tie).where(schema.Tie.retired_at.is_(None)).order_by(schema.Tie.id)
        ).all()
        ids = set(members)
        for t in ties:
            if t.source_kind in DIRECTORY_KINDS:
                ids.add(t.source_id)
            if t.target_kind in DIRECTORY_KINDS:
                ids.add(t.target_id)
        records = directory_kinds(session, ids)
    release = default_release(store, imd_release)
    places = directory_places(
        store,
        [rid for rid, (_, _, retired) in records.items() if not retired],
        vintage=IMD_VINTAGE.get(release) if release is not None else None,
    )
    nodes: list[NetworkNode] = [
        NetworkNode(
            id=p.id,
            kind="person",
            name=p.display_name,
            consent=p.consent,
            area_code=p.home_area_code,
            role=p.role,
            added_by=p.added_by,
            consent_recorded_on=p.consent_recorded_on,
        )
        for p in people
    ]
    for rid in sorted(ids):
        if rid not in records or records[rid][2]:
            continue  # gone from the directory, or retired there
        kind, name, _ = records[rid]
        member = members.get(rid)
        place = places.get(rid)
        nodes.append(
            NetworkNode(
                id=rid,
                kind=kind,
                name=name,
                consent=member.consent if member else "public",
                area_code=(member.area_code if member and member.area_code else None)
                or (place.area_code if place else None),
                added_by=member.added_by if member else None,
                consent_recorded_on=member.consent_recorded_on if member else None,
                lon=place.lon if place else None,
                lat=place.lat if place else None,
                listed=member is not None,
            )
        )
    nodes.sort(key=lambda n: n.id)
    present = {n.id for n in nodes}
    out_ties = [
        NetworkTie(
            id=t.id,
            source=t.source_id,
            target=t.target_id,
            type=t.tie_type,
            label=t.type_label,
            weight=t.weight,
            start=t.started,
            end=t.ended,
            consent=t.consent,
            mutual=bool(t.mutual),
            added_by=t.added_by,
            consent_recorded_on=t.consent_recorded_on,
            note=t.note,
        )
        for t in ties
        if t.source_id in present and t.target_id in present
    ]
    return Network(tuple(nodes), tuple(out_ties))


def load_network(
    store: Store, viewer: Viewer, *, at: date | None = None, imd_release: int | None = None
) -> Network:
    """The network ``viewer`` may see (consent of every node and tie), on day ``at`` if given."""
    return visible_network(read_network(store, imd_release=imd_release), viewer).as_at(at)


# --- writing ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def audit(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    rid: str,
    changes: Mapping[str, list[Any]] | None,
) -> None:
    """One audit entry: who (``actor``), what (``action`` on ``entity`` ``rid``), the changes."""
    session.add(
        schema.AuditEntry(
            actor=actor, action=action, entity=entity, entity_id=rid, changes=dict(changes or {})
        )
    )


def _upsert(
    session: Session,
    model: Any,
    entity: str,
    fields: tuple[str, ...],
    values: Mapping[str, Any],
    actor: str,
    *,
    on_create: Mapping[str, Any],
) -> str:
    """Create the row ``values["id"]`` or update its changed fields; audited. Returns
    ``created``, ``updated`` or ``unchanged``."""
    rid = str(values["id"])
    row = session.get(model, rid)
    given = {k: v for k, v in values.items() if k in fields}
    if row is None:
        row = model(id=rid, **given, **on_create)
        session.add(row)
        audit(
            session, actor, "create", entity, rid, {k: [None, _plain(v)] for k, v in given.items()}
        )
        return "created"
    diff = {}
    for key, value in given.items():
        old = getattr(row, key)
        if old != value:
            diff[key] = [_plain(old), _plain(value)]
            setattr(row, key, value)
    if not diff:
        return "unchanged"
    audit(session, actor, "update", entity, rid, diff)
    return "updated"


def upsert_person(session: Session, values: Mapping[str, Any], *, actor: str) -> str:
    """Create or update a person (``values`` holds ``id`` and ``PERSON_FIELDS``); audited."""
    return _upsert(
        session,
        schema.Person,
        "person",
        PERSON_FIELDS,
        values,
        actor,
        on_create={"added_by": actor},
    )


def upsert_member(session: Session, values: Mapping[str, Any], *, actor: str) -> str:
    """Create or update a directory record's part in the network; audited."""
    return _upsert(
        session,
        schema.NetworkMember,
        "network_member",
        MEMBER_FIELDS,
        values,
        actor,
        on_create={"added_by": actor},
    )


def upsert_tie(session: Session, values: Mapping[str, Any], *, actor: str) -> str:
    """Create or update a tie (``values`` holds ``id`` and ``TIE_FIELDS``); audited."""
    values = dict(values)
    values.setdefault("mutual", values.get("tie_type") in MUTUAL_TYPES)
    return _upsert(
        session, schema.Tie, "tie", TIE_FIELDS, values, actor, on_create={"added_by": actor}
    )


def set_retired(
    session: Session, row: Any, entity: str, retired: bool, actor: str, reason: str | None = None
) -> bool:
    """Retire (or restore) a row; audited; False when it already was."""
    if (row.retired_at is not None) == retired:
        return False
    old = _plain(row.retired_at)
    row.retired_at = utcnow() if retired else None
    changes: dict[str, list[Any]] = {"retired_at": [old, _plain(row.retired_at)]}
    if reason:
        changes["reason"] = [None, reason]
    audit(session, actor, "retire" if retired else "restore", entity, row.id, changes)
    return True


__all__ = [
    "DIRECTORY_MODELS",
    "MEMBER_FIELDS",
    "NAMESPACE",
    "PERSON_FIELDS",
    "TIE_FIELDS",
    "audit",
    "directory_kinds",
    "load_network",
    "read_network",
    "set_retired",
    "tie_id",
    "upsert_member",
    "upsert_person",
    "upsert_tie",
]
