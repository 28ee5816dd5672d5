"""Route profiles: inputs, sampling on the ellipsoid, per-point areas and values, bad input, CLI, API.

The recipes' numbers are checked against an independent geopandas computation (sjoin of the
sampled points on the boundary files, merged with the IMD and life-expectancy CSVs).
"""

from __future__ import annotations

import itertools
import json
import zipfile
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import gpxpy.gpx
import numpy as np
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Geod, Transformer

from strengthmap.cli import main
from strengthmap.errors import InputError
from strengthmap.routes import (
    PRESETS,
    ProfilePoint,
    profile_route,
    route_from,
    route_from_geojson,
    route_from_gpx,
    route_from_gtfs,
    route_from_one_of,
    route_from_osm,
    route_from_stops,
    route_from_waypoints,
)
from strengthmap.routes.results import LifeExpectancyAt, ValueCI
from strengthmap.storage import Store, schema

BUS = "Centre@-1.5478,53.7965;Harehills@-1.5100,53.8120;Wetherby@-1.3860,53.9280"
WALK = (
    "Leeds station@-1.5477,53.7951;Wellington Street@-1.5560,53.7965;"
    "Wellington Road@-1.5640,53.7960;Wortley Lane@-1.5700,53.7935;New Wortley@-1.5790,53.7940"
)


@pytest.fixture
def leeds(leeds_store: Store) -> Store:
    """The Leeds store loaded once per backend per session (``leeds_store`` in conftest)."""
    return leeds_store


def independent(points: list[dict], data_dir: Path, release: int) -> pd.DataFrame:
    """Areas and values of the points by geopandas sjoin + pandas merges on the raw files."""
    b = data_dir / "boundaries"
    pts = gpd.GeoDataFrame(
        {"i": range(len(points))},
        geometry=gpd.points_from_xy([p["lon"] for p in points], [p["lat"] for p in points]),
        crs=4326,
    )
    lsoa_file, lcol = (
        ("leeds_lsoa2011_bgc.geojson", "LSOA11CD")
        if release == 2019
        else ("leeds_lsoa2021_bsc.geojson", "LSOA21CD")
    )
    lsoa = gpd.read_file(b / lsoa_file)[[lcol, "geometry"]]
    msoa = gpd.read_file(b / "leeds_msoa2011_bgc.geojson")[["MSOA11CD", "geometry"]]
    j = gpd.sjoin(pts, lsoa, predicate="within", how="left").drop(columns="index_right")
    j = j.drop_duplicates("i")
    j = gpd.sjoin(j, msoa, predicate="within", how="left").drop_duplicates("i")
    if release == 2019:
        imd = pd.read_csv(data_dir / "imd" / "leeds_imd2019_lsoa2011.csv")[
            ["lsoa11cd", "imd_decile", "imd_rank"]
        ]
        imd.columns = [lcol, "imd_decile", "imd_rank"]
    else:
        imd = pd.read_csv(data_dir / "imd" / "imd2025_england_lsoa21.csv.gz")[
            ["lsoa21_code", "IMD_decile", "IMD_rank"]
        ]
        imd.columns = [lcol, "imd_decile", "imd_rank"]
    le = pd.read_csv(data_dir / "life_expectancy" / "leeds_le_birth_msoa2011_2016_2020.csv")
    wide = le.pivot(index="msoa11cd", columns="sex", values="le_birth").reset_index()
    wide = wide.rename(columns={"msoa11cd": "MSOA11CD", "Males": "le_male", "Females": "le_female"})
    out = j.merge(imd, on=lcol, how="left").merge(
        wide[["MSOA11CD", "le_male", "le_female"]], on="MSOA11CD", how="left"
    )
    return out.sort_values("i").rename(columns={lcol: "lsoa"}).reset_index(drop=True)


