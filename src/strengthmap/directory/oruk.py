"""Open Referral UK JSON (HSDS 3.0 UK profile): validate documents, import them, serialise records.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> doc = {"id": "ac148810-d857-441c-9679-408f346de14b", "name": "Lunch club",
    ...        "status": "active", "schedules": [{"id": "48102e86-bb50-41c4-8f1e-e269368c41d1",
    ...        "freq": "WEEKLY", "byday": "WE", "opens_at": "12:00", "closes_at": "14:00"}]}
    >>> validate_oruk(doc)
    []
    >>> import_oruk(store, doc).created["service"]
    1
    >>> with store.session() as session:
    ...     to_oruk_service(session, doc["id"]) == doc
    True

The mapping is table by table (``ENTITIES``): each ORUK field that a column holds goes to that
column; everything else (fields the columns do not hold, and the exact original text where a
column would normalise it, such as ``"2023-03-15T10:30:45.123Z"``) is kept in the record's
``extra`` JSON under ``"oruk"`` / ``"oruk_raw"``, so a document exports again without loss.
Serialisers omit empty optional fields (never ``null``), skip retired records and private
contacts, and give the shapes of the compiled UK schemas (``full`` or the one-to-one ``list``
shape). Fields that only point back to the enclosing record (``service_id`` inside a service's
schedules, ``location_id`` inside a location's addresses ...) are written out only when the
imported document had them.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import Point
from sqlalchemy import String, insert, select, update
from sqlalchemy.orm import Session

from strengthmap.errors import Fault, NotFound, ValidationFailed
from strengthmap.storage import Store, schema

SCHEMA_FILE = Path(__file__).with_name("oruk_schemas.json")
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

#: Insert order: every table after the tables its foreign keys point at.
_WRITE_ORDER = (
    "taxonomy",
    "taxonomy_term",
    "organization",
    "organization_identifier",
    "location",
    "address",
    "accessibility",
    "service",
    "service_at_location",
    "schedule",
    "service_area",
    "contact",
    "phone",
    "language",
    "funding",
    "cost_option",
    "attribute",
)

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

# ---------------------------------------------------------------------------------------------
# Walking a document
# ---------------------------------------------------------------------------------------------


class _Item:
    """One record found in a document (top-level or nested), with its columns once converted."""

    __slots__ = ("data", "entity", "extra", "lists", "parent", "path", "pos", "row", "sets", "top")

    def __init__(
        self,
        entity: str,
        data: dict[str, Any],
        path: str,
        top: bool,
        pos: int | None,
        sets: dict[str, Any] | None = None,
        parent: tuple[str, str] | None = None,
    ) -> None:
        self.entity = entity
        self.data = data
        self.path = path
        self.top = top
        self.pos = pos
        self.sets: dict[str, Any] = sets if sets is not None else {}  # set by the enclosing record
        self.parent = parent  # (entity, id) of the enclosing record
        self.lists: list[tuple[str, str]] = []  # (child entity, fk) of the arrays given
        self.row: dict[str, Any] = {}
        self.extra: dict[str, Any] = {}


def _guess_kind(d: dict[str, Any]) -> str | None:
    keys = set(d)
    if "contents" in keys:
        return None
    if keys & {"location", "location_id"} and "status" not in keys:
        return "service_at_location"
    if "service" in keys and "status" not in keys:
        return "service_at_location"
    service_keys = {f.key for f in ENTITIES["service"].fields} | {
        c.key for c in ENTITIES["service"].children
    }
    service_keys -= {"id", "name", "description", "email", "url", "attributes", "abcd_kind"}
    service_keys -= {"contacts", "phones", "funding"}
    if keys & service_keys:
        return "service"
    if keys & {"taxonomy_terms", "version"}:
        return "taxonomy"
    if keys & {"term", "taxonomy", "parent_id", "taxonomy_id", "code", "term_uri"}:
        return "taxonomy_term"
    if keys & {"organization_identifiers", "services", "website", "logo", "parent_organization_id"}:
        return "organization"
    if keys & {"location_type", "latitude", "longitude", "addresses"}:
        return "location"
    return None


def _top_records(documents: Any, kind: str | None) -> tuple[list[tuple[str, Any]], list[Fault]]:
    """(JSON path, record) of each top-level record: one record, a list, or a page wrapper."""
    if isinstance(documents, dict) and "contents" in documents:
        contents = documents["contents"]
        if not isinstance(contents, list):
            return [], [Fault("$.contents", "expected an array of records")]
        return [(f"$.contents[{i}]", r) for i, r in enumerate(contents)], []
    if isinstance(documents, list):
        return [(f"$[{i}]", r) for i, r in enumerate(documents)], []
    if isinstance(documents, dict):
        return [("$", documents)], []
    return [], [Fault("$", "expected an ORUK record, a list of records or a page of records")]


def _walk(
    entity: str,
    d: dict[str, Any],
    path: str,
    items: list[_Item],
    faults: list[Fault],
    *,
    top: bool,
    pos: int | None = None,
    sets: dict[str, Any] | None = None,
    parent: tuple[str, str] | None = None,
) -> None:
    spec = ENTITIES[entity]
    item = _Item(entity, d, path, top, pos, sets, parent)
    items.append(item)
    rid = d.get("id")
    for child in spec.children:
        if child.key not in d:
            continue
        value = d[child.key]
        cpath = f"{path}.{child.key}"
        if child.many:
            if not isinstance(value, list):
                continue  # jsonschema reports the type
            if child.fk and isinstance(rid, str):
                item.lists.append((child.entity, child.fk))
            for i, c in enumerate(value):
                if not isinstance(c, dict):
                    continue
                csets: dict[str, Any] = {}
                if child.entity == "attribute":
                    csets = {"link_id": rid, "link_type": entity, "link_entity": entity}
                elif child.fk:
                    csets = {child.fk: rid}
                _walk(
                    child.entity,
                    c,
                    f"{cpath}[{i}]",
                    items,
                    faults,
                    top=False,
                    pos=i,
                    sets=csets,
                    parent=(entity, rid) if isinstance(rid, str) else None,
                )
        elif isinstance(value, dict):
            assert child.parent_col is not None
            item.sets[child.parent_col] = value.get("id")
            _walk(child.entity, value, cpath, items, faults, top=False)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


@cache
def _schemas() -> dict[str, Any]:
    data = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    data.pop("_about", None)
    return dict(data)


@cache
def _validator(schema_file: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schemas = _schemas()
    registry: Registry[Any] = Registry().with_resources(
        (name, Resource.from_contents(s, default_specification=DRAFT202012))
        for name, s in schemas.items()
    )
    return Draft202012Validator(
        schemas[schema_file],
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
Check = Callable[[Any], bool]


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


def _type_check(name: str) -> Check:
    if name == "string":
        return lambda x: isinstance(x, str)
    if name == "number":
        return lambda x: isinstance(x, int | float) and not isinstance(x, bool)
    if name == "integer":
        return lambda x: isinstance(x, int) and not isinstance(x, bool)
    if name == "object":
        return lambda x: isinstance(x, dict)
    if name == "array":
        return lambda x: isinstance(x, list)
    if name == "boolean":
        return lambda x: isinstance(x, bool)
    if name == "null":
        return lambda x: x is None
    return _never


def _in_enum(values: frozenset[str], x: Any) -> bool:
    return isinstance(x, str) and x in values


def _has_keys(keys: tuple[str, ...], x: Any) -> bool:
    return not isinstance(x, dict) or all(k in x for k in keys)


def _all_items(check: Check, x: Any) -> bool:
    return not isinstance(x, list) or all(check(e) for e in x)


@cache
def _fast_check(schema_file: str) -> Check:
    """A compiled yes/no check of one bundled schema, conservative: True only when the full
    ``jsonschema`` validator (``_validator``) would find no error at all.

    The bundled ORUK schemas use only ``type``, ``required``, ``properties``, ``items``,
    ``enum``, ``format`` and ``$ref`` (the rest are annotations that ``jsonschema`` ignores);
    each is checked here at least as strictly as ``jsonschema`` checks it (formats only where
    its format checker checks them, with the same function, behind a regex fast path for
    ``uuid``). Any other assertion keyword compiles to "not sure" (False), which sends the
    document to the full validator. A document the check rejects is validated again by
    ``jsonschema`` to list its faults, so the check can only change speed, never the faults.
    """
    from jsonschema import Draft202012Validator

    schemas = _schemas()
    formats = Draft202012Validator.FORMAT_CHECKER
    assertions = set(Draft202012Validator.VALIDATORS)
    compiled: dict[str, Check] = {}

    def format_check(fmt: str) -> Check:
        if fmt not in formats.checkers:
            return _always  # jsonschema does not check this format either
        if fmt == "uuid":
            return lambda x: (
                not isinstance(x, str) or bool(_UUID_RE.match(x)) or formats.conforms(x, fmt)
            )
        return lambda x: formats.conforms(x, fmt)

    def ref(name: str) -> Check:
        if name not in schemas:
            return _never
        if name not in compiled:
            compiled[name] = _never  # placeholder while compiling a recursive reference
            compiled[name] = comp(schemas[name])
        return lambda x: compiled[name](x)

    def comp(s: Any) -> Check:
        if s is True:
            return _always
        if not isinstance(s, dict):
            return _never
        checks: list[Check] = []
        for key, value in s.items():
            if key not in assertions:
                continue  # annotation (name, title, constraints, example ...)
            if key == "type":
                names = value if isinstance(value, list) else [value]
                tcs = [_type_check(n) for n in names]

                def any_type(x: Any, tcs: list[Check] = tcs) -> bool:
                    return any(c(x) for c in tcs)

                checks.append(tcs[0] if len(tcs) == 1 else any_type)
            elif key == "format":
                checks.append(format_check(value))
            elif key == "required":
                req = tuple(value)
                checks.append(partial(_has_keys, req))
            elif key == "enum":
                strs = frozenset(v for v in value if isinstance(v, str))
                checks.append(partial(_in_enum, strs))
            elif key == "$ref":
                checks.append(ref(value))
            elif key == "items" and isinstance(value, dict | bool):
                sub = comp(value)
                checks.append(partial(_all_items, sub))
            elif key == "properties":
                props = {k: comp(v) for k, v in value.items()}

                def check_props(x: Any, props: dict[str, Check] = props) -> bool:
                    if not isinstance(x, dict):
                        return True
                    for k, v in x.items():
                        f = props.get(k)
                        if f is not None and not f(v):
                            return False
                    return True

                checks.append(check_props)
            else:
                return _never  # a keyword this check does not know: let jsonschema decide
        if not checks:
            return _always
        if len(checks) == 1:
            return checks[0]

        def check_all(x: Any, checks: tuple[Check, ...] = tuple(checks)) -> bool:
            for c in checks:  # noqa: SIM110  # a plain loop: no generator per call on a hot path
                if not c(x):
                    return False
            return True

        return check_all

    return ref(schema_file)


def _json_path(base: str, parts: Iterable[Any]) -> str:
    out = base
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _schema_faults(entity: str, record: Any, base: str) -> list[Fault]:
    spec = ENTITIES[entity]
    assert spec.schema_file is not None
    if _fast_check(spec.schema_file)(record):
        return []
    faults = []
    for err in _validator(spec.schema_file).iter_errors(record):
        path = _json_path(base, err.absolute_path)
        if err.validator == "required":
            missing = re.match(r"'([^']+)' is a required property", err.message)
            if missing:
                path = f"{path}.{missing.group(1)}"
                faults.append(Fault(path, "required field is missing"))
                continue
        faults.append(Fault(path, err.message))
    return faults


_MISSING = object()


@cache
def _known_keys(entity: str) -> frozenset[str]:
    spec = ENTITIES[entity]
    return frozenset({f.key for f in spec.fields} | {c.key for c in spec.children})


def _same_value(a: Any, b: Any) -> bool:
    """The JSON texts of ``a`` and ``b`` are equal (``_same_json``, without dumping scalars)."""
    ta = type(a)
    if ta is type(b):
        if ta is str or ta is int or ta is bool or a is None:
            return bool(a == b)
        if ta is float:
            return bool(a == b and math.copysign(1.0, a) == math.copysign(1.0, b))
    return _same_json(a, b)


def _row_faults(item: _Item, check_coordinates: bool) -> list[Fault]:
    """Convert one record's fields to columns (into item.row / item.extra); list its faults."""
    spec = ENTITIES[item.entity]
    d = item.data
    faults: list[Fault] = []
    row: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    lengths = _LENGTHS[item.entity]
    for f in spec.fields:
        value = d.get(f.key, _MISSING)
        if value is _MISSING:
            continue
        if f.kind == "str" and type(value) is str:
            col: Any = value  # the common case: text kept as it is
            same = True
        else:
            try:
                col = _to_col(f.kind, value)
            except _BadValue as exc:
                faults.append(Fault(f"{item.path}.{f.key}", str(exc)))
                continue
            same = _same_value(_from_col(f.kind, col), value)
        if type(col) is str and f.col in lengths and len(col) > lengths[f.col]:
            faults.append(Fault(f"{item.path}.{f.key}", f"longer than {lengths[f.col]} characters"))
            continue
        row[f.col] = col
        if f.back or f.soft or not same:
            raw[f.key] = value
    # values set by the enclosing record (foreign keys) win over what the record says
    for col, value in item.sets.items():
        given = row.get(col)
        if (
            given is not None
            and value is not None
            and given != value
            and col not in ("link_type", "link_entity")
        ):
            faults.append(
                Fault(f"{item.path}.{col}", f"{given!r} differs from the enclosing record's id")
            )
        row[col] = value
    extra: dict[str, Any] = {}
    known = _known_keys(item.entity)
    unknown = {k: v for k, v in d.items() if k not in known}
    if unknown:
        extra[_EXTRA_FIELDS] = unknown
    if raw:
        extra[_EXTRA_RAW] = raw
    if item.pos is not None:
        extra[_EXTRA_POS] = item.pos
    item.row, item.extra = row, extra
    if item.entity in _SEMANTIC:
        faults.extend(_semantic_faults(item, check_coordinates))
    return faults


