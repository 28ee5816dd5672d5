"""Walks on a small made-up street grid: the network build and its rules, shortest paths against
networkx, joining points, the planner, exports, the briefing, saved walks and the CLI."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import gpxpy
import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod, Transformer
from shapely.geometry import Polygon

from strengthmap.cli import main
from strengthmap.errors import Forbidden, InputError, NotFound
from strengthmap.geography import AreaIndex
from strengthmap.storage import Store, schema
from strengthmap.walks import (
    add_note,
    briefing_html,
    build_network,
    current_network,
    foot_rule,
    get_walk,
    list_walks,
    load_walk_network,
    parse_at,
    plan_walk,
    read_ways,
    resolve_place,
    retire_walk,
    save_walk,
    to_geojson,
    to_gpx,
)
from strengthmap.walks.facts import AreaFacts
from strengthmap.walks.network import WalkNetwork
from strengthmap.walks.planner import contrast_of

GEOD = Geod(ellps="WGS84")
LON0, LAT0 = -1.5500, 53.8000
DX, DY = 0.0015, 0.0009  # about 99 m and 100 m


def col(i: float) -> float:
    return round(LON0 + i * DX, 7)


def row(j: float) -> float:
    return round(LAT0 + j * DY, 7)


def _way(coords: list[tuple[float, float]], osm_id: int, **tags: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"osm_id": str(osm_id), **tags},
        "geometry": {"type": "LineString", "coordinates": [list(c) for c in coords]},
    }


def grid_features() -> list[dict[str, Any]]:
    """A 4 x 3 grid of residential streets and the ways each rule is about."""
    feats: list[dict[str, Any]] = []
    for j in range(3):
        feats.append(_way([(col(i), row(j)) for i in range(4)], 100 + j, highway="residential",
                          name=f"Row {j} Street"))  # fmt: skip
    for i in range(4):
        feats.append(_way([(col(i), row(j)) for j in range(3)], 200 + i, highway="residential",
                          name=f"Column {i} Road"))  # fmt: skip
    # a shortcut nobody may walk (foot=no) across block (0,0)-(1,1)
    feats.append(_way([(col(0), row(0)), (col(1), row(1))], 301, highway="service", foot="no"))
    # private shortcuts: one refused, one with foot=yes
    feats.append(
        _way([(col(1), row(0)), (col(2), row(1))], 302, highway="service", access="private")
    )
    feats.append(_way([(col(2), row(1)), (col(3), row(2))], 303, highway="service",
                      access="private", foot="yes"))  # fmt: skip
    # a motorway and a bare trunk road across the grid sharing its vertices: never walkable
    feats.append(_way([(col(0), row(1)), (col(1), row(2))], 304, highway="motorway"))
    feats.append(
        _way([(col(1), row(1)), (col(2), row(2))], 305, highway="trunk", name="Bare Trunk")
    )
    # a trunk road with a sidewalk is walkable
    feats.append(_way([(col(2), row(0)), (col(3), row(1))], 306, highway="trunk", sidewalk="both",
                      name="Walkable Trunk"))  # fmt: skip
    # steps up from the top row to a terrace reachable only by them
    feats.append(_way([(col(3), row(2)), (col(3), row(2.5))], 307, highway="steps"))
    feats.append(_way([(col(3), row(2.5)), (col(3.5), row(2.5)), (col(3.5), row(3))], 308,
                      highway="footway", name="Terrace"))  # fmt: skip
    # a footbridge over Row 1 Street, no shared vertex with it (not a junction)
    feats.append(_way([(col(0.5), row(0.5)), (col(0.5), row(1.5))], 309, highway="footway",
                      bridge="yes", name="Bridge"))  # fmt: skip
    # a separate piece far away, and a way that is not a way to walk
    feats.append(_way([(col(8), row(8)), (col(9), row(8))], 310, highway="footway"))
    feats.append(_way([(col(0), row(2)), (col(1), row(0))], 311, highway="construction"))
    # a primary road meeting the grid at (1, 0): a busy road to cross
    feats.append(_way([(col(1), row(0)), (col(1), row(-1))], 312, highway="primary",
                      name="Busy Road", sidewalk="both"))  # fmt: skip
    return feats


def write_geojson(path: Path, feats: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    return path


@pytest.fixture
def grid_file(tmp_path: Path) -> Path:
    return write_geojson(tmp_path / "grid.geojson", grid_features())


@pytest.fixture
def grid(grid_file: Path) -> WalkNetwork:
    return build_network(read_ways(grid_file))


def _node_at(net: WalkNetwork, i: float, j: float) -> int:
    d = np.hypot(net.node_lonlat[:, 0] - col(i), net.node_lonlat[:, 1] - row(j))
    k = int(np.argmin(d))
    assert d[k] < 1e-7
    return k


def _ways_of(net: WalkNetwork, edges: list[int]) -> set[str]:
    return {net.ways[int(net.edge_way[e])]["osm_id"] for e in edges}


# --- foot rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "walkable", "steps"),
    [
        ({"highway": "footway"}, True, False),
        ({"highway": "steps"}, True, True),
        ({"highway": "residential", "foot": "no"}, False, False),
        ({"highway": "footway", "foot": "use_sidepath"}, False, False),
        ({"highway": "service", "access": "private"}, False, False),
        ({"highway": "service", "access": "private", "foot": "yes"}, True, False),
        ({"highway": "service", "access": "no", "foot": "designated"}, True, False),
        ({"highway": "motorway"}, False, False),
        ({"highway": "motorway_link", "foot": "yes"}, False, False),
        ({"highway": "trunk"}, False, False),
        ({"highway": "trunk", "sidewalk": "both"}, True, False),
        ({"highway": "trunk_link", "sidewalk:left": "yes"}, True, False),
        ({"highway": "trunk", "sidewalk": "separate"}, False, False),
        ({"highway": "trunk", "footway": "both"}, True, False),
        ({"highway": "trunk", "foot": "designated"}, True, False),
        ({"highway": "construction"}, False, False),
        ({"highway": "proposed"}, False, False),
        ({}, False, False),
    ],
)
def test_foot_rules(tags: dict[str, str], walkable: bool, steps: bool) -> None:
    rule = foot_rule(tags)
    assert (rule.walkable, rule.steps) == (walkable, steps)
    assert rule.walkable or rule.reason


# --- the build --------------------------------------------------------------------------------


def test_build_nodes_at_shared_vertices_and_reports_the_rules(grid: WalkNetwork) -> None:
    r = grid.report
    assert r.ways_read == len(grid_features())
    refused = r.ways_refused
    assert refused["foot=no"] == 1
    assert refused["access=private"] == 1
    assert refused["motorway"] == 1
    assert refused["trunk road without a footway or sidewalk"] == 1
    assert refused["highway=construction (not a way to walk)"] == 1
    assert r.ways_steps == 1
    # the far footway and the bridge (its ends touch nothing) are pieces of their own: dropped
    assert r.components_dropped == 2 and r.nodes_dropped == 4 and r.edges_dropped == 2
    # grid junctions are nodes; the bridge crosses Row 1 Street without a junction
    for i in range(4):
        for j in range(3):
            _node_at(grid, i, j)
    bridge = [e for e in range(grid.n_edges) if grid.ways[grid.edge_way[e]]["osm_id"] == "309"]
    assert bridge == []  # its ends touch nothing: a piece of its own, dropped


def test_edge_lengths_are_ellipsoid_metres(grid: WalkNetwork) -> None:
    for e in range(grid.n_edges):
        xy = grid.vertex_lonlat[grid.edge_v0[e] : grid.edge_v1[e] + 1]
        _, _, seg = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
        assert grid.edge_length_m[e] == pytest.approx(float(np.sum(seg)), abs=1e-6)
        assert (grid.node_lonlat[grid.edge_u[e]] == xy[0]).all()
        assert (grid.node_lonlat[grid.edge_v[e]] == xy[-1]).all()


def test_shortest_paths_equal_networkx_and_avoid_refused_ways(grid: WalkNetwork) -> None:
    graph = grid.to_networkx()
    rng = np.random.default_rng(7)
    for a, b in rng.integers(0, grid.n_nodes, size=(40, 2)):
        ours = grid.shortest_path(int(a), int(b))
        theirs = nx.shortest_path_length(graph, int(a), int(b), weight="weight")
        assert ours.length_m == pytest.approx(theirs, abs=0.1)
        assert not {"301", "302", "304", "305"} & _ways_of(grid, ours.edges)
    # (0,0) -> (1,1): the foot=no diagonal would be 140 m; the streets are 199 m
    p = grid.shortest_path(_node_at(grid, 0, 0), _node_at(grid, 1, 1))
    assert p.length_m == pytest.approx(99.2 + 100.1, abs=1.5)
    # (2,1) -> (3,2): the private way with foot=yes is walkable and shorter than the streets
    q = grid.shortest_path(_node_at(grid, 2, 1), _node_at(grid, 3, 2))
    assert _ways_of(grid, q.edges) == {"303"}


def test_step_free_avoids_steps(grid: WalkNetwork) -> None:
    terrace = _node_at(grid, 3.5, 3)
    p = grid.shortest_path(_node_at(grid, 0, 0), terrace)
    assert "307" in _ways_of(grid, p.edges)
    with pytest.raises(InputError, match="step-free"):
        grid.shortest_path(_node_at(grid, 0, 0), terrace, step_free=True)


def test_network_round_trips_through_bytes(grid: WalkNetwork) -> None:
    back = WalkNetwork.from_bytes(grid.to_bytes())
    for name in ("node_lonlat", "edge_u", "edge_v", "edge_length_m", "vertex_lonlat"):
        assert np.array_equal(getattr(back, name), getattr(grid, name))
    assert back.ways == grid.ways and back.report == grid.report


def test_snap_joins_a_point_to_the_nearest_way_on_the_ellipsoid(grid: WalkNetwork) -> None:
    # 20 m north of Row 0 Street, half-way along its first block
    lon, lat = col(0.5), row(0) + 20 / 111_250
    (s,) = grid.snap([lon], [lat])
    assert s is not None
    assert s.distance_m == pytest.approx(20.0, abs=0.2)
    assert grid.ways[grid.edge_way[s.edge]]["osm_id"] == "100"
    assert s.lat == pytest.approx(row(0), abs=1e-7)
    # too far, and step-free skips the steps
    assert grid.snap([col(1.5)], [row(9)]) == [None]
    (on_steps,) = grid.snap([col(3) + 0.00002], [row(2.25)])
    (off,) = grid.snap([col(3) + 0.00002], [row(2.25)], step_free=True)
    assert on_steps is not None and grid.edge_steps[on_steps.edge]
    assert off is not None and not grid.edge_steps[off.edge]


def _distance_to_ways_m(coords: np.ndarray, feats: list[dict[str, Any]]) -> np.ndarray:
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={LAT0} +lon_0={LON0} +datum=WGS84 +units=m")
    t = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    lines = [
        shapely.LineString(
            np.column_stack(t.transform(*np.asarray(f["geometry"]["coordinates"]).T))
        )
        for f in feats
    ]
    px, py = t.transform(coords[:, 0], coords[:, 1])
    return np.array(
        [
            min(line.distance(shapely.Point(x, y)) for line in lines)
            for x, y in zip(px, py, strict=False)
        ]
    )


# --- readers ------------------------------------------------------------------------------------


def test_bad_files_name_the_file(tmp_path: Path) -> None:
    cases = {
        "notjson.geojson": "{ not json",
        "point.geojson": json.dumps({"type": "Point", "coordinates": [0, 0]}),
        "swapped.geojson": json.dumps({"type": "FeatureCollection", "features": [
            _way([(53.8, -1.55), (53.8, 181.0)], 1, highway="footway")]}),
        "empty.geojson": json.dumps({"type": "FeatureCollection", "features": []}),
        "bad.osm": "<osm><node",
        "walk.gpx": "<gpx/>",
    }  # fmt: skip
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(InputError) as err:
            read_ways(path)
        assert err.value.file == str(path), name
    with pytest.raises(InputError, match="file not found"):
        read_ways(tmp_path / "missing.geojson")


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
  <node id="1" lat="53.8000" lon="-1.5500" version="1"/>
  <node id="2" lat="53.8000" lon="-1.5485" version="1"/>
  <node id="3" lat="53.8000" lon="-1.5470" version="1"/>
  <node id="4" lat="53.8009" lon="-1.5485" version="1"/>
  <node id="5" lat="53.8009" lon="-1.5470" version="1"/>
  <way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="name" v="Low Street"/></way>
  <way id="11" version="1"><nd ref="2"/><nd ref="4"/><tag k="highway" v="footway"/></way>
  <way id="12" version="1"><nd ref="4"/><nd ref="5"/><nd ref="3"/><tag k="highway" v="path"/><tag k="foot" v="no"/></way>
  <way id="13" version="1"><nd ref="4"/><nd ref="5"/><tag k="highway" v="steps"/></way>
  <way id="14" version="1"><nd ref="1"/><nd ref="4"/><tag k="building" v="yes"/></way>
</osm>
"""