@pytest.mark.realdata
@pytest.mark.parametrize(("text", "release"), [(BUS, 2019), (WALK, 2019), (BUS, 2025)])
def test_recipes_match_independent_geopandas(
    leeds: Store, data_dir: Path, text: str, release: int
) -> None:
    prof = profile_route(
        leeds, text, every_m=100 if text == WALK else 500, imd_release=release
    ).to_dict()
    pts = prof["points"]
    ref = independent(pts, data_dir, release)
    assert len(ref) == len(pts)
    for p, r in zip(pts, ref.itertuples(), strict=True):
        assert p["lsoa_code"] == (None if pd.isna(r.lsoa) else r.lsoa)
        assert p["msoa_code"] == (None if pd.isna(r.MSOA11CD) else r.MSOA11CD)
        assert p["imd_decile"] == (None if pd.isna(r.imd_decile) else int(r.imd_decile))
        assert p["imd_rank"] == (None if pd.isna(r.imd_rank) else int(r.imd_rank))
        for sex, col in (("male", r.le_male), ("female", r.le_female)):
            got = p["life_expectancy"][sex]["value"]
            assert (got is None) == pd.isna(col)
            if got is not None:
                assert got == pytest.approx(col, abs=5e-4)
    # distance along the route: independent check in British National Grid metres (within 0.2%)
    stops = [p for p in pts if p["kind"] == "stop"]
    to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
    e, n = to_bng.transform([s["lon"] for s in stops], [s["lat"] for s in stops])
    bng = float(np.sum(np.hypot(np.diff(e), np.diff(n))))
    assert stops[-1]["distance_m"] == pytest.approx(bng, rel=2e-3)
    assert prof["summary"]["length_m"] == stops[-1]["distance_m"]


@pytest.mark.realdata
def test_bus_recipe_contract_and_summary(leeds: Store) -> None:
    prof = profile_route(leeds, BUS, every_m=500, imd_release=2019).to_dict()
    p0 = prof["points"][0]
    for key in (
        "name",
        "lon",
        "lat",
        "distance_m",
        "lsoa_code",
        "msoa_code",
        "imd_decile",
        "imd_rank",
        "life_expectancy",
    ):
        assert key in p0
    assert set(p0["life_expectancy"]) == {"male", "female"}
    assert set(p0["life_expectancy"]["male"]) == {"value", "lower", "upper"}
    # the city-centre MSOA is suppressed at source: a gap, flagged, never a guess
    assert p0["msoa_code"] == "E02006875"
    assert p0["life_expectancy"]["male"]["value"] is None
    assert "le_male_suppressed" in p0["flags"]
    harehills = next(p for p in prof["points"] if p["name"] == "Harehills")
    assert harehills["msoa_code"] == "E02002382"
    assert harehills["life_expectancy"]["female"]["value"] is None
    assert harehills["life_expectancy"]["male"]["value"] is not None
    dist = [p["distance_m"] for p in prof["points"]]
    assert dist == sorted(dist)
    s = prof["summary"]
    male = s["life_expectancy"]["male"]
    assert male["gap_years"] == pytest.approx(male["max"]["value"] - male["min"]["value"], abs=1e-3)
    assert male["significant"] is (male["min"]["upper"] < male["max"]["lower"])
    assert s["imd"]["decile_min"] == 1 and s["imd"]["decile_max"] == 10
    assert s["n_stops"] == 3 and s["largest_stop_changes_by_measure"]["life_expectancy_male"]
    # the interleaved lists "kept for compatibility" are gone: one list per measure, each in its unit
    assert "largest_stop_changes" not in s and "largest_point_changes" not in s


@pytest.mark.realdata
def test_outside_points_are_flagged_not_dropped(leeds: Store) -> None:
    # York is outside Leeds: the point stays, flagged, with no values
    prof = profile_route(
        leeds, "Leeds@-1.5478,53.7965;York@-1.0815,53.9600", every_m=5000
    ).to_dict()
    york = prof["points"][-1]
    assert york["name"] == "York" and york["lsoa_code"] is None and york["imd_decile"] is None
    assert "outside_lsoa_coverage" in york["flags"] and "outside_msoa_coverage" in york["flags"]
    assert prof["summary"]["n_outside"] >= 1


