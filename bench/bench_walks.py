"""Walks: build the central Leeds walking network (target < 5 s), shortest paths against networkx
(same length to 0.1 m; target at least 10x faster per query than ``dijkstra_path``), and the
station -> New Wortley walk with stops (target < 500 ms once the store's data is read)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from common import record, versus
from strengthmap.sources import load_data_dir
from strengthmap.storage import open_store
from strengthmap.walks import PRESETS, build_network, load_walk_network, plan_walk, read_ways

CENTRAL = "streets/leeds_central_osm_ways_2022.geojson"


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    if data_dir is None or not (data_dir / CENTRAL).is_file():
        return
    path = data_dir / CENTRAL
    # 1. the build, from the file (reading the GeoJSON included)
    best, net = float("inf"), None
    for _ in range(2 if quick else 3):
        t0 = time.perf_counter()
        net = build_network(read_ways(path))
        best = min(best, time.perf_counter() - t0)
    assert net is not None
    yield record(
        "walks: build the central Leeds walking network (11,755 ways: read, node, measure, clean)",
        best, "s", nodes=net.n_nodes, edges=net.n_edges,
        components_dropped=net.report.components_dropped, target="< 5 s",
    )  # fmt: skip

    # 2. shortest paths: ours (scipy.sparse.csgraph Dijkstra + path) against networkx
    graph = net.to_networkx()
    rng = np.random.default_rng(15)
    pairs = [
        (int(a), int(b)) for a, b in rng.integers(0, net.n_nodes, size=(40 if quick else 200, 2))
    ]
    net.shortest_path(*pairs[0])  # the CSR is built once per network
    # interleaved, pair by pair, so that load from other jobs falls on both sides alike
    t_ours = t_path = t_len = 0.0
    ours, lengths = [], []
    for a, b in pairs:
        t0 = time.perf_counter()
        ours.append(net.shortest_path(a, b))
        t1 = time.perf_counter()
        nx.dijkstra_path(graph, a, b, weight="weight")
        t2 = time.perf_counter()
        lengths.append(nx.shortest_path_length(graph, a, b, weight="weight"))
        t3 = time.perf_counter()
        t_ours, t_path, t_len = t_ours + t1 - t0, t_path + t2 - t1, t_len + t3 - t2
    t_ours, t_path, t_len = (t / len(pairs) for t in (t_ours, t_path, t_len))
    worst = max(abs(p.length_m - q) for p, q in zip(ours, lengths, strict=True))
    yield versus(
        "walks: shortest walking path, per query (central Leeds, random pairs)",
        t_ours, "networkx dijkstra_path", t_path, queries=len(pairs),
        max_length_difference_m=round(worst, 6), target="ratio >= 10, difference < 0.1 m",
    )  # fmt: skip
    yield versus(
        "walks: shortest walking length, per query",
        t_ours, "networkx shortest_path_length", t_len, queries=len(pairs),
    )  # fmt: skip

    # 3. the station -> Wellington Street -> New Wortley walk with stops, on a loaded store
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.sqlite")
        load_data_dir(store, data_dir, place="Leeds")
        load_walk_network(store, path)
        preset = PRESETS["station-new-wortley"]

        def plan() -> Any:
            return plan_walk(store, preset.from_, preset.to, via=list(preset.via),
                             at="2026-12-02T11:00", imd_release=2019)  # fmt: skip

        t0 = time.perf_counter()
        first = plan()
        cold = time.perf_counter() - t0
        times = []
        for _ in range(3 if quick else 7):
            t0 = time.perf_counter()
            result = plan()
            times.append(time.perf_counter() - t0)
        yield record(
            "walks: plan station -> Wellington Street -> New Wortley with stops (warm)",
            float(np.median(times)), "s", best=round(min(times), 4), first_in_process=round(cold, 3),
            length_m=round(result.length_m, 1), stops=sum(1 for s in result.stops if s.kind == "stop"),
            candidates=result.budget.candidates, target="< 0.5 s",
        )  # fmt: skip
        del first
        store.close()
