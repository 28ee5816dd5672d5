"""``strengthmap data load`` through the CLI, on SQLite and on PostGIS: every kind of bad input
exits 2, names the file, the row and the field, and leaves the database exactly as it was (a dump
of every table, and on PostGIS of every sequence, compared before and after)."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyproj import Transformer
from sqlalchemy import text

from strengthmap.cli import main
from strengthmap.storage import Store, schema

pytestmark = pytest.mark.realdata

# a small real base: the LSOA 2011 boundaries, the four lookups and the population file
BASE_FILES = [
    "boundaries/leeds_lsoa2011_bgc.geojson",
    "lookups/leeds_lsoa2011_to_msoa2011.csv",
    "lookups/leeds_lsoa2011_to_lsoa2021.csv",
    "lookups/leeds_lsoa2021_to_ward2024.csv",
    "lookups/leeds_msoa2011_to_msoa2021.csv",
    "population/leeds_lsoa2011_population_mid2020.csv",
]
POP = "population/leeds_lsoa2011_population_mid2020.csv"
LOOKUP = "lookups/leeds_lsoa2011_to_msoa2011.csv"


@dataclass
class Work:
    """One test's copy of the base data directory and a database holding the base, on one backend."""

    data: Path
    url: str  # passed as --database
    dump: Callable[[], list[str]]  # every table (and sequence), sorted, as text

    def run(self, *args: str) -> int:
        return main(["--database", self.url, *args])


@pytest.fixture(scope="module")
def base_data(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory of BASE_FILES copied from the real data."""
    data = tmp_path_factory.mktemp("base") / "data"
    for rel in BASE_FILES:
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / rel, data / rel)
    return data


def _load_base(url: str, data: Path) -> None:
    assert main(["--database", url, "data", "load", "--data", str(data), "--json"]) == 0


def _sqlite_dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


@pytest.fixture(scope="module")
def sqlite_base(base_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with the base loaded through the CLI, once per module."""
    db = tmp_path_factory.mktemp("sqlite_base") / "base.sqlite"
    _load_base(f"sqlite:///{db}", base_data)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def _postgis_dump(store: Store) -> list[str]:
    """Every table in the public schema (its rows as ``row::text``, geometry as hex EWKB, sorted
    and hashed) and every sequence's state: two equal dumps mean an identical database."""
    out: list[str] = []
    with store.engine.connect() as conn:
        relations = conn.execute(
            text(
                "SELECT c.relname, c.relkind FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S') ORDER BY c.relname"
            )
        ).all()
        for name, kind in relations:
            if kind == "S":
                state = conn.execute(text(f'SELECT last_value, is_called FROM "{name}"')).one()
                out.append(f"sequence {name}: {tuple(state)}")
            else:  # the sorted rows as text, hashed in the server (spatial_ref_sys has 8,500)
                n, digest = conn.execute(
                    text(
                        f"SELECT count(*), md5(string_agg(t::text, E'\\n' ORDER BY t::text)) "
                        f'FROM "{name}" t'
                    )
                ).one()
                out.append(f"table {name}: {n} rows, md5 {digest}")
    return out


def _postgis_reset(store: Store, url: str, data: Path) -> list[str]:
    names = ", ".join(t.name for t in schema.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    _load_base(url, data)
    return _postgis_dump(store)


@pytest.fixture(scope="module")
def postgis_base(request: pytest.FixtureRequest, base_data: Path) -> tuple[Store, str, list[str]]:
    """The PostGIS test database (conftest's, the one ``postgis_store`` uses) with the base loaded
    through the CLI once per module, and its dump. Tests here never change it when they pass."""
    store: Store = request.getfixturevalue("_postgis_store")
    url = store.url.render_as_string(hide_password=False)
    return store, url, _postgis_reset(store, url, base_data)


@pytest.fixture(params=["sqlite", "postgis"])
def work(
    request: pytest.FixtureRequest,
    base_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Work]:
    monkeypatch.setenv("COLUMNS", "1000")  # rich must not wrap the one-line error
    data = tmp_path / "data"
    shutil.copytree(base_data, data)
    if request.param == "sqlite":
        db = tmp_path / "store.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_base"), db)
        yield Work(data, f"sqlite:///{db}", lambda: _sqlite_dump(db))
        return
    store, url, pristine = request.getfixturevalue("postgis_base")
    if _postgis_dump(store) != pristine:
        # another test (one that failed, or another module's) changed the database: reload the
        # base so this test starts from it; passing tests never get here
        assert _postgis_reset(store, url, base_data) == pristine
    yield Work(data, url, lambda: _postgis_dump(store))