@pytest.mark.realdata
def test_osm_route_and_stops(leeds: Store, data_dir: Path) -> None:
    route = route_from_osm("7", data_dir)
    assert route.attribution and 500 < route.length_m() < 20_000
    prof = profile_route(leeds, route, every_m=250).to_dict()
    assert prof["summary"]["n_points"] >= 3
    assert any("OpenStreetMap" in a for a in prof["summary"]["attribution"])
    stops = route_from_stops("450010676,450013208", data_dir)
    assert [s.code for s in stops.stops] == ["450010676", "450013208"]
    with pytest.raises(InputError, match="unknown stop code"):
        route_from_stops("450010676,999999999", data_dir)
    with pytest.raises(InputError, match="no OSM bus route"):
        route_from_osm("NO-SUCH-REF", data_dir)


def test_bad_waypoints() -> None:
    with pytest.raises(InputError, match="single point"):
        route_from_waypoints("A@-1.5,53.8")
    with pytest.raises(InputError, match="single point"):
        route_from_waypoints("A@-1.5,53.8;B@-1.5,53.8")
    with pytest.raises(InputError, match="zero-length"):
        route_from_waypoints("A@-1.5,53.8;B@-1.5000001,53.8")
    with pytest.raises(InputError, match="swapped"):
        route_from_waypoints("A@53.7965,-1.5478;B@53.8120,-1.5100")
    with pytest.raises(InputError, match="OSGB36"):
        route_from_waypoints("A@430000,433000;B@431000,434000")
    with pytest.raises(InputError, match="NAME@LON,LAT"):
        route_from_waypoints("A@-1.5;B@-1.6,53.8")


def test_geojson_and_gpx_inputs(tmp_path: Path) -> None:
    line = {
        "type": "Feature",
        "properties": {"name": "test"},
        "geometry": {
            "type": "MultiLineString",
            "coordinates": [
                [[-1.5478, 53.7965], [-1.5400, 53.8000]],
                [[-1.5300, 53.8050], [-1.5400, 53.8000]],
            ],
        },
    }  # second part reversed
    stop = {
        "type": "Feature",
        "properties": {"name": "Mid"},
        "geometry": {"type": "Point", "coordinates": [-1.5400, 53.8000]},
    }
    f = tmp_path / "r.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [line, stop]}))
    r = route_from_geojson(f)
    assert [tuple(c) for c in r.line.coords] == [(-1.5478, 53.7965), (-1.54, 53.8), (-1.53, 53.805)]
    assert [s.name for s in r.stops] == ["Mid"]
    bad = tmp_path / "point.geojson"
    bad.write_text(json.dumps({"type": "Point", "coordinates": [-1.5, 53.8]}))
    with pytest.raises(InputError, match="no LineString"):
        route_from_geojson(bad)
    single = tmp_path / "single.geojson"
    single.write_text(json.dumps({"type": "LineString", "coordinates": [[-1.5, 53.8]]}))
    with pytest.raises(InputError, match="single point"):
        route_from_geojson(single)

    gpx = gpxpy.gpx.GPX()
    track = gpxpy.gpx.GPXTrack(name="walk")
    seg = gpxpy.gpx.GPXTrackSegment()
    seg.points += [
        gpxpy.gpx.GPXTrackPoint(53.7951, -1.5477),
        gpxpy.gpx.GPXTrackPoint(53.7965, -1.5560),
    ]
    track.segments.append(seg)
    gpx.tracks.append(track)
    (tmp_path / "w.gpx").write_text(gpx.to_xml())
    assert route_from_gpx(tmp_path / "w.gpx").name == "walk"
    empty = gpxpy.gpx.GPX()
    empty.waypoints.append(gpxpy.gpx.GPXWaypoint(53.79, -1.54, name="lonely"))
    (tmp_path / "e.gpx").write_text(empty.to_xml())
    with pytest.raises(InputError, match="no track"):
        route_from_gpx(tmp_path / "e.gpx")