def test_osm_xml_and_pbf_read_like_geojson(tmp_path: Path) -> None:
    import osmium

    xml = tmp_path / "mini.osm"
    xml.write_text(OSM_XML, encoding="utf-8")
    pbf = tmp_path / "mini.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(xml)):
            if isinstance(obj, osmium.osm.Node):
                writer.add_node(obj)
            elif isinstance(obj, osmium.osm.Way):
                writer.add_way(obj)
    for path in (xml, pbf):
        ways = read_ways(path)
        assert [t["osm_id"] for t in ways.tags] == ["10", "11", "12", "13"]  # no highway: skipped
        net = build_network(ways)
        assert net.report.ways_refused == {"foot=no": 1}
        assert net.report.nodes == 5 and net.report.edges == 4
        assert net.report.format == ("pbf" if path is pbf else "osm")


# --- the store --------------------------------------------------------------------------------


def test_load_walk_network_keeps_it_in_the_store(
    store: Store, grid_file: Path, tmp_path: Path
) -> None:
    first = load_walk_network(store, grid_file)
    assert not first.skipped_unchanged and first.report.nodes > 0
    again = load_walk_network(store, grid_file)
    assert again.skipped_unchanged and again.network_id == first.network_id
    net = current_network(store)
    assert net.report.sha256 == first.report.sha256 and net.n_edges == first.report.edges
    # another extract retires the first (kept, never deleted)
    feats = grid_features()[:7]
    other = load_walk_network(store, write_geojson(tmp_path / "other.geojson", feats))
    assert other.network_id != first.network_id
    with store.session() as s:
        rows = s.query(schema.WalkNetwork).order_by(schema.WalkNetwork.id).all()
        assert [r.retired_at is not None for r in rows] == [True, False]
    assert current_network(store).report.sha256 == other.report.sha256
    # a bad file leaves the store as it was
    bad = tmp_path / "bad.geojson"
    bad.write_text("[]", encoding="utf-8")
    with pytest.raises(InputError):
        load_walk_network(store, bad)
    with store.session() as s:
        assert s.query(schema.WalkNetwork).count() == 2


