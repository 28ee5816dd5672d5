"""Every measure equal to networkx on the same graph: undirected and directed, unweighted and
weighted, exact and sampled; communities against networkx's Louvain; bridges, articulation
points, ties across deprivation and the network on a date."""

from __future__ import annotations

import math
import random
from datetime import date

import networkx as nx
import pytest

from strengthmap.network.measures import (
    EXACT_LIMIT,
    CommunityMethod,
    betweenness_error_bound,
    compute_measures,
)
from strengthmap.network.model import Network, NetworkNode, NetworkTie
from strengthmap.network.places import AreaDeprivation, AreaIMD

TOL = 1e-9


def _network(
    n: int, m: int, *, seed: int, directed_types: bool = False, isolates: int = 2, parallel: int = 5
) -> Network:
    """A random network: ``m`` ties among ``n`` people, a few isolated people, a few parallel
    ties (two types between the same pair), weights 1, 2, 4 or 8 (so 1/weight path lengths are
    exact binary fractions and equal paths compare equal)."""
    rng = random.Random(seed)
    g = nx.gnm_random_graph(n, m, seed=seed)
    nodes = tuple(NetworkNode(f"v{i:04d}", "person", f"P{i}") for i in range(n + isolates))
    types = ("refers_to", "funds", "runs", "meets_with") if directed_types else ("meets_with",)
    ties = []
    for j, (u, v) in enumerate(g.edges()):
        a, b = (u, v) if rng.random() < 0.5 else (v, u)
        ties.append(
            NetworkTie(
                f"t{j}",
                f"v{a:04d}",
                f"v{b:04d}",
                rng.choice(types),
                weight=float(rng.choice((1, 2, 4, 8))),
            )
        )
    for j, t in enumerate(ties[:parallel]):
        ties.append(NetworkTie(f"p{j}", t.source, t.target, "partners_with", weight=t.weight))
    return Network(nodes, tuple(ties))


def _nx(network: Network, *, directed: bool) -> nx.Graph:
    """The reference: the same simple graph in networkx (weights of parallel ties summed; a
    tie that runs both ways gives two arcs), nodes in the same order."""
    g: nx.Graph = nx.DiGraph() if directed else nx.Graph()
    g.add_nodes_from(n.id for n in network.nodes)
    for t in network.ties:
        arcs = [(t.source, t.target)]
        if directed and t.runs_both_ways():
            arcs.append((t.target, t.source))
        for a, b in arcs:
            if g.has_edge(a, b):
                g[a][b]["weight"] += t.weight
            else:
                g.add_edge(a, b, weight=t.weight)
    for _, _, d in g.edges(data=True):
        d["distance"] = 1.0 / d["weight"]
    return g


def _close(ours: dict[str, float | None], theirs: dict[str, float], tol: float = TOL) -> None:
    assert set(ours) == set(theirs)
    for k, v in theirs.items():
        mine = ours[k]
        if isinstance(v, float) and math.isnan(v):
            assert mine is None or math.isnan(mine), k
        else:
            assert mine is not None and abs(mine - v) <= tol, (k, mine, v)


CASES = [(d, w) for d in (False, True) for w in (False, True)]