def _gtfs(path: Path, *, empty: bool = False) -> Path:
    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Test Buses,https://example.org,Europe/London\n",
        "routes.txt": "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        + ("" if empty else "R7,A,7,Leeds - Harehills,3\n"),
        "trips.txt": "route_id,service_id,trip_id,shape_id\n"
        + ("" if empty else "R7,S,T1,SH1\nR7,S,T2,SH1\n"),
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nS1,Centre,53.7965,-1.5478\nS2,Harehills,53.8120,-1.5100\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        + (
            ""
            if empty
            else "T1,08:00:00,08:00:00,S1,1\nT1,08:12:00,08:12:00,S2,2\nT2,09:00:00,09:00:00,S1,1\nT2,09:12:00,09:12:00,S2,2\n"
        ),
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nS,1,1,1,1,1,0,0,20250101,20251231\n",
        "shapes.txt": "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
        + (
            "" if empty else "SH1,53.7965,-1.5478,1\nSH1,53.8010,-1.5300,2\nSH1,53.8120,-1.5100,3\n"
        ),
    }
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


def test_gtfs_input(tmp_path: Path) -> None:
    r = route_from_gtfs(_gtfs(tmp_path / "feed.zip"), "R7")
    assert [s.name for s in r.stops] == ["Centre", "Harehills"]
    assert len(r.line.coords) == 3 and r.name == "7"
    with pytest.raises(InputError, match="empty"):
        route_from_gtfs(_gtfs(tmp_path / "empty.zip", empty=True), "R7")
    with pytest.raises(InputError, match="not in the feed"):
        route_from_gtfs(_gtfs(tmp_path / "feed2.zip"), "R99")


@pytest.mark.realdata
def test_gtfs_profile(leeds: Store, tmp_path: Path) -> None:
    prof = profile_route(leeds, route_from_gtfs(_gtfs(tmp_path / "feed.zip"), "R7"), every_m=400)
    stops = prof.stops
    assert [s.name for s in stops] == ["Centre", "Harehills"]
    assert [s.stop_code for s in stops] == ["S1", "S2"]
    assert stops[0].distance_m == 0 and stops[-1].distance_m == prof.summary.length_m
    # only with radius_m: never a null key in the record
    assert all(p.assets_within is None for p in prof.points)
    assert all("assets_within" not in p for p in prof.to_dict()["points"])
    assert prof.to_dict()["points"][0]["stop_code"] == "S1"


def _brute_force_assets(store: Store, points: list[dict], radius_m: float) -> list[list]:
    """Every (point, located asset) pair measured with Geod.inv: no tree, no projection."""
    with store.engine.connect() as conn:
        locs = pd.read_sql(
            "SELECT name, abcd_kind, longitude, latitude FROM location "
            "WHERE longitude IS NOT NULL AND latitude IS NOT NULL AND retired_at IS NULL",
            conn,
        )
    geod = Geod(ellps="WGS84")
    out = []
    for p in points:
        _, _, d = geod.inv(
            np.full(len(locs), p["lon"]),
            np.full(len(locs), p["lat"]),
            locs.longitude,
            locs.latitude,
        )
        near = sorted(
            (round(float(m), 1), n, k)
            for m, n, k in zip(d, locs.name, locs.abcd_kind, strict=True)
            if m <= radius_m
        )
        out.append(near)
    return out


