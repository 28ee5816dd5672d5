"""Validate ORUK JSON: every fault with its JSON path (the UK profile's JSON Schemas, through a
compiled fast check, plus semantic checks: references, RRULE parts, end before start, ranges)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import cache, partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from strengthmap.directory.oruk.mapping import (
    _BYDAY_RE,
    _EXTRA_FIELDS,
    _EXTRA_POS,
    _EXTRA_RAW,
    _FREQS,
    _LENGTHS,
    _TIME_RE,
    _WKST,
    ENTITIES,
    _BadValue,
    _chunks,
    _Field,
    _from_col,
    _same_tree,
    _same_value,
    _schemas,
    _to_col,
)
from strengthmap.errors import Fault
from strengthmap.storage import Store

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