def test_no_network_loaded_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="walk network load"):
        current_network(store)


# --- places and times -------------------------------------------------------------------------


def test_start_times_in_europe_london() -> None:
    assert parse_at("2026-12-02T11:00").isoformat() == "2026-12-02T11:00:00+00:00"
    assert parse_at("2026-07-01T11:00").isoformat() == "2026-07-01T11:00:00+01:00"
    assert parse_at("2026-07-01T10:00Z").isoformat() == "2026-07-01T11:00:00+01:00"
    with pytest.raises(InputError, match="clock-change gap") as err:
        parse_at("2026-03-29T01:30")
    assert err.value.field == "at"
    assert parse_at("2026-03-29T01:30+00:00").isoformat() == "2026-03-29T02:30:00+01:00"
    # the autumn hour that happens twice: the first (BST)
    assert parse_at("2026-10-25T01:30").utcoffset().total_seconds() == 3600  # type: ignore[union-attr]
    for bad in ("tomorrow", "2026-13-01T10:00", "2026-12-02"):
        with pytest.raises(InputError):
            parse_at(bad)


def _add_location(
    store: Store, name: str, lon: float, lat: float, *, services: list[dict[str, Any]]
) -> str:
    with store.transaction() as s:
        loc = schema.Location(name=name, longitude=lon, latitude=lat, abcd_kind="physical_space")
        s.add(loc)
        s.flush()
        for svc in services:
            service = schema.Service(name=svc["name"], abcd_kind=svc.get("kind", "association"))
            s.add(service)
            s.flush()
            s.add(schema.ServiceAtLocation(service_id=service.id, location_id=loc.id))
            for sched in svc.get("schedules", []):
                s.add(schema.Schedule(service_id=service.id, **sched))
        return str(loc.id)


