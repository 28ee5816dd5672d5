"""Imports: OSM and ODS asset files (real data), the CSV template, ORUK tabular CSV, taxonomies."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from strengthmap.directory.imports import detect_format, import_file
from strengthmap.directory.schedules import open_at
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.directory.taxonomy import import_taxonomy, install_default_taxonomy, term_id
from strengthmap.errors import InputError
from strengthmap.sources.assets import load_assets
from strengthmap.storage import Store, schema

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "new-wortley-community-centre.csv"
ORUK_CSV = ROOT.parent / "shared" / "specs" / "openreferral-uk-3.0" / "examples" / "csv"


def _count(store: Store, model: type, *where: object) -> int:
    with store.session() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def test_load_assets_real_files(store: Store, data_dir: Path) -> None:
    reports = load_assets(store, data_dir, place="Leeds")
    assert [r.dataset for r in reports] == ["osm_community_pois", "ods_epraccur"]
    osm_file = data_dir / "assets" / "leeds_central_osm_community_pois_2022.geojson"
    ods_file = data_dir / "assets" / "leeds_gp_and_prescribing_sites_epraccur_2025-05.csv"
    with ods_file.open() as f:
        ods_rows = list(csv.DictReader(f))
    import json

    n_osm = len(json.loads(osm_file.read_text())["features"])
    assert _count(store, schema.Service, schema.Service.source == "osm_community_pois") == n_osm
    assert _count(store, schema.Service, schema.Service.source == "ods_epraccur") == len(ods_rows)
    # every record says where it came from and under which licence
    with store.session() as s:
        for model in (schema.Service, schema.Location, schema.Organization):
            licences = set(s.scalars(sa.select(model.licence).where(model.source != "strengthmap")))
            assert licences == {"ODbL-1.0", "OGL-UK-3.0"}
        datasets = {d.id: d for d in s.scalars(sa.select(schema.Dataset))}
        assert "OpenStreetMap" in datasets["osm_community_pois"].attribution
        assert "ODS" in datasets["ods_epraccur"].attribution
    # GP practices (prescribing setting 4) carry the gp-practice term
    gp = sum(r["prescribing_setting"] == "4" for r in ods_rows)
    assert gp == 86
    page = search_services(store, ServiceQuery(taxonomy_term_ids=["gp-practice"], per_page=1000))
    assert page.total == gp + 4  # and the 4 OSM amenity=doctors points
    # rows without coordinates are kept, without a point
    no_point = sum(not r["lat"] for r in ods_rows)
    assert no_point == 3
    assert (
        _count(
            store,
            schema.Location,
            schema.Location.source == "ods_epraccur",
            schema.Location.latitude.is_(None),
        )
        == no_point
    )
    # opening_hours became schedules: the Central Library opens Wednesday 09:00-19:00
    with store.session() as s:
        lib = s.scalars(
            sa.select(schema.Service).where(schema.Service.name == "Leeds Central Library")
        ).one()
        scheds = s.scalars(
            sa.select(schema.Schedule).where(schema.Schedule.service_id == lib.id)
        ).all()
    assert open_at(scheds, "wed", "18:00", "18:30") and not open_at(scheds, "sun", "16:00", "17:00")
    # loading again changes nothing
    before = _count(store, schema.Service)
    assert all(r.skipped_unchanged for r in load_assets(store, data_dir, place="Leeds"))
    import_file(store, ods_file)  # forced re-import: upsert by id
    assert _count(store, schema.Service) == before


def test_template_example_and_wednesday_lunch(store: Store) -> None:
    summary = import_file(store, EXAMPLE)
    assert summary.format == "template" and summary.services == 8
    with store.session() as s:
        scheds = s.scalars(sa.select(schema.Schedule)).all()
        assert scheds and all(x.illustrative for x in scheds)
        toddler = next(x for x in scheds if x.exdates)
        assert toddler.exdates == ["2026-10-28", "2027-02-17", "2027-05-26"]
    page = search_services(
        store,
        ServiceQuery(
            text="lunch",
            near=(-1.57538, 53.79023),
            radius_m=1000,
            day="wed",
            start_time="12:00",
            end_time="17:00",
        ),
    )
    assert [h.name for h in page.items] == ["Community lunch"]
    import_file(store, EXAMPLE)
    assert _count(store, schema.Service) == 8


def _bad_copy(tmp_path: Path, row: int, column: str, value: str) -> Path:
    with EXAMPLE.open() as f:
        rows = list(csv.DictReader(f))
    rows[row - 2][column] = value
    out = tmp_path / "bad.csv"
    with out.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        (4, "opens_at", "noon"),
        (5, "day", "someday"),
        (6, "latitude", "200"),
        (7, "kind", "club"),
        (8, "taxonomy", "no-such-term"),
        (9, "end_date", "2020-01-01"),
        (10, "cost", "a fiver"),
        (3, "postcode", "LS1"),
    ],
)
def test_bad_template_row_names_row_and_column_and_writes_nothing(
    sqlite_store: Store, tmp_path: Path, row: int, column: str, value: str
) -> None:
    bad = _bad_copy(tmp_path, row, column, value)
    with pytest.raises(InputError) as e:
        import_file(sqlite_store, bad)
    assert (e.value.row, e.value.field) == (row, column)
    assert _count(sqlite_store, schema.Service) == 0


def test_missing_column_and_unknown_format(sqlite_store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "t.csv"
    bad.write_text("organization,description\nA,b\n")
    with pytest.raises(InputError) as e:
        import_file(sqlite_store, bad, "template")
    assert (e.value.row, e.value.field) == (1, "service_name")
    with pytest.raises(InputError):
        detect_format(bad)
    assert detect_format(EXAMPLE) == "template"
    assert detect_format(ORUK_CSV) == "oruk-csv"


def test_oruk_tabular_package(store: Store, tmp_path: Path) -> None:
    summary = import_file(store, ORUK_CSV)
    assert summary.format == "oruk-csv" and summary.services == 1
    with ORUK_CSV.joinpath("services.csv").open() as f:
        expected = next(csv.DictReader(f))
    with store.session() as s:
        svc = s.get(schema.Service, expected["id"])
        assert svc is not None
        assert (svc.name, svc.minimum_age, svc.maximum_age, svc.status) == (
            expected["name"],
            int(expected["minimum_age"]),
            int(expected["maximum_age"]),
            expected["status"],
        )
        assert s.scalar(sa.select(sa.func.count()).select_from(schema.Schedule)) == 1
    import_file(store, ORUK_CSV)
    assert _count(store, schema.Service) == 1
    # a bad value names the file, row and column; nothing is written
    copy = tmp_path / "pkg"
    shutil.copytree(ORUK_CSV, copy)
    text = (copy / "services.csv").read_text().replace(",12,100,", ",twelve,100,")
    (copy / "services.csv").write_text(text)
    with pytest.raises(InputError) as e:
        import_file(store, copy)
    assert e.value.file and e.value.file.endswith("services.csv")
    assert (e.value.row, e.value.field) == (2, "minimum_age")


def test_taxonomies(sqlite_store: Store, tmp_path: Path) -> None:
    assert install_default_taxonomy(sqlite_store) == install_default_taxonomy(sqlite_store)
    with sqlite_store.session() as s:
        food = s.get(schema.TaxonomyTerm, term_id("food"))
        meals = s.get(schema.TaxonomyTerm, term_id("community-meals"))
        assert food is not None and meals is not None and meals.parent_id == food.id
    custom = tmp_path / "local.csv"
    custom.write_text(
        "code,name,description,parent_code\nwarm,Warm spaces,,\nwarm-lunch,Warm lunch,,warm\n"
    )
    assert import_taxonomy(sqlite_store, custom) == 2
    custom.write_text("code,name,parent_code\nwarm,Warm spaces,\nx,X,nowhere\n")
    with pytest.raises(InputError) as e:
        import_taxonomy(sqlite_store, custom)
    assert (e.value.row, e.value.field) == (3, "parent_code")
    oruk_terms = (
        ROOT.parent
        / "shared"
        / "specs"
        / "openreferral-uk-3.0"
        / "examples"
        / "taxonomy_term_list.json"
    )
    if oruk_terms.is_file():
        assert import_taxonomy(sqlite_store, oruk_terms) >= 1


def test_oruk_json_goes_through_import_oruk(sqlite_store: Store, tmp_path: Path) -> None:
    import json

    doc = {
        "id": "0c5b7f53-6a0f-4c39-9a07-5b1d6d1f0001",
        "name": "Lunch club",
        "status": "active",
        "schedules": [
            {"id": "0c5b7f53-6a0f-4c39-9a07-5b1d6d1f0002", "freq": "WEEKLY", "byday": "WE",
             "opens_at": "12:00", "closes_at": "14:00"}
        ],
    }  # fmt: skip
    example = tmp_path / "service.json"
    example.write_text(json.dumps(doc))
    assert detect_format(example) == "oruk-json"
    summary = import_file(sqlite_store, example)
    assert summary.format == "oruk-json" and summary.written["service"] == 1
    again = import_file(sqlite_store, example)  # upsert by id: nothing new
    assert again.written.get("service", 0) == 0
    assert _count(sqlite_store, schema.Service) == 1
    assert search_services(sqlite_store, ServiceQuery(text="lunch", day="wed")).total == 1
    # the spec's own example has a latitude of 100: refused with its JSON path, nothing written
    with pytest.raises(InputError) as e:
        import_file(sqlite_store, ORUK_CSV.parent / "service_full.json")
    assert "latitude" in str(e.value)
    assert _count(sqlite_store, schema.Service) == 1


def test_a_newer_extract_retires_what_vanished_and_restores_what_returns(
    store: Store, data_dir: Path, tmp_path: Path
) -> None:
    """ODS and OSM files are whole datasets: a row gone from the newer file retires its records
    (never deletes them; other sources untouched); a row that comes back is live again."""
    ods_file = data_dir / "assets" / "leeds_gp_and_prescribing_sites_epraccur_2025-05.csv"
    osm_file = data_dir / "assets" / "leeds_central_osm_community_pois_2022.geojson"
    import_file(store, osm_file, source="osm_community_pois")
    first = import_file(store, ods_file, source="ods_epraccur")
    assert first.retired == {}
    with ods_file.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    gone = next(r for r in rows if r["prescribing_setting"] == "4" and r["lat"])
    newer = tmp_path / ods_file.name
    with newer.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r is not gone)

    def live(source: str) -> int:
        return _count(
            store,
            schema.Service,
            schema.Service.source == source,
            schema.Service.retired_at.is_(None),
        )

    osm_live, total = live("osm_community_pois"), _count(store, schema.Service)
    kept = import_file(store, newer, source="ods_epraccur", keep_vanished=True)
    assert kept.retired == {} and live("ods_epraccur") == len(rows)
    summary = import_file(store, newer, source="ods_epraccur")
    assert summary.retired["service"] == 1 and summary.retired["location"] == 1
    assert live("ods_epraccur") == len(rows) - 1
    assert live("osm_community_pois") == osm_live  # another source: untouched
    assert _count(store, schema.Service) == total  # nothing deleted
    with store.session() as s:
        svc = s.scalars(
            sa.select(schema.Service).where(
                schema.Service.source == "ods_epraccur", schema.Service.retired_at.is_not(None)
            )
        ).one()
        assert gone["org_code"] in (svc.source_ref or "")
        audited = s.scalars(
            sa.select(schema.AuditEntry).where(
                schema.AuditEntry.entity_id == svc.id, schema.AuditEntry.action == "retire"
            )
        ).all()
        assert len(audited) == 1
    found = search_services(store, ServiceQuery(taxonomy_term_ids=["gp-practice"], per_page=1000))
    assert svc.id not in {h.service_id for h in found.items}
    again = import_file(store, ods_file, source="ods_epraccur")  # it is back upstream
    assert again.retired == {} and live("ods_epraccur") == len(rows)


def test_last_verified_is_a_real_check_date_never_the_import_day(
    sqlite_store: Store, data_dir: Path, tmp_path: Path
) -> None:
    """Published files say when a record was last checked (OSM check_date / survey:date, ORUK
    assured_date) or nothing; the import day is stamped only on the community builder's sheet."""
    import json
    from datetime import date

    from strengthmap.directory.formats.osm import checked_on, parse_other_tags

    osm_file = data_dir / "assets" / "leeds_central_osm_community_pois_2022.geojson"
    import_file(sqlite_store, osm_file, source="osm_community_pois")
    import_file(
        sqlite_store, data_dir / "assets" / "leeds_gp_and_prescribing_sites_epraccur_2025-05.csv"
    )
    features = json.loads(osm_file.read_text())["features"]
    expected = {
        f"node/{f['properties']['osm_id']}": checked_on(
            parse_other_tags(f["properties"].get("other_tags"))
        )
        for f in features
    }
    with sqlite_store.session() as s:
        osm = dict(
            s.execute(
                sa.select(schema.Service.source_ref, schema.Service.last_verified).where(
                    schema.Service.source == "osm_community_pois"
                )
            ).all()
        )
        ods = s.scalars(
            sa.select(schema.Service.last_verified).where(schema.Service.source == "ods_epraccur")
        ).all()
    assert osm == expected
    dated = [d for d in osm.values() if d is not None]
    assert 5 <= len(dated) < len(osm) and max(dated) < date(2023, 1, 1)
    assert set(ods) == {None}

    summary = import_file(sqlite_store, EXAMPLE)  # the community builder's sheet
    with sqlite_store.session() as s:
        stamped = set(
            s.scalars(
                sa.select(schema.Service.last_verified).where(
                    schema.Service.source == summary.source
                )
            )
        )
    assert stamped and None not in stamped

    import_file(sqlite_store, ORUK_CSV)  # ORUK tabular: assured_date is the check date
    with sqlite_store.session() as s:
        counselling = s.get(schema.Service, "ac148810-d857-441c-9679-408f346de14b")
    assert counselling is not None and counselling.last_verified == date(2005, 1, 1)


