"""One service as people see it: its published record, its times in plain English, its places, how
fresh it is; the private contacts only editors see; the names of places for result lists.

Example:
    >>> from strengthmap.storage import open_store
    >>> from strengthmap.directory.editing import create_record
    >>> store = open_store("sqlite://")
    >>> sid = create_record(store, "service", {"name": "Lunch club"}, actor="cli")
    >>> p = service_profile(store, sid)
    >>> p.record["name"], p.age_days, p.stale
    ('Lunch club', 0, False)

The record is the Open Referral UK serialisation (``to_oruk_service``): retired records and
private contacts are never in it. ``private_contacts=True`` adds the service's private contacts
separately (for an editor's view of the page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from strengthmap.directory.oruk import to_oruk_service
from strengthmap.directory.schedules import describe_schedule
from strengthmap.storage import Store, schema

#: A record not checked for this many days is flagged as possibly out of date.
STALE_AFTER_DAYS = 365


class PrivateContact(NamedTuple):
    """A contact kept from the public (``private``): shown to editors only."""

    id: str
    name: str | None
    title: str | None
    email: str | None


@dataclass
class ServiceProfile:
    """What a service's page shows."""

    #: The published ORUK record (fully nested).
    record: dict[str, Any]
    abcd_kind: str | None
    #: Every schedule (the service's own, then those of its places) as (plain English, record).
    schedules: list[tuple[str, dict[str, Any]]]
    #: The ORUK location records of its places.
    locations: list[dict[str, Any]]
    last_verified: date | None
    #: Days since ``last_verified`` (None when never checked).
    age_days: int | None
    #: Never checked, or not for more than ``STALE_AFTER_DAYS``.
    stale: bool
    private_contacts: list[PrivateContact] = field(default_factory=list)


def service_profile(
    store: Store, service_id: str, *, private_contacts: bool = False, today: date | None = None
) -> ServiceProfile:
    """The page of one live service (``NotFound`` for an unknown or retired one)."""
    with store.session() as session:
        record = to_oruk_service(session, service_id)  # skips private contacts
        row = session.get(schema.Service, service_id)
        hidden: list[PrivateContact] = []
        if private_contacts:
            contact = schema.Contact
            hidden = [
                PrivateContact(*r)
                for r in session.execute(
                    sa.select(contact.id, contact.name, contact.title, contact.email).where(
                        contact.service_id == service_id,
                        contact.private.is_(True),
                        contact.retired_at.is_(None),
                    )
                )
            ]
    last_verified = row.last_verified if row is not None else None
    day = today or datetime.now(UTC).date()
    age_days = (day - last_verified).days if last_verified else None
    schedules = list(record.get("schedules", []))
    locations = []
    for sal in record.get("service_at_locations", []):
        schedules += sal.get("schedules", [])
        if sal.get("location"):
            locations.append(sal["location"])
    return ServiceProfile(
        record=record,
        abcd_kind=row.abcd_kind if row is not None else None,
        schedules=[(describe_schedule(x), x) for x in schedules],
        locations=locations,
        last_verified=last_verified,
        age_days=age_days,
        stale=age_days is None or age_days > STALE_AFTER_DAYS,
        private_contacts=hidden,
    )


def location_names(store: Store, ids: list[str]) -> dict[str, str]:
    """{location id: name} of the given locations that have a name.

    >>> from strengthmap.storage import open_store
    >>> location_names(open_store("sqlite://"), [])
    {}
    """
    if not ids:
        return {}
    loc = schema.Location
    with store.session() as session:
        rows = session.execute(sa.select(loc.id, loc.name).where(loc.id.in_(ids))).all()
    return {r.id: r.name for r in rows if r.name}


__all__ = [
    "STALE_AFTER_DAYS",
    "PrivateContact",
    "ServiceProfile",
    "location_names",
    "service_profile",
]