def test_places(store: Store) -> None:
    p = resolve_place(store, "-1.55,53.80")
    assert (p.lon, p.lat, p.kind) == (-1.55, 53.80, "point")
    assert resolve_place(store, "Hall@-1.55,53.80").name == "Hall"
    with pytest.raises(InputError, match="swapped"):
        resolve_place(store, "53.80,-1.55")
    with store.transaction() as s:
        s.add(schema.Postcode(postcode="LS12 1JD", pcd7="LS121JD", lon=-1.57538, lat=53.79023))
    pc = resolve_place(store, "ls121jd", field="to")
    assert (pc.name, pc.lon, pc.lat) == ("LS12 1JD", -1.57538, 53.79023)
    with pytest.raises(InputError, match="unknown postcode LS99 9ZZ") as err:
        resolve_place(store, "LS99 9ZZ", field="to")
    assert err.value.field == "to"
    hall = _add_location(store, "Grid Community Hall", col(1.5), row(1), services=[])
    assert resolve_place(store, "grid community hall").location_id == hall
    assert resolve_place(store, "Community Hall").location_id == hall  # one partial match
    assert resolve_place(store, f"Grid Community Hall@{col(1.5)},{row(1)}").location_id == hall
    _add_location(store, "Grid Community Hall", col(3), row(2), services=[])
    with pytest.raises(InputError, match="matches 2 directory locations"):
        resolve_place(store, "Grid Community Hall")
    with pytest.raises(InputError, match="unknown place"):
        resolve_place(store, "Nowhere At All", field="via")


# --- the planner ------------------------------------------------------------------------------

WED = "2026-12-02T11:00"  # a Wednesday, GMT


@pytest.fixture
def planned_store(store: Store, grid_file: Path) -> Store:
    """The grid as the walking network, and three assets: open on Wednesday late morning,
    closed then, and one with no opening times."""
    load_walk_network(store, grid_file)
    weekly = {"freq": "WEEKLY", "timezone": "Europe/London"}
    _add_location(store, "Open Hall", col(1.5), row(1) + 0.0001, services=[
        {"name": "Wednesday drop-in", "schedules": [{**weekly, "byday": "WE", "opens_at": "10:00",
                                                     "closes_at": "13:00"}]}])  # fmt: skip
    _add_location(store, "Shut Centre", col(2.5), row(1) + 0.0001, services=[
        {"name": "Monday club", "schedules": [{**weekly, "byday": "MO", "opens_at": "10:00",
                                               "closes_at": "13:00"}]}])  # fmt: skip
    _add_location(store, "Corner Garden", col(1), row(2) + 0.0002, services=[{"name": "Garden"}])
    return store