@pytest.mark.parametrize(("directed", "weighted"), CASES)
def test_every_measure_equals_networkx(directed: bool, weighted: bool) -> None:
    net = _network(150, 420, seed=11, directed_types=directed)
    m = compute_measures(net, directed=directed, weighted=weighted)
    g = _nx(net, directed=directed)
    w = "weight" if weighted else None
    dist = "distance" if weighted else None

    def col(name: str) -> dict[str, float | None]:
        return {n.id: getattr(n, name) for n in m.nodes}

    _close(col("betweenness"), nx.betweenness_centrality(g, weight=dist))
    _close(col("closeness"), nx.closeness_centrality(g, distance=dist))
    _close(col("pagerank"), nx.pagerank(g, weight=w, tol=1e-14, max_iter=10_000), 1e-9)
    _close(col("constraint"), nx.constraint(g, weight=w))
    # networkx's reference (per node) formula; its vectorised path (nodes=None, networkx 3.6)
    # divides by the strongest tie of the wrong node when the graph is weighted
    reference = nx.effective_size(g, weight=w, nodes=list(g))
    # networkx leaves a node with ties in but none out (directed) undefined, as it tests
    # G[v] (successors) for isolation; Burt's formula is defined there: apply it as networkx does
    from networkx.algorithms.structuralholes import normalized_mutual_weight as nmw

    def redundancy(g: nx.Graph, u: str, v: str, w: str | None) -> float:
        return 1.0 - float(
            sum(
                nmw(g, u, x, weight=w) * nmw(g, v, x, norm=max, weight=w)
                for x in set(nx.all_neighbors(g, u))
            )
        )

    for v in g:
        if math.isnan(reference[v]) and any(True for _ in nx.all_neighbors(g, v)):
            assert directed and not g[v]
            reference[v] = sum(redundancy(g, v, u, w) for u in set(nx.all_neighbors(g, v)))
    _close(col("effective_size"), reference)
    assert {n.id: n.degree for n in m.nodes} == dict(g.degree())
    strength = dict(g.degree(weight="weight"))
    _close({n.id: n.weighted_degree for n in m.nodes}, {k: float(v) for k, v in strength.items()})
    und = g.to_undirected() if directed else g
    assert list(m.bridges) == sorted(tuple(sorted(e)) for e in nx.bridges(nx.Graph(und)))
    assert sorted(n.id for n in m.nodes if n.articulation_point) == sorted(
        nx.articulation_points(und)
    )
    assert m.graph.components == (
        nx.number_weakly_connected_components(g) if directed else nx.number_connected_components(g)
    )
    assert m.graph.edges == g.number_of_edges()
    assert m.graph.nodes == g.number_of_nodes()


@pytest.mark.parametrize(("directed", "weighted"), CASES)
def test_sampled_betweenness_equals_networkx_with_the_same_seed(
    directed: bool, weighted: bool
) -> None:
    net = _network(200, 600, seed=3, directed_types=directed)
    m = compute_measures(
        net, directed=directed, weighted=weighted, betweenness_mode="sampled", samples=40, seed=9
    )
    g = _nx(net, directed=directed)
    ref = nx.betweenness_centrality(g, k=40, seed=9, weight="distance" if weighted else None)
    _close({n.id: n.betweenness for n in m.nodes}, ref)
    method = m.graph.betweenness
    assert method.method == "sampled" and method.samples == 40 and method.seed == 9
    assert method.error_bound == pytest.approx(betweenness_error_bound(202, 40))


def test_sampled_betweenness_stays_within_its_stated_error_bound() -> None:
    net = _network(400, 1600, seed=5)
    exact = compute_measures(net)
    sampled = compute_measures(net, betweenness_mode="sampled", samples=150, seed=1)
    bound = sampled.graph.betweenness.error_bound
    assert bound is not None and 0 < bound < 1
    worst = max(
        abs(a.betweenness - b.betweenness) for a, b in zip(exact.nodes, sampled.nodes, strict=True)
    )
    assert worst <= bound
    # the bound shrinks as 1/sqrt(samples) and is 0 once every node is a source
    assert betweenness_error_bound(1000, 401) == pytest.approx(
        betweenness_error_bound(1000, 101) / 2, rel=0.01
    )
    assert betweenness_error_bound(100, 100) == 0.0


def test_auto_samples_only_above_the_exact_limit() -> None:
    small = compute_measures(_network(50, 100, seed=1))
    assert small.graph.betweenness.method == "exact"
    assert small.nodes[0].closeness is not None
    assert EXACT_LIMIT >= 10_000


def _planted(seed: int) -> Network:
    g = nx.planted_partition_graph(5, 30, 0.35, 0.01, seed=seed)
    nodes = tuple(NetworkNode(f"v{i:03d}", "person", str(i)) for i in g)
    ties = tuple(
        NetworkTie(f"t{j}", f"v{u:03d}", f"v{v:03d}", "meets_with")
        for j, (u, v) in enumerate(g.edges())
    )
    return Network(nodes, ties)


