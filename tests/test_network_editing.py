"""Editing the network by hand: people, ties and members; the audit trail; retire, never delete;
who may edit what."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from network_world import ANN, LOCATION, ORG, add_places, build
from strengthmap.errors import Forbidden, InputError, NotFound
from strengthmap.network import (
    Viewer,
    create_person,
    create_tie,
    load_network,
    network_history,
    restore_person,
    restore_tie,
    retire_person,
    retire_tie,
    set_member,
    update_person,
    update_tie,
)
from strengthmap.storage import Store, schema

EDITOR = Viewer.editor(ANN)


def test_people_and_ties_are_created_updated_retired_and_restored_with_audit(store: Store) -> None:
    add_places(store)
    amy = create_person(
        store,
        {"id": "amy", "display_name": "Amy", "consent": "public", "home_area_code": "E01000001"},
        viewer=EDITOR,
    )
    ben = create_person(store, {"display_name": "Ben"}, viewer=EDITOR)
    assert len(ben) == 36  # a new UUID; consent private by default
    tie = create_tie(
        store,
        {"source": amy, "target": ORG, "type": "volunteers_at", "start": "2024-01-01"},
        viewer=EDITOR,
    )
    assert update_tie(store, tie, {"weight": "2.5", "end": "2024-12-31"}, viewer=EDITOR) == {
        "weight": [1.0, 2.5],
        "ended": [None, "2024-12-31"],
    }
    assert update_tie(store, tie, {"weight": 2.5}, viewer=EDITOR) == {}  # nothing changed
    retire_tie(store, tie, viewer=EDITOR, reason="entered twice")
    assert not load_network(store, Viewer.operator()).ties
    restore_tie(store, tie, viewer=EDITOR)
    assert len(load_network(store, Viewer.operator()).ties) == 1
    retire_person(store, amy, viewer=EDITOR)
    net = load_network(store, Viewer.operator())
    assert "amy" not in net and not net.ties  # her ties go with her
    restore_person(store, amy, viewer=EDITOR)
    assert [e["action"] for e in network_history(store, tie, viewer=EDITOR)] == [
        "create",
        "update",
        "retire",
        "restore",
    ]
    history = network_history(store, amy, viewer=EDITOR)
    assert [e["action"] for e in history] == ["create", "retire", "restore"]
    assert history[0]["actor"] == ANN
    with store.session() as s:  # nothing was ever deleted
        assert s.scalar(sa.select(sa.func.count()).select_from(schema.Tie)) == 1


def test_consent_changes_record_their_day(store: Store) -> None:
    pid = create_person(store, {"display_name": "Cy", "consent": "private"}, viewer=EDITOR)
    diff = update_person(store, pid, {"consent": "public"}, viewer=EDITOR)
    assert diff["consent"] == ["private", "public"]
    assert set(diff) <= {"consent", "consent_recorded_on"}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"source": "amy", "target": "amy", "type": "meets_with"}, "target"),
        ({"source": "amy", "target": "nobody", "type": "meets_with"}, "target"),
        ({"source": "amy", "target": ORG, "type": "hugs"}, "type"),
        ({"source": "amy", "target": ORG, "type": "runs", "weight": 0}, "weight"),
        (
            {
                "source": "amy",
                "target": ORG,
                "type": "runs",
                "start": "2024-02-01",
                "end": "2024-01-01",
            },
            "end",
        ),
        ({"source": "amy", "target": ORG, "type": "runs", "consent": "everyone"}, "consent"),
        ({"source": "amy", "target": ORG, "type": "runs", "colour": "red"}, "colour"),
    ],
)
def test_bad_ties_name_their_field(store: Store, values: dict[str, object], field: str) -> None:
    add_places(store)
    create_person(store, {"id": "amy", "display_name": "Amy"}, viewer=EDITOR)
    with pytest.raises(InputError) as caught:
        create_tie(store, values, viewer=EDITOR)
    assert caught.value.field == field


def test_bad_people_and_who_may_edit(store: Store) -> None:
    with pytest.raises(InputError) as caught:
        create_person(store, {"display_name": ""}, viewer=EDITOR)
    assert caught.value.field == "display_name"
    with pytest.raises(InputError) as caught:
        create_person(store, {"display_name": "X", "home_area_code": "LS12"}, viewer=EDITOR)
    assert caught.value.field == "home_area_code"
    with pytest.raises(InputError) as caught:
        create_person(store, {"display_name": "X", "email_address": "x"}, viewer=EDITOR)
    assert caught.value.field == "email_address"
    with pytest.raises(Forbidden):
        create_person(store, {"display_name": "X"}, viewer=Viewer.signed_in("sam@example.org"))
    with pytest.raises(Forbidden):
        create_person(store, {"display_name": "X"}, viewer=Viewer.anonymous())


def test_a_private_persons_ties_are_hidden_from_other_editors(store: Store, tmp_path: Path) -> None:
    build(store, tmp_path / "in")
    dan_tie = next(t for t in load_network(store, EDITOR).ties if t.source == "dan")
    bob = Viewer.editor("bob@example.org")
    with pytest.raises(NotFound):
        update_tie(store, dan_tie.id, {"weight": 2}, viewer=bob)
    with pytest.raises(NotFound):
        network_history(store, "dan", viewer=bob)
    with pytest.raises(NotFound):
        retire_person(store, "eve", viewer=bob)
    assert update_tie(store, dan_tie.id, {"weight": 2}, viewer=Viewer.admin("root@example.org"))


def test_directory_records_get_their_home_area_and_consent(store: Store, tmp_path: Path) -> None:
    build(store, tmp_path / "in")
    assert set_member(store, ORG, {"area_code": "E01000002"}, viewer=EDITOR) == "updated"
    assert load_network(store, Viewer.operator()).node(ORG).area_code == "E01000002"
    assert set_member(store, LOCATION, {"consent": "internal"}, viewer=EDITOR) == "updated"
    assert LOCATION not in load_network(store, Viewer.anonymous())
    with pytest.raises(NotFound):
        set_member(store, "no-such-record", {"consent": "public"}, viewer=EDITOR)