def test_plan_visits_what_is_open_and_follows_the_streets(
    planned_store: Store, grid_file: Path
) -> None:
    plan = plan_walk(planned_store, f"{col(0)},{row(0)}", f"{col(3)},{row(2)}", at=WED,
                     max_km=1.2, dwell_min=15)  # fmt: skip
    d = plan.to_dict()
    assert set(d) >= {"length_m", "duration_min", "path", "stops", "profile", "contrast", "network"}
    names = [s["name"] for s in d["stops"]]
    assert names[0] == f"{col(0):.5f},{row(0):.5f}" and d["stops"][-1]["kind"] == "end"
    assert "Open Hall" in names and "Shut Centre" not in names
    hall = next(s for s in d["stops"] if s["name"] == "Open Hall")
    assert hall["open"] is True and hall["service_id"] and hall["kind"] == "stop"
    assert set(hall) >= {"name", "service_id", "lon", "lat", "arrive", "open"}
    # a stop is at least 100 m (street) from the places either side of it
    for a, b in itertools.pairwise(d["stops"]):
        if "stop" in (a["kind"], b["kind"]):
            assert b["distance_m"] - a["distance_m"] >= 100 - 0.1
    # arrival = start + street metres / 4.5 km/h (+ 15 min at each stop before)
    before = [s for s in d["stops"] if s["kind"] == "stop" and s["distance_m"] < hall["distance_m"]]
    minutes = hall["distance_m"] / (4500 / 60) + 15 * len(before)
    arrive = datetime.fromisoformat(hall["arrive"])
    assert (arrive - parse_at(WED)).total_seconds() / 60 == pytest.approx(
        minutes, abs=1 / 60 + 1e-6
    )
    assert date(2026, 12, 2).weekday() == 2  # WED is a Wednesday
    # the path follows the ways: every vertex within 1 m of one, none on a refused way
    coords = np.asarray(d["path"]["coordinates"])
    walkable = [f for f in grid_features() if foot_rule(f["properties"]).walkable]
    assert _distance_to_ways_m(coords, walkable).max() < 1.0
    net = current_network(planned_store)
    assert d["length_m"] <= 1200 + 1e-6
    assert d["network"] == {"nodes": net.n_nodes, "edges": net.n_edges, "components_dropped": 2}
    assert d["budget"]["max_m"] == 1200 and d["budget"]["slack_m"] >= 0
    assert d["budget"]["score"] <= d["budget"]["score_upper_bound"]
    assert d["profile"] is None  # no areas loaded: the walk is still planned
    assert any("no profile" in n for n in d["notes"])
    # busy roads crossed: at junctions of the path, busy highways only
    busy = {"motorway", "trunk", "primary"}
    for r in d["safety"]["busy_roads_crossed"]:
        assert r["highway"] in busy
        assert np.hypot(*(coords - [r["lon"], r["lat"]]).T).min() < 1e-7
        k = int(np.argmin(np.hypot(*(coords - [r["lon"], r["lat"]]).T)))
        _, _, seg = GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
        assert r["distance_m"] == pytest.approx(float(np.sum(seg[:k])), abs=0.5)
    passes = [
        k for k in range(1, len(coords) - 1) if np.hypot(*(coords[k] - [col(1), row(0)])) < 1e-7
    ]
    assert bool(passes) == any(r["name"] == "Busy Road" for r in d["safety"]["busy_roads_crossed"])


def test_plan_with_no_budget_room_takes_the_shortest(planned_store: Store) -> None:
    net = current_network(planned_store)
    a, b = _node_at(net, 0, 0), _node_at(net, 3, 2)
    shortest = net.shortest_path(a, b).length_m
    plan = plan_walk(planned_store, f"{col(0)},{row(0)}", f"{col(3)},{row(2)}", at=WED,
                     max_km=shortest / 1000 + 0.001)  # fmt: skip
    assert plan.length_m == pytest.approx(shortest, abs=0.1)
    # a stop on the shortest walk costs no detour, only time: it may be kept if open
    assert all(s.open is not False for s in plan.stops if s.kind == "stop")
    nothing = plan_walk(
        planned_store, f"{col(0)},{row(0)}", f"{col(3)},{row(2)}", at=WED, max_stops=0
    )
    assert nothing.length_m == pytest.approx(shortest, abs=0.1)


def test_time_budget_counts_the_stops(planned_store: Store) -> None:
    plan = plan_walk(planned_store, f"{col(0)},{row(0)}", f"{col(3)},{row(2)}", at=WED,
                     max_minutes=25, dwell_min=12)  # fmt: skip
    d = plan.to_dict()
    assert d["duration_min"] <= 25 + 1e-6
    walking = d["length_m"] / (4500 / 60)
    stops = [s for s in d["stops"] if s["kind"] == "stop"]
    assert d["duration_min"] == pytest.approx(walking + 12 * len(stops), abs=0.05)
    assert d["budget"]["max_min"] == 25 and d["budget"]["slack_min"] >= 0


