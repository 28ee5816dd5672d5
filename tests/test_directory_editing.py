"""Editing: create, update, retire, restore with an audit trail; never a hard delete."""

from __future__ import annotations

import pytest

from strengthmap.directory.editing import (
    create_record,
    history,
    restore_record,
    retire_record,
    update_record,
)
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.errors import Conflict, InputError, NotFound
from strengthmap.storage import Store, schema


def test_edit_cycle_with_audit(store: Store) -> None:
    oid = create_record(store, "organization", {"name": "New Wortley CA"}, actor="teresa")
    sid = create_record(
        store,
        "service",
        {"name": "Lunch", "organization_id": oid, "abcd_kind": "association"},
        actor="teresa",
    )
    lid = create_record(
        store,
        "location",
        {"name": "Centre", "latitude": 53.79, "longitude": -1.575},
        actor="teresa",
    )
    assert update_record(
        store, "service", sid, {"name": "Community lunch", "minimum_age": "0"}, actor="sam"
    ) == {
        "name": ["Lunch", "Community lunch"],
        "minimum_age": [None, 0],
    }
    assert update_record(store, "service", sid, {"name": "Community lunch"}, actor="sam") == {}
    update_record(store, "location", lid, {"latitude": 53.80}, actor="sam")
    with store.session() as s:
        loc = s.get(schema.Location, lid)
        assert (
            loc is not None and loc.geometry is not None and loc.geometry.y == pytest.approx(53.80)
        )
    assert search_services(store, ServiceQuery(text="lunch")).total == 1
    retire_record(store, "service", sid, actor="sam", reason="moved")
    assert search_services(store, ServiceQuery(text="lunch")).total == 0
    with store.session() as s:
        assert s.get(schema.Service, sid) is not None  # retired, not deleted
    restore_record(store, "service", sid, actor="teresa")
    assert search_services(store, ServiceQuery(text="lunch")).total == 1
    trail = history(store, sid)
    assert [(e["actor"], e["action"]) for e in trail] == [
        ("teresa", "create"), ("sam", "update"), ("sam", "retire"), ("teresa", "restore"),
    ]  # fmt: skip
    assert trail[2]["changes"]["reason"] == [None, "moved"]


def test_bad_edits(store: Store) -> None:
    sid = create_record(
        store, "service", {"id": "7a2c39b4-47a5-4b8a-9c4e-0d0b2f8e0001", "name": "X"}, actor="a"
    )
    with pytest.raises(Conflict):
        create_record(store, "service", {"id": sid, "name": "Y"}, actor="a")
    for bad, field in [
        ({"abcd_kind": "club"}, "abcd_kind"),
        ({"status": "open"}, "status"),
        ({"minimum_age": "ten"}, "minimum_age"),
        ({"retired_at": None}, "retired_at"),
        ({"nonsense": 1}, "nonsense"),
        ({"name": ""}, "name"),
    ]:
        with pytest.raises(InputError) as e:
            update_record(store, "service", sid, bad, actor="a")
        assert e.value.field == field
    with pytest.raises(InputError):
        create_record(store, "location", {"latitude": 200, "longitude": 0}, actor="a")
    with pytest.raises(NotFound):
        retire_record(store, "service", "no-such-id", actor="a")
    assert [e["action"] for e in history(store, sid)] == ["create"]
