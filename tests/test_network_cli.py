"""The ``strengthmap network`` commands through ``main``: the Contract's commands, flags and JSON
keys, bad input (exit 2, nothing written), and the synthetic Leeds network on the real data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from network_world import add_places, write_pair
from strengthmap.cli import main
from strengthmap.network import Viewer, load_network, network_brokers, network_measures
from strengthmap.storage import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "network"
EXAMPLE = ROOT / "docs" / "examples" / "new-wortley-community-centre.csv"


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(args) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_contract_commands_flags_and_keys(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_places(store)
    url = store.url.render_as_string(hide_password=False)
    db = ["--database", url]
    report = _json(
        capsys,
        [*db, "network", "import", str(write_pair(tmp_path / "in")), "--format", "csv", "--json"],
    )
    assert report["ties"] == {"created": 13, "updated": 0, "unchanged": 0}
    for flags in (
        [],
        ["--directed"],
        ["--weighted"],
        ["--directed", "--weighted"],
        ["--at", "2019-01-01"],
    ):
        body = _json(capsys, [*db, "network", "measures", "--json", *flags])
        nodes = body["nodes"]
        graph = body["graph"]
        assert isinstance(nodes, list) and isinstance(graph, dict)
        assert {
            "id",
            "kind",
            "degree",
            "betweenness",
            "constraint",
            "effective_size",
            "community",
        } <= set(nodes[0])
        assert {"nodes", "edges", "components", "communities"} <= set(graph)
        assert graph["directed"] == ("--directed" in flags) and graph["weighted"] == (
            "--weighted" in flags
        )
    assert graph["as_at"] == "2019-01-01" and graph["ties"] < 13
    brokers = _json(capsys, [*db, "network", "brokers", "--top", "2", "--json"])
    assert isinstance(brokers["brokers"], list) and len(brokers["brokers"]) == 2
    assert brokers["brokers"][0]["reason"]
    suggest = _json(capsys, [*db, "network", "suggest", "--top", "3", "--json"])
    assert isinstance(suggest["suggestions"], list) and suggest["suggestions"]
    assert all(s["reason"] for s in suggest["suggestions"])
    for fmt in ("graphml", "gexf", "kumu", "csv"):
        out = tmp_path / f"out-{fmt}"
        assert main([*db, "network", "export", "--format", fmt, str(out)]) == 0
        assert out.exists()
    assert nx.read_graphml(tmp_path / "out-graphml").number_of_nodes() == 11
    # the tables print too
    for args in (["measures"], ["brokers"], ["suggest"], ["import", str(tmp_path / "in")]):
        assert main([*db, "network", *args]) == 0


def test_bad_input_exits_2_and_writes_nothing(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_places(store)
    url = store.url.render_as_string(hide_password=False)
    bad = write_pair(
        tmp_path / "bad",
        edges="source,target,type,weight,start,end,consent\namy,amy,meets_with,1,,,\n",
    )
    capsys.readouterr()
    assert main(["--database", url, "network", "import", str(bad)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "edges.csv: row 2: field target" in err and "Traceback" not in err
    assert len(load_network(store, Viewer.operator())) == 0
    assert main(["--database", url, "network", "measures", "--at", "someday"]) == 2
    assert main(["--database", url, "network", "brokers", "--as-viewer", "everyone"]) == 2
    assert (
        main(["--database", url, "network", "export", "--format", "pdf", str(tmp_path / "x")]) == 2
    )
    kumu = tmp_path / "k.json"
    kumu.write_text('{"nodes": []}')
    assert main(["--database", url, "network", "import", str(kumu)]) == 2
    assert "not a Kumu blueprint" in " ".join(capsys.readouterr().err.split())


@pytest.fixture(scope="module")
def leeds_network(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The Leeds data, the New Wortley example and the synthetic network, as the recipe says."""
    from strengthmap.directory.imports import import_file
    from strengthmap.sources import load_data_dir

    path = tmp_path_factory.mktemp("leeds_network") / "leeds.sqlite"
    store = open_store(f"sqlite:///{path}")
    load_data_dir(store, data_dir, place="Leeds")
    import_file(store, EXAMPLE, None, actor="cli")
    from strengthmap.network import import_network

    import_network(store, FIXTURE)
    return store


@pytest.mark.realdata
def test_the_synthetic_leeds_network_ties_to_the_real_directory(leeds_network: Store) -> None:
    net = load_network(leeds_network, Viewer.operator())
    assert len(net) == 296 and len(net.ties) == 809
    kinds = {
        k: sum(1 for n in net if n.kind == k)
        for k in ("person", "organization", "service", "location")
    }
    assert kinds == {"person": 232, "organization": 55, "service": 8, "location": 1}
    # every directory record resolved to its real name and an LSOA of Leeds
    records = [n for n in net if n.kind != "person"]
    assert all(n.name and n.area_code and n.area_code.startswith("E01") for n in records)
    assert (
        net.node("14bd3f1b-2e6e-5168-b21e-65b80f3d5a91").name == "New Wortley Community Association"
    )
    m = network_measures(leeds_network, Viewer.operator())
    assert m.graph.imd_release == 2025 and m.graph.bridging_ties > 0
    assert m.node("p-teresa").imd_decile == 1


@pytest.mark.realdata
def test_recipe_figures_connectors_in_new_wortley(leeds_network: Store) -> None:
    """The figures of docs/recipes/connectors-new-wortley.md, computed again."""
    public = Viewer.anonymous()
    brokers = network_brokers(leeds_network, Viewer.operator(), top=5)
    assert [b.id for b in brokers.brokers][:1] == ["p-teresa"]
    teresa = brokers.brokers[0]
    assert (teresa.degree, round(teresa.betweenness, 3), teresa.communities_reached) == (
        25,
        0.28,
        5,
    )
    assert teresa.articulation_point
    m = network_measures(leeds_network, public)
    assert m.graph.nodes < 296  # the public see fewer people, never the private ones
    recipe = (ROOT / "docs" / "recipes" / "connectors-new-wortley.md").read_text()
    assert f"{m.graph.nodes} nodes" in recipe
    assert "Teresa Hall" in recipe and "0.280" in recipe


def test_fixture_files_say_the_people_are_fictional() -> None:
    readme = (FIXTURE / "README.md").read_text()
    assert "fictional" in readme.lower()
    rows = (FIXTURE / "nodes.csv").read_text().splitlines()[1:]
    people = [r for r in rows if ",person," in r]
    assert len(people) > 200 and all("(fictional)" in r for r in people)