def test_plan_loop_and_vias(planned_store: Store) -> None:
    plan = plan_walk(planned_store, f"{col(0)},{row(0)}", via=[f"Top@{col(2)},{row(2)}"], loop=True,
                     at=WED, max_stops=0)  # fmt: skip
    kinds = [s.kind for s in plan.stops]
    assert kinds == ["start", "via", "end"] and plan.stops[1].name == "Top"
    assert plan.path[0] == pytest.approx(plan.path[-1])
    assert plan.length_m == pytest.approx(2 * (2 * 99.2 + 2 * 100.1), rel=0.02)
    with pytest.raises(InputError, match="goes nowhere"):
        plan_walk(planned_store, f"{col(0)},{row(0)}", loop=True, at=WED, max_km=0.05)
    with pytest.raises(InputError, match="--to or --loop"):
        plan_walk(planned_store, f"{col(0)},{row(0)}", f"{col(1)},{row(0)}", loop=True)
    with pytest.raises(InputError, match="--loop"):
        plan_walk(planned_store, f"{col(0)},{row(0)}")


@pytest.mark.parametrize(
    ("kwargs", "field", "match"),
    [
        ({"to": f"{col(3)},{row(2)}", "max_km": 0.2}, "max_km", "budget is too short"),
        ({"to": f"{col(3)},{row(2)}", "max_minutes": 2}, "max_minutes", "budget is too short"),
        ({"to": f"{col(1.5)},{row(9)}"}, "to", "from the nearest walkable way"),
        ({"to": f"{col(3.5)},{row(3)}", "step_free": True}, "to", "do not connect"),
        ({"to": f"{col(3)},{row(2)}", "at": "2026-03-29T01:15"}, "at", "clock-change gap"),
        ({"to": "Nowhere Hall"}, "to", "unknown place"),
        ({"to": f"{col(3)},{row(2)}", "speed_kmh": 0}, "speed_kmh", "speed_kmh"),
    ],
)
def test_plan_bad_input(
    planned_store: Store, kwargs: dict[str, Any], field: str, match: str
) -> None:
    with pytest.raises(InputError, match=match) as err:
        plan_walk(planned_store, f"{col(0)},{row(0)}", **kwargs)
    assert err.value.field == field


def test_far_start_says_how_far_the_network_is(planned_store: Store) -> None:
    with pytest.raises(InputError) as err:
        plan_walk(planned_store, "-1.70,53.80", f"{col(3)},{row(2)}")
    msg = err.value.message
    assert "km from the nearest walkable way" in msg and "outside the network's area" in msg
    assert err.value.field == "from"


def test_step_free_plan_avoids_steps(planned_store: Store) -> None:
    plan = plan_walk(
        planned_store, f"{col(0)},{row(0)}", f"{col(3)},{row(2.5)}", at=WED, max_stops=0
    )
    assert plan.safety.steps  # the steps are the way up
    assert plan.to_dict()["safety"]["steps"][0]["osm_id"] == "307"


# --- contrast ---------------------------------------------------------------------------------


def test_contrast_reads_deciles_in_order() -> None:
    west = Polygon([(col(-1), row(-1)), (col(1.5), row(-1)), (col(1.5), row(3)), (col(-1), row(3))])
    east = Polygon([(col(1.5), row(-1)), (col(4), row(-1)), (col(4), row(3)), (col(1.5), row(3))])
    index = AreaIndex.from_geometries(["E01000001", "E01000002"], [west, east])
    facts = AreaFacts(
        2019, index, None, {"E01000001": (8, 25000, 32844), "E01000002": (1, 100, 32844)}, {}
    )
    c = contrast_of(facts, np.array([[col(0), row(0)], [col(3), row(0)]]))
    assert c.deciles_in_order == [8, 1] and c.largest_step == 7
    assert (c.decile_min, c.decile_max) == (1, 8)
    assert c.largest_step_at is not None
    assert c.largest_step_at["distance_m"] == pytest.approx(1.5 * 99.2, abs=20.5)


# --- exports and briefing ---------------------------------------------------------------------


def test_gpx_and_geojson(planned_store: Store, tmp_path: Path) -> None:
    plan = plan_walk(planned_store, f"Start@{col(0)},{row(0)}", f"End@{col(3)},{row(2)}", at=WED,
                     max_km=1.2)  # fmt: skip
    text = to_gpx(plan)
    assert 'version="1.1"' in text
    gpx = gpxpy.parse(text)
    assert [w.name for w in gpx.waypoints] == [
        f"{i}. {s.name}" for i, s in enumerate(plan.stops, 1)
    ]
    route = gpx.routes[0].points
    assert len(route) == len(plan.path)
    assert next(p.name for p in route if p.name) == "1. Start"
    assert [p.name for p in route if p.name][-1] == f"{len(plan.stops)}. End"
    assert len(gpx.tracks[0].segments[0].points) == len(plan.path)
    assert gpx.length_2d() == pytest.approx(plan.length_m, rel=0.01)
    gj = to_geojson(plan)
    assert gj["features"][0]["geometry"]["type"] == "LineString"
    assert [f["properties"]["name"] for f in gj["features"][1:]] == [s.name for s in plan.stops]
    assert any("OpenStreetMap" in a for a in gj["attribution"])