_SEMANTIC = frozenset({"location", "service", "schedule", "cost_option"})


def _semantic_faults(item: _Item, check_coordinates: bool = True) -> list[Fault]:
    """Checks the JSON Schemas cannot express: ranges, order of start and end, RRULE parts."""
    d, row, p = item.data, item.row, item.path
    faults: list[Fault] = []
    if item.entity == "location" and check_coordinates:
        lat, lon = row.get("latitude"), row.get("longitude")
        if lat is not None and not -90 <= lat <= 90:
            faults.append(Fault(f"{p}.latitude", f"latitude {d['latitude']} is outside -90..90"))
        if lon is not None and not -180 <= lon <= 180:
            faults.append(
                Fault(f"{p}.longitude", f"longitude {d['longitude']} is outside -180..180")
            )
        if (lat is None) != (lon is None):
            which = "longitude" if lon is None else "latitude"
            faults.append(Fault(f"{p}.{which}", "latitude and longitude come together"))
    if item.entity == "service":
        lo, hi = row.get("minimum_age"), row.get("maximum_age")
        if lo is not None and lo < 0:
            faults.append(Fault(f"{p}.minimum_age", "an age cannot be negative"))
        if lo is not None and hi is not None and hi < lo:
            faults.append(Fault(f"{p}.maximum_age", f"maximum_age {hi} is below minimum_age {lo}"))
    if item.entity in ("schedule", "cost_option"):
        vf, vt = row.get("valid_from"), row.get("valid_to")
        if vf is not None and vt is not None and vt < vf:
            faults.append(Fault(f"{p}.valid_to", f"valid_to {vt} is before valid_from {vf}"))
    if item.entity == "schedule":
        faults.extend(_schedule_faults(d, row, p))
    return faults


