"""The ORUK JSON layer: validation (every fault by JSON path), import (all or nothing, upsert,
audit), serialisers (shapes of the compiled UK schemas), lossless round-trip of the spec examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import func, select, text

from strengthmap.directory import oruk
from strengthmap.errors import NotFound, ValidationFailed
from strengthmap.storage import Store, schema

SPEC = Path(__file__).resolve().parents[2] / "shared" / "specs" / "openreferral-uk-3.0"
EXAMPLES = SPEC / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "oruk"

SERVICE_ID = "ac148810-d857-441c-9679-408f346de14b"
ORG_ID = "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610"
SCHEDULE_ID = "48102e86-bb50-41c4-8f1e-e269368c41d1"


def _need_spec() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("the ORUK spec folder ../shared/specs is missing")


def _load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def _norm(value: Any) -> Any:
    """Key order does not matter in JSON objects; list order does."""
    return json.loads(json.dumps(value, sort_keys=True))


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (ids and all), to compare the store before and after."""
    out = {}
    with store.engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            if table.name in ("spatial_ref_sys",):
                continue
            cols = [c for c in table.columns if c.name != "geometry"]
            rows = conn.execute(select(*cols)).all()
            out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


def compiled_validator(name: str) -> Any:
    """A validator of a compiled UK schema (they inline every table: no $ref to resolve)."""
    schema_doc = json.loads((SPEC / "schema" / "compiled" / name).read_text())
    return jsonschema.Draft202012Validator(
        schema_doc, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


# the record kind, the serialiser of one record, the compiled schema of its output
SINGLE = {
    "service_full.json": ("service", oruk.to_oruk_service, "service.json"),
    "organization_full.json": ("organization", oruk.to_oruk_organization, "organization.json"),
    "service_at_location_full.json": (
        "service_at_location",
        oruk.to_oruk_service_at_location,
        "service_at_location.json",
    ),
    "taxonomy.json": ("taxonomy", oruk.to_oruk_taxonomy, None),
    "taxonomy_term.json": ("taxonomy_term", oruk.to_oruk_taxonomy_term, None),
}
LISTS = {
    "service_list.json": ("service", oruk.SERVICE_LIST, "service_list.json"),
    "organization_list.json": ("organization", oruk.ORG_ONE_TO_ONE, "organization_list.json"),
    "service_at_location_list.json": (
        "service_at_location",
        oruk.SAL_LIST,
        "service_at_location_list.json",
    ),
    "taxonomy_list.json": ("taxonomy", oruk.TAXONOMY_LIST, None),
    "taxonomy_term_list.json": ("taxonomy_term", oruk.TERM_SHAPE, None),
}


# --- round trip ------------------------------------------------------------------------------


def test_every_example_is_covered() -> None:
    _need_spec()
    assert {p.name for p in EXAMPLES.glob("*.json")} == set(SINGLE) | set(LISTS)


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_single_examples_round_trip_without_loss(store: Store, name: str) -> None:
    _need_spec()
    doc = _load(name)
    kind, serialise, compiled = SINGLE[name]
    # the spec's examples put their location at latitude 100: placeholders, let through on purpose
    assert any("latitude" in f.path for f in oruk.validate_oruk(doc)) == ("location" in str(doc))
    report = oruk.import_oruk(store, doc, check_coordinates=False, source="spec-example")
    assert report.records == 1 and report.created[kind] == 1
    with store.session() as session:
        out = serialise(session, doc["id"])
    assert _norm(out) == _norm(doc)
    if compiled:
        compiled_validator(compiled).validate(out)
    else:
        assert oruk.validate_oruk(out, kind=kind) == []


@pytest.mark.parametrize("name", sorted(LISTS))
def test_list_examples_round_trip_without_loss(sqlite_store: Store, name: str) -> None:
    _need_spec()
    doc = _load(name)
    kind, shape, compiled = LISTS[name]
    oruk.import_oruk(sqlite_store, doc, check_coordinates=False)
    ids = [c["id"] for c in doc["contents"]]
    with sqlite_store.session() as session:
        out = oruk.to_oruk_many(session, kind, ids, shape)
    assert _norm(out) == _norm(doc["contents"])
    for item in out:
        if compiled:
            compiled_validator(compiled).validate(item)


def test_reimport_is_idempotent_and_audited(store: Store) -> None:
    _need_spec()
    doc = _load("service_full.json")
    first = oruk.import_oruk(store, doc, check_coordinates=False, actor="tester")
    before = _dump(store)
    second = oruk.import_oruk(store, doc, check_coordinates=False, actor="tester")
    assert sum(second.created.values()) == 0 and sum(second.updated.values()) == 0
    assert sum(second.unchanged.values()) == sum(first.created.values())
    assert _dump(store) == before  # not even the audit trail grows
    with store.session() as s:
        entries = s.scalars(select(schema.AuditEntry)).all()
    assert len(entries) == sum(first.created.values())
    assert {e.action for e in entries} == {"create"} and {e.actor for e in entries} == {"tester"}


def test_update_and_retire_nested_records(store: Store) -> None:
    _need_spec()
    doc = _load("service_full.json")
    oruk.import_oruk(store, doc, check_coordinates=False)
    changed = copy.deepcopy(doc)
    changed["name"] = "Community Counselling (evenings)"
    changed["schedules"] = []  # the schedule is no longer listed: retired, not deleted
    report = oruk.import_oruk(store, changed, check_coordinates=False, actor="editor")
    assert report.updated["service"] == 1 and report.retired["schedule"] == 1
    with store.session() as s:
        sched = s.get(schema.Schedule, SCHEDULE_ID)
        assert sched is not None and sched.retired_at is not None
        upd = s.scalars(
            select(schema.AuditEntry).where(
                schema.AuditEntry.action == "update", schema.AuditEntry.entity_id == SERVICE_ID
            )
        ).one()
        assert upd.actor == "editor"
        assert upd.changes["name"] == ["Community Counselling", "Community Counselling (evenings)"]
        out = oruk.to_oruk_service(s, SERVICE_ID)
    assert "schedules" not in out  # retired records are not published; empty lists omitted
    assert out["name"] == "Community Counselling (evenings)"


# --- bad input -------------------------------------------------------------------------------

BAD_EXPECTED = {
    "$[0].minimum_age",
    "$[0].organization_id",
    "$[0].schedules[0].byday",
    "$[0].schedules[0].interval",
    "$[0].schedules[0].closes_at",
    "$[0].schedules[0].valid_to",
    "$[0].schedules[1].freq",
    "$[0].schedules[1].bymonthday",
    "$[0].service_at_locations[0].location.latitude",
    "$[1].name",
    "$[1].last_modified",
    "$[2].id",
    "$[2].status",
    "$[3].id",
    "$[3].description",
}


def test_every_fault_is_listed_with_its_json_path() -> None:
    doc = json.loads((FIXTURES / "bad_services.json").read_text())
    faults = oruk.validate_oruk(doc)
    assert {f.path for f in faults} == BAD_EXPECTED
    by_path = {f.path: f.message for f in faults}
    assert "XX" in by_path["$[0].schedules[0].byday"]
    assert "zone" in by_path["$[1].last_modified"]
    assert "duplicate" in by_path["$[2].id"]
    assert "neither in this document nor in the store" in by_path["$[0].organization_id"]


def test_bad_document_writes_nothing(store: Store) -> None:
    _need_spec()
    oruk.import_oruk(store, _load("taxonomy.json"))  # something already there
    before = _dump(store)
    doc = json.loads((FIXTURES / "bad_services.json").read_text())
    with pytest.raises(ValidationFailed) as info:
        oruk.import_oruk(store, doc, file="bad_services.json")
    assert {f.path for f in info.value.faults} == BAD_EXPECTED
    assert info.value.file == "bad_services.json"
    body = info.value.to_dict()
    assert len(body["faults"]) == len(BAD_EXPECTED)
    assert _dump(store) == before


def test_one_bad_record_among_good_ones_writes_nothing(store: Store) -> None:
    _need_spec()
    good = _load("service_full.json")
    bad = copy.deepcopy(good)
    bad["id"] = "0d4bb2c4-6c4b-4f0c-9d55-4f2f1d3c8d11"
    bad["schedules"][0]["id"] = "7f8a1c30-3f5e-4a2e-b4c4-2b3b8e1d2a90"
    bad["schedules"][0]["closes_at"] = "09:00"
    before = _dump(store)
    with pytest.raises(ValidationFailed) as info:
        oruk.import_oruk(store, [good, bad], check_coordinates=False)
    assert [f.path for f in info.value.faults] == ["$[1].schedules[0].closes_at"]
    assert _dump(store) == before


def test_organization_id_may_point_into_the_store(store: Store) -> None:
    org = {
        "id": ORG_ID,
        "name": "New Wortley Community Association",
        "description": "Charity",
        "website": "https://example.org/",
    }
    service = {"id": SERVICE_ID, "name": "Lunch", "status": "active", "organization_id": ORG_ID}
    assert [f.path for f in oruk.validate_oruk(service)] == ["$.organization_id"]
    assert [f.path for f in oruk.validate_oruk([org, service])] == []
    oruk.import_oruk(store, org)
    assert oruk.validate_oruk(service, store=store) == []
    oruk.import_oruk(store, service)
    with store.session() as s:
        assert s.get(schema.Service, SERVICE_ID).organization_id == ORG_ID  # type: ignore[union-attr]  # present: just imported
        out = oruk.to_oruk_service(s, SERVICE_ID)
    assert out["organization_id"] == ORG_ID and out["organization"]["name"].startswith("New")


@pytest.mark.parametrize(
    ("patch", "path"),
    [
        ({"schedules": [{"id": SCHEDULE_ID, "freq": "WEEKLY", "byday": "1MO"}]}, "byday"),
        ({"schedules": [{"id": SCHEDULE_ID, "byday": "MO"}]}, "freq"),
        ({"schedules": [{"id": SCHEDULE_ID, "freq": "WEEKLY", "wkst": "XX"}]}, "wkst"),
        (
            {"schedules": [{"id": SCHEDULE_ID, "opens_at": "12:00+01:00", "closes_at": "14:00"}]},
            "closes_at",
        ),
        ({"schedules": [{"id": SCHEDULE_ID, "opens_at": "25:00"}]}, "opens_at"),
        ({"schedules": [{"id": SCHEDULE_ID, "valid_from": "2025-13-01"}]}, "valid_from"),
        ({"minimum_age": 18, "maximum_age": 5}, "maximum_age"),
        ({"name": "x" * 301}, "name"),
    ],
)
def test_single_faults(patch: dict[str, Any], path: str) -> None:
    doc = {"id": SERVICE_ID, "name": "Lunch", "status": "active", **patch}
    faults = oruk.validate_oruk(doc)
    assert len(faults) == 1, faults
    assert faults[0].path.endswith(path)


def test_longitude_out_of_range_and_missing_half() -> None:
    loc = {"id": SCHEDULE_ID, "location_type": "physical", "latitude": 53.8, "longitude": 190}
    assert [f.path for f in oruk.validate_oruk(loc)] == ["$.longitude"]
    loc = {"id": SCHEDULE_ID, "location_type": "physical", "latitude": 53.8}
    assert [f.path for f in oruk.validate_oruk(loc)] == ["$.longitude"]


def test_page_wrapper_and_not_a_document() -> None:
    page = {"total_items": 1, "contents": [{"id": "nope", "name": "x", "status": "active"}]}
    assert [f.path for f in oruk.validate_oruk(page)] == ["$.contents[0].id"]  # not a uuid
    assert [f.path for f in oruk.validate_oruk("hello")] == ["$"]
    assert [f.path for f in oruk.validate_oruk([3])] == ["$[0]"]


# --- publishing rules ------------------------------------------------------------------------


def test_private_contacts_and_retired_records_are_not_published(store: Store) -> None:
    doc = {
        "id": SERVICE_ID,
        "name": "Lunch",
        "status": "active",
        "contacts": [
            {"id": "1e7efce3-639b-4880-940c-b95cd30cdb50", "name": "Ann Public"},
            {"id": "2e7efce3-639b-4880-940c-b95cd30cdb50", "name": "Bob Private", "private": True},
        ],
    }
    oruk.import_oruk(store, doc)
    with store.session() as s:
        out = oruk.to_oruk_service(s, SERVICE_ID)
    assert [c["name"] for c in out["contacts"]] == ["Ann Public"]
    assert "Bob" not in json.dumps(out)
    with store.transaction() as s:
        s.execute(
            text("UPDATE service SET retired_at = CURRENT_TIMESTAMP WHERE id = :id"),
            {"id": SERVICE_ID},
        )
    with store.session() as s, pytest.raises(NotFound):
        oruk.to_oruk_service(s, SERVICE_ID)


def test_no_nulls_and_required_empty_text_kept(store: Store) -> None:
    with store.transaction() as s:
        s.add(schema.Organization(id=ORG_ID, name="Quiet group", description=""))
        s.add(schema.Service(id=SERVICE_ID, name="Walk", organization_id=ORG_ID))
    with store.session() as s:
        org = oruk.to_oruk_organization(s, ORG_ID)
        svc = oruk.to_oruk_service(s, SERVICE_ID)
    assert org["description"] == ""  # required by the schema, so written even when empty
    assert svc == {
        "id": SERVICE_ID,
        "name": "Walk",
        "status": "active",
        "organization": {"id": ORG_ID, "name": "Quiet group", "description": ""},
    }
    compiled_validator("service.json").validate(svc) if SPEC.is_dir() else None
    assert "null" not in json.dumps(org)


def test_bundled_schemas_match_the_spec() -> None:
    _need_spec()
    bundled = json.loads(oruk.SCHEMA_FILE.read_text())
    for path in (SPEC / "schema").glob("*.json"):
        if path.name != "openapi.json":
            assert bundled[path.name] == json.loads(path.read_text()), path.name


def test_table_counts_of_a_full_service(store: Store) -> None:
    _need_spec()
    oruk.import_oruk(store, _load("service_full.json"), check_coordinates=False)
    with store.session() as s:
        counts = {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (schema.Service, schema.Location, schema.Address, schema.Attribute)
        }
        loc = s.scalars(select(schema.Location)).one()
    assert counts == {"service": 1, "location": 1, "address": 1, "attribute": 1}
    assert loc.geometry is None  # latitude 100 is nowhere on Earth: no geometry


# --- the fast validation path ------------------------------------------------------------------

_KIND_SCHEMA = {
    "service": "service.json",
    "organization": "organization.json",
    "service_at_location": "service_at_location.json",
    "taxonomy": "taxonomy.json",
    "taxonomy_term": "taxonomy_term.json",
}


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [path] + [p for k, v in value.items() for p in _leaf_paths(v, (*path, k))]
    if isinstance(value, list):
        return [path] + [p for i, v in enumerate(value) for p in _leaf_paths(v, (*path, i))]
    return [path]


def _mutants(record: dict[str, Any]) -> list[dict[str, Any]]:
    """``record`` with each field, at any depth, replaced by a wrong or odd value or removed."""
    out = []
    for path in _leaf_paths(record):
        if not path:
            continue
        for replacement in (None, 7, 2.5, True, "x", "not-a-uuid", [], {}, [3], "A@B", "__del__"):
            doc = copy.deepcopy(record)
            parent = doc
            for p in path[:-1]:
                parent = parent[p]
            if replacement == "__del__":
                if isinstance(parent, dict):
                    del parent[path[-1]]
                else:
                    continue
            else:
                parent[path[-1]] = replacement
            out.append(doc)
    return out


def test_fast_check_never_passes_what_jsonschema_faults() -> None:
    """The compiled check runs on every document; it may say "not sure" (the full validator
    then lists the faults) but must never pass a document that ``jsonschema`` faults."""
    _need_spec()
    checked = agreed_valid = 0
    for name, (kind, _serialise, _compiled) in {**SINGLE, **LISTS}.items():
        doc = _load(name)
        schema_file = _KIND_SCHEMA[kind]
        fast = oruk._fast_check(schema_file)
        full = oruk._validator(schema_file)
        records = doc.get("contents", [doc])
        for record in records:
            assert fast(record), name  # a valid example takes the fast path
            for mutant in _mutants(record):
                valid = not any(True for _ in full.iter_errors(mutant))
                passed = fast(mutant)
                assert not passed or valid, (name, mutant)
                checked += 1
                agreed_valid += passed and valid
    assert checked > 3000 and agreed_valid > 500  # the check was exercised both ways


def test_fast_check_is_used_and_faults_still_come_from_jsonschema() -> None:
    doc = json.loads((FIXTURES / "bad_services.json").read_text())
    assert not all(oruk._fast_check("service.json")(r) for r in doc)
    good = {"id": SERVICE_ID, "name": "Lunch", "status": "active"}
    assert oruk._fast_check("service.json")(good)
    assert {f.path for f in oruk.validate_oruk({**good, "status": 3})} == {"$.status"}


def test_free_flag_follows_one_rule_in_every_import(sqlite_store: Store) -> None:
    """ORUK JSON, the tabular write path and the editor agree: free when every known amount is
    0, not free when any option costs money, unknown without amounts."""
    import uuid

    from strengthmap.directory.records import upsert_rows

    def uid(*parts: object) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))

    cases: dict[str, tuple[list[float | None], bool | None]] = {
        "free": ([0.0, 0.0], True),
        "mixed": ([0.0, 5.0], False),
        "unknown": ([None], None),
    }
    docs = [
        {
            "id": uid("oruk", name),
            "name": name,
            "status": "active",
            "cost_options": [
                {"id": uid("oruk", name, i), **({} if a is None else {"amount": a})}
                for i, a in enumerate(amounts)
            ],
        }
        for name, (amounts, _) in cases.items()
    ]
    oruk.import_oruk(sqlite_store, docs)
    rows: dict[str, list[dict[str, Any]]] = {
        "service": [{"id": uid("tab", name), "name": name} for name in cases],
        "cost_option": [
            {"id": uid("tab", name, i), "service_id": uid("tab", name), "amount": a}
            for name, (amounts, _) in cases.items()
            for i, a in enumerate(amounts)
        ],
    }
    with sqlite_store.transaction() as s:
        upsert_rows(s, rows, source="test", licence="CC0-1.0")
    with sqlite_store.session() as s:
        for way in ("oruk", "tab"):
            got = {name: s.get(schema.Service, uid(way, name)).free for name in cases}  # type: ignore[union-attr]  # written above
            assert got == {name: want for name, (_, want) in cases.items()}, way
