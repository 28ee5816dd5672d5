"""Editing: create, update, retire, restore with an audit trail; never a hard delete."""

from __future__ import annotations

import pytest

from strengthmap.directory.editing import (
    create_record,
    history,
    list_organizations,
    list_services,
    part_ops,
    read_part,
    read_record,
    restore_record,
    retire_part,
    retire_record,
    save_part,
    service_name,
    service_parts,
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


# --- the editor's forms: pick lists, a record's fields, the parts of a service ----------------


def _postcode(store: Store) -> None:
    with store.transaction() as s:
        s.add(schema.Postcode(postcode="LS12 1BE", pcd7="LS121BE", lon=-1.5754, lat=53.7902))


def test_pick_lists_and_a_record_for_its_form(store: Store) -> None:
    oid = create_record(store, "organization", {"name": "Zeta Trust"}, actor="t")
    create_record(store, "organization", {"name": "Alpha CIC"}, actor="t")
    gone = create_record(store, "organization", {"name": "Gone"}, actor="t")
    retire_record(store, "organization", gone, actor="t")
    sid = create_record(store, "service", {"name": "Lunch", "organization_id": oid}, actor="t")
    assert [o.name for o in list_organizations(store)] == ["Alpha CIC", "Zeta Trust"]
    assert [(s.id, s.name, s.status) for s in list_services(store)] == [(sid, "Lunch", "active")]
    assert read_record(store, "service", sid, ["name", "organization_id"]) == {
        "name": "Lunch",
        "organization_id": oid,
    }
    assert read_record(store, "organization", gone, ["name"]) == {"name": "Gone"}  # retired too
    with pytest.raises(NotFound, match="no organisation with id nope"):
        read_record(store, "organization", "nope", ["name"])
    assert service_name(store, sid) == "Lunch"


def test_every_part_of_a_service_round_trips_through_its_form_values(store: Store) -> None:
    """What a form sends becomes records (all or nothing), reads back as the same form values,
    is listed on the service's page, and retires (a place: unlinked, never retired itself)."""
    _postcode(store)
    sid = create_record(store, "service", {"name": "Lunch"}, actor="t")
    place = {"name": "Hall", "address_1": "1 Road", "city": "Leeds", "postcode": "ls12 1be",
             "access_description": "Step-free", "access_details": ""}  # fmt: skip
    with pytest.raises(InputError) as missing:
        save_part(store, "location", sid, None, {**place, "address_1": " "}, actor="t")
    assert missing.value.field == "address_1"
    with pytest.raises(InputError) as unknown:
        save_part(store, "location", sid, None, {**place, "postcode": "LS99 9ZZ"}, actor="t")
    assert unknown.value.field == "postcode"
    assert service_parts(store, sid)["location"] == []  # nothing half-written
    save_part(store, "location", sid, None, place, actor="t")
    [loc] = service_parts(store, sid)["location"]
    back = read_part(store, "location", sid, loc["id"])
    assert (back["name"], back["postcode"], back["state_province"]) == ("Hall", "LS12 1BE", "Leeds")
    assert back["access_description"] == "Step-free" and back["_address_id"]
    save_part(store, "location", sid, loc["id"], {**place, "name": "Big Hall"}, actor="t")
    assert read_part(store, "location", sid, loc["id"])["_address_id"] == back["_address_id"]
    assert service_parts(store, sid)["location"] == [{"id": loc["id"], "label": "Big Hall"}]

    weekly = {"mode": "weekly", "days": ["WE", "XX"], "opens_at": "12:00", "closes_at": "14:00"}
    save_part(store, "schedule", sid, None, weekly, actor="t")
    [sched] = service_parts(store, sid)["schedule"]
    assert sched["label"] == "Every Wednesday, 12:00 to 14:00" and sched["editable"]
    assert read_part(store, "schedule", sid, sched["id"])["days"] == ["WE"]
    monthly = {"mode": "rrule", "rrule": "RRULE:FREQ=MONTHLY;BYDAY=1MO", "opens_at": "10:00"}
    save_part(store, "schedule", sid, sched["id"], monthly, actor="t")
    again = read_part(store, "schedule", sid, sched["id"])
    assert (again["mode"], again["rrule"]) == ("rrule", "FREQ=MONTHLY;BYDAY=1MO")
    with pytest.raises(InputError) as no_day:
        save_part(store, "schedule", sid, None, {"mode": "weekly", "days": []}, actor="t")
    assert no_day.value.field == "days"

    save_part(store, "contact", sid, None, {"name": "Sam", "phone": "0113 378 5005",
                                             "private": "on"}, actor="t")  # fmt: skip
    [contact] = service_parts(store, sid)["contact"]
    assert contact["label"] == "Sam, 0113 378 5005 (private)"
    values = read_part(store, "contact", sid, contact["id"])
    assert values["private"] is True and values["phone"] == "0113 378 5005"
    save_part(store, "contact", sid, contact["id"], {"name": "Sam", "phone": " ",
                                                     "private": True}, actor="t")  # fmt: skip
    assert service_parts(store, sid)["contact"][0]["label"] == "Sam (private)"
    assert history(store, values["_phone_id"])[-1]["action"] == "retire"

    save_part(store, "cost_option", sid, None, {"cost": "free", "option": "Lunch"}, actor="t")
    assert [c["label"] for c in service_parts(store, sid)["cost_option"]] == ["Free: Lunch"]
    with store.session() as s:
        service = s.get(schema.Service, sid)
        assert service is not None and service.free is True
    with pytest.raises(InputError) as bad_amount:
        save_part(store, "cost_option", sid, None, {"cost": "amount", "amount": "x"}, actor="t")
    assert bad_amount.value.field == "amount"

    other = create_record(store, "service", {"name": "Other"}, actor="t")
    with pytest.raises(NotFound):  # a part of another service is not this one's to edit
        read_part(store, "schedule", other, sched["id"])
    with pytest.raises(NotFound):
        save_part(store, "schedule", "no-such-service", None, weekly, actor="t")

    retire_part(store, "location", sid, loc["id"], actor="t")
    assert service_parts(store, sid)["location"] == []
    with store.session() as s:
        kept = s.get(schema.Location, loc["id"])
        assert kept is not None and kept.retired_at is None  # other services may meet there
    retire_part(store, "schedule", sid, sched["id"], actor="t")
    assert service_parts(store, sid)["schedule"] == []
    assert history(store, sched["id"])[-1]["action"] == "retire"


def test_part_ops_of_a_new_place_create_it_with_its_link_and_address(sqlite_store: Store) -> None:
    _postcode(sqlite_store)
    ops = part_ops(sqlite_store, "location", "s1", None, {"name": "Hall", "address_1": "1 Road",
                   "city": "Leeds", "postcode": "LS12 1BE"}, {})  # fmt: skip
    assert [op[:2] for op in ops] == [
        ("create", "location"), ("create", "service_at_location"), ("create", "address"),
    ]  # fmt: skip
    assert ops[1][2] == {"service_id": "s1", "location_id": "$0"}
    with pytest.raises(InputError, match="not a part of a service"):
        part_ops(sqlite_store, "organization", "s1", None, {}, {})