def test_briefing_html_is_self_contained(planned_store: Store) -> None:
    plan = plan_walk(planned_store, f"Start@{col(0)},{row(0)}", f"End@{col(3)},{row(2)}", at=WED,
                     max_km=1.2)  # fmt: skip
    html = briefing_html(planned_store, plan)
    assert "<svg" in html and "Timetable" in html and "Open Hall" in html
    assert "OpenStreetMap contributors, ODbL" in html and "Open Government Licence" in html
    assert "@page { size: A4" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # no external files


def test_briefing_pdf_is_a4(planned_store: Store, tmp_path: Path) -> None:
    import shutil

    if shutil.which("chromium") is None:
        pytest.skip("no Chromium")
    from pypdf import PdfReader

    from strengthmap.walks import write_briefing

    plan = plan_walk(planned_store, f"Start@{col(0)},{row(0)}", f"End@{col(3)},{row(2)}", at=WED,
                     max_km=1.2)  # fmt: skip
    out = write_briefing(planned_store, plan, tmp_path / "walk.pdf")
    reader = PdfReader(out)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = " ".join(p.extract_text() for p in reader.pages)
    assert "Timetable" in text and "Open Hall" in text and "ODbL" in text
    with pytest.raises(InputError, match=r"OUT\.pdf or OUT\.html"):
        write_briefing(planned_store, plan, tmp_path / "walk.docx")


# --- saved walks ------------------------------------------------------------------------------


@pytest.fixture
def saved(planned_store: Store) -> tuple[Store, str]:
    with planned_store.transaction() as s:
        square = Polygon(
            [(col(-1), row(-1)), (col(4), row(-1)), (col(4), row(4)), (col(-1), row(4))]
        )
        s.add(
            schema.Area(
                code="E01099999", name="Grid 001A", level="lsoa", vintage=2011, geometry=square
            )
        )
    plan = plan_walk(planned_store, f"Start@{col(0)},{row(0)}", f"End@{col(3)},{row(2)}", at=WED,
                     max_km=1.2)  # fmt: skip
    walk = save_walk(planned_store, plan, name="Grid walk", leader="Asha Patel", participants=12)
    add_note(planned_store, walk.id, "The hall's lunch club feeds forty", public=True, author="Sam")
    add_note(planned_store, walk.id, "Mrs K. at no. 4 wants to start a garden group", author="Sam")
    return planned_store, walk.id


def test_saved_walks_listed_per_area_with_private_notes_for_editors(
    saved: tuple[Store, str],
) -> None:
    store, walk_id = saved
    editor = get_walk(store, walk_id, viewer_role="editor")
    assert editor.leader == "Asha Patel" and len(editor.notes) == 2
    assert editor.areas == ["E01099999"] and editor.participants == 12
    assert editor.plan is not None and editor.plan["stops"][0]["name"] == "Start"
    assert [w.id for w in list_walks(store, area_code="E01099999")] == [walk_id]
    assert list_walks(store, area_code="E01000000") == []
    # the public (and viewers) see the public note only, never the leader or authors
    for role in (None, "viewer"):
        text = json.dumps([w.to_dict() for w in list_walks(store, viewer_role=role)]
                          + [get_walk(store, walk_id, viewer_role=role).to_dict()])  # fmt: skip
        assert "forty" in text
        assert "garden group" not in text and "Asha" not in text and "Sam" not in text
    with pytest.raises(Forbidden):
        add_note(store, walk_id, "a viewer's note", actor_role="viewer")
    retire_walk(store, walk_id)
    assert list_walks(store) == []
    with pytest.raises(NotFound):
        get_walk(store, walk_id)
    with store.session() as s:  # kept, with its audit trail
        assert s.get(schema.Walk, walk_id) is not None
        actions = [a.action for a in s.query(schema.AuditEntry).filter_by(entity_id=walk_id)]
        assert actions == ["create", "retire"]


def test_save_refuses_bad_plans(planned_store: Store) -> None:
    with pytest.raises(InputError, match="path"):
        save_walk(planned_store, {"path": {"type": "Point"}, "stops": [], "length_m": 1}, name="x")
    with pytest.raises(InputError, match="name"):
        save_walk(planned_store, {"path": {"type": "LineString", "coordinates": [[0, 0], [0, 1]]},
                                  "stops": [], "length_m": 1}, name=" ")  # fmt: skip


# --- the CLI ----------------------------------------------------------------------------------


