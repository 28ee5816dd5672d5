"""Imports (CSV pair and Kumu JSON), every fault of the Bad input list named by file, row and
field with nothing written, re-imports, the audit trail, and exports that load in networkx and
read back through the import."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import networkx as nx
import pytest
import sqlalchemy as sa

from network_world import ANN, EDGES, LOCATION, NODES, ORG, SERVICE, add_places, build, write_pair
from strengthmap.errors import Forbidden, InputError, ValidationFailed
from strengthmap.network import (
    EXPORT_FORMATS,
    Viewer,
    export_network,
    import_network,
    load_network,
    network_measures,
)
from strengthmap.storage import Store, schema

ADMIN = Viewer.operator()


def _counts(store: Store) -> tuple[int, int, int, int]:
    with store.session() as s:
        return (
            s.scalar(sa.select(sa.func.count()).select_from(schema.Person)) or 0,
            s.scalar(sa.select(sa.func.count()).select_from(schema.Tie)) or 0,
            s.scalar(sa.select(sa.func.count()).select_from(schema.NetworkMember)) or 0,
            s.scalar(sa.select(sa.func.count()).select_from(schema.AuditEntry)) or 0,
        )


def test_csv_pair_imports_people_records_and_ties(store: Store, tmp_path: Path) -> None:
    build(store, tmp_path / "in")
    net = load_network(store, ADMIN)
    assert len(net) == 11 and len(net.ties) == 13
    amy = net.node("amy")
    assert (amy.kind, amy.consent, amy.area_code, amy.role) == (
        "person",
        "public",
        "E01000001",
        "community builder",
    )
    assert amy.added_by == ANN and amy.consent_recorded_on == date(2025, 1, 15)
    eve = net.node("eve")
    assert eve.consent == "private"  # blank consent: a person is private by default
    hall = net.node(LOCATION)
    assert (hall.kind, hall.name, hall.consent) == ("location", "The Hall", "public")
    # directory records are placed by their own point: the location and its service in C
    assert hall.area_code == "E01000003" and net.node(SERVICE).area_code == "E01000003"
    assert net.node(ORG).area_code == "E01000003"  # the organisation's own location
    custom = next(t for t in net.ties if t.type == "custom")
    assert (custom.label, custom.type_code, custom.type_name) == (
        "meets at",
        "custom:meets at",
        "meets at",
    )
    runs = next(t for t in net.ties if t.type == "runs")
    assert (runs.weight, runs.start, runs.end, runs.mutual) == (4.0, date(2018, 1, 1), None, False)
    assert next(t for t in net.ties if t.type == "partners_with").mutual


def test_importing_the_same_files_again_changes_nothing(store: Store, tmp_path: Path) -> None:
    build(store, tmp_path / "in")
    before = _counts(store)
    report = import_network(
        store, tmp_path / "in", viewer=Viewer.editor(ANN), today=date(2025, 1, 15)
    )
    assert report.to_dict()["people"] == {"created": 0, "updated": 0, "unchanged": 7}
    assert report.ties.unchanged == 13 and report.ties.created == 0
    assert _counts(store) == before
    # a change is an update with its audit entry
    write_pair(tmp_path / "in", NODES.replace("Amy Public,public", "Amy Public,internal"), EDGES)
    report = import_network(
        store, tmp_path / "in", viewer=Viewer.editor(ANN), today=date(2025, 2, 1)
    )
    assert report.people.updated == 1
    with store.session() as s:
        entry = s.scalars(
            sa.select(schema.AuditEntry)
            .where(schema.AuditEntry.entity_id == "amy")
            .order_by(schema.AuditEntry.id)
        ).all()[-1]
    assert entry.action == "update"
    assert entry.changes == {
        "consent": ["public", "internal"],
        "consent_recorded_on": ["2025-01-15", "2025-02-01"],  # the day the new consent came
    }


def test_the_two_files_or_either_file_name_the_pair(store: Store, tmp_path: Path) -> None:
    add_places(store)
    folder = write_pair(tmp_path / "pair")
    report = import_network(store, [folder / "edges.csv", folder / "nodes.csv"])
    assert report.people.created == 7 and report.ties.created == 13


BAD_NODES = f"""id,kind,name,consent,area_code
amy,person,Amy,public,E01000001
amy,person,Amy again,public,
bob,robot,Bob,public,
cal,person,Cal,secret,
dee,person,Dee,public,E0100000X
00000000-0000-4000-8000-00000000dead,organization,,,
{SERVICE},organization,,,
eli,person,,public,
"""
BAD_EDGES = f"""source,target,type,weight,start,end,consent
amy,ghost,meets_with,1,,,public
amy,amy,meets_with,1,,,public
amy,{ORG},volunteers_at,-2,,,public
amy,{ORG},funds,zero,,,public
amy,{SERVICE},refers_to,1,2024-05-01,2024-01-01,public
amy,{SERVICE},likes,1,,,public
amy,{LOCATION},runs,1,2024-13-01,,public
amy,{LOCATION},meets_with,1,,,open
"""


def test_every_fault_is_listed_with_file_row_and_field_and_nothing_is_written(
    store: Store, tmp_path: Path
) -> None:
    add_places(store)
    folder = write_pair(tmp_path / "bad", BAD_NODES, BAD_EDGES)
    before = _counts(store)
    with pytest.raises(ValidationFailed) as caught:
        import_network(store, folder)
    faults = {(f.file, f.row, f.field) for f in caught.value.faults}
    expected = {
        ("nodes.csv", 3, "id"),  # duplicate id
        ("nodes.csv", 4, "kind"),  # unknown kind
        ("nodes.csv", 5, "consent"),  # unknown consent level
        ("nodes.csv", 6, "area_code"),  # not an LSOA code
        ("nodes.csv", 7, "id"),  # no such directory record
        ("nodes.csv", 8, "kind"),  # a service given as an organisation
        ("nodes.csv", 9, "name"),  # a person needs a name
        ("edges.csv", 2, "target"),  # a tie to a node that does not exist
        ("edges.csv", 3, "target"),  # a self-tie
        ("edges.csv", 4, "weight"),  # not a positive number
        ("edges.csv", 5, "weight"),
        ("edges.csv", 6, "end"),  # end before start
        ("edges.csv", 7, "type"),  # unknown type
        ("edges.csv", 8, "start"),  # not a date
        ("edges.csv", 9, "consent"),
    }
    assert expected <= faults, expected - faults
    assert _counts(store) == before
    body = caught.value.to_dict()
    assert body["faults"][0]["file"] and body["faults"][0]["row"] and body["faults"][0]["field"]
    assert "edges.csv: row 2: field target" in str(caught.value)


def test_missing_columns_and_files(store: Store, tmp_path: Path) -> None:
    folder = write_pair(
        tmp_path / "cols", "id,kind,name,area_code\nx,person,X,\n", "source,target\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        import_network(store, folder)
    missing = {(f.file, f.row, f.field) for f in caught.value.faults}
    assert ("nodes.csv", 1, "consent") in missing
    assert {("edges.csv", 1, c) for c in ("type", "weight", "start", "end", "consent")} <= missing
    with pytest.raises(InputError, match="no such file"):
        import_network(store, tmp_path / "nowhere")
    with pytest.raises(InputError):
        import_network(store, tmp_path / "cols", format="xml")


def test_only_editors_import(store: Store, tmp_path: Path) -> None:
    with pytest.raises(Forbidden):
        import_network(
            store, write_pair(tmp_path / "x"), viewer=Viewer.signed_in("sam@example.org")
        )


def _kumu(elements: list[dict[str, object]], connections: list[dict[str, object]]) -> str:
    return json.dumps({"elements": elements, "connections": connections})


def test_kumu_blueprint_by_labels_and_kumu_exports_with_attributes(
    store: Store, tmp_path: Path
) -> None:
    add_places(store)
    blueprint = tmp_path / "map.json"
    blueprint.write_text(
        _kumu(
            [
                {"label": "Amy", "type": "Person", "consent": "public", "area code": "E01000001"},
                {"label": "Ben", "type": "Person", "consent": "internal"},
                {"id": ORG, "label": "Hall Trust", "type": "Organisation"},
            ],
            [
                {
                    "from": "Amy",
                    "to": "Ben",
                    "type": "meets_with",
                    "direction": "mutual",
                    "strength": 3,
                },
                {"from": "Ben", "to": ORG, "type": "custom:mentors", "start": "2024-01-01"},
            ],
        )
    )
    report = import_network(store, blueprint)
    assert report.format == "kumu" and report.people.created == 2 and report.ties.created == 2
    net = load_network(store, ADMIN)
    amy = next(n for n in net if n.name == "Amy")
    assert amy.area_code == "E01000001" and amy.consent == "public"
    tie = next(t for t in net.ties if t.type == "meets_with")
    assert tie.weight == 3.0 and tie.mutual
    # Kumu's own export keeps fields under "attributes"
    exported = tmp_path / "export.json"
    exported.write_text(
        _kumu(
            [
                {
                    "_id": "elem-1",
                    "attributes": {"label": "Cat", "element type": "Person", "consent": "public"},
                }
            ],
            [
                {
                    "_id": "conn-1",
                    "from": "elem-1",
                    "to": ORG,
                    "attributes": {"connection type": "volunteers_at"},
                }
            ],
        )
    )
    report = import_network(store, exported, format="kumu")
    assert report.people.created == 1 and report.ties.created == 1


@pytest.mark.parametrize(
    "text",
    ['{"nodes": [], "links": []}', "[1, 2]", '{"elements": {}}', "not json"],
)
def test_a_kumu_file_of_another_shape_is_refused(store: Store, tmp_path: Path, text: str) -> None:
    path = tmp_path / "other.json"
    path.write_text(text)
    with pytest.raises(ValidationFailed) as caught:
        import_network(store, path)
    assert caught.value.faults[0].file == "other.json"
    assert _counts(store)[0] == 0


def test_kumu_faults_name_the_element_and_field(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        _kumu(
            [
                {"label": "Amy", "type": "Robot"},
                {"label": "Ben", "type": "Person", "consent": "maybe"},
            ],
            [
                {"from": "Amy", "to": "Nobody", "type": "meets_with"},
                {"from": "Ben", "to": "Ben", "type": "meets_with", "direction": "sideways"},
            ],
        )
    )
    with pytest.raises(ValidationFailed) as caught:
        import_network(store, path)
    where = {(f.row, f.field) for f in caught.value.faults}
    assert {(1, "type"), (2, "consent"), (1, "to"), (2, "direction"), (2, "to")} <= where
    assert any(f.path == "bad.json: $.elements[0].type" for f in caught.value.faults)


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_exports_load_in_networkx_and_read_back(store: Store, tmp_path: Path, fmt: str) -> None:
    build(store, tmp_path / "in")
    out = tmp_path / f"net.{fmt}"
    report = export_network(store, fmt, out, ADMIN)
    assert report.nodes == 11 and report.ties == 13
    measures = network_measures(store, ADMIN)
    if fmt == "graphml":
        g = nx.read_graphml(out)
    elif fmt == "gexf":
        g = nx.read_gexf(out)
    if fmt in ("graphml", "gexf"):
        assert g.number_of_nodes() == 11 and g.number_of_edges() == 13
        assert g.nodes["amy"]["kind"] == "person"
        assert float(g.nodes["amy"]["betweenness"]) == pytest.approx(
            measures.node("amy").betweenness
        )
        assert int(g.nodes["amy"]["community"]) == measures.node("amy").community
        assert {d["tie_type"] for _, _, d in g.edges(data=True)} >= {"runs", "custom", "meets_with"}
        return
    # kumu and csv read back through the import into an empty store: the same network
    from strengthmap.storage import open_store

    other = open_store(f"sqlite:///{tmp_path / 'again.sqlite'}")
    try:
        add_places(other)
        import_network(other, out, format="kumu" if fmt == "kumu" else "csv")
        a, b = load_network(store, ADMIN), load_network(other, ADMIN)
        assert [(n.id, n.kind, n.name, n.consent, n.area_code) for n in a] == [
            (n.id, n.kind, n.name, n.consent, n.area_code) for n in b
        ]
        key = lambda t: (t.source, t.target, t.type_code, t.weight, t.start, t.end, t.consent)  # noqa: E731
        assert sorted(map(key, a.ties), key=str) == sorted(map(key, b.ties), key=str)
    finally:
        other.close()