@pytest.mark.parametrize("method", ["leiden", "louvain"])
def test_communities_match_networkx_louvain(method: str) -> None:
    algo: CommunityMethod = "louvain" if method == "louvain" else "leiden"
    # a network with clear communities: the same partition as networkx's Louvain
    net = _planted(4)
    g = _nx(net, directed=False)
    ours = compute_measures(net, community_method=algo, seed=3)
    theirs = nx.community.louvain_communities(g, seed=3)
    mine: dict[int, set[str]] = {}
    for n in ours.nodes:
        mine.setdefault(n.community, set()).add(n.id)
    assert sorted(map(sorted, mine.values())) == sorted(map(sorted, theirs))
    assert ours.graph.modularity == pytest.approx(nx.community.modularity(g, theirs), abs=1e-9)
    # on a random graph the algorithms differ: modularity within 1% of networkx's, or better
    rnd = _network(300, 900, seed=8)
    gr = _nx(rnd, directed=False)
    for weighted in (False, True):
        q_nx = nx.community.modularity(
            gr,
            nx.community.louvain_communities(gr, seed=3, weight="weight" if weighted else None),
            weight="weight" if weighted else None,
        )
        q = compute_measures(rnd, community_method=algo, weighted=weighted, seed=3).graph.modularity
        assert q is not None and q >= 0.99 * q_nx, (weighted, q, q_nx)


def test_communities_repeat_with_a_seed_and_are_numbered_by_size() -> None:
    net = _network(300, 900, seed=8)
    a = [n.community for n in compute_measures(net, seed=5).nodes]
    b = [n.community for n in compute_measures(net, seed=5).nodes]
    assert a == b
    sizes = [a.count(c) for c in range(max(a) + 1)]
    assert sizes == sorted(sizes, reverse=True)


def test_isolated_nodes_have_no_constraint_and_json_has_no_nan() -> None:
    net = _network(20, 30, seed=2, isolates=3)
    d = compute_measures(net).to_dict()
    lonely = [n for n in d["nodes"] if n["degree"] == 0]
    assert lonely and all(n["constraint"] is None and n["effective_size"] is None for n in lonely)
    assert set(d["nodes"][0]) >= {
        "id",
        "kind",
        "degree",
        "betweenness",
        "constraint",
        "effective_size",
        "community",
    }
    assert set(d["graph"]) >= {"nodes", "edges", "components", "communities"}
    import json

    json.dumps(d, allow_nan=False)


def test_the_network_on_a_date() -> None:
    people = tuple(NetworkNode(x, "person", x) for x in ("a", "b", "c"))
    ties = (
        NetworkTie("1", "a", "b", "meets_with", start=date(2020, 1, 1), end=date(2022, 12, 31)),
        NetworkTie("2", "b", "c", "meets_with", start=date(2023, 1, 1)),
        NetworkTie("3", "a", "c", "meets_with"),
    )
    net = Network(people, ties)
    at_2021 = compute_measures(net.as_at(date(2021, 6, 1)))
    assert at_2021.graph.ties == 2 and at_2021.graph.as_at == date(2021, 6, 1)
    assert at_2021.node("a").degree == 2 and at_2021.node("c").degree == 1
    # the end date is the last day of the tie
    assert [t.id for t in net.as_at(date(2022, 12, 31)).ties] == ["1", "3"]
    assert [t.id for t in net.as_at(date(2023, 1, 1)).ties] == ["2", "3"]


def test_ties_across_deprivation_per_person_and_per_area() -> None:
    nodes = (
        NetworkNode("a", "person", "A", area_code="X1"),  # decile 1, quintile 1
        NetworkNode("b", "person", "B", area_code="X2"),  # decile 2, quintile 1
        NetworkNode("c", "person", "C", area_code="X9"),  # decile 9, quintile 5
        NetworkNode("d", "person", "D"),  # no area
    )
    ties = (
        NetworkTie("1", "a", "b", "meets_with"),  # same quintile: not bridging
        NetworkTie("2", "a", "c", "meets_with"),  # bridging
        NetworkTie("3", "b", "c", "meets_with"),  # bridging
        NetworkTie("4", "c", "d", "meets_with"),  # unknown end: not counted
    )
    dep = AreaDeprivation(
        2025, {c: AreaIMD(c, c, int(c[1]), 100, 33755, 2025) for c in ("X1", "X2", "X9")}
    )
    m = compute_measures(Network(nodes, ties), deprivation=dep)
    assert {n.id: n.bridging_ties for n in m.nodes} == {"a": 1, "b": 1, "c": 2, "d": 0}
    assert m.graph.bridging_ties == 2
    areas = {a.code: a for a in m.areas}
    assert (areas["X9"].ties, areas["X9"].bridging_ties, areas["X9"].imd_quintile) == (3, 2, 5)
    assert (areas["X1"].ties, areas["X1"].bridging_ties) == (2, 1)
    assert m.node("a").imd_decile == 1 and m.node("d").imd_decile is None