# --- the registry of formats ----------------------------------------------------------------


def _osm_file(path: Path, props: dict[str, str]) -> Path:
    import json

    feature = {
        "type": "Feature",
        "properties": {"osm_id": "42", "name": "Hall", "category": "amenity=community_centre",
                       "amenity": "community_centre", **props},
        "geometry": {"type": "Point", "coordinates": [-1.57, 53.79]},
    }  # fmt: skip
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_formats_are_a_registry(sqlite_store: Store, tmp_path: Path) -> None:
    from strengthmap.directory import formats
    from strengthmap.directory.imports import FORMATS, SNAPSHOT_FORMATS

    assert FORMATS == ("oruk-json", "oruk-csv", "osm", "ods", "template")  # the CLI's order
    assert {"osm", "ods"} == SNAPSHOT_FORMATS
    assert [n for n, f in formats.FORMATS.items() if f.stamp_verified] == ["template"]
    assert [n for n, f in formats.FORMATS.items() if f.load is not None] == ["oruk-json"]
    with pytest.raises(ValueError, match="already registered"):
        formats.register(formats.FORMATS["osm"])
    with pytest.raises(InputError, match="unknown format 'kml'; one of oruk-json"):
        import_file(sqlite_store, EXAMPLE, "kml")
    # each file is recognised by exactly one format, from its shape
    ods = tmp_path / "sites.csv"
    ods.write_text("org_code,name,postcode,prescribing_setting,lat,lon\n")
    oruk = tmp_path / "service.json"
    oruk.write_text('{"id": "x", "name": "Lunch club"}')
    package = tmp_path / "datapackage.json"
    package.write_text('{"profile": "tabular-data-package", "resources": []}')
    shapes = {
        _osm_file(tmp_path / "p.geojson", {}): "osm",
        ods: "ods",
        EXAMPLE: "template",
        ORUK_CSV: "oruk-csv",
        package: "oruk-csv",
        oruk: "oruk-json",
    }
    for path, name in shapes.items():
        assert detect_format(path) == name, path
    # and a file no format recognises says what it looks like
    points = tmp_path / "points.geojson"
    points.write_text('{"type": "FeatureCollection", "features": [{"properties": {"id": 1}}]}')
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    for path, message in ((points, "not OSM points"), (empty, "without ORUK CSV"),
                          (notes, "cannot tell the format"), (broken, "not JSON")):  # fmt: skip
        with pytest.raises(InputError, match=message):
            detect_format(path)


