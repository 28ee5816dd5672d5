"""Walks on the real Leeds streets (OSM 2022, ``streets/``): the network build, shortest paths
against networkx, and the station -> Wellington Street -> New Wortley walk on both backends."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.storage import Store
from strengthmap.walks import PRESETS, build_network, foot_rule, plan_walk, read_ways, to_gpx
from strengthmap.walks.network import WalkNetwork
from strengthmap.walks.ways import Ways

pytestmark = pytest.mark.realdata

CENTRAL = "streets/leeds_central_osm_ways_2022.geojson"
WEDNESDAY_11 = "2026-12-02T11:00"


@pytest.fixture(scope="module")
def central_ways(data_dir: Path) -> Ways:
    return read_ways(data_dir / CENTRAL)


@pytest.fixture(scope="module")
def central(central_ways: Ways) -> WalkNetwork:
    return build_network(central_ways)


def test_central_network_build(central: WalkNetwork, central_ways: Ways) -> None:
    r = central.report
    assert r.ways_read == 11_755
    assert r.ways_refused["foot=no"] == 128  # as tagged in the 2022 extract
    assert r.nodes > 10_000 and r.edges > r.nodes
    assert r.components_dropped > 0 and r.nodes_dropped < r.nodes / 20
    # no edge comes from a way the foot rules refuse
    for w in set(central.edge_way.tolist()):
        tags = central.ways[w]
        assert foot_rule(tags).walkable, tags
        assert tags.get("foot") != "no"


def test_shortest_paths_equal_networkx(central: WalkNetwork) -> None:
    graph = central.to_networkx()
    rng = np.random.default_rng(2026)
    for a, b in rng.integers(0, central.n_nodes, size=(60, 2)):
        ours = central.shortest_path(int(a), int(b)).length_m
        theirs = nx.shortest_path_length(graph, int(a), int(b), weight="weight")
        assert abs(ours - theirs) < 0.1
    stepless = central.to_networkx(step_free=True)
    for a, b in rng.integers(0, central.n_nodes, size=(20, 2)):
        if nx.has_path(stepless, int(a), int(b)):
            ours = central.shortest_path(int(a), int(b), step_free=True).length_m
            assert (
                abs(ours - nx.shortest_path_length(stepless, int(a), int(b), weight="weight")) < 0.1
            )


def _to_metres(lon0: float, lat0: float) -> Transformer:
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")
    return Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)


def _raw_ways(
    data_dir: Path, t: Transformer
) -> tuple[shapely.STRtree, list[shapely.LineString], list[dict[str, str]]]:
    doc = json.loads((data_dir / CENTRAL).read_text(encoding="utf-8"))
    lines, tags = [], []
    for f in doc["features"]:
        xy = np.asarray(f["geometry"]["coordinates"], dtype=float)
        lines.append(shapely.LineString(np.column_stack(t.transform(xy[:, 0], xy[:, 1]))))
        tags.append({k: v for k, v in f["properties"].items() if v is not None})
    return shapely.STRtree(lines), lines, tags


@pytest.fixture(scope="module")
def station_walk_args() -> dict[str, object]:
    p = PRESETS["station-new-wortley"]
    return {
        "from_": p.from_,
        "to": p.to,
        "via": list(p.via),
        "at": WEDNESDAY_11,
        "imd_release": 2019,
    }


def test_station_to_new_wortley_on_streets(
    leeds_store: Store, central: WalkNetwork, data_dir: Path, station_walk_args: dict[str, object]
) -> None:
    plan = plan_walk(leeds_store, network=central, **station_walk_args)  # type: ignore[arg-type]
    d = plan.to_dict()
    # the contrast of issue 15: from decile 8 (Wellington Street) down to 1 (New Wortley)
    c = d["contrast"]
    assert (c["imd_decile_min"], c["imd_decile_max"], c["imd_release"]) == (1, 8, 2019)
    assert c["largest_step"] == 7
    assert (
        c["largest_step_at"]["from"]["imd_decile"],
        c["largest_step_at"]["to"]["imd_decile"],
    ) == (8, 1)
    assert c["imd_deciles_in_order"][0] == 7 and c["imd_deciles_in_order"][-1] == 1
    assert 2000 < d["length_m"] < 3600
    assert d["stops"][0]["name"] == "Leeds station" and d["stops"][-1]["kind"] == "end"
    assert [s["name"] for s in d["stops"] if s["kind"] == "via"] == ["Wellington Street"]

    # every vertex of the path lies on an OSM way (within 1 m), and no stretch of it uses a
    # way that the foot rules refuse (foot=no, access=private, motorway, bare trunk)
    coords = np.asarray(d["path"]["coordinates"], dtype=float)
    t = _to_metres(float(coords[:, 0].mean()), float(coords[:, 1].mean()))
    tree, _lines, tags = _raw_ways(data_dir, t)
    px, py = t.transform(coords[:, 0], coords[:, 1])
    pts = shapely.points(px, py)
    _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    assert float(np.max(dist)) < 1.0
    mids = shapely.points((px[:-1] + px[1:]) / 2, (py[:-1] + py[1:]) / 2)
    pi, li = tree.query(mids, predicate="dwithin", distance=0.5)
    walkable_here = np.zeros(len(mids), dtype=bool)
    for p, line in zip(pi, li, strict=True):
        if foot_rule(tags[line]).walkable:
            walkable_here[p] = True
    assert walkable_here.all(), np.flatnonzero(~walkable_here)[:5]
    # ... and the ways the planner walked (its edges) are none of the foot=no ways
    foot_no = {tg["osm_id"] for tg in tags if tg.get("foot") == "no"}
    walked = {central.ways[int(central.edge_way[e])].get("osm_id") for e in plan.edges}
    assert walked and not walked & foot_no

    # the profile follows the streets, not a straight line
    prof = d["profile"]
    assert prof["summary"]["length_m"] == pytest.approx(d["length_m"], abs=1.0)
    line = shapely.LineString(np.column_stack([px, py]))
    sx, sy = t.transform([p["lon"] for p in prof["points"] if p["kind"] == "sample"],
                         [p["lat"] for p in prof["points"] if p["kind"] == "sample"])  # fmt: skip
    assert max(line.distance(shapely.Point(x, y)) for x, y in zip(sx, sy, strict=True)) < 1.0

    # open on arrival: the directory's own "open at" search agrees for every stop
    for s in d["stops"]:
        if s["service_id"] is None or s["open"] is None:
            continue
        arrive = datetime.fromisoformat(s["arrive"])
        page = search_services(leeds_store, ServiceQuery(
            day=arrive.date(), start_time=arrive.strftime("%H:%M"),
            end_time=(arrive + timedelta(minutes=1)).strftime("%H:%M"),
            near=(s["lon"], s["lat"]), radius_m=5, per_page=1000))  # fmt: skip
        found = {h.service_id for h in page.items}
        assert (s["service_id"] in found) == s["open"], s["name"]
    assert plan.budget.used_m <= (plan.budget.max_m or 0) + 1e-6
    assert to_gpx(plan).count("<wpt") == len(d["stops"])


def test_step_free_station_walk_has_no_steps(
    leeds_store: Store, central: WalkNetwork, station_walk_args: dict[str, object]
) -> None:
    plan = plan_walk(leeds_store, network=central, step_free=True, max_stops=0,
                     **station_walk_args)  # type: ignore[arg-type]  # fmt: skip
    assert plan.safety.steps == []
    assert plan.contrast.decile_min == 1


def test_the_data_directory_streets_file_loads_into_the_store(store: Store, data_dir: Path) -> None:
    from strengthmap.walks import current_network
    from strengthmap.walks.store import load_from_data_dir

    first = load_from_data_dir(store, data_dir)
    assert first is not None and first.name == "leeds_osm_ways_2022_6km.geojson.gz"
    r = first.report
    assert (r.ways_read, r.nodes, r.edges) == (37_938, 55_597, 72_293)
    assert r.components_dropped == 323
    again = load_from_data_dir(store, data_dir)
    assert again is not None and again.skipped_unchanged
    net = current_network(store)
    assert net.n_nodes == r.nodes and net.report.sha256 == r.sha256
    assert load_from_data_dir(store, data_dir / "no-such-folder") is None
