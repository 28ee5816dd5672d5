"""The ORUK mapping: one ``_Entity`` per ORUK table (fields to columns, nested arrays and
objects), the shapes of serialised records, the bundled JSON Schemas, and value conversion
between ORUK JSON and columns."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import String

from strengthmap.storage import schema

SCHEMA_FILE = Path(__file__).with_name("schemas.json")
#: The ORUK / HSDS version and profile that the feed and the serialisers follow.
ORUK_VERSION = "3.0"
ORUK_PROFILE_URL = "https://openreferraluk.org/"

# ---------------------------------------------------------------------------------------------
# The mapping: one _Entity per ORUK table
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    """One scalar ORUK field held in a column.

    ``kind``: str | int | num | date | datetime | time | bool. ``back``: points back to the
    enclosing record (written out only when the import had it). ``ref``: the entity it must
    point at (a fault when it points nowhere); ``soft``: a reference kept even when the target
    is not in this directory (the column holds it only when it resolves).
    """

    key: str
    col: str
    kind: str = "str"
    back: bool = False
    ref: str | None = None
    soft: bool = False
    default: Any = None


@dataclass(frozen=True)
class _Child:
    """A nested ORUK array or object.

    ``fk``: the column on the child that holds the parent's id (arrays); ``parent_col``: the
    column on the parent that holds the child's id (``service.organization``); ``attribute``:
    ORUK attributes (linked by ``link_id`` / ``link_type``).
    """

    key: str
    entity: str
    many: bool = True
    fk: str | None = None
    parent_col: str | None = None


def _f(key: str, kind: str = "str", **kw: Any) -> _Field:
    col = kw.pop("col", key)
    return _Field(key, col, kind, **kw)


@dataclass(frozen=True)
class _Entity:
    name: str
    model: type[Any]
    fields: tuple[_Field, ...]
    children: tuple[_Child, ...] = ()
    schema_file: str | None = None


def _attrs() -> _Child:
    return _Child("attributes", "attribute")


ENTITIES: dict[str, _Entity] = {
    e.name: e
    for e in [
        _Entity(
            "service",
            schema.Service,
            (
                _f("id"),
                _f("organization_id", back=True, ref="organization"),
                _f("name"),
                _f("description"),
                _f("url"),
                _f("email"),
                _f("status"),
                _f("fees"),
                _f("accreditations"),
                _f("minimum_age", "int"),
                _f("maximum_age", "int"),
                _f("assured_date", "date"),
                _f("assurer_email"),
                _f("alert"),
                _f("last_modified", "datetime"),
                _f("abcd_kind", back=True),
            ),
            (
                _Child("schedules", "schedule", fk="service_id"),
                _Child("service_areas", "service_area", fk="service_id"),
                _Child("service_at_locations", "service_at_location", fk="service_id"),
                _Child("languages", "language", fk="service_id"),
                _Child("organization", "organization", many=False, parent_col="organization_id"),
                _Child("funding", "funding", fk="service_id"),
                _Child("cost_options", "cost_option", fk="service_id"),
                _Child("contacts", "contact", fk="service_id"),
                _Child("phones", "phone", fk="service_id"),
                _attrs(),
            ),
            "service.json",
        ),
        _Entity(
            "organization",
            schema.Organization,
            (
                _f("id"),
                _f("name"),
                _f("description"),
                _f("email"),
                _f("website"),
                _f("logo"),
                _f("uri"),
                _f("parent_organization_id", ref="organization", soft=True),
                _f("abcd_kind", back=True),
            ),
            (
                _Child("organization_identifiers", "organization_identifier", fk="organization_id"),
                _attrs(),
                _Child("contacts", "contact", fk="organization_id"),
                _Child("phones", "phone", fk="organization_id"),
                _Child("funding", "funding", fk="organization_id"),
                _Child("services", "service", fk="organization_id"),
            ),
            "organization.json",
        ),
        _Entity(
            "organization_identifier",
            schema.OrganizationIdentifier,
            (
                _f("id"),
                _f("organization_id", back=True),
                _f("identifier_scheme"),
                _f("identifier_type"),
                _f("identifier"),
            ),
            (_attrs(),),
            "organization_identifier.json",
        ),
        _Entity(
            "location",
            schema.Location,
            (
                _f("id"),
                _f("location_type"),
                _f("name"),
                _f("description"),
                _f("latitude", "num"),
                _f("longitude", "num"),
                _f("external_identifier"),
                _f("external_identifier_type"),
                _f("organization_id", back=True, ref="organization"),
                _f("abcd_kind", back=True),
            ),
            (
                _Child("addresses", "address", fk="location_id"),
                _Child("accessibility", "accessibility", fk="location_id"),
                _attrs(),
                _Child("contacts", "contact", fk="location_id"),
                _Child("phones", "phone", fk="location_id"),
                _Child("languages", "language", fk="location_id"),
            ),
            "location.json",
        ),
        _Entity(
            "address",
            schema.Address,
            (
                _f("id"),
                _f("location_id", back=True),
                _f("attention"),
                _f("address_1"),
                _f("address_2"),
                _f("city"),
                _f("region"),
                _f("state_province"),
                _f("postal_code"),
                _f("country"),
                _f("address_type"),
            ),
            (_attrs(),),
            "address.json",
        ),
        _Entity(
            "accessibility",
            schema.Accessibility,
            (
                _f("id"),
                _f("location_id", back=True),
                _f("description"),
                _f("details"),
                _f("url"),
            ),
            (_attrs(),),
            "accessibility.json",
        ),
        _Entity(
            "service_at_location",
            schema.ServiceAtLocation,
            (
                _f("id"),
                _f("service_id", back=True, ref="service"),
                _f("location_id", back=True, ref="location"),
                _f("description"),
            ),
            (
                _Child("location", "location", many=False, parent_col="location_id"),
                _Child("service", "service", many=False, parent_col="service_id"),
                _Child("schedules", "schedule", fk="service_at_location_id"),
                _attrs(),
            ),
            "service_at_location.json",
        ),
        _Entity(
            "schedule",
            schema.Schedule,
            (
                _f("id"),
                _f("service_id", back=True),
                _f("service_at_location_id", back=True),
                _f("location_id", back=True),
                _f("valid_from", "date"),
                _f("valid_to", "date"),
                _f("dtstart", "date"),
                _f("freq"),
                _f("interval", "int"),
                _f("byday"),
                _f("bymonthday"),
                _f("until", "datetime"),
                _f("count", "int"),
                _f("wkst"),
                _f("description"),
                _f("opens_at", "time"),
                _f("closes_at", "time"),
                _f("schedule_link"),
                _f("attending_type"),
                _f("notes"),
                _f("illustrative", "bool", default=False),
            ),
            (),
            "schedule.json",
        ),
        _Entity(
            "service_area",
            schema.ServiceArea,
            (
                _f("id"),
                _f("service_id", back=True),
                _f("name"),
                _f("description"),
                _f("extent"),
                _f("extent_type"),
                _f("uri"),
            ),
            (),
            "service_area.json",
        ),
        _Entity(
            "language",
            schema.Language,
            (
                _f("id"),
                _f("service_id", back=True),
                _f("location_id", back=True),
                _f("phone_id", back=True),
                _f("name"),
                _f("code"),
                _f("note"),
            ),
            (),
            "language.json",
        ),
        _Entity(
            "funding",
            schema.Funding,
            (
                _f("id"),
                _f("service_id", back=True),
                _f("organization_id", back=True),
                _f("source", col="source_text"),
            ),
            (),
            "funding.json",
        ),
        _Entity(
            "cost_option",
            schema.CostOption,
            (
                _f("id"),
                _f("service_id", back=True),
                _f("valid_from", "date"),
                _f("valid_to", "date"),
                _f("option"),
                _f("amount", "num"),
                _f("currency"),
                _f("amount_description"),
            ),
            (),
            "cost_option.json",
        ),
        _Entity(
            "contact",
            schema.Contact,
            (
                _f("id"),
                _f("service_id", back=True),
                _f("organization_id", back=True),
                _f("location_id", back=True),
                _f("name"),
                _f("title"),
                _f("email"),
                _f("private", "bool", default=False),
            ),
            (_Child("phones", "phone", fk="contact_id"), _attrs()),
            "contact.json",
        ),
        _Entity(
            "phone",
            schema.Phone,
            (
                _f("id"),
                _f("contact_id", back=True),
                _f("service_id", back=True),
                _f("location_id", back=True),
                _f("organization_id", back=True),
                _f("number"),
                _f("extension"),
                _f("type"),
                _f("description"),
            ),
            (_Child("languages", "language", fk="phone_id"),),
            "phone.json",
        ),
        _Entity(
            "attribute",
            schema.Attribute,
            (
                _f("id"),
                _f("link_id", back=True),
                _f("taxonomy_term_id", back=True, ref="taxonomy_term"),
                _f("value"),
            ),
            (_Child("taxonomy_term", "taxonomy_term", many=False, parent_col="taxonomy_term_id"),),
            "attribute.json",
        ),
        _Entity(
            "taxonomy",
            schema.Taxonomy,
            (_f("id"), _f("name"), _f("description"), _f("uri"), _f("version")),
            (_Child("taxonomy_terms", "taxonomy_term", fk="taxonomy_id"),),
            "taxonomy.json",
        ),
        _Entity(
            "taxonomy_term",
            schema.TaxonomyTerm,
            (
                _f("id"),
                _f("name"),
                _f("description"),
                _f("parent_id", ref="taxonomy_term", soft=True),
                _f("taxonomy", col="taxonomy_name"),
                _f("taxonomy_id", back=True, ref="taxonomy"),
                _f("term_uri"),
                _f("term", col="code"),
                _f("language"),
            ),
            (),
            "taxonomy_term.json",
        ),
    ]
}


#: Shapes of the serialised records: which nested keys each carries (the compiled UK schemas).
Shape = dict[str, "Shape"]
_TERM: Shape = {"taxonomy_term": {}}
_ATTR: Shape = {"attributes": _TERM}
ORG_ONE_TO_ONE: Shape = {}
ORG_NESTED: Shape = {"organization_identifiers": _ATTR, "attributes": _TERM}
LOCATION_ONE_TO_ONE: Shape = {}
LOCATION_FULL: Shape = {
    "addresses": _ATTR,
    "accessibility": _ATTR,
    "attributes": _TERM,
    "phones": {"languages": {}},
}
_SERVICE_COMMON: Shape = {
    "schedules": {},
    "service_areas": {},
    "languages": {},
    "funding": {},
    "cost_options": {},
    "contacts": {"phones": {"languages": {}}, "attributes": _TERM},
    "phones": {"languages": {}},
    "attributes": _TERM,
}
SERVICE_LIST: Shape = {"organization": ORG_ONE_TO_ONE}
SERVICE_FULL: Shape = {
    **_SERVICE_COMMON,
    "organization": ORG_NESTED,
    "service_at_locations": {"location": LOCATION_FULL, "schedules": {}, "attributes": _TERM},
}
SERVICE_IN_ORGANIZATION: Shape = {
    **_SERVICE_COMMON,
    "service_at_locations": {"location": LOCATION_FULL, "schedules": {}, "attributes": _TERM},
}
SERVICE_IN_SAL: Shape = {**_SERVICE_COMMON, "organization": ORG_NESTED}
SAL_LIST: Shape = {"location": LOCATION_ONE_TO_ONE, "service": SERVICE_LIST}
SAL_FULL: Shape = {
    "location": LOCATION_FULL,
    "service": SERVICE_IN_SAL,
    "schedules": {},
    "attributes": _TERM,
}
ORG_FULL: Shape = {**ORG_NESTED, "services": SERVICE_IN_ORGANIZATION}
TAXONOMY_FULL: Shape = {"taxonomy_terms": {}}
TAXONOMY_LIST: Shape = {}
TERM_SHAPE: Shape = {}

_EXTRA_FIELDS = "oruk"  # extra["oruk"]: ORUK fields no column holds
_EXTRA_RAW = "oruk_raw"  # extra["oruk_raw"]: original text of fields a column normalises
_EXTRA_POS = "oruk_pos"  # extra["oruk_pos"]: position in the enclosing array

# ---------------------------------------------------------------------------------------------
# Values: ORUK JSON <-> columns
# ---------------------------------------------------------------------------------------------

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(
    r"^(?P<hm>([01]\d|2[0-3]):[0-5]\d)(?P<s>:[0-5]\d(\.\d+)?)?(?P<z>Z|[+-]\d\d:?\d\d)?$"
)
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(?P<z>Z|z|[+-]\d{2}:?\d{2})?$"
)
_BYDAY_RE = re.compile(r"^([+-]?([1-9]|[1-4]\d|5[0-3]))?(MO|TU|WE|TH|FR|SA|SU)$")
_FREQS = ("WEEKLY", "MONTHLY")
_WKST = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class _BadValue(ValueError):
    pass


def _to_col(kind: str, value: Any) -> Any:
    """The column value of an ORUK value (raises _BadValue with the reason)."""
    if value is None:
        return None
    if kind == "str":
        if not isinstance(value, str):
            raise _BadValue(f"expected a string, got {type(value).__name__}")
        return value
    if kind in ("int", "num"):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise _BadValue(f"expected a number, got {value!r}")
        return int(value) if kind == "int" else float(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise _BadValue(f"expected true or false, got {value!r}")
        return value
    if not isinstance(value, str):
        raise _BadValue(f"expected a string, got {type(value).__name__}")
    if kind == "date":
        if not _DATE_RE.match(value):
            raise _BadValue(f"not a date (YYYY-MM-DD): {value!r}")
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise _BadValue(f"not a date: {value!r} ({exc})") from exc
    if kind == "datetime":
        m = _DATETIME_RE.match(value)
        if not m:
            raise _BadValue(f"not a date-time (ISO 8601): {value!r}")
        if not m.group("z"):
            raise _BadValue(
                f"a date-time needs a time zone (Z or an offset such as +01:00): {value!r}"
            )
        try:
            return datetime.fromisoformat(value.replace("z", "Z")).astimezone(UTC)
        except ValueError as exc:
            raise _BadValue(f"not a date-time: {value!r} ({exc})") from exc
    if kind == "time":
        m = _TIME_RE.match(value)
        if not m:
            raise _BadValue(f"not a time (HH:MM or HH:MM:SS): {value!r}")
        # the column holds local wall-clock time in the schedule's zone (Europe/London)
        seconds = (m.group("s") or "")[:3]
        return m.group("hm") + seconds
    raise AssertionError(kind)


def _from_col(kind: str, value: Any) -> Any:
    """The ORUK JSON value of a column value."""
    if value is None:
        return None
    if kind == "date":
        return value.isoformat()
    if kind == "datetime":
        if value.tzinfo is None:  # SQLite hands back naive UTC
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if kind == "num" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _same_json(a: Any, b: Any) -> bool:
    if type(a) is type(b) and isinstance(a, str | int | bool):
        return bool(a == b)
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _same_tree(a: Any, b: Any) -> bool:
    """``_same_json`` for whole documents without dumping them: same types, same values
    (``1`` and ``true``, ``1`` and ``1.0`` differ, as their JSON texts do); key order ignored."""
    if a is b:
        return True
    ta = type(a)
    if ta is not type(b):
        return False
    if ta is dict:
        return a.keys() == b.keys() and all(_same_tree(v, b[k]) for k, v in a.items())
    if ta is list:
        return len(a) == len(b) and all(_same_tree(x, y) for x, y in zip(a, b, strict=True))
    return _same_value(a, b)


def _col_lengths(model: type[Any]) -> dict[str, int]:
    out = {}
    for c in model.__table__.columns:
        if isinstance(c.type, String) and c.type.length:
            out[c.key] = c.type.length
    return out


_LENGTHS = {name: _col_lengths(e.model) for name, e in ENTITIES.items()}


@cache
def _schemas() -> dict[str, Any]:
    data = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    data.pop("_about", None)
    return dict(data)


def _same_value(a: Any, b: Any) -> bool:
    """The JSON texts of ``a`` and ``b`` are equal (``_same_json``, without dumping scalars)."""
    ta = type(a)
    if ta is type(b):
        if ta is str or ta is int or ta is bool or a is None:
            return bool(a == b)
        if ta is float:
            return bool(a == b and math.copysign(1.0, a) == math.copysign(1.0, b))
    return _same_json(a, b)


def _chunks(seq: Sequence[Any], n: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]