def test_import_takes_the_place_it_is_told(sqlite_store: Store, tmp_path: Path) -> None:
    """The place (``Settings.place``) is the dataset's scope and the town of an address that
    names none; nothing says Leeds unless the caller does."""
    path = _osm_file(tmp_path / "hall.geojson", {"addr_street": "Main Street"})
    import_file(sqlite_store, path, source="osm_test", place="Bradford")
    with sqlite_store.session() as s:
        assert s.scalars(sa.select(schema.Address.city)).all() == ["Bradford"]
        assert s.get(schema.Dataset, "osm_test").scope == "Bradford"  # type: ignore[union-attr]
    import_file(sqlite_store, path, source="osm_test")
    with sqlite_store.session() as s:
        assert s.scalars(sa.select(schema.Address.city)).all() == [""]
        assert s.get(schema.Dataset, "osm_test").scope is None  # type: ignore[union-attr]


def test_directory_and_areas_do_not_import_sources() -> None:
    """The directory's formats live in ``directory/formats``; ``areas`` takes its constants from
    ``coords`` and the schema: neither reaches into ``sources/`` (which may import them)."""
    import ast

    src = ROOT / "src" / "strengthmap"
    files = [*sorted((src / "directory").rglob("*.py")), src / "areas.py"]
    for path in files:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                assert not name.startswith("strengthmap.sources"), f"{path.name} imports {name}"