def _run_bad(work: Work, capsys: pytest.CaptureFixture[str]) -> str:
    before = work.dump()
    capsys.readouterr()
    code = work.run("data", "load", "--data", str(work.data))
    err = capsys.readouterr().err
    assert code == 2, err
    assert work.dump() == before, "the store changed although the input was bad"
    return err


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_base_loads_and_reloads_unchanged(work: Work, capsys: pytest.CaptureFixture[str]) -> None:
    before = work.dump()
    capsys.readouterr()
    assert work.run("data", "load", "--data", str(work.data), "--json") == 0
    reports = json.loads(capsys.readouterr().out)
    assert {r["dataset"] for r in reports} >= {"boundaries_lsoa2011", "population_lsoa2011_mid2020"}
    assert all(r["skipped_unchanged"] for r in reports)
    assert work.dump() == before


def test_truncated_csv(work: Work, capsys: pytest.CaptureFixture[str]) -> None:
    path = work.data / POP
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) - 150], encoding="utf-8")  # cut inside the last row
    err = _run_bad(work, capsys)
    assert POP in err and "row 483" in err and "field" in err and "truncated" in err


def test_truncated_gzip(work: Work, capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    rel = "imd/leeds_imd2019_lsoa2011.csv.gz"
    src = gzip.compress((data_dir / "imd/leeds_imd2019_lsoa2011.csv").read_bytes())
    # a truncated download of a compressed IoD file, placed where File 2 belongs
    rel = "imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
    (work.data / "imd").mkdir()
    (work.data / rel).write_bytes(src[: len(src) // 2])
    err = _run_bad(work, capsys)
    assert rel in err and "truncated" in err and "row" in err and "field" in err


def test_geojson_in_osgb_eastings_northings(work: Work, capsys: pytest.CaptureFixture[str]) -> None:
    rel = "boundaries/leeds_lsoa2011_bgc.geojson"
    doc = json.loads((work.data / rel).read_text(encoding="utf-8"))
    to_osgb = Transformer.from_crs(4326, 27700, always_xy=True)
    for feature in doc["features"][:3]:
        geom = feature["geometry"]
        rings = geom["coordinates"] if geom["type"] == "Polygon" else geom["coordinates"][0]
        for ring in rings:
            for pt in ring:
                pt[0], pt[1] = to_osgb.transform(pt[0], pt[1])
    doc["features"] = doc["features"][:3]
    for f in doc["features"]:
        if f["geometry"]["type"] == "MultiPolygon":
            f["geometry"] = {"type": "Polygon", "coordinates": f["geometry"]["coordinates"][0]}
    (work.data / rel).write_text(json.dumps(doc), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert rel in err and "row 1" in err and "field geometry" in err and "OSGB" in err


def test_malformed_area_code(work: Work, capsys: pytest.CaptureFixture[str]) -> None:
    path = work.data / POP
    lines = _lines(path)
    lines[3] = lines[3].replace('"E01', '"E0X', 1)
    path.write_text("".join(lines), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert POP in err and "row 4" in err and "field lsoa11_code" in err and "malformed" in err


def test_unknown_area_code(work: Work, capsys: pytest.CaptureFixture[str]) -> None:
    path = work.data / POP
    lines = _lines(path)
    code = lines[5].split(",")[1]
    lines[5] = lines[5].replace(code, '"E01999999"', 1)
    path.write_text("".join(lines), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert POP in err and "row 6" in err and "field lsoa11_code" in err and "unknown" in err


def test_duplicated_code(work: Work, capsys: pytest.CaptureFixture[str]) -> None:
    path = work.data / POP
    lines = _lines(path)
    lines.insert(10, lines[2])
    path.write_text("".join(lines), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert POP in err and "row 11" in err and "field lsoa11_code" in err and "duplicated" in err


def test_non_numeric_rank(work: Work, capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    rel = "imd/leeds_imd2019_lsoa2011.csv"
    (work.data / "imd").mkdir()
    lines = _lines(data_dir / rel)
    cells = lines[4].split(",")
    cells[4] = "high"  # imd_rank
    lines[4] = ",".join(cells)
    (work.data / rel).write_text("".join(lines), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert rel in err and "row 5" in err and "field imd_rank" in err and "not a number" in err


def test_empty_file(work: Work, capsys: pytest.CaptureFixture[str]) -> None:
    (work.data / POP).write_bytes(b"")
    err = _run_bad(work, capsys)
    assert POP in err and "row 1" in err and "field" in err and "empty" in err


def test_windows_1252_file(work: Work, capsys: pytest.CaptureFixture[str]) -> None:
    path = work.data / LOOKUP
    lines = _lines(path)
    lines[7] = lines[7].replace("Leeds", "Leeds Café", 1)
    path.write_bytes("".join(lines).encode("cp1252"))
    err = _run_bad(work, capsys)
    assert LOOKUP in err and "row 8" in err and "field lsoa11_name" in err and "UTF-8" in err


def test_utf16_file(work: Work, capsys: pytest.CaptureFixture[str]) -> None:
    path = work.data / LOOKUP
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    err = _run_bad(work, capsys)
    assert LOOKUP in err and "row 1" in err and "field" in err and "UTF-16" in err


def test_imd_file_of_another_release(
    work: Work, capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    # the IoD2025 file where IoD2019's File 2 is expected
    with gzip.open(data_dir / "imd/imd2025_england_lsoa21.csv.gz", "rt", encoding="utf-8") as fh:
        head = "".join(next(fh) for _ in range(50))
    rel = "imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
    (work.data / "imd").mkdir()
    (work.data / rel).write_bytes(gzip.compress(head.encode()))
    err = _run_bad(work, capsys)
    assert rel in err and "row 1" in err and "field lsoa21_code" in err and "IoD2025" in err


def test_rank_out_of_range(work: Work, capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    rel = "imd/leeds_imd2019_lsoa2011.csv"
    (work.data / "imd").mkdir()
    lines = _lines(data_dir / rel)
    cells = lines[2].split(",")
    cells[4] = "33000"  # beyond the 32,844 LSOAs ranked in IoD2019
    lines[2] = ",".join(cells)
    (work.data / rel).write_text("".join(lines), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert rel in err and "row 3" in err and "field imd_rank" in err and "outside" in err


def test_areas_show_cli(
    leeds_store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read-only, so on conftest's session Leeds load (both backends) rather than a base copy."""
    monkeypatch.setenv("COLUMNS", "1000")
    url = leeds_store.url.render_as_string(hide_password=False)
    capsys.readouterr()
    assert main(["--database", url, "areas", "show", "E01011264", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["code"] == "E01011264" and record["msoa_code"] == "E02002340"
    assert record["population"] == 1230
    assert main(["--database", url, "areas", "show", "E01999999"]) == 4
    assert "E01999999" in capsys.readouterr().err


def test_place_comes_from_the_setting(
    base_data: Path,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``data load`` without --place loads the place setting (STRENGTHMAP_PLACE), not Leeds."""
    import pandas as pd

    from strengthmap.storage import open_store

    data = tmp_path / "data"
    shutil.copytree(base_data, data)
    file1 = "imd/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
    (data / "imd").mkdir()
    shutil.copy(data_dir / file1, data / file1)
    published = pd.read_csv(data_dir / file1)
    bradford = int((published["Local Authority District name (2019)"] == "Bradford").sum())
    monkeypatch.setenv("STRENGTHMAP_PLACE", "Bradford")
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    assert main(["--database", url, "data", "load", "--data", str(data), "--json"]) == 0
    reports = {r["dataset"]: r for r in json.loads(capsys.readouterr().out)}
    assert reports["imd2019_file1"]["rows_written"] == bradford > 300
    store = open_store(url)
    with store.session() as s:
        assert s.get(schema.Dataset, "imd2019_file1").scope == "Bradford"  # type: ignore[union-attr]
    store.close()
    # --place still wins over the setting
    assert main(["--database", url, "data", "load", "--data", str(data), "--place", "Leeds",
                 "--json"]) == 0  # fmt: skip
    reports = {r["dataset"]: r for r in json.loads(capsys.readouterr().out)}
    leeds = int((published["Local Authority District name (2019)"] == "Leeds").sum())
    assert reports["imd2019_file1"]["rows_written"] == leeds == 482