def _schedule_faults(d: dict[str, Any], row: dict[str, Any], p: str) -> list[Fault]:
    faults: list[Fault] = []
    freq = row.get("freq")
    if freq is not None and freq not in _FREQS:
        faults.append(Fault(f"{p}.freq", f"FREQ must be one of {', '.join(_FREQS)}"))
    interval = d.get("interval")
    if interval is not None and (
        isinstance(interval, bool)
        or not isinstance(interval, int | float)
        or interval < 1
        or interval != int(interval)
    ):
        faults.append(Fault(f"{p}.interval", f"INTERVAL must be a whole number >= 1: {interval!r}"))
    count = d.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        faults.append(Fault(f"{p}.count", f"COUNT must be a whole number >= 1: {count!r}"))
    byday = row.get("byday")
    if isinstance(byday, str):
        bad = [part for part in byday.split(",") if not _BYDAY_RE.match(part.strip())]
        if bad or not byday.strip():
            faults.append(
                Fault(
                    f"{p}.byday",
                    f"BYDAY parts must be like WE, 1MO or -1FR: {', '.join(map(repr, bad)) or repr(byday)}",
                )
            )
        elif freq == "WEEKLY" and any(re.match(r"^[+-]?\d", x.strip()) for x in byday.split(",")):
            faults.append(
                Fault(f"{p}.byday", "a numbered BYDAY (like 1MO) needs FREQ=MONTHLY (RFC 5545)")
            )
    bymonthday = row.get("bymonthday")
    if isinstance(bymonthday, str):
        for part in bymonthday.split(","):
            try:
                n = int(part.strip())
            except ValueError:
                n = 0
            if not 1 <= abs(n) <= 31:
                faults.append(
                    Fault(f"{p}.bymonthday", f"BYMONTHDAY parts must be 1..31 or -31..-1: {part!r}")
                )
                break
    wkst = row.get("wkst")
    if wkst is not None and wkst not in _WKST:
        faults.append(Fault(f"{p}.wkst", f"WKST must be one of {', '.join(_WKST)}"))
    if (byday or bymonthday or interval is not None) and freq is None:
        faults.append(Fault(f"{p}.freq", "a recurrence (byday, bymonthday, interval) needs freq"))
    opens, closes = row.get("opens_at"), row.get("closes_at")
    if opens is not None and closes is not None:
        zo = _TIME_RE.match(d["opens_at"])
        zc = _TIME_RE.match(d["closes_at"])
        if zo and zc and bool(zo.group("z")) != bool(zc.group("z")):
            which = "opens_at" if not zo.group("z") else "closes_at"
            faults.append(
                Fault(f"{p}.{which}", "a time needs the same zone as the other end of the session")
            )
        elif _seconds(closes) <= _seconds(opens):
            faults.append(
                Fault(
                    f"{p}.closes_at",
                    f"closes_at {d['closes_at']} is not after opens_at {d['opens_at']}",
                )
            )
    dtstart, until = row.get("dtstart"), row.get("until")
    if dtstart is not None and until is not None and until.date() < dtstart:
        faults.append(Fault(f"{p}.until", f"until {d['until']} is before dtstart {d['dtstart']}"))
    return faults


