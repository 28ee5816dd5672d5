"""The official IoD layouts with every score: IoD2019 File 7 and File 5 (LSOA 2011), IoD2025 File 7
(LSOA 2021), read by their published column names (``sources/imd.py``).

The fixtures (``tests/fixtures/sources/``, see its README.md) copy ranks and deciles from the real
files of the data directory; the IoD2019 scores are made up. Expected values come from the fixtures
and the real files read here with pandas under the full official names written out below, not
through the loader's name matching.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, inspect, select

from strengthmap.errors import InputError
from strengthmap.sources.imd import combine_imd, load_imd, read_imd
from strengthmap.storage import Store, schema

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
FILE7_2019 = (
    FIXTURES / "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv"
)
FILE5_2019 = FIXTURES / "File_5_-_IoD2019_Scores.csv"
FILE7_2025 = FIXTURES / "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"

#: The published names of the index and the seven domains, and the words after them.
PUBLISHED = {
    "imd": "Index of Multiple Deprivation (IMD)",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, Skills and Training",
    "health": "Health Deprivation and Disability",
    "crime": "Crime",
    "housing_services": "Barriers to Housing and Services",
    "living_environment": "Living Environment",
}
DOMAINS = list(PUBLISHED)[1:]
assert len(DOMAINS) == 7


def official(key: str, measure: str) -> str:
    """The full column name of ``key`` (imd or a domain) and ``measure`` in Files 1-2 and 5-7."""
    if measure == "score":
        return PUBLISHED[key] + (" Score (rate)" if key in ("income", "employment") else " Score")
    if measure == "rank":
        return f"{PUBLISHED[key]} Rank (where 1 is most deprived)"
    return f"{PUBLISHED[key]} Decile (where 1 is most deprived 10% of LSOAs)"


POP_2019 = {
    "pop_total": "Total population: mid 2015 (excluding prisoners)",
    "pop_0_15": "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
    "pop_16_59": "Population aged 16-59: mid 2015 (excluding prisoners)",
    "pop_60_plus": "Older population aged 60 and over: mid 2015 (excluding prisoners)",
    "pop_working_age": (
        "Working age population 18-59/64: for use with Employment Deprivation Domain "
        "(excluding prisoners)"
    ),
}
POP_2025 = {
    "pop_total": "Total population: mid 2022",
    "pop_0_15": "Dependent Children aged 0-15: mid 2022",
    "pop_60_plus": "Older population aged 60 and over: mid 2022",
    "pop_working_age": (
        "Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022"
    ),
}
HUMANIVERSE = {
    "imd": "IMD",
    "income": "Income",
    "employment": "Employment",
    "education": "Education",
    "health": "Health",
    "crime": "Crime",
    "housing_services": "Housing_and_Services",
    "living_environment": "Environment",
}


def fixture(path: Path, code_col: str) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={code_col: str})
    frame.columns = [c.strip() for c in frame.columns]  # the last IoD2019 File 7 name ends in " "
    return frame.set_index(code_col)


@pytest.fixture(scope="module")
def file2(data_dir: Path) -> pd.DataFrame:
    path = data_dir / "imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
    return pd.read_csv(path, thousands=",", encoding="utf-8-sig").set_index("LSOA code (2011)")


@pytest.fixture(scope="module")
def file6(data_dir: Path) -> pd.DataFrame:
    path = data_dir / "imd/File_6_-_IoD2019_Population_Denominators.csv.gz"
    return pd.read_csv(path, thousands=",", encoding="utf-8-sig").set_index("LSOA code (2011)")


@pytest.mark.realdata
def test_iod2019_file7_every_measure_in_its_column(
    file2: pd.DataFrame, file6: pd.DataFrame
) -> None:
    table = read_imd(FILE7_2019, release=2019)
    assert (table.layout, table.release, table.n_areas, table.rows_read) == (
        "official",
        2019,
        32844,
        4,
    )
    got = table.frame.set_index("code")
    src = fixture(FILE7_2019, "LSOA code (2011)")
    assert list(got.index) == list(src.index)
    for code, row in got.iterrows():
        assert row["name"] == src.at[code, "LSOA name (2011)"] == file2.at[code, "LSOA name (2011)"]
        assert row["lad_code"] == src.at[code, "Local Authority District code (2019)"]
        for key in PUBLISHED:
            for measure in ("rank", "decile"):
                # as published in the real File 2, and as the fixture has it
                assert row[f"{key}_{measure}"] == file2.at[code, official(key, measure)], (
                    code,
                    key,
                )
            assert row[f"{key}_score"] == pytest.approx(src.at[code, official(key, "score")])
        for ours, name in POP_2019.items():
            assert row[ours] == file6.at[code, name] == src.at[code, name]
    # the scores are the fixture's IMD/domain scores and not, say, IDACI's or a sub-domain's
    assert got["income_score"].tolist() == pytest.approx(src["Income Score (rate)"].tolist())
    assert not got[[f"{k}_score" for k in PUBLISHED]].isna().any().any()


@pytest.mark.realdata
def test_iod2025_file7_every_measure_in_its_column(data_dir: Path) -> None:
    published = pd.read_csv(data_dir / "imd/imd2025_england_lsoa21.csv.gz").set_index("lsoa21_code")
    table = read_imd(FILE7_2025, release=2025)
    assert (table.layout, table.release, table.n_areas, table.rows_read) == (
        "official",
        2025,
        33755,
        4,
    )
    got = table.frame.set_index("code")
    src = fixture(FILE7_2025, "LSOA code (2021)")
    assert list(got.index) == list(src.index)
    for code, row in got.iterrows():
        assert row["name"] == src.at[code, "LSOA name (2021)"]
        assert row["lad_code"] == src.at[code, "Local Authority District code (2024)"]
        for key, short in HUMANIVERSE.items():
            for measure in ("rank", "decile", "score"):
                want = published.at[code, f"{short}_{measure}"]
                assert want == pytest.approx(src.at[code, official(key, measure)]), (code, key)
                assert row[f"{key}_{measure}"] == pytest.approx(want), (code, key, measure)
        for ours, name in POP_2025.items():
            assert row[ours] == src.at[code, name]
    assert "pop_16_59" not in got.columns  # IoD2025 publishes no 16-59 denominator


def test_file7_filtered_to_the_place_by_its_local_authority_columns() -> None:
    for path, release in ((FILE7_2019, 2019), (FILE7_2025, 2025)):
        by_name = read_imd(path, release=release, place="Leeds")
        by_code = read_imd(path, release=release, place="E08000035")
        assert by_name.frame["code"].tolist() == by_code.frame["code"].tolist()
        assert len(by_name.frame) == 3 and "E01000001" not in set(by_name.frame["code"])
        assert by_name.rows_read == 4


@pytest.mark.realdata
def test_file5_scores_fill_file2(data_dir: Path, file2: pd.DataFrame) -> None:
    ranks = read_imd(
        data_dir / "imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz", release=2019, place="Leeds"
    )
    assert not any(c.endswith("_score") for c in ranks.frame.columns)  # File 2: no scores
    scores = read_imd(FILE5_2019, release=2019, place="Leeds")
    assert not any(k.endswith(("_rank", "_decile")) for k in scores.mapping)
    frame = combine_imd(ranks, scores).set_index("code")
    src = fixture(FILE5_2019, "LSOA code (2011)")
    leeds = scores.frame["code"].tolist()
    assert len(leeds) == 3
    for code in leeds:
        for key in PUBLISHED:
            assert frame.at[code, f"{key}_score"] == pytest.approx(
                src.at[code, official(key, "score")]
            )
            assert frame.at[code, f"{key}_rank"] == file2.at[code, official(key, "rank")]
    others = frame.drop(index=leeds)
    assert len(others) == 479 and others["imd_score"].isna().all()  # not published for them here


def _deprivation(store: Store, release: int) -> pd.DataFrame:
    D, A = schema.Deprivation, schema.Area
    with store.session() as s:
        rows = s.execute(
            select(A.code, A.vintage, A.name, D)
            .join(A, D.area_id == A.id)
            .where(D.release == release)
        ).all()
    out = []
    for code, vintage, name, dep in rows:
        rec = {a.key: getattr(dep, a.key) for a in inspect(D).column_attrs}
        out.append(rec | {"code": code, "vintage": vintage, "area_name": name})
    return pd.DataFrame(out).set_index("code")


def test_store_has_the_scores_of_both_file7s_side_by_side(store: Store) -> None:
    load_imd(store, FILE7_2019, release=2019, place=None)
    load_imd(store, FILE7_2025, release=2025, place=None)
    for path, release, vintage, code_col, pops in (
        (FILE7_2019, 2019, 2011, "LSOA code (2011)", POP_2019),
        (FILE7_2025, 2025, 2021, "LSOA code (2021)", POP_2025),
    ):
        stored = _deprivation(store, release)
        src = fixture(path, code_col)
        assert sorted(stored.index) == sorted(src.index)
        assert (stored["vintage"] == vintage).all()
        assert (stored["n_areas"] == {2019: 32844, 2025: 33755}[release]).all()
        for code in src.index:
            assert stored.at[code, "area_name"] == src.at[code, code_col.replace("code", "name")]
            for key in PUBLISHED:
                for measure in ("rank", "decile", "score"):
                    value = stored.at[code, f"{key}_{measure}"]
                    assert value is not None and not pd.isna(value), (release, code, key, measure)
                    assert value == pytest.approx(src.at[code, official(key, measure)])
            for ours, name in pops.items():
                assert stored.at[code, ours] == src.at[code, name]
    with store.session() as s:
        ids = set(s.scalars(select(schema.Dataset.id)))
    assert {"imd2019", "imd2025"} <= ids


def _count(store: Store) -> tuple[int, int]:
    with store.session() as s:
        return (
            s.scalar(select(func.count()).select_from(schema.Deprivation)) or 0,
            s.scalar(select(func.count()).select_from(schema.Area)) or 0,
        )


@pytest.mark.parametrize(
    ("path", "release", "field", "found"),
    [
        (FILE7_2025, 2019, "LSOA code (2021)", "IoD2025"),
        (FILE7_2019, 2025, "LSOA code (2011)", "IoD2015 or IoD2019"),
        (FILE5_2019, 2025, "LSOA code (2011)", "IoD2015 or IoD2019"),
    ],
)
def test_file7_of_another_release_is_refused(
    store: Store, path: Path, release: int, field: str, found: str
) -> None:
    load_imd(store, FILE7_2019 if release == 2019 else FILE7_2025, release=release, place=None)
    before = _count(store)
    with pytest.raises(InputError) as caught:
        load_imd(store, path, release=release, place=None)
    err = caught.value
    assert (err.file, err.row, err.field) == (str(path), 1, field)
    assert str(err).startswith(f"{path}: row 1: field {field}: ")
    assert found in str(err) and f"IoD{release} was expected" in str(err)
    assert _count(store) == before  # nothing written


def _rewrite_header(src: Path, dest: Path, old_new: list[tuple[str, str]]) -> Path:
    head, rest = src.read_text(encoding="utf-8").split("\n", 1)
    for old, new in old_new:
        assert old in head
        head = head.replace(old, new)
    dest.write_text(head + "\n" + rest, encoding="utf-8")
    return dest


def test_iod2015_file7_on_the_same_lsoas_is_refused_as_iod2019(tmp_path: Path) -> None:
    # IoD2015 is published on LSOA 2011 too: its names say LAD (2013) and populations mid 2012
    iod2015 = _rewrite_header(
        FILE7_2019,
        tmp_path / "File_7_ID_2015.csv",
        [("(2019)", "(2013)"), ("mid 2015", "mid 2012")],
    )
    with pytest.raises(InputError) as caught:
        read_imd(iod2015, release=2019)
    err = caught.value
    assert (err.file, err.row, err.field) == (
        str(iod2015),
        1,
        "Local Authority District code (2013)",
    )
    assert "IoD2015" in str(err)
    # with no local authority column, the population denominators tell the release
    frame = pd.read_csv(iod2015, dtype=str)
    no_lad = tmp_path / "no_lad.csv"
    frame.drop(columns=[c for c in frame.columns if "Local Authority" in c]).to_csv(
        no_lad, index=False
    )
    with pytest.raises(InputError) as caught:
        read_imd(no_lad, release=2019)
    assert caught.value.field == "Total population: mid 2012 (excluding prisoners)"
    assert caught.value.row == 1 and "IoD2015" in str(caught.value)


def test_bad_score_in_file7_names_row_and_published_field(tmp_path: Path) -> None:
    lines = FILE7_2019.read_text(encoding="utf-8").split("\n")
    header = next(
        iter(pd.read_csv(FILE7_2019, nrows=0).columns.get_indexer(["Income Score (rate)"]))
    )
    cells = lines[2].split(",")  # E01011264, spreadsheet row 3
    cells[header] = "n/a"
    lines[2] = ",".join(cells)
    bad = tmp_path / FILE7_2019.name
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_imd(bad, release=2019)
    err = caught.value
    assert (err.file, err.row, err.field) == (str(bad), 3, "Income Score (rate)")
    assert "'n/a' is not a number" in str(err)


@pytest.mark.realdata
def test_official_files_added_to_the_data_directory_are_loaded(
    sqlite_store: Store, data_dir: Path, tmp_path: Path, file2: pd.DataFrame
) -> None:
    """An analyst drops the official IoD2019 File 7 and File 5 and the IoD2025 File 7 into the
    data directory: ``data load`` picks them up by their published names, and their scores join
    the ranks of the files already there (values both give must agree), for the areas they
    cover; every other area keeps its ranks, without a score."""
    from strengthmap.sources import load_data_dir
    from strengthmap.sources.catalog import BY_ID

    data = tmp_path / "data"
    for path in data_dir.rglob("*"):
        if path.is_file():
            (data / path.relative_to(data_dir)).parent.mkdir(parents=True, exist_ok=True)
            (data / path.relative_to(data_dir)).symlink_to(path)
    for dataset, fixture_path in (
        ("imd2019_file7", FILE7_2019),
        ("imd2019_file5", FILE5_2019),
        ("imd2025_file7", FILE7_2025),
    ):
        (data / BY_ID[dataset].path).write_bytes(fixture_path.read_bytes())
    reports = {r.dataset: r for r in load_data_dir(sqlite_store, data, place="Leeds")}
    assert {"imd2019_file7", "imd2019_file5", "imd2025_file7"} <= set(reports)
    assert reports["imd2019_file5"].rows_read == 4  # read whole, three of them in Leeds
    stored = _deprivation(sqlite_store, 2019)
    src = fixture(FILE7_2019, "LSOA code (2011)")
    leeds = [c for c in src.index if c in stored.index]
    assert len(leeds) == 3 and len(stored) == 482
    for code in leeds:
        for key in PUBLISHED:
            assert stored.at[code, f"{key}_score"] == pytest.approx(
                src.at[code, official(key, "score")]
            )
            assert stored.at[code, f"{key}_rank"] == file2.at[code, official(key, "rank")]
    others = stored.drop(index=leeds)
    assert others["imd_score"].isna().all() and others["imd_rank"].notna().all()
    stored25 = _deprivation(sqlite_store, 2025)
    assert len(stored25) == 488 and stored25["imd_score"].notna().all()
    src25 = fixture(FILE7_2025, "LSOA code (2021)")
    for code in [c for c in src25.index if c in stored25.index]:
        for ours, name in POP_2025.items():
            assert stored25.at[code, ours] == src25.at[code, name]
    with sqlite_store.session() as s:
        ids = set(s.scalars(select(schema.Dataset.id)))
    assert {"imd2019_file7", "imd2019_file5", "imd2025_file7"} <= ids