@pytest.mark.realdata
def test_assets_along_the_walk_match_brute_force(leeds: Store, data_dir: Path) -> None:
    prof = profile_route(leeds, WALK, every_m=100, radius_m=250).to_dict()
    pts = prof["points"]
    ref = _brute_force_assets(leeds, pts, 250)
    for p, near in zip(pts, ref, strict=True):
        aw = p["assets_within"]
        assert aw["count"] == len(near)
        got = [(a["distance_m"], a["name"], a["abcd_kind"]) for a in aw["nearest"]]
        assert len(got) == min(3, len(near))
        # the nearest, in order (the JSON lon/lat are rounded to 1e-6 degrees: 0.1 m)
        assert [g[0] for g in got] == pytest.approx([n[0] for n in near[: len(got)]], abs=0.2)
        assert {g[1:] for g in got} <= {n[1:] for n in near}
        assert all(a["abcd_kind"] in schema.ABCD_KINDS for a in aw["nearest"])
    # the walk from the station to New Wortley passes community assets (OSM and NHS ODS)
    station = pts[0]
    assert station["name"] == "Leeds station" and station["assets_within"]["count"] > 0
    s = prof["summary"]
    assert s["radius_m"] == 250
    assert s["assets_within_max"] == max(len(n) for n in ref)
    assert s["assets_near_route"] == sum(s["assets_near_route_by_kind"].values()) > 0
    osm = gpd.read_file(data_dir / "assets" / "leeds_central_osm_community_pois_2022.geojson")
    ods = pd.read_csv(
        data_dir / "assets" / "leeds_gp_and_prescribing_sites_epraccur_2025-05.csv", dtype=str
    )
    known = {n.casefold() for n in [*osm["name"].dropna(), *ods["name"].dropna()]}
    named = {a["name"] for p in pts for a in p["assets_within"]["nearest"]}
    assert named and all(n.casefold() in known for n in named)
    assert any("OpenStreetMap" in a for a in s["attribution"])
    with pytest.raises(InputError, match="radius"):
        profile_route(leeds, WALK, radius_m=-5)


def test_assets_within_counts_retires_and_refreshes(store: Store) -> None:
    """Small rows written here: one MSOA, assets near and far; retired ones are not counted and
    a new location is seen by the next profile (the cached data is refreshed)."""
    with store.transaction() as s:
        s.add(schema.Area(code="E02000001", name="M", level="msoa", vintage=2011,
                          geometry=shapely.box(-1.60, 53.78, -1.50, 53.82)))  # fmt: skip
        s.add(
            schema.Location(
                name="hall", abcd_kind="physical_space", latitude=53.8001, longitude=-1.5500
            )
        )
        s.add(
            schema.Location(name="cafe", abcd_kind="economy", latitude=53.8000, longitude=-1.5520)
        )
        s.add(schema.Location(name="gone", abcd_kind="association", latitude=53.8000, longitude=-1.5501,
                              retired_at=datetime(2025, 1, 1)))  # fmt: skip
        s.add(schema.Location(name="far", abcd_kind="culture", latitude=53.8100, longitude=-1.5500))
        s.add(schema.Location(name="unplaced", abcd_kind="culture"))
    line = "A@-1.5500,53.8000;B@-1.5400,53.8000"
    prof = profile_route(store, line, every_m=1000, radius_m=200).to_dict()
    a = prof["points"][0]["assets_within"]
    # hall 11 m, cafe 131 m; "gone" is retired, "far" is 1.1 km away, "unplaced" has no point
    assert a["count"] == 2
    assert [(n["name"], n["abcd_kind"]) for n in a["nearest"]] == [
        ("hall", "physical_space"),
        ("cafe", "economy"),
    ]
    assert a["nearest"][0]["distance_m"] == pytest.approx(11.1, abs=0.1)
    assert prof["points"][-1]["assets_within"] == {"count": 0, "nearest": []}
    assert prof["summary"]["assets_near_route_by_kind"] == {"economy": 1, "physical_space": 1}
    one = profile_route(store, line, every_m=1000, radius_m=200, assets_nearest=1).points[0]
    assert one.assets_within is not None and [a.name for a in one.assets_within.nearest] == ["hall"]
    with store.transaction() as s:
        s.add(
            schema.Location(name="new", abcd_kind="individual", latitude=53.8000, longitude=-1.5499)
        )
    again = profile_route(store, line, every_m=1000, radius_m=200).points[0].assets_within
    assert again is not None and again.count == 3 and again.nearest[0].name == "new"


