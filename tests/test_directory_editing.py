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


def test_parts_of_a_service_edited_in_one_transaction(store: Store) -> None:
    from strengthmap.directory.editing import edit_records

    sid = create_record(store, "service", {"name": "Tea dance"}, actor="teresa")
    lid, aid, _sal = edit_records(
        store,
        [
            ("create", "location", {"name": "Hall", "latitude": 53.79, "longitude": -1.575}),
            ("create", "address", {"location_id": "$0", "address_1": "1 Road", "city": "Leeds",
                                   "state_province": "West Yorkshire", "postal_code": "ls12 1be"}),
            ("create", "service_at_location", {"service_id": sid, "location_id": "$0"}),
        ],
        actor="teresa",
    )  # fmt: skip
    with store.session() as s:
        address = s.get(schema.Address, aid)
        assert address is not None and address.postal_code == "LS12 1BE"
        assert address.location_id == lid
    # all or nothing: the bad address leaves no second location behind
    with pytest.raises(InputError) as err:
        edit_records(
            store,
            [
                ("create", "location", {"name": "Second hall"}),
                ("create", "address", {"location_id": "$0", "address_1": "", "city": "Leeds",
                                       "state_province": "W Yorks", "postal_code": "LS1 1AA"}),
            ],
            actor="teresa",
        )  # fmt: skip
    assert err.value.field == "address_1"
    with store.session() as s:
        assert s.query(schema.Location).filter_by(name="Second hall").count() == 0
    # a schedule's faults name the field
    for bad, field in (({"freq": "WEEKLY", "byday": "XX"}, "byday"),
                       ({"freq": "WEEKLY", "byday": "WE", "opens_at": "25:00"}, "opens_at"),
                       ({"rrule": "FREQ=SOMETIMES"}, "rrule"), ({}, "byday")):  # fmt: skip
        with pytest.raises(InputError) as err:
            create_record(store, "schedule", {"service_id": sid, **bad}, actor="t")
        assert err.value.field == field, bad
    with pytest.raises(InputError) as err:
        create_record(store, "schedule", {"freq": "WEEKLY", "byday": "WE"}, actor="t")
    assert err.value.field == "service_id"
    create_record(
        store, "schedule", {"service_id": sid, "rrule": "FREQ=WEEKLY;BYDAY=TH"}, actor="t"
    )
    # the free flag follows the cost options
    free_id = create_record(store, "cost_option", {"service_id": sid, "amount": 0}, actor="t")

    def free() -> bool | None:
        with store.session() as s:
            row = s.get(schema.Service, sid)
            assert row is not None
            return row.free

    assert free() is True
    update_record(store, "cost_option", free_id, {"amount": 2.5}, actor="t")
    assert free() is False
    retire_record(store, "cost_option", free_id, actor="t")
    assert free() is None
    with pytest.raises(InputError) as err:
        create_record(store, "cost_option", {"service_id": sid, "amount": -1}, actor="t")
    assert err.value.field == "amount"
    # private contacts: the flag takes form text and stays out of the feed
    cid = create_record(
        store, "contact", {"service_id": sid, "name": "Pat", "private": "true"}, actor="t"
    )
    from strengthmap.directory.oruk import to_oruk_service

    with store.session() as s:
        contact = s.get(schema.Contact, cid)
        assert contact is not None and contact.private is True
        assert all(c.get("id") != cid for c in to_oruk_service(s, sid).get("contacts", []))
    assert [e["action"] for e in history(store, free_id)] == ["create", "update", "retire"]


def test_phone_numbers_are_edited_checked_and_retired(store: Store) -> None:
    """A contact's phone: created with the contact in one transaction, checked, updated,
    retired (never deleted), each step audited; a bad number writes nothing."""
    from strengthmap.directory.editing import edit_records

    sid = create_record(store, "service", {"name": "Money advice"}, actor="t")
    with pytest.raises(InputError) as bad:
        edit_records(
            store,
            [
                ("create", "contact", {"service_id": sid, "name": "Ann"}),
                ("create", "phone", {"contact_id": "$0", "number": "ring the bell"}),
            ],
            actor="t",
        )
    assert bad.value.field == "number"
    with store.session() as s:
        assert s.query(schema.Contact).count() == 0  # the contact was not written either
    cid, pid = edit_records(
        store,
        [
            ("create", "contact", {"service_id": sid, "name": "Ann"}),
            ("create", "phone", {"contact_id": "$0", "number": "  0113   378 5005 "}),
        ],
        actor="t",
    )
    with pytest.raises(InputError) as orphan:
        edit_records(store, [("create", "phone", {"number": "0113 378 5005"})], actor="t")
    assert orphan.value.field == "contact_id"
    edit_records(store, [("update", "phone", pid, {"number": "+44 (0)113 378 5006"})], actor="t")
    edit_records(store, [("retire", "phone", pid)], actor="t")
    with store.session() as s:
        phone = s.get(schema.Phone, pid)
        assert phone is not None and phone.contact_id == cid
        assert phone.number == "+44 (0)113 378 5006" and phone.retired_at is not None
    assert [h["action"] for h in history(store, pid)] == ["create", "update", "retire"]
    with pytest.raises(InputError):
        edit_records(store, [("delete", "phone", pid)], actor="t")