def _cli(store: Store, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    code = main(["--database", url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_walk_plan_json_has_the_contract_keys(planned_store: Store, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    gpx_out = tmp_path / "walk.gpx"
    code, out, err = _cli(planned_store, "walk", "plan", "--from", f"{col(0)},{row(0)}", "--to",
                          f"{col(3)},{row(2)}", "--via", f"{col(3)},{row(0)}", "--at", WED,
                          "--max-km", "1.5", "--json", "--gpx", str(gpx_out), capsys=capsys)  # fmt: skip
    assert code == 0, err
    d = json.loads(out)
    for key in ("length_m", "duration_min", "path", "stops", "profile", "contrast", "network"):
        assert key in d
    assert d["path"]["type"] == "LineString"
    for s in d["stops"]:
        assert {"name", "service_id", "lon", "lat", "arrive", "open"} <= set(s)
    assert set(d["contrast"]) >= {"imd_decile_min", "imd_decile_max", "largest_step"}
    assert set(d["network"]) == {"nodes", "edges", "components_dropped"}
    assert gpxpy.parse(gpx_out.read_text()).waypoints
    code, out, err = _cli(planned_store, "walk", "plan", "--from", f"{col(0)},{row(0)}", "--to",
                          f"{col(3)},{row(2)}", "--at", WED, capsys=capsys)  # fmt: skip
    assert code == 0 and "contrast" not in err and "network:" in out


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--to", "-1.70,53.80"], "from the nearest walkable way"),
        (["--to", f"{col(3)},{row(2)}", "--max-km", "0.1"], "budget is too short"),
        (["--to", f"{col(3)},{row(2)}", "--at", "2026-03-29T01:30"], "clock-change gap"),
        (["--to", "LS99 9ZZ"], "unknown postcode"),
        (["--to", "Nowhere Hall"], "unknown place"),
        (["--to", f"{col(3.5)},{row(3)}", "--step-free"], "do not connect"),
        (["--to", f"{col(3)},{row(2)}", "--briefing", "out.doc"], "OUT.pdf or OUT.html"),
    ],
)
def test_cli_bad_input_exits_2(planned_store: Store, args: list[str], expect: str,
                               capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code, _out, err = _cli(planned_store, "walk", "plan", "--from", f"{col(0)},{row(0)}", *args,
                          capsys=capsys)  # fmt: skip
    assert code == 2
    assert expect in " ".join(err.split()), err
    assert "Traceback" not in err


def test_cli_network_and_saved_walks(store: Store, grid_file: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code, out, err = _cli(store, "walk", "network", "load", str(grid_file), "--json", capsys=capsys)
    assert code == 0, err
    report = json.loads(out)["report"]
    assert report["components_dropped"] == 2 and report["ways_read"] == len(grid_features())
    code, out, _ = _cli(store, "walk", "network", "show", "--json", capsys=capsys)
    assert code == 0 and json.loads(out)["report"]["nodes"] == report["nodes"]
    bad = tmp_path / "bad.osm"
    bad.write_text("not osm", encoding="utf-8")
    code, _, err = _cli(store, "walk", "network", "load", str(bad), capsys=capsys)
    assert code == 2 and "bad.osm" in err
    code, out, err = _cli(store, "walk", "plan", "--from", f"{col(0)},{row(0)}", "--to",
                          f"{col(3)},{row(2)}", "--at", WED, "--json", capsys=capsys)  # fmt: skip
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(out, encoding="utf-8")
    code, out, err = _cli(store, "walk", "save", "--plan", str(plan_file), "--name", "Test walk",
                          "--leader", "Jo Bloggs", "--participants", "9", "--json", capsys=capsys)  # fmt: skip
    assert code == 0, err
    walk_id = json.loads(out)["id"]
    code, _, err = _cli(store, "walk", "note", walk_id, "A private thought", capsys=capsys)
    assert code == 0, err
    code, out, _ = _cli(store, "walk", "show", walk_id, "--public-view", "--json", capsys=capsys)
    public = json.loads(out)
    assert "leader" not in public and public["notes"] == []
    code, out, _ = _cli(store, "walk", "show", walk_id, "--json", capsys=capsys)
    assert json.loads(out)["leader"] == "Jo Bloggs"
    code, out, _ = _cli(store, "walk", "list", "--json", capsys=capsys)
    assert [w["id"] for w in json.loads(out)] == [walk_id]
    gpx = tmp_path / "walked.gpx"
    gpx.write_text(to_gpx(json.loads(plan_file.read_text())), encoding="utf-8")
    code, out, err = _cli(store, "walk", "save", "--gpx", str(gpx), "--name", "As walked",
                          "--json", capsys=capsys)  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["source"] == "gpx"
    notgpx = tmp_path / "x.gpx"
    notgpx.write_text("hello", encoding="utf-8")
    code, _, err = _cli(store, "walk", "save", "--gpx", str(notgpx), "--name", "x", capsys=capsys)
    assert code == 2 and "x.gpx" in err and "GPX" in err