@pytest.mark.realdata
def test_largest_changes_one_list_per_measure(leeds: Store) -> None:
    prof = profile_route(leeds, BUS, every_m=500, imd_release=2019).to_dict()
    summary = prof["summary"]
    stops = [p for p in prof["points"] if p["kind"] == "stop"]
    for key, seq in (("largest_stop_changes", stops), ("largest_point_changes", prof["points"])):
        by = summary[f"{key}_by_measure"]
        assert set(by) == {
            "life_expectancy_male",
            "life_expectancy_female",
            "imd_decile",
            "imd_rank",
        }
        for measure, changes in by.items():
            # independent: every consecutive pair with both values, its change, largest first
            def val(p: dict, m: str = measure) -> float | None:
                return p["life_expectancy"][m[16:]]["value"] if m.startswith("life") else p[m]

            diffs = sorted(
                (abs(val(b) - val(a)) for a, b in itertools.pairwise(seq)
                 if val(a) is not None and val(b) is not None and val(a) != val(b)),
                reverse=True,
            )  # fmt: skip
            assert [abs(c["change"]) for c in changes] == pytest.approx(diffs[:5], abs=1e-3)
            assert all(c["measure"] == measure for c in changes)
            for c in changes:  # "from" and "to" are consecutive points, the change is to - from
                i = next(i for i, p in enumerate(seq) if p["distance_m"] == c["from"]["distance_m"])
                assert seq[i + 1]["distance_m"] == c["to"]["distance_m"]
                assert c["change"] == pytest.approx(val(seq[i + 1]) - val(seq[i]), abs=1e-3)
        assert key not in summary  # the interleaved list "kept for compatibility" is gone
    assert summary["largest_point_changes_by_measure"]["imd_decile"]
    # IMD changes are whole deciles and ranks (integers), life expectancy changes are years
    assert all(
        isinstance(c["change"], int)
        for c in summary["largest_point_changes_by_measure"]["imd_rank"]
    )


@pytest.mark.realdata
def test_profile_every_and_release_errors(leeds: Store) -> None:
    with pytest.raises(InputError):
        profile_route(leeds, BUS, every_m=0)
    with pytest.raises(InputError, match="unknown IMD release"):
        profile_route(leeds, BUS, imd_release=2015)
    line = shapely.LineString([(-1.5478, 53.7965), (-1.5100, 53.8120)])
    prof = profile_route(leeds, line, every_m=1000)
    assert [p.name for p in prof.stops] == ["Start", "End"]
    # the default release is the latest loaded, with its LSOA vintage
    assert prof.summary.imd_release == 2025 and prof.summary.lsoa_vintage == 2021