def _seconds(hhmm: str) -> int:
    parts = [int(x) for x in hhmm.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)


def _collect(
    documents: Any, kind: str | None, check_coordinates: bool = True
) -> tuple[list[_Item], list[Fault]]:
    """Walk every record of ``documents`` and check each against the schemas and the rules."""
    faults: list[Fault] = []
    items: list[_Item] = []
    records, faults0 = _top_records(documents, kind)
    faults.extend(faults0)
    guesses = [_guess_kind(r) for _, r in records if isinstance(r, dict)]
    known = [g for g in guesses if g is not None]
    # a record too sparse to tell (say a service without its status) takes its siblings' type
    usual = max(set(known), key=known.count) if known else None
    for path, record in records:
        if not isinstance(record, dict):
            faults.append(Fault(path, f"expected an object, got {type(record).__name__}"))
            continue
        entity = kind or _guess_kind(record) or usual
        if entity is None or entity not in ENTITIES:
            faults.append(
                Fault(path, "cannot tell which ORUK record this is (service, organization, ...)")
            )
            continue
        faults.extend(_schema_faults(entity, record, path))
        _walk(entity, record, path, items, faults, top=True)
    # one fault per place: a field the schema already faulted is not faulted again
    faulted = {f.path for f in faults}
    for item in items:
        faults.extend(f for f in _row_faults(item, check_coordinates) if f.path not in faulted)
    return items, faults


def _reference_faults(
    items: list[_Item], store: Store | None, session: Session | None
) -> list[Fault]:
    """Duplicate ids, and references that point neither into the document nor into the store."""
    faults: list[Fault] = []
    seen: dict[tuple[str, str], _Item] = {}
    for item in items:
        rid = item.row.get("id")
        if not isinstance(rid, str):
            continue
        key = (item.entity, rid)
        first = seen.get(key)
        if first is None:
            seen[key] = item
        elif (item.top and first.top) or not _same_tree(item.data, first.data):
            faults.append(Fault(f"{item.path}.id", f"duplicate id {rid!r} (also at {first.path})"))
    in_doc: dict[str, set[str]] = defaultdict(set)
    for ent, rid in seen:
        in_doc[ent].add(rid)
    wanted: dict[str, set[str]] = defaultdict(set)
    refs: list[tuple[_Item, _Field, str]] = []
    for item in items:
        for f in ENTITIES[item.entity].fields:
            if f.ref is None:
                continue
            target = item.row.get(f.col)
            if isinstance(target, str) and target not in in_doc[f.ref]:
                wanted[f.ref].add(target)
                refs.append((item, f, target))
    found: dict[str, set[str]] = {e: set() for e in wanted}
    if wanted and (store is not None or session is not None):
        found = _existing_ids(session, store, wanted)
    for item, f, target in refs:
        if target in found.get(f.ref or "", set()):
            continue
        if f.soft:
            item.row[f.col] = None  # kept in extra["oruk_raw"], so it still exports
            continue
        faults.append(
            Fault(
                f"{item.path}.{f.key}",
                f"{f.ref} {target!r} is neither in this document nor in the store",
            )
        )
    return faults


