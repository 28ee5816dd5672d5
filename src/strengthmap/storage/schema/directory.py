"""The asset register on the Open Referral UK (HSDS 3.0 UK profile) model, plus ABCD asset kinds.

Ids are UUID strings as in Open Referral. Columns hold what is searched or shown; ``extra`` keeps
any further published fields so that an imported record exports again without loss. Every
record carries its source, licence and ``last_verified`` date; nothing is ever hard-deleted
(``status`` / ``retired_at`` retire it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from strengthmap.storage.schema.base import Base, utcnow, uuid_pk
from strengthmap.storage.types import Geometry

#: ABCD asset kinds (Kretzmann & McKnight 1993, with culture/story as in the Nurture Development model).
ABCD_KINDS = ("individual", "association", "institution", "physical_space", "economy", "culture")
#: Plain-English names of the ABCD asset kinds, in ``ABCD_KINDS`` order.
KIND_LABELS = {
    "individual": "People and their gifts",
    "association": "Groups and associations",
    "institution": "Institutions",
    "physical_space": "Places and spaces",
    "economy": "Local economy",
    "culture": "Culture and stories",
}


class _Provenance:
    """Where a record came from and how fresh it is (mixed into every directory table)."""

    source: Mapped[str | None] = mapped_column(String(64))  # dataset id or "manual"
    source_ref: Mapped[str | None] = mapped_column(String(200))  # id in the source, e.g. "node/123"
    licence: Mapped[str | None] = mapped_column(String(100))
    last_verified: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()
    extra: Mapped[dict[str, Any] | None] = mapped_column()


class Organization(_Provenance, Base):
    __tablename__ = "organization"

    id: Mapped[str] = uuid_pk()
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(Text)
    logo: Mapped[str | None] = mapped_column(Text)
    uri: Mapped[str | None] = mapped_column(Text)
    parent_organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"))
    abcd_kind: Mapped[str | None] = mapped_column(String(16))


class Service(_Provenance, Base):
    __tablename__ = "service"

    id: Mapped[str] = uuid_pk()
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(
        String(16), default="active"
    )  # ORUK: active|inactive|defunct|temporarily closed
    fees: Mapped[str | None] = mapped_column(Text)
    accreditations: Mapped[str | None] = mapped_column(Text)
    minimum_age: Mapped[int | None] = mapped_column(Integer)
    maximum_age: Mapped[int | None] = mapped_column(Integer)
    assured_date: Mapped[date | None] = mapped_column(Date)
    assurer_email: Mapped[str | None] = mapped_column(String(300))
    alert: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[datetime | None] = mapped_column()
    abcd_kind: Mapped[str] = mapped_column(String(16), default="association", index=True)
    free: Mapped[bool | None] = mapped_column()  # derived from cost options on write

    organization: Mapped[Organization | None] = relationship()


class Location(_Provenance, Base):
    __tablename__ = "location"
    __table_args__ = (
        Index("ix_location_geometry_gist", "geometry", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[str] = uuid_pk()
    location_type: Mapped[str] = mapped_column(String(16), default="physical")
    name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float, index=True)
    longitude: Mapped[float | None] = mapped_column(Float, index=True)
    geometry: Mapped[BaseGeometry | None] = mapped_column(Geometry())
    external_identifier: Mapped[str | None] = mapped_column(String(200))
    external_identifier_type: Mapped[str | None] = mapped_column(String(100))
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"))
    abcd_kind: Mapped[str | None] = mapped_column(String(16))


class Address(_Provenance, Base):
    __tablename__ = "address"

    id: Mapped[str] = uuid_pk()
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    attention: Mapped[str | None] = mapped_column(String(300))
    address_1: Mapped[str] = mapped_column(String(300))
    address_2: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    state_province: Mapped[str] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(16), index=True)
    country: Mapped[str] = mapped_column(String(2), default="GB")
    address_type: Mapped[str] = mapped_column(String(16), default="physical")


class ServiceAtLocation(_Provenance, Base):
    __tablename__ = "service_at_location"

    id: Mapped[str] = uuid_pk()
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)


class Schedule(_Provenance, Base):
    """When a service runs: RFC 5545 recurrence (freq, interval, byday ...) in Europe/London."""

    __tablename__ = "schedule"

    id: Mapped[str] = uuid_pk()
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), index=True)
    service_at_location_id: Mapped[str | None] = mapped_column(
        ForeignKey("service_at_location.id"), index=True
    )
    location_id: Mapped[str | None] = mapped_column(ForeignKey("location.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    dtstart: Mapped[date | None] = mapped_column(Date)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    freq: Mapped[str | None] = mapped_column(String(8))  # WEEKLY | MONTHLY | DAILY ...
    interval: Mapped[int | None] = mapped_column(Integer)
    byday: Mapped[str | None] = mapped_column(String(64))  # e.g. "WE" or "1MO"
    bymonthday: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[datetime | None] = mapped_column()
    count: Mapped[int | None] = mapped_column(Integer)
    wkst: Mapped[str | None] = mapped_column(String(2))
    rrule: Mapped[str | None] = mapped_column(
        Text
    )  # full RRULE text when it says more than the columns
    exdates: Mapped[list[Any] | None] = (
        mapped_column()
    )  # ISO dates with no occurrence (term breaks)
    opens_at: Mapped[str | None] = mapped_column(String(8))  # "12:00" local time
    closes_at: Mapped[str | None] = mapped_column(String(8))
    description: Mapped[str | None] = mapped_column(Text)
    schedule_link: Mapped[str | None] = mapped_column(Text)
    attending_type: Mapped[str | None] = mapped_column(Text)  # ORUK: free text
    notes: Mapped[str | None] = mapped_column(Text)
    illustrative: Mapped[bool] = mapped_column(default=False)


class Taxonomy(_Provenance, Base):
    __tablename__ = "taxonomy"

    id: Mapped[str] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    uri: Mapped[str | None] = mapped_column(Text)
    version: Mapped[str | None] = mapped_column(String(32))


class TaxonomyTerm(_Provenance, Base):
    __tablename__ = "taxonomy_term"

    id: Mapped[str] = uuid_pk()
    code: Mapped[str | None] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("taxonomy_term.id"))
    taxonomy_id: Mapped[str | None] = mapped_column(ForeignKey("taxonomy.id"), index=True)
    taxonomy_name: Mapped[str | None] = mapped_column(String(200))
    term_uri: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))


class Attribute(_Provenance, Base):
    """Links a taxonomy term to any record (ORUK ``attribute``: link_type + link_id)."""

    __tablename__ = "attribute"

    id: Mapped[str] = uuid_pk()
    link_id: Mapped[str] = mapped_column(String(36), index=True)
    link_type: Mapped[str] = mapped_column(String(32))  # service | organization | location | ...
    link_entity: Mapped[str | None] = mapped_column(String(32))
    taxonomy_term_id: Mapped[str] = mapped_column(ForeignKey("taxonomy_term.id"), index=True)
    value: Mapped[str | None] = mapped_column(Text)


class Contact(_Provenance, Base):
    __tablename__ = "contact"

    id: Mapped[str] = uuid_pk()
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), index=True)
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"))
    location_id: Mapped[str | None] = mapped_column(ForeignKey("location.id"))
    name: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(300))
    private: Mapped[bool] = mapped_column(default=False)  # never shown to viewers


class Phone(_Provenance, Base):
    __tablename__ = "phone"

    id: Mapped[str] = uuid_pk()
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contact.id"), index=True)
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), index=True)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("location.id"))
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"))
    number: Mapped[str] = mapped_column(String(64))
    extension: Mapped[str | None] = mapped_column(String(16))
    type: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)


class CostOption(_Provenance, Base):
    __tablename__ = "cost_option"

    id: Mapped[str] = uuid_pk()
    service_id: Mapped[str] = mapped_column(ForeignKey("service.id"), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    option: Mapped[str | None] = mapped_column(Text)
    amount: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    amount_description: Mapped[str | None] = mapped_column(Text)


class Accessibility(_Provenance, Base):
    __tablename__ = "accessibility"

    id: Mapped[str] = uuid_pk()
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)


class Language(_Provenance, Base):
    __tablename__ = "language"

    id: Mapped[str] = uuid_pk()
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), index=True)
    location_id: Mapped[str | None] = mapped_column(ForeignKey("location.id"))
    phone_id: Mapped[str | None] = mapped_column(ForeignKey("phone.id"))
    name: Mapped[str | None] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class ServiceArea(_Provenance, Base):
    __tablename__ = "service_area"

    id: Mapped[str] = uuid_pk()
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    extent: Mapped[str | None] = mapped_column(Text)
    extent_type: Mapped[str | None] = mapped_column(String(32))
    uri: Mapped[str | None] = mapped_column(Text)
    area_code: Mapped[str | None] = mapped_column(String(9))


class Funding(_Provenance, Base):
    __tablename__ = "funding"

    id: Mapped[str] = uuid_pk()
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service.id"), index=True)
    organization_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"))
    source_text: Mapped[str | None] = mapped_column(Text)


class OrganizationIdentifier(_Provenance, Base):
    __tablename__ = "organization_identifier"

    id: Mapped[str] = uuid_pk()
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    identifier_scheme: Mapped[str | None] = mapped_column(String(100))
    identifier_type: Mapped[str] = mapped_column(String(100))
    identifier: Mapped[str] = mapped_column(String(200))


__all__ = [
    "ABCD_KINDS",
    "KIND_LABELS",
    "Accessibility",
    "Address",
    "Attribute",
    "Contact",
    "CostOption",
    "Funding",
    "Language",
    "Location",
    "Organization",
    "OrganizationIdentifier",
    "Phone",
    "Schedule",
    "Service",
    "ServiceArea",
    "ServiceAtLocation",
    "Taxonomy",
    "TaxonomyTerm",
]
