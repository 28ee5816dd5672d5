"""Consent: what each viewer gets of the network, crawled in every output, and the proof that no
private person can be inferred (anonymous and signed-in answers are exactly those of the same
network without any private record)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from network_world import ANN, EDGES, INTERNAL, LOCATION_2, PRIVATE, build
from strengthmap.cli import main
from strengthmap.errors import NotFound
from strengthmap.network import (
    EXPORT_FORMATS,
    Viewer,
    export_network,
    load_network,
    network_brokers,
    network_measures,
    network_suggestions,
    update_person,
)
from strengthmap.storage import Store, open_store

VIEWERS = {
    "anonymous": Viewer.anonymous(),
    "signed_in": Viewer.signed_in("sam@example.org"),
    "other_editor": Viewer.editor("bob@example.org"),
}


def _outputs(store: Store, viewer: Viewer, tmp: Path) -> dict[str, str]:
    """Every answer a viewer can get, as text: measures (plain, directed, weighted, as at a
    day), brokers, introductions and each export format."""
    out = {
        "measures": json.dumps(network_measures(store, viewer).to_dict(), sort_keys=True),
        "measures_directed_weighted": json.dumps(
            network_measures(store, viewer, directed=True, weighted=True).to_dict(), sort_keys=True
        ),
        "measures_2021": json.dumps(
            network_measures(store, viewer, at=__import__("datetime").date(2021, 6, 1)).to_dict(),
            sort_keys=True,
        ),
        "brokers": json.dumps(network_brokers(store, viewer, top=50).to_dict(), sort_keys=True),
        "suggest": json.dumps(network_suggestions(store, viewer, top=50).to_dict(), sort_keys=True),
    }
    for fmt in EXPORT_FORMATS:
        target = tmp / f"{fmt}-export"
        report = export_network(store, fmt, target, viewer)
        out[f"export_{fmt}"] = "\n".join(Path(f).read_text() for f in sorted(report.files))
    return out


@pytest.mark.parametrize("who", sorted(VIEWERS))
def test_no_private_person_or_tie_in_anything_a_non_author_gets(
    store: Store, tmp_path: Path, who: str
) -> None:
    build(store, tmp_path / "in")
    viewer = VIEWERS[who]
    texts = _outputs(store, viewer, tmp_path / "out")
    for name, text in texts.items():
        for pid, person in PRIVATE.items():
            assert person not in text, (who, name, person)
            assert f'"{pid}"' not in text and f"\n{pid}," not in text and f",{pid}," not in text, (
                who,
                name,
                pid,
            )
        if who == "anonymous":
            assert INTERNAL["cat"] not in text, (who, name)
    # the private tie between two public people is not counted either
    m = network_measures(store, viewer)
    visible = load_network(store, viewer)
    # a directory record tied only to a private person is not shown: it would tell a tie exists
    assert LOCATION_2 not in visible
    assert LOCATION_2 in load_network(store, Viewer.editor(ANN))
    assert not any(t.consent == "private" for t in visible.ties)
    amy = m.node("amy")
    assert amy.degree == sum(1 for t in visible.ties if "amy" in (t.source, t.target))


@pytest.mark.parametrize("who", ["anonymous", "signed_in", "other_editor"])
def test_answers_are_those_of_the_network_without_private_records(
    store: Store, tmp_path: Path, who: str
) -> None:
    """Counterfactual: everything a viewer gets is identical whether or not private people and
    ties were ever entered, so nothing about them can be inferred (not a degree, a
    betweenness, a community number, an area's tie count or an introduction)."""
    build(store, tmp_path / "with")
    with_private = _outputs(store, VIEWERS[who], tmp_path / "a")
    url = f"sqlite:///{tmp_path / 'without.sqlite'}"
    other = open_store(url)
    try:
        build(other, tmp_path / "without", private=False)
        without = _outputs(other, VIEWERS[who], tmp_path / "b")
    finally:
        other.close()
    for name in with_private:
        a = with_private[name].replace(str(tmp_path / "a"), "OUT")
        b = without[name].replace(str(tmp_path / "b"), "OUT")
        assert a == b, name


def test_the_editor_who_added_them_and_admins_see_private_people(
    store: Store, tmp_path: Path
) -> None:
    build(store, tmp_path / "in")
    for viewer in (Viewer.editor(ANN), Viewer.admin("root@example.org"), Viewer.operator()):
        ids = {n.id for n in load_network(store, viewer)}
        assert {"dan", "eve", "cat"} <= ids
        assert any(t.consent == "private" for t in load_network(store, viewer).ties)
    m = network_measures(store, Viewer.editor(ANN))
    assert m.node("amy").degree > network_measures(store, Viewer.anonymous()).node("amy").degree
    # another editor cannot see, edit or even learn that a private person exists
    with pytest.raises(NotFound):
        update_person(store, "dan", {"role": "x"}, viewer=Viewer.editor("bob@example.org"))
    assert update_person(store, "dan", {"role": "volunteer"}, viewer=Viewer.editor(ANN)) == {
        "role": ["resident", "volunteer"]
    }


def test_internal_people_need_a_signed_in_viewer(store: Store, tmp_path: Path) -> None:
    build(store, tmp_path / "in")
    assert "cat" not in load_network(store, Viewer.anonymous())
    assert "cat" in load_network(store, Viewer.signed_in("sam@example.org"))
    # a tie left blank takes the most private of its ends: cat (internal) -> amy (public)
    tie = next(t for t in load_network(store, Viewer.operator()).ties if t.source == "cat")
    assert tie.consent == "internal"
    assert ",cat,amy," not in EDGES  # the fixture leaves that consent blank on purpose


def test_cli_as_viewer_public_never_prints_private_people(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(store, tmp_path / "in")
    url = store.url.render_as_string(hide_password=False)
    runs = [
        ["network", "measures", "--json"],
        ["network", "measures"],
        ["network", "brokers", "--top", "50", "--json"],
        ["network", "suggest", "--top", "50", "--json"],
        ["network", "suggest", "--top", "50"],
    ]
    for as_viewer in ("public", "internal"):
        for args in runs:
            capsys.readouterr()
            assert main(["--database", url, *args, "--as-viewer", as_viewer]) == 0
            text = capsys.readouterr().out
            for person in PRIVATE.values():
                assert person not in text, (args, as_viewer)
        for fmt in EXPORT_FORMATS:
            target = tmp_path / f"cli-{as_viewer}-{fmt}"
            assert (
                main(
                    [
                        "--database",
                        url,
                        "network",
                        "export",
                        "--format",
                        fmt,
                        str(target),
                        "--as-viewer",
                        as_viewer,
                    ]
                )
                == 0
            )
            files = [target] if target.is_file() else sorted(target.iterdir())
            for f in files:
                content = f.read_text()
                for pid, person in PRIVATE.items():
                    assert person not in content and f"{pid}," not in content
    # the operator (default) does see them, and is warned on export
    capsys.readouterr()
    assert main(["--database", url, "network", "measures", "--json"]) == 0
    assert {"dan", "eve"} <= {n["id"] for n in json.loads(capsys.readouterr().out)["nodes"]}
    assert (
        main(
            ["--database", url, "network", "export", "--format", "kumu", str(tmp_path / "all.json")]
        )
        == 0
    )
    assert "--as-viewer public" in " ".join(capsys.readouterr().err.split())
