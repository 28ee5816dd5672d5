"""``strengthmap data load`` through the CLI: every kind of bad input exits 2, names the file, the
row and the field, and leaves the database exactly as it was (a dump of every table compared)."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from pyproj import Transformer

from strengthmap.cli import main

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


@pytest.fixture(scope="module")
def base(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A data directory of BASE_FILES and a SQLite store with them loaded through the CLI."""
    root = tmp_path_factory.mktemp("base")
    data = root / "data"
    for rel in BASE_FILES:
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_dir / rel, data / rel)
    db = root / "base.sqlite"
    assert main(["--database", f"sqlite:///{db}", "data", "load", "--data", str(data)]) == 0
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return data, db


@pytest.fixture
def work(
    base: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    monkeypatch.setenv("COLUMNS", "1000")  # rich must not wrap the one-line error
    data, db = base
    shutil.copytree(data, tmp_path / "data")
    shutil.copy(db, tmp_path / "store.sqlite")
    return tmp_path / "data", tmp_path / "store.sqlite"


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def _run_bad(work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> str:
    data, db = work
    before = _dump(db)
    capsys.readouterr()
    code = main(["--database", f"sqlite:///{db}", "data", "load", "--data", str(data)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert _dump(db) == before, "the store changed although the input was bad"
    return err


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_base_loads_and_reloads_unchanged(
    work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, db = work
    before = _dump(db)
    capsys.readouterr()
    assert (
        main(["--database", f"sqlite:///{db}", "data", "load", "--data", str(data), "--json"]) == 0
    )
    reports = json.loads(capsys.readouterr().out)
    assert {r["dataset"] for r in reports} >= {"boundaries_lsoa2011", "population_lsoa2011_mid2020"}
    assert all(r["skipped_unchanged"] for r in reports)
    assert _dump(db) == before


def test_truncated_csv(work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = work[0] / POP
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) - 150], encoding="utf-8")  # cut inside the last row
    err = _run_bad(work, capsys)
    assert POP in err and "row 483" in err and "field" in err and "truncated" in err


def test_truncated_gzip(
    work: tuple[Path, Path], capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    rel = "imd/leeds_imd2019_lsoa2011.csv.gz"
    src = gzip.compress((data_dir / "imd/leeds_imd2019_lsoa2011.csv").read_bytes())
    # a truncated download of a compressed IoD file, placed where File 2 belongs
    rel = "imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
    (work[0] / "imd").mkdir()
    (work[0] / rel).write_bytes(src[: len(src) // 2])
    err = _run_bad(work, capsys)
    assert rel in err and "truncated" in err and "row" in err and "field" in err


def test_geojson_in_osgb_eastings_northings(
    work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rel = "boundaries/leeds_lsoa2011_bgc.geojson"
    doc = json.loads((work[0] / rel).read_text(encoding="utf-8"))
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
    (work[0] / rel).write_text(json.dumps(doc), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert rel in err and "row 1" in err and "field geometry" in err and "OSGB" in err


def test_malformed_area_code(work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = work[0] / POP
    lines = _lines(path)
    lines[3] = lines[3].replace('"E01', '"E0X', 1)
    path.write_text("".join(lines), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert POP in err and "row 4" in err and "field lsoa11_code" in err and "malformed" in err


def test_unknown_area_code(work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = work[0] / POP
    lines = _lines(path)
    code = lines[5].split(",")[1]
    lines[5] = lines[5].replace(code, '"E01999999"', 1)
    path.write_text("".join(lines), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert POP in err and "row 6" in err and "field lsoa11_code" in err and "unknown" in err


def test_duplicated_code(work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = work[0] / POP
    lines = _lines(path)
    lines.insert(10, lines[2])
    path.write_text("".join(lines), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert POP in err and "row 11" in err and "field lsoa11_code" in err and "duplicated" in err


def test_non_numeric_rank(
    work: tuple[Path, Path], capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    rel = "imd/leeds_imd2019_lsoa2011.csv"
    (work[0] / "imd").mkdir()
    lines = _lines(data_dir / rel)
    cells = lines[4].split(",")
    cells[4] = "high"  # imd_rank
    lines[4] = ",".join(cells)
    (work[0] / rel).write_text("".join(lines), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert rel in err and "row 5" in err and "field imd_rank" in err and "not a number" in err


def test_empty_file(work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    (work[0] / POP).write_bytes(b"")
    err = _run_bad(work, capsys)
    assert POP in err and "row 1" in err and "field" in err and "empty" in err


def test_windows_1252_file(work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = work[0] / LOOKUP
    lines = _lines(path)
    lines[7] = lines[7].replace("Leeds", "Leeds Café", 1)
    path.write_bytes("".join(lines).encode("cp1252"))
    err = _run_bad(work, capsys)
    assert LOOKUP in err and "row 8" in err and "field lsoa11_name" in err and "UTF-8" in err


def test_utf16_file(work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    path = work[0] / LOOKUP
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    err = _run_bad(work, capsys)
    assert LOOKUP in err and "row 1" in err and "field" in err and "UTF-16" in err


def test_imd_file_of_another_release(
    work: tuple[Path, Path], capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    # the IoD2025 file where IoD2019's File 2 is expected
    with gzip.open(data_dir / "imd/imd2025_england_lsoa21.csv.gz", "rt", encoding="utf-8") as fh:
        head = "".join(next(fh) for _ in range(50))
    rel = "imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
    (work[0] / "imd").mkdir()
    (work[0] / rel).write_bytes(gzip.compress(head.encode()))
    err = _run_bad(work, capsys)
    assert rel in err and "row 1" in err and "field lsoa21_code" in err and "IoD2025" in err


def test_rank_out_of_range(
    work: tuple[Path, Path], capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    rel = "imd/leeds_imd2019_lsoa2011.csv"
    (work[0] / "imd").mkdir()
    lines = _lines(data_dir / rel)
    cells = lines[2].split(",")
    cells[4] = "33000"  # beyond the 32,844 LSOAs ranked in IoD2019
    lines[2] = ",".join(cells)
    (work[0] / rel).write_text("".join(lines), encoding="utf-8")
    err = _run_bad(work, capsys)
    assert rel in err and "row 3" in err and "field imd_rank" in err and "outside" in err


def test_areas_show_cli(work: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _data, db = work
    capsys.readouterr()
    assert main(["--database", f"sqlite:///{db}", "areas", "show", "E01011264", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["code"] == "E01011264" and record["msoa_code"] == "E02002340"
    assert record["population"] == 1230
    assert main(["--database", f"sqlite:///{db}", "areas", "show", "E01999999"]) == 4
    assert "E01999999" in capsys.readouterr().err