@pytest.mark.realdata
def test_cli_and_api(
    leeds: Store,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = leeds.url.render_as_string(hide_password=False)
    rc = main(["--database", url, "--data", str(data_dir), "route", "profile", "--waypoints", BUS,
               "--every", "500", "--imd-release", "2019", "--json", "--chart", str(tmp_path / "c.svg")])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 0, out
    doc = json.loads(out)
    assert doc == profile_route(leeds, BUS, every_m=500, imd_release=2019).to_dict()
    assert (tmp_path / "c.svg").stat().st_size > 10_000
    rc = main(["--database", url, "route", "profile", "--waypoints", "A@53.79,-1.54;B@53.80,-1.55"])
    assert rc == 2 and "swapped" in capsys.readouterr().err.replace("\n", " ")
    rc = main(["--database", url, "route", "profile", "--waypoints", BUS])
    assert rc == 0 and "Route profile" in capsys.readouterr().out
    rc = main(["--database", url, "route", "profile", "--waypoints", WALK, "--every", "250",
               "--assets-radius-m", "250", "--json"])  # fmt: skip
    walk = json.loads(capsys.readouterr().out)
    assert rc == 0 and walk == profile_route(leeds, WALK, every_m=250, radius_m=250).to_dict()
    assert walk["points"][0]["assets_within"]["count"] > 0
    monkeypatch.setenv("COLUMNS", "400")  # rich must not wrap the asset names
    rc = main(["--database", url, "route", "profile", "--waypoints", WALK, "--assets-radius-m", "250"])  # fmt: skip
    out = capsys.readouterr().out
    assert (
        rc == 0
        and "assets ≤250 m" in out
        and walk["points"][0]["assets_within"]["nearest"][0]["name"] in out
    )

    from strengthmap.api import create_app
    from strengthmap.settings import Settings

    client = TestClient(create_app(Settings(database_url=url, data_dir=data_dir), store=leeds))
    r = client.get(
        "/api/routes/profile", params={"waypoints": BUS, "every": 500, "imd_release": 2019}
    )
    assert r.status_code == 200 and r.json() == doc
    r = client.get("/api/routes/profile", params={"waypoints": WALK, "every": 250, "assets_radius_m": 250})  # fmt: skip
    assert r.status_code == 200 and r.json() == walk
    r = client.get("/api/routes/profile", params={"waypoints": WALK, "assets_radius_m": 0})
    assert r.status_code == 422 and "radius" in r.json()["message"]
    r = client.get("/api/routes/profile", params={"waypoints": "A@430000,433000;B@431000,434000"})
    assert r.status_code == 422 and "OSGB36" in r.json()["message"]


# --- route sources, presets, the typed result -------------------------------------------------


def test_route_from_one_source_and_exactly_one_of(tmp_path: Path) -> None:
    assert route_from("waypoints", BUS).source == "waypoints"
    assert route_from("gtfs", _gtfs(tmp_path / "feed.zip"), gtfs_route="R7").source == "gtfs"
    with pytest.raises(InputError, match="gtfs-route"):
        route_from("gtfs", tmp_path / "feed.zip")
    with pytest.raises(InputError, match="unknown route source 'kml'"):
        route_from("kml", "x")
    with pytest.raises(InputError, match=r"unknown route preset 'nowhere'.*station-new-wortley"):
        route_from("preset", "nowhere")
    # the error names the parameters as the caller spells them (CLI flags, API query names)
    with pytest.raises(InputError, match="give exactly one of --waypoints, --gpx"):
        route_from_one_of({"--waypoints": BUS, "--gpx": tmp_path / "w.gpx"})
    with pytest.raises(InputError, match="give exactly one of waypoints, osm_route"):
        route_from_one_of({"waypoints": None, "osm_route": None})
    route = route_from_one_of({"--waypoints": None, "--preset": "station-new-wortley"})
    assert [s.name for s in route.stops][-1] == "New Wortley"
    assert route.name == PRESETS["station-new-wortley"].label


def test_a_preset_can_name_a_file_of_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from strengthmap.routes import presets

    line = {"type": "LineString", "coordinates": [[-1.5478, 53.7965], [-1.5100, 53.8120]]}
    (tmp_path / "transport").mkdir()
    (tmp_path / "transport" / "line.geojson").write_text(json.dumps(line))
    preset = presets.RoutePreset("a-line", "A line", "geojson", "transport/line.geojson")
    monkeypatch.setitem(presets.PRESETS, "a-line", preset)
    route = route_from("preset", "a-line", data_dir=tmp_path)
    assert route.source == "geojson" and route.name == "A line" and preset.waypoints is None
    assert [s.name for s in route.stops] == ["Start", "End"]


def test_presets_are_the_documented_routes() -> None:
    """One definition of each preset: the recipe in docs/ runs exactly its way-points."""
    docs = Path(__file__).resolve().parent.parent / "docs"
    assert set(PRESETS) == {"centre-harehills-wetherby", "station-new-wortley"}
    for preset in PRESETS.values():
        assert preset.recipe is not None and preset.waypoints is not None
        recipe = (docs / preset.recipe).read_text()
        assert f'--waypoints "{preset.waypoints}"' in recipe, preset.name
        assert f"--preset {preset.name}" in recipe, preset.name
        assert route_from("preset", preset.name).line.equals(
            route_from_waypoints(preset.waypoints).line
        )


def test_profile_record_omits_unset_keys_and_is_typed() -> None:
    le = LifeExpectancyAt(
        male=ValueCI.missing(), female=ValueCI(value=80.0, lower=79.0, upper=81.0)
    )
    point = ProfilePoint(name=None, kind="sample", lon=-1.5, lat=53.8, distance_m=10.0,
                         lsoa_code=None, msoa_code="E02000001", imd_decile=None, imd_rank=None,
                         life_expectancy=le, flags=["outside_lsoa_coverage"])  # fmt: skip
    record = point.to_dict()
    assert "stop_code" not in record and "assets_within" not in record
    assert record["life_expectancy"]["female"] == {"value": 80.0, "lower": 79.0, "upper": 81.0}
    assert point.measure("life_expectancy_female") == 80.0 and point.measure("imd_rank") is None
    with pytest.raises(ValueError, match="frozen"):
        point.distance_m = 5.0  # type: ignore[misc,unused-ignore]  # frozen (seen with the pydantic plugin)


def test_profile_api_declares_its_response_model() -> None:
    from strengthmap.api import create_app
    from strengthmap.settings import Settings

    app = create_app(Settings(database_url="sqlite://"))
    spec = app.openapi()
    op = spec["paths"]["/api/routes/profile"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/RouteProfile")
    assert {p["name"] for p in op["parameters"]} >= {"waypoints", "osm_route", "stops", "preset"}
    point = spec["components"]["schemas"]["ProfilePoint"]
    assert {"lsoa_code", "msoa_code", "imd_decile", "life_expectancy", "flags"} <= set(
        point["required"]
    )
    assert "assets_within" not in point["required"]  # only with a radius
    change = spec["components"]["schemas"]["Change"]
    assert {"from", "to", "change"} <= set(change["properties"])


@pytest.mark.realdata
def test_preset_in_cli_api_and_web_is_the_same_route(
    leeds: Store, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = leeds.url.render_as_string(hide_password=False)
    walk = PRESETS["station-new-wortley"]
    rc = main(["--database", url, "route", "profile", "--preset", walk.name, "--every", "100",
               "--imd-release", "2019", "--json"])  # fmt: skip
    by_preset = json.loads(capsys.readouterr().out)
    assert rc == 0
    direct = profile_route(leeds, WALK, every_m=100, imd_release=2019).to_dict()
    assert by_preset["points"] == direct["points"]
    assert by_preset["summary"]["name"] == walk.label
    rc = main(["--database", url, "route", "profile", "--preset", walk.name, "--waypoints", WALK])
    assert rc == 2 and "exactly one of" in capsys.readouterr().err
    rc = main(["--database", url, "route", "presets", "--json"])
    listed = json.loads(capsys.readouterr().out)
    assert rc == 0 and [p["name"] for p in listed] == list(PRESETS)

    from strengthmap.api import create_app
    from strengthmap.settings import Settings

    client = TestClient(create_app(Settings(database_url=url, data_dir=data_dir), store=leeds))
    r = client.get("/api/routes/profile", params={"preset": walk.name, "every": 100, "imd_release": 2019})  # fmt: skip
    assert r.status_code == 200 and r.json() == by_preset
    r = client.get("/api/routes/profile", params={"preset": "nowhere"})
    assert r.status_code == 422 and "unknown route preset" in r.json()["message"]
    r = client.get("/api/routes/profile", params={"preset": walk.name, "stops": "450010676"})
    assert r.status_code == 422 and "exactly one of" in r.json()["message"]
    # the web page draws the documented walk (the recipe's way-points), not a walk of its own
    page = client.get("/routes", params={"route": walk.name, "assets_radius_m": ""})
    assert page.status_code == 200 and walk.waypoints is not None
    assert walk.waypoints in page.text.replace("&#39;", "'")
    assert page.text.count('<tr data-distance-m="') == len(
        profile_route(leeds, WALK, every_m=250).points
    )
