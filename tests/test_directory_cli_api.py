"""The CLI and the API over the directory: New Wortley loaded, "lunch on a Wednesday afternoon
within 1 km", exports from the CLI, and write endpoints closed without the API token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from strengthmap.api import create_app
from strengthmap.cli import main
from strengthmap.directory.editing import history
from strengthmap.settings import Settings
from strengthmap.storage import open_store, schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "new-wortley-community-centre.csv"
QUERY = ["--text", "lunch", "--near", "LS12 1JD", "--radius-m", "1000", "--day", "wed", "--from", "12:00", "--to", "17:00"]  # fmt: skip


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'd.sqlite'}"
    store = open_store(url)
    with store.transaction() as s:  # the postcode of the centre (NSPL May 2025 centroid)
        s.add(schema.Postcode(postcode="LS12 1JD", pcd7="LS121JD", lon=-1.57538, lat=53.79023))
    store.close()
    assert main(["--database", url, "directory", "import", str(EXAMPLE), "--json"]) == 0
    return url


def test_cli_answers_wednesday_lunch(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--database", db, "directory", "search", *QUERY, "--json"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in page["items"]] == ["Community lunch"]
    assert page["items"][0]["distance_m"] == 0.0
    assert (
        main(["--database", db, "directory", "search", "--taxonomy", "mental-health", "--json"])
        == 0
    )
    names = {i["name"] for i in json.loads(capsys.readouterr().out)["items"]}
    assert names == {"Mental health clinic", "Wellbeing group"}
    assert main(["--database", db, "directory", "search", "--day", "someday"]) == 2


def test_cli_bad_import_exits_2(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(EXAMPLE.read_text().replace(",wed,weekly,12:00,", ",wed,weekly,noon,", 1))
    assert main(["--database", db, "directory", "import", str(bad)]) == 2
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert "row 2" in err and "opens_at" in err


def test_cli_exports(db: str, tmp_path: Path) -> None:
    for fmt, name in [("geojson", "d.geojson"), ("gpkg", "d.gpkg"), ("oruk-csv", "pkg")]:
        assert (
            main(["--database", db, "directory", "export", "--format", fmt, str(tmp_path / name)])
            == 0
        )
    assert len(json.loads((tmp_path / "d.geojson").read_text())["features"]) == 8
    assert (
        main(["--database", db, "directory", "export", "--format", "ical", str(tmp_path / "x.ics")])
        == 2
    )


def test_api_search_and_writes(db: str) -> None:
    store = open_store(db)
    closed = TestClient(create_app(Settings(database_url=db), store=store))
    r = closed.get(
        "/api/directory/search",
        params={
            "text": "lunch",
            "near": "LS12 1JD",
            "radius_m": 1000,
            "day": "wed",
            "from": "12:00",
            "to": "17:00",
        },
    )
    assert r.status_code == 200
    assert [i["name"] for i in r.json()["items"]] == ["Community lunch"]
    assert (
        closed.get("/api/directory/search", params={"day": "wed", "from": "25:00"}).status_code
        == 422
    )
    # no token configured: writes are refused
    assert closed.post("/api/directory/services", json={"name": "X"}).status_code == 401
    assert (
        closed.post(
            "/api/directory/services", json={"name": "X"}, headers={"Authorization": "Bearer x"}
        ).status_code
        == 401
    )
    app = create_app(Settings(database_url=db, api_token="s3cret"), store=store)
    client = TestClient(app)
    assert (
        client.post(
            "/api/directory/services", json={"name": "X"}, headers={"Authorization": "Bearer wrong"}
        ).status_code
        == 401
    )
    auth = {"Authorization": "Bearer s3cret"}
    r = client.post(
        "/api/directory/services",
        json={"name": "Pop-up lunch", "abcd_kind": "association"},
        headers=auth,
    )
    assert r.status_code == 201
    sid = r.json()["id"]
    assert (
        client.patch(
            f"/api/directory/services/{sid}", json={"abcd_kind": "club"}, headers=auth
        ).status_code
        == 422
    )
    r = client.patch(f"/api/directory/services/{sid}", json={"description": "Soup"}, headers=auth)
    assert r.json()["changed"] == {"description": [None, "Soup"]}
    assert client.post(f"/api/directory/services/{sid}/retire", headers=auth).status_code == 200
    assert client.post("/api/directory/services/nope/retire", headers=auth).status_code == 404
    assert [(e["actor"], e["action"]) for e in history(store, sid)] == [
        ("api-token", "create"), ("api-token", "update"), ("api-token", "retire"),
    ]  # fmt: skip
    assert client.get(f"/api/directory/services/{sid}/history").json()[0]["action"] == "create"