def _existing_ids(
    session: Session | None, store: Store | None, wanted: dict[str, set[str]]
) -> dict[str, set[str]]:
    def run(s: Session) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for ent, ids in wanted.items():
            model = ENTITIES[ent].model
            got: set[str] = set()
            for chunk in _chunks(sorted(ids), 500):
                got.update(s.scalars(select(model.id).where(model.id.in_(chunk))))
            out[ent] = got
        return out

    if session is not None:
        return run(session)
    assert store is not None
    with store.session() as s:
        return run(s)


def _chunks(seq: Sequence[Any], n: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def validate_oruk(
    documents: Any,
    *,
    file: str | None = None,
    store: Store | None = None,
    kind: str | None = None,
    check_coordinates: bool = True,
) -> list[Fault]:
    """Every fault in an ORUK JSON document, each with its JSON path (an empty list: valid).

    Example:
        >>> faults = validate_oruk([{"id": "ac148810-d857-441c-9679-408f346de14b",
        ...                          "name": "Lunch", "status": "sometimes"}])
        >>> [f.path for f in faults]
        ['$[0].status']

    ``documents``: one record, a list of records, or a page of the ORUK API
    (``{"total_items": ..., "contents": [...]}``); the record type (service, organization,
    service_at_location, location, taxonomy, taxonomy_term) is told from its fields unless
    ``kind`` names it. Checks: the UK profile's JSON Schemas (types, required id / name /
    status, enumerations, uuid format), duplicate ids, references (``organization_id``,
    ``taxonomy_term_id`` ...) that point neither into the document nor into ``store``, RRULE
    parts (freq, interval, byday, bymonthday, wkst, count), end before start (``closes_at``
    not after ``opens_at``, ``valid_to`` before ``valid_from``), a date-time without a zone, a
    session with a zone at one end only, latitude / longitude out of range, ages, text longer
    than its column. ``file`` is accepted for symmetry with the importers (paths start ``$``).
    ``check_coordinates=False`` lets placeholder coordinates through (the spec's own examples
    put a location at latitude 100); such a location gets no geometry.
    """
    items, faults = _collect(documents, kind, check_coordinates)
    faults.extend(_reference_faults(items, store, None))
    return faults


# ---------------------------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What an import did: records created / updated / unchanged / retired, by table."""

    source: str
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unchanged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    retired: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    records: int = 0  # top-level records in the document

    @property
    def total_written(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values()) + sum(self.retired.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "records": self.records,
            "created": dict(self.created),
            "updated": dict(self.updated),
            "unchanged": dict(self.unchanged),
            "retired": dict(self.retired),
        }

    def __str__(self) -> str:
        def fmt(d: dict[str, int]) -> str:
            return ", ".join(f"{v} {k}" for k, v in sorted(d.items()) if v) or "none"

        return (
            f"{self.records} record(s) from {self.source}: created {fmt(self.created)}; "
            f"updated {fmt(self.updated)}; unchanged {sum(self.unchanged.values())}; "
            f"retired {fmt(self.retired)}"
        )


def _audit_value(v: Any) -> Any:
    if isinstance(v, date | datetime):
        return v.isoformat()
    if isinstance(v, float | int | str | bool) or v is None:
        return v
    return str(v)


def _comparable(v: Any) -> Any:
    if isinstance(v, datetime) and v.tzinfo is None:
        return v.replace(tzinfo=UTC)
    return v


def import_oruk(
    store: Store,
    documents: Any,
    *,
    source: str = "oruk",
    licence: str | None = None,
    actor: str = "cli",
    kind: str | None = None,
    file: str | None = None,
    check_coordinates: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ORUK JSON into the store: all or nothing, upsert by id, with an audit trail.

    Example:
        >>> from strengthmap.storage import open_store
        >>> store = open_store("sqlite://")
        >>> org = {"id": "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610", "name": "New Wortley CA",
        ...        "description": "Community association"}
        >>> print(import_oruk(store, org, source="example"))
        1 record(s) from example: created 1 organization; updated none; unchanged 0; retired none

    Every fault found by ``validate_oruk`` (with the store for references) raises
    ``ValidationFailed`` listing all of them, and nothing is written. Otherwise one transaction
    inserts new records and updates changed ones (nested records too: schedules, locations,
    contacts ...); nested records that a re-imported parent no longer lists are retired (never
    deleted). Each change writes an ``AuditEntry`` (who: ``actor``; what: the changed fields).
    ``source`` and ``licence`` are recorded on every record. ``progress(done, total)`` is
    called as tables are written.
    """
    items, faults = _collect(documents, kind, check_coordinates)
    with store.transaction() as session:
        faults.extend(_reference_faults(items, None, session))
        if faults:
            raise ValidationFailed(faults, file=file)
        report = ImportReport(source=source, records=sum(1 for i in items if i.top))
        _write(
            session, items, report, source=source, licence=licence, actor=actor, progress=progress
        )
    return report


#: ids per ``IN (...)`` query (well below SQLite's 32,766 and PostgreSQL's 65,535 parameters)
_IN_CHUNK = 10_000


def _existing_rows(session: Session, table: Any, ids: Sequence[str]) -> dict[str, Any]:
    """The stored rows of ``ids`` (id -> row mapping): one query per table per chunk of ids."""
    out: dict[str, Any] = {}
    for chunk in _chunks(ids, _IN_CHUNK):
        for r in session.execute(select(table).where(table.c.id.in_(chunk))).mappings():
            out[r["id"]] = r
    return out


def _by_columns(
    rows: list[dict[str, Any]],
) -> Iterable[tuple[frozenset[str], list[dict[str, Any]]]]:
    """Rows grouped by the set of columns they give (one executemany per group)."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[frozenset(r)].append(r)
    return groups.items()


def _insert_many(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """SQLAlchemy Core ``insert()`` executemany, one statement per column set."""
    for _cols, group in _by_columns(rows):
        session.execute(insert(table), group)


def _upsert_many(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """``INSERT ... ON CONFLICT (id) DO UPDATE`` executemany (SQLite and PostgreSQL): the
    columns a row gives are overwritten, the others keep what the store has."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect_insert: Any = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    for cols, group in _by_columns(rows):
        stmt = dialect_insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={c: stmt.excluded[c] for c in sorted(cols) if c not in ("id", "created_at")},
        )
        session.execute(stmt, group)


def _write(
    session: Session,
    items: list[_Item],
    report: ImportReport,
    *,
    source: str,
    licence: str | None,
    actor: str,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Write validated items: per table, stored rows fetched in one query per chunk of ids, new
    rows inserted with one executemany, changed rows upserted with one executemany, nested
    records no longer listed retired in bulk, and the audit entries inserted in one go."""
    now = datetime.now(UTC)
    by_entity: dict[str, dict[str, _Item]] = defaultdict(dict)
    for item in items:
        by_entity[item.entity][item.row["id"]] = item  # identical repeats collapse
    audit: list[dict[str, Any]] = []
    existing_parents: dict[str, set[str]] = {}
    done = 0
    total = sum(len(v) for v in by_entity.values())
    created_changes = {"source": [None, source]}
    for ent in _WRITE_ORDER:
        group = by_entity.get(ent)
        if not group:
            continue
        spec = ENTITIES[ent]
        table = spec.model.__table__
        tablename = table.name
        old = _existing_rows(session, table, list(group))
        existing_parents[ent] = set(old)
        mapped_cols = {f.col for f in spec.fields} | {
            c for item in group.values() for c in item.sets
        }
        defaults = {f.col: f.default for f in spec.fields if f.default is not None}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        new_points: list[tuple[dict[str, Any], float, float]] = []
        for rid, item in (
            _parents_first(group) if ent in ("organization", "taxonomy_term") else group.items()
        ):
            row = dict(item.row)
            prev = old.get(rid)
            point: tuple[float, float] | None = None
            if ent == "location":
                lat, lon = row.get("latitude"), row.get("longitude")
                on_earth = (
                    lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180
                )
                if on_earth and prev is None:
                    # a new location: its WKB is made with all the others, below
                    point = (lon, lat)  # type: ignore[assignment]  # on_earth: both are floats
                else:
                    row["geometry"] = Point(lon, lat) if on_earth else None
            if ent == "service" and "cost_options" in item.data:
                row["free"] = _free(item.data["cost_options"])
            if ent == "service" and row.get("assured_date") is not None:
                row["last_verified"] = row["assured_date"]
            row["source"], row["licence"] = source, licence
            if prev is None:
                row["extra"] = item.extra or None
                row["created_at"] = row["updated_at"] = now
                for col, dv in defaults.items():
                    if row.get(col) is None:
                        row[col] = dv
                ins = {k: v for k, v in row.items() if v is not None}
                inserts.append(ins)
                if point is not None:
                    new_points.append((ins, point[0], point[1]))
                audit.append(
                    {
                        "actor": actor,
                        "action": "create",
                        "entity": tablename,
                        "entity_id": rid,
                        "changes": created_changes,
                        "at": now,
                    }
                )
                report.created[ent] += 1
                continue
            prev_extra = prev["extra"] or {}
            extra = {
                k: v
                for k, v in prev_extra.items()
                if k not in (_EXTRA_FIELDS, _EXTRA_RAW, _EXTRA_POS)
            }
            extra.update(item.extra)
            row["extra"] = extra or None
            for col in mapped_cols:
                if col not in row:
                    if col in defaults or col in ("abcd_kind",):
                        continue  # absent: keep what the store has
                    row[col] = None
            changes = {}
            for col, value in row.items():
                before = prev[col]
                if col == "geometry":
                    same = (value is None) == (before is None) and (
                        value is None or value.equals(before)
                    )
                else:
                    same = _comparable(before) == _comparable(value)
                if not same:
                    changes[col] = [
                        _audit_value(before) if col != "geometry" else None,
                        _audit_value(value) if col != "geometry" else None,
                    ]
            if not changes:
                report.unchanged[ent] += 1
                continue
            row["updated_at"] = now
            row["id"] = rid
            updates.append(row)
            audit.append(
                {
                    "actor": actor,
                    "action": "update",
                    "entity": tablename,
                    "entity_id": rid,
                    "changes": changes,
                    "at": now,
                }
            )
            report.updated[ent] += 1
        if new_points:
            wkb = shapely.to_wkb(
                shapely.points([p[1] for p in new_points], [p[2] for p in new_points]),
                include_srid=False,
            )
            for (ins, _lon, _lat), blob in zip(new_points, wkb, strict=True):
                ins["geometry"] = blob  # the Geometry column takes WKB bytes as they are
        _insert_many(session, table, inserts)
        _upsert_many(session, table, updates)
        done += len(group)
        if progress is not None:
            progress(done, total)
    _retire_unlisted(session, items, existing_parents, report, audit, actor=actor, now=now)
    if audit:
        audit_table: Any = schema.AuditEntry.__table__
        session.execute(insert(audit_table), audit)


def _retire_unlisted(
    session: Session,
    items: list[_Item],
    existing_parents: dict[str, set[str]],
    report: ImportReport,
    audit: list[dict[str, Any]],
    *,
    actor: str,
    now: datetime,
) -> None:
    """Nested records that a re-imported parent no longer lists: retired (never deleted), with
    one query per (parent table, child table) and one bulk update per child table."""
    parents: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for item in items:
        if item.lists and item.row.get("id") in existing_parents.get(item.entity, ()):
            for child_ent, fk in item.lists:
                parents[(item.entity, child_ent, fk)].add(item.row["id"])
    if not parents:
        return  # no parent was in the store before: nothing can have been dropped
    listed: dict[tuple[str, tuple[str, str]], set[str]] = defaultdict(set)
    for c in items:
        if c.parent is not None:
            listed[(c.entity, c.parent)].add(c.row["id"])
    stale_by_ent: dict[str, list[str]] = defaultdict(list)
    for (parent_ent, child_ent, fk), pids in parents.items():
        table = ENTITIES[child_ent].model.__table__
        fk_col = table.c[fk]
        for chunk in _chunks(sorted(pids), _IN_CHUNK):
            got = session.execute(
                select(table.c.id, fk_col).where(fk_col.in_(chunk), table.c.retired_at.is_(None))
            ).all()
            for sid, pid in got:
                if sid not in listed.get((child_ent, (parent_ent, pid)), ()):
                    stale_by_ent[child_ent].append(sid)
    for child_ent, stale in stale_by_ent.items():
        model = ENTITIES[child_ent].model
        stale = sorted(set(stale))
        session.execute(
            update(model), [{"id": sid, "retired_at": now, "updated_at": now} for sid in stale]
        )
        for sid in stale:
            audit.append(
                {
                    "actor": actor,
                    "action": "retire",
                    "entity": model.__tablename__,
                    "entity_id": sid,
                    "changes": {"retired_at": [None, now.isoformat()]},
                    "at": now,
                }
            )
        report.retired[child_ent] += len(stale)


def _parents_first(group: dict[str, _Item]) -> list[tuple[str, _Item]]:
    """Self-referencing tables: each record after the record it names as parent."""
    col = (
        "parent_id"
        if any("parent_id" in i.row for i in group.values())
        else "parent_organization_id"
    )
    out: list[tuple[str, _Item]] = []
    placed: set[str] = set()
    pending = dict(group)
    while pending:
        progressed = False
        for rid, item in list(pending.items()):
            parent = item.row.get(col)
            if parent is None or parent not in group or parent in placed or parent == rid:
                out.append((rid, item))
                placed.add(rid)
                del pending[rid]
                progressed = True
        if not progressed:  # a cycle: write the rest without their parent link
            for rid, item in pending.items():
                item.row[col] = None
                out.append((rid, item))
            break
    return out


def _free(cost_options: Any) -> bool | None:
    """Free of charge: some cost option costs nothing (None when no options are given)."""
    if not isinstance(cost_options, list) or not cost_options:
        return None
    amounts = [c.get("amount") for c in cost_options if isinstance(c, dict)]
    return any(a == 0 for a in amounts)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


def published(model: type[Any]) -> Any:
    """The SQL condition of a published record: not retired, not private, and (a service at a
    location) neither its service nor its location retired."""
    cond = model.retired_at.is_(None)
    if model is schema.Contact:
        cond = cond & (model.private.is_(False))
    if model is schema.ServiceAtLocation:
        live_services = select(schema.Service.id).where(schema.Service.retired_at.is_(None))
        live_locations = select(schema.Location.id).where(schema.Location.retired_at.is_(None))
        cond = cond & model.service_id.in_(live_services) & model.location_id.in_(live_locations)
    return cond


@cache
def _required(ent: str) -> frozenset[str]:
    spec = ENTITIES[ent]
    assert spec.schema_file is not None
    return frozenset(_schemas()[spec.schema_file].get("required", ()))


def _fields_of(ent: str, row: Any) -> dict[str, Any]:
    spec = ENTITIES[ent]
    required = _required(ent)
    extra = row.extra or {}
    raw = extra.get(_EXTRA_RAW) or {}
    out: dict[str, Any] = {}
    for f in spec.fields:
        col = getattr(row, f.col)
        if f.key in raw:
            original = raw[f.key]
            try:
                equivalent = _comparable(_to_col(f.kind, original)) == _comparable(col)
            except _BadValue:
                equivalent = False
            if equivalent or (f.soft and col is None):
                out[f.key] = original
                continue
        if f.back or (f.default is not None and col == f.default):
            continue
        value = _from_col(f.kind, col)
        if (value is not None and value != "") or (value == "" and f.key in required):
            out[f.key] = value
    for k, v in (extra.get(_EXTRA_FIELDS) or {}).items():
        if k not in out:
            out[k] = v
    return out


def _sort_key(row: Any) -> tuple[int, str]:
    pos = (row.extra or {}).get(_EXTRA_POS)
    return (pos if isinstance(pos, int) else 1_000_000, row.id)


def _child_condition(
    model: Any, keycol: str, link_type: str | None
) -> Callable[[Sequence[str]], Any]:
    def cond(chunk: Sequence[str]) -> Any:
        c = getattr(model, keycol).in_(chunk)
        return c & (model.link_type == link_type) if link_type else c

    return cond


class _Serialiser:
    """Builds ORUK dicts for many records at once: one query per nested table, not per record."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def many(self, ent: str, rows: Sequence[Any], shape: Shape) -> list[dict[str, Any]]:
        spec = ENTITIES[ent]
        outs = [_fields_of(ent, r) for r in rows]
        ids = [r.id for r in rows]
        for child in spec.children:
            if child.key not in shape:
                continue
            sub = shape[child.key]
            cmodel = ENTITIES[child.entity].model
            if child.many:
                keycol = "link_id" if child.entity == "attribute" else (child.fk or "")
                cond = _child_condition(
                    cmodel, keycol, ent if child.entity == "attribute" else None
                )
                crows = self._load(cmodel, cond, ids)
                if child.entity == "attribute":  # an attribute is shown only with its term
                    terms = self._by_id(schema.TaxonomyTerm, {c.taxonomy_term_id for c in crows})
                    crows = [c for c in crows if c.taxonomy_term_id in terms]
                crows.sort(key=_sort_key)
                cdicts = self.many(child.entity, crows, sub)
                grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for crow, cdict in zip(crows, cdicts, strict=True):
                    grouped[getattr(crow, keycol)].append(cdict)
                for r, out in zip(rows, outs, strict=True):
                    if grouped.get(r.id):
                        out[child.key] = grouped[r.id]
            else:
                assert child.parent_col is not None
                targets = self._by_id(cmodel, {getattr(r, child.parent_col) for r in rows})
                trows = list(targets.values())
                tdicts = dict(
                    zip((t.id for t in trows), self.many(child.entity, trows, sub), strict=True)
                )
                for r, out in zip(rows, outs, strict=True):
                    tid = getattr(r, child.parent_col)
                    if tid in tdicts:
                        out[child.key] = tdicts[tid]
        return outs

    def _load(
        self, model: type[Any], cond: Callable[[Sequence[str]], Any], ids: Sequence[str]
    ) -> list[Any]:
        out: list[Any] = []
        for chunk in _chunks(ids, 500):
            out.extend(self.session.scalars(select(model).where(cond(chunk), published(model))))
        return out

    def _by_id(self, model: type[Any], ids: set[Any]) -> dict[str, Any]:
        ids.discard(None)
        out: dict[str, Any] = {}
        for chunk in _chunks(sorted(ids), 500):
            for r in self.session.scalars(
                select(model).where(model.id.in_(chunk), published(model))
            ):
                out[r.id] = r
        return out


def to_oruk_many(
    session: Session, entity: str, ids: Sequence[str], shape: Shape
) -> list[dict[str, Any]]:
    """ORUK dicts of ``ids`` (in that order; retired or unknown ids are left out).

    Example:
        >>> to_oruk_many(session, "service", page_ids, SERVICE_LIST)   # doctest: +SKIP
    """
    model = ENTITIES[entity].model
    found = _Serialiser(session)._by_id(model, set(ids))
    rows = [found[i] for i in ids if i in found]
    return _Serialiser(session).many(entity, rows, shape)


def _one(session: Session, entity: str, rid: str, shape: Shape) -> dict[str, Any]:
    got = to_oruk_many(session, entity, [rid], shape)
    if not got:
        raise NotFound(f"no published {entity} with id {rid!r}")
    return got[0]


def to_oruk_service(session: Session, service_id: str, *, full: bool = True) -> dict[str, Any]:
    """One service as ORUK JSON (``full``: fully nested, else the one-to-one list shape).

    Example:
        >>> to_oruk_service(session, "ac148810-d857-441c-9679-408f346de14b")["status"]  # doctest: +SKIP
        'active'
    """
    return _one(session, "service", service_id, SERVICE_FULL if full else SERVICE_LIST)


def to_oruk_organization(
    session: Session, organization_id: str, *, full: bool = True
) -> dict[str, Any]:
    """One organisation as ORUK JSON (``full``: with identifiers and its fully nested services)."""
    return _one(session, "organization", organization_id, ORG_FULL if full else ORG_ONE_TO_ONE)


def to_oruk_location(session: Session, location_id: str, *, full: bool = True) -> dict[str, Any]:
    """One location as ORUK JSON (``full``: with addresses, accessibility and attributes)."""
    return _one(session, "location", location_id, LOCATION_FULL if full else LOCATION_ONE_TO_ONE)


def to_oruk_service_at_location(
    session: Session, service_at_location_id: str, *, full: bool = True
) -> dict[str, Any]:
    """One service at a location as ORUK JSON (``full``: location and service fully nested)."""
    return _one(
        session, "service_at_location", service_at_location_id, SAL_FULL if full else SAL_LIST
    )


def to_oruk_taxonomy(session: Session, taxonomy_id: str, *, full: bool = True) -> dict[str, Any]:
    """One taxonomy as ORUK JSON (``full``: with its terms)."""
    return _one(session, "taxonomy", taxonomy_id, TAXONOMY_FULL if full else TAXONOMY_LIST)


def to_oruk_taxonomy_term(session: Session, taxonomy_term_id: str) -> dict[str, Any]:
    """One taxonomy term as ORUK JSON."""
    return _one(session, "taxonomy_term", taxonomy_term_id, TERM_SHAPE)


__all__ = [
    "ENTITIES",
    "LOCATION_FULL",
    "LOCATION_ONE_TO_ONE",
    "ORG_FULL",
    "ORG_ONE_TO_ONE",
    "ORUK_PROFILE_URL",
    "ORUK_VERSION",
    "SAL_FULL",
    "SAL_LIST",
    "SERVICE_FULL",
    "SERVICE_LIST",
    "TAXONOMY_FULL",
    "TAXONOMY_LIST",
    "TERM_SHAPE",
    "ImportReport",
    "import_oruk",
    "published",
    "to_oruk_location",
    "to_oruk_many",
    "to_oruk_organization",
    "to_oruk_service",
    "to_oruk_service_at_location",
    "to_oruk_taxonomy",
    "to_oruk_taxonomy_term",
    "validate_oruk",
]
