"""Network measures against networkx, in one process, on the same graphs.

Workloads shaped like a city's network of people and groups: Holme-Kim power-law graphs with
clustering (``networkx.powerlaw_cluster_graph``: a few very connected hubs, friends of friends
tied), as community networks are.

* exact betweenness, 20,000 nodes / about 100,000 edges (target: >= 20x networkx, same top 20);
* sampled betweenness (500 sources), 100,000 nodes / about 500,000 edges (target: >= 20x
  networkx's own sampled betweenness with the same sources; same top 20). Both draw the sources
  from ``random.Random(seed)``, so the estimates are equal, not just close;
* Burt's constraint (with effective size) on the 20,000-node graph against ``networkx.constraint``;
* every measure at once (``compute_measures``) on the 20,000-node graph, for the record.

``--quick``: 2,000 nodes and 20,000 nodes (sampled) instead. networkx's exact betweenness of the
20,000-node graph takes hours on the shared 2-core machine (about 1 s a source under load), so the
full run first times both libraries on the same 500 sources (Brandes' algorithm is a sum over sources: the ratio of the
whole), and runs the whole networkx computation last.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
from networkx.algorithms.centrality.betweenness import (
    _accumulate_basic,
    _single_source_shortest_path_basic,
)

from common import record, versus
from strengthmap.network.measures import (
    betweenness,
    build_graph,
    compute_measures,
    ranked,
    structural_holes,
)
from strengthmap.network.model import Network, NetworkNode, NetworkTie

SEED = 7


def _graphs(n: int, seed: int) -> tuple[nx.Graph, Network]:
    g = nx.powerlaw_cluster_graph(n, 5, 0.3, seed=seed)
    mapping = {i: f"n{i:06d}" for i in g}
    g = nx.relabel_nodes(g, mapping)
    nodes = tuple(NetworkNode(v, "person", v) for v in g)
    ties = tuple(NetworkTie(f"t{j}", u, v, "meets_with") for j, (u, v) in enumerate(g.edges()))
    return g, Network(nodes, ties)


def _same_top(ours: dict[str, float], theirs: dict[str, float], top: int = 20) -> bool:
    ids = list(ours)
    return ranked([ours[i] for i in ids], ids, top) == ranked([theirs[i] for i in ids], ids, top)


def _exact(n: int, g: nx.Graph, net: Network) -> Iterator[dict[str, Any]]:
    t0 = time.perf_counter()
    graph = build_graph(net)
    values, _ = betweenness(graph)
    ours_s = time.perf_counter() - t0
    ours = dict(zip(graph.ids, values.tolist(), strict=True))
    t0 = time.perf_counter()
    theirs = nx.betweenness_centrality(g)
    peer_s = time.perf_counter() - t0
    yield versus(
        f"network_betweenness_exact_{n}",
        ours_s,
        "networkx.betweenness_centrality",
        peer_s,
        nodes=g.number_of_nodes(),
        edges=g.number_of_edges(),
        same_top20=_same_top(ours, theirs),
        max_abs_diff=max(abs(ours[v] - theirs[v]) for v in ours),
        target=">= 20x, same top 20",
    )


def _sources(g: nx.Graph, net: Network, k: int) -> dict[str, Any]:
    """The exact algorithm's work from ``k`` of the sources (Brandes: the whole is the sum over
    every source), both libraries from the same sources: a first ratio in minutes."""
    graph = build_graph(net)
    sources = random.Random(SEED).sample(range(graph.n), k)
    t0 = time.perf_counter()
    graph.g.betweenness(directed=False, sources=sources)
    ours_s = time.perf_counter() - t0
    nodes = list(g)
    acc = dict.fromkeys(g, 0.0)
    t0 = time.perf_counter()
    for i in sources:
        s_, p_, sigma, _ = _single_source_shortest_path_basic(g, nodes[i])
        acc, _ = _accumulate_basic(acc, s_, p_, sigma, nodes[i])
    peer_s = time.perf_counter() - t0
    return versus(
        f"network_betweenness_exact_{graph.n}_from_{k}_sources",
        ours_s,
        "networkx Brandes (its single-source BFS and accumulation, as in betweenness_centrality)",
        peer_s,
        nodes=graph.n,
        edges=graph.g.ecount(),
        sources=k,
        note="the same sources; exact betweenness is this work for every source",
    )


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    n_exact = 2_000 if quick else 20_000
    g, net = _graphs(n_exact, SEED)
    if not quick:
        yield _sources(g, net, 500)
        # the whole exact computation at a size networkx finishes in minutes
        yield from _exact(5_000, *_graphs(5_000, SEED))
    graph = build_graph(net)
    t0 = time.perf_counter()
    cons, _effective = structural_holes(graph)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    nx_cons = nx.constraint(g)
    peer_s = time.perf_counter() - t0
    diffs = [
        abs(c - nx_cons[v])
        for v, c in zip(graph.ids, cons.tolist(), strict=True)
        if not math.isnan(c)
    ]
    yield versus(
        f"network_constraint_{n_exact}",
        ours_s,
        "networkx.constraint",
        peer_s,
        nodes=g.number_of_nodes(),
        note="ours also computes effective size in the time",
        max_abs_diff=max(diffs) if diffs else 0.0,
    )

    t0 = time.perf_counter()
    m = compute_measures(net)
    yield record(
        f"network_all_measures_{n_exact}",
        time.perf_counter() - t0,
        "s",
        nodes=m.graph.nodes,
        edges=m.graph.edges,
        communities=m.graph.communities,
        note="degree, betweenness, closeness, PageRank, constraint, effective size, Leiden, bridges",
    )

    n_big, k = (20_000, 200) if quick else (100_000, 500)
    g_big, net_big = _graphs(n_big, SEED + 1)
    t0 = time.perf_counter()
    graph = build_graph(net_big)
    values, method = betweenness(graph, samples=k, seed=SEED)
    ours_s = time.perf_counter() - t0
    ours = dict(zip(graph.ids, values.tolist(), strict=True))
    t0 = time.perf_counter()
    theirs = nx.betweenness_centrality(g_big, k=k, seed=SEED)
    peer_s = time.perf_counter() - t0
    yield versus(
        f"network_betweenness_sampled_{n_big}",
        ours_s,
        f"networkx.betweenness_centrality(k={k}, same seed)",
        peer_s,
        nodes=g_big.number_of_nodes(),
        edges=g_big.number_of_edges(),
        samples=k,
        error_bound=round(method.error_bound or 0.0, 4),
        confidence=method.confidence,
        same_top20=_same_top(ours, theirs),
        max_abs_diff=max(abs(ours[v] - theirs[v]) for v in ours),
        target=">= 20x, same top 20",
    )
    # last: networkx's exact betweenness of the whole graph (most of the full run's time)
    yield from _exact(n_exact, g, net)
