"""Measures of the network: degree, betweenness, closeness, PageRank, Burt's constraint and
effective size, communities, bridges and articulation points, and ties across deprivation.

Example:
    >>> from strengthmap.network.model import Network, NetworkNode, NetworkTie
    >>> nodes = tuple(NetworkNode(x, "person", x.upper()) for x in "abcd")
    >>> ties = (NetworkTie("1", "a", "b", "meets_with"), NetworkTie("2", "b", "c", "meets_with"),
    ...         NetworkTie("3", "c", "d", "meets_with"))
    >>> m = compute_measures(Network(nodes, ties))
    >>> [round(n.betweenness, 3) for n in m.nodes]
    [0.0, 0.667, 0.667, 0.0]
    >>> m.graph.to_dict()["components"], [b for b in m.bridges]
    (1, [('a', 'b'), ('b', 'c'), ('c', 'd')])

Conventions (the Contract, and ``docs/methods/network.md`` for the references): ties are
undirected and unweighted unless ``directed`` / ``weighted``; several ties between the same two
nodes make one edge whose weight is the sum of theirs; betweenness is normalised as networkx
does by default (``1/((n-1)(n-2))`` of the ordered pairs); closeness is networkx's (Wasserman and
Faust's correction for graphs in pieces); in a weighted analysis a shortest path is the one with
the least total ``1/weight`` (a stronger tie is a shorter step; Newman 2001, Opsahl et al. 2010),
while PageRank, constraint, effective size and communities use the weights themselves.

The computing is done by igraph (C; see ``docs/architecture.md`` for why igraph) and by sparse
matrix products (scipy) for constraint and effective size. Every value is tested equal to
networkx on the same graph (``tests/test_network_measures.py``).
"""

from __future__ import annotations

import math
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import igraph as ig
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from strengthmap.network.model import Network
from strengthmap.network.places import AreaDeprivation

#: Above this many nodes ``betweenness="auto"`` samples sources and closeness is left out.
EXACT_LIMIT = 10_000
#: Sources sampled by default (Brandes and Pich 2007 pivots).
DEFAULT_SAMPLES = 1_000
#: The error bound of sampled betweenness holds for every node at once with this probability.
CONFIDENCE = 0.95
DEFAULT_SEED = 42
Betweenness = Literal["auto", "exact", "sampled"]
CommunityMethod = Literal["leiden", "louvain"]

_RNG_LOCK = threading.Lock()  # igraph's random generator is one per process


# --- the graph ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Graph:
    """The network as one simple igraph graph (vertex i is ``ids[i]``): parallel ties merged,
    ``weights`` their summed weights (in edge order)."""

    ids: tuple[str, ...]
    g: ig.Graph
    weights: NDArray[np.float64]
    directed: bool

    @property
    def n(self) -> int:
        return len(self.ids)


def build_graph(network: Network, *, directed: bool = False) -> Graph:
    """The simple graph of ``network`` (a directed tie that runs both ways gives two arcs)."""
    ids = tuple(n.id for n in network.nodes)
    index = {nid: i for i, nid in enumerate(ids)}
    summed: dict[tuple[int, int], float] = defaultdict(float)
    for t in network.ties:
        s, d = index[t.source], index[t.target]
        if directed:
            summed[(s, d)] += t.weight
            if t.runs_both_ways():
                summed[(d, s)] += t.weight
        else:
            summed[(min(s, d), max(s, d))] += t.weight
    edges = list(summed)
    g = ig.Graph(n=len(ids), edges=edges, directed=directed)
    return Graph(ids, g, np.fromiter(summed.values(), dtype=float, count=len(edges)), directed)


# --- results -----------------------------------------------------------------------------------


def _num(x: float | None) -> float | None:
    """JSON has no NaN: undefined values (an isolated node's constraint) are null."""
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class NodeMeasures:
    """One node's measures. ``constraint`` / ``effective_size`` are None for an isolated node;
    ``closeness`` None when not computed (graphs above ``EXACT_LIMIT`` nodes)."""

    id: str
    kind: str
    name: str
    degree: int
    weighted_degree: float
    betweenness: float
    closeness: float | None
    pagerank: float
    constraint: float | None
    effective_size: float | None
    community: int
    articulation_point: bool
    bridging_ties: int
    area_code: str | None
    imd_decile: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "degree": self.degree,
            "betweenness": self.betweenness,
            "constraint": _num(self.constraint),
            "effective_size": _num(self.effective_size),
            "community": self.community,
            "name": self.name,
            "weighted_degree": self.weighted_degree,
            "closeness": _num(self.closeness),
            "pagerank": self.pagerank,
            "articulation_point": self.articulation_point,
            "bridging_ties": self.bridging_ties,
            "area_code": self.area_code,
            "imd_decile": self.imd_decile,
        }


@dataclass(frozen=True)
class BetweennessMethod:
    """How betweenness was computed; for a sample, the bound on its error.

    ``error_bound``: with probability ``confidence`` every node's estimate is within this of its
    exact normalised betweenness (Hoeffding's inequality and a union bound over the nodes).
    """

    method: Literal["exact", "sampled"]
    samples: int | None = None
    seed: int | None = None
    error_bound: float | None = None
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "samples": self.samples,
            "seed": self.seed,
            "error_bound": self.error_bound,
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class GraphSummary:
    nodes: int
    edges: int
    components: int
    communities: int
    ties: int
    directed: bool
    weighted: bool
    as_at: date | None
    modularity: float | None
    density: float
    bridges: int
    articulation_points: int
    bridging_ties: int
    community_method: str
    seed: int
    betweenness: BetweennessMethod
    imd_release: int | None
    viewer: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "edges": self.edges,
            "components": self.components,
            "communities": self.communities,
            "ties": self.ties,
            "directed": self.directed,
            "weighted": self.weighted,
            "as_at": self.as_at.isoformat() if self.as_at else None,
            "modularity": _num(self.modularity),
            "density": self.density,
            "bridges": self.bridges,
            "articulation_points": self.articulation_points,
            "bridging_ties": self.bridging_ties,
            "community_method": self.community_method,
            "seed": self.seed,
            "betweenness": self.betweenness.to_dict(),
            "imd_release": self.imd_release,
            "viewer": self.viewer,
        }


@dataclass(frozen=True)
class AreaBridging:
    """One area's part in the network: nodes placed in it, ties with an end in it, and how
    many of those join an area of another IMD quintile."""

    code: str
    name: str | None
    imd_decile: int | None
    imd_quintile: int | None
    nodes: int
    ties: int
    bridging_ties: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "imd_decile": self.imd_decile,
            "imd_quintile": self.imd_quintile,
            "nodes": self.nodes,
            "ties": self.ties,
            "bridging_ties": self.bridging_ties,
        }


@dataclass(frozen=True)
class Measures:
    """Every measure of one network (``to_dict()`` is the Contract JSON of ``network measures``)."""

    nodes: tuple[NodeMeasures, ...]
    graph: GraphSummary
    areas: tuple[AreaBridging, ...] = ()
    bridges: tuple[tuple[str, str], ...] = ()
    _index: dict[str, NodeMeasures] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._index.update((n.id, n) for n in self.nodes)

    def node(self, node_id: str) -> NodeMeasures:
        return self._index[node_id]

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [n.to_dict() for n in self.nodes],
            "graph": self.graph.to_dict(),
            "areas": [a.to_dict() for a in self.areas],
            "bridges": [list(b) for b in self.bridges],
        }


# --- the measures ------------------------------------------------------------------------------


def betweenness_error_bound(n: int, samples: int, confidence: float = CONFIDENCE) -> float:
    """The bound ``e`` such that, with probability ``confidence``, every node's sampled
    normalised betweenness is within ``e`` of the exact value.

    Each sampled source s adds ``delta_s(v) / (n - 2)``, a number in [0, 1], and the estimate
    is the mean of at least ``samples - 1`` of them drawn without replacement: by Hoeffding's
    inequality (1963, which holds without replacement too) and a union bound over the n nodes,
    ``e = sqrt(ln(2n / (1 - confidence)) / (2 (samples - 1)))``.

    >>> round(betweenness_error_bound(100_000, 1_000), 3)
    0.087
    """
    if samples >= n:
        return 0.0
    if samples < 2:
        return 1.0
    return math.sqrt(math.log(2 * n / (1 - confidence)) / (2 * (samples - 1)))


def _distances(graph: Graph, weighted: bool) -> list[float] | None:
    return list(1.0 / graph.weights) if weighted else None


def betweenness(
    graph: Graph,
    *,
    weighted: bool = False,
    samples: int | None = None,
    seed: int = DEFAULT_SEED,
) -> tuple[NDArray[np.float64], BetweennessMethod]:
    """Normalised betweenness (networkx's default scaling), exact or from ``samples`` sources.

    The sources are drawn as networkx draws them (``random.Random(seed).sample(nodes, k)``), so
    ``networkx.betweenness_centrality(G, k=samples, seed=seed)`` on the same graph, nodes in the
    same order, gives the same estimate.
    """
    n = graph.n
    g = graph.g
    if n <= 2 or g.ecount() == 0:
        return np.zeros(n), BetweennessMethod("exact")
    dist = _distances(graph, weighted)
    # igraph counts each unordered pair once in an undirected graph; networkx counts (s, t)
    # and (t, s) before normalising
    pairs = 1.0 if graph.directed else 2.0
    if samples is None or samples >= n:
        raw = np.asarray(g.betweenness(directed=graph.directed, weights=dist), dtype=float)
        return raw * pairs / ((n - 1) * (n - 2)), BetweennessMethod("exact")
    k = max(1, samples)
    sources = random.Random(seed).sample(range(n), k)
    raw = np.asarray(
        g.betweenness(directed=graph.directed, weights=dist, sources=sources, targets=None),
        dtype=float,
    )
    scale = np.full(n, 1.0 / (k * (n - 2)))
    scale[sources] = 1.0 / ((k - 1) * (n - 2)) if k > 1 else math.nan
    bound = betweenness_error_bound(n, k)
    method = BetweennessMethod("sampled", k, seed, bound, CONFIDENCE)
    return raw * pairs * scale, method


def closeness(graph: Graph, *, weighted: bool = False) -> NDArray[np.float64]:
    """networkx's closeness: ``(r-1)/(n-1) * (r-1)/sum(d)`` over the r nodes that reach each
    node (incoming paths in a directed graph); 0 for a node nothing reaches."""
    g, n = graph.g, graph.n
    if n <= 1:
        return np.zeros(n)
    mode = "in" if graph.directed else "all"
    inv = np.asarray(
        g.closeness(mode=mode, weights=_distances(graph, weighted), normalized=False), dtype=float
    )
    if graph.directed:
        reach = np.asarray(g.neighborhood_size(order=n, mode="in"), dtype=float)
    else:
        membership = np.asarray(g.connected_components().membership)
        reach = np.bincount(membership)[membership].astype(float)
    out = inv * (reach - 1) ** 2 / (n - 1)
    return np.where(np.isfinite(out), out, 0.0)


def pagerank(graph: Graph, *, weighted: bool = False, damping: float = 0.85) -> NDArray[np.float64]:
    """PageRank (Brin and Page 1998) with damping 0.85; dangling nodes spread evenly (as networkx)."""
    if graph.n == 0:
        return np.zeros(0)
    w = list(graph.weights) if weighted else None
    return np.asarray(
        graph.g.pagerank(directed=graph.directed, weights=w, damping=damping), dtype=float
    )


def _mutual(graph: Graph, weighted: bool) -> sp.csr_matrix:
    """The mutual tie strength ``S = W + W^T`` (networkx's ``mutual_weight``)."""
    n = graph.n
    edges = np.asarray(graph.g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    w = graph.weights if weighted else np.ones(len(edges))
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    return sp.csr_matrix((np.concatenate([w, w]), (rows, cols)), shape=(n, n))


def _row_scaled(m: sp.csr_matrix, by: NDArray[np.float64]) -> sp.csr_matrix:
    safe = np.where(by > 0, by, 1.0)
    return sp.csr_matrix(sp.diags(1.0 / safe) @ m)


def structural_holes(
    graph: Graph, *, weighted: bool = False, block: int = 4096
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Burt's constraint and effective size of every node (NaN for an isolated node).

    With ``p_ij`` the share of i's (mutual) tie strength that goes to j and ``m_jq`` j's tie to
    q over j's strongest tie: ``constraint(i) = sum_j (p_ij + sum_q p_iq p_qj)^2`` and
    ``effective_size(i) = sum_j (1 - sum_q p_iq m_jq)``, j over i's neighbours (Burt 1992;
    networkx's formulas, computed as sparse matrix products a block of rows at a time).
    """
    n = graph.n
    s = _mutual(graph, weighted)
    strength = np.asarray(s.sum(axis=1)).ravel()
    p = _row_scaled(s, strength)
    rowmax = np.asarray(s.max(axis=1).toarray()).ravel() if n else np.zeros(0)
    m_t = _row_scaled(s, rowmax).T.tocsc()
    p_csc = p.tocsc()
    constraint = np.full(n, np.nan)
    effective = np.full(n, np.nan)
    pattern = s.copy()
    pattern.data[:] = 1.0
    degree = np.diff(s.indptr)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        p_rows = p[lo:hi]
        mask = pattern[lo:hi]
        indirect = (p_rows @ p_csc).multiply(mask)
        total = p_rows + indirect
        constraint[lo:hi] = np.asarray(total.multiply(total).sum(axis=1)).ravel()
        redundancy = (p_rows @ m_t).multiply(mask)
        effective[lo:hi] = degree[lo:hi] - np.asarray(redundancy.sum(axis=1)).ravel()
    isolated = degree == 0
    constraint[isolated] = np.nan
    effective[isolated] = np.nan
    return constraint, effective


def communities(
    graph: Graph,
    *,
    weighted: bool = False,
    seed: int = DEFAULT_SEED,
    method: CommunityMethod = "leiden",
) -> tuple[NDArray[np.int64], float | None]:
    """Communities that maximise modularity (Leiden, Traag et al. 2019, or Louvain, Blondel et
    al. 2008) on the undirected graph, seeded so they repeat; numbered by size (0 the largest,
    ties by the smallest node index). Returns the membership and the partition's modularity."""
    n = graph.n
    if n == 0:
        return np.zeros(0, dtype=np.int64), None
    g = graph.g
    w = graph.weights
    if graph.directed:
        und = g.copy()
        und.es["weight"] = list(w)
        und.to_undirected(mode="collapse", combine_edges="sum")
        w = np.asarray(und.es["weight"] if und.ecount() else [], dtype=float)
        g = und
    weights = list(w) if weighted else None
    if g.ecount() == 0:
        membership = list(range(n))
        modularity = None
    else:
        with _RNG_LOCK:
            ig.set_random_number_generator(random.Random(seed))
            try:
                if method == "louvain":
                    parts = g.community_multilevel(weights=weights)
                else:
                    parts = g.community_leiden(
                        objective_function="modularity", weights=weights, n_iterations=-1
                    )
            finally:
                ig.set_random_number_generator(random)
        membership = list(parts.membership)
        modularity = float(g.modularity(membership, weights=weights))
    sizes = Counter(membership)
    first: dict[int, int] = {}
    for i, c in enumerate(membership):
        first.setdefault(c, i)
    order = sorted(sizes, key=lambda c: (-sizes[c], first[c]))
    renumber = {c: k for k, c in enumerate(order)}
    return np.asarray([renumber[c] for c in membership], dtype=np.int64), modularity


def bridges_and_cut_points(graph: Graph) -> tuple[list[tuple[int, int]], list[int]]:
    """Edges whose removal disconnects their component, and nodes whose removal does
    (Tarjan 1974), on the undirected graph."""
    g = graph.g.as_undirected() if graph.directed else graph.g.copy()
    g.simplify()  # in place: never on graph.g, whose edge order the weights follow
    edges = g.get_edgelist()
    bridge_edges = sorted(tuple(sorted(edges[e])) for e in g.bridges())
    return [(a, b) for a, b in bridge_edges], sorted(g.articulation_points())


def compute_measures(
    network: Network,
    *,
    directed: bool = False,
    weighted: bool = False,
    betweenness_mode: Betweenness = "auto",
    samples: int | None = None,
    seed: int = DEFAULT_SEED,
    community_method: CommunityMethod = "leiden",
    closeness_too: bool | None = None,
    deprivation: AreaDeprivation | None = None,
) -> Measures:
    """Every measure of ``network`` (already filtered for its viewer: see ``consent``).

    ``betweenness_mode``: ``exact``, ``sampled`` (``samples`` sources, default 1,000) or
    ``auto`` (exact up to ``EXACT_LIMIT`` nodes). ``closeness_too``: default up to
    ``EXACT_LIMIT`` nodes. ``deprivation``: the IMD of the nodes' areas, for ties across
    deprivation (none: no node has a decile).
    """
    graph = build_graph(network, directed=directed)
    n = graph.n
    big = n > EXACT_LIMIT
    k: int | None = None
    if betweenness_mode == "sampled" or (betweenness_mode == "auto" and big):
        k = min(n, samples or DEFAULT_SAMPLES)
    btw, method = betweenness(graph, weighted=weighted, samples=k, seed=seed)
    close = (
        closeness(graph, weighted=weighted)
        if (closeness_too if closeness_too is not None else not big)
        else None
    )
    pr = pagerank(graph, weighted=weighted)
    cons, eff = structural_holes(graph, weighted=weighted)
    membership, modularity = communities(
        graph, weighted=weighted, seed=seed, method=community_method
    )
    bridge_pairs, cut_points = bridges_and_cut_points(graph)
    cut = set(cut_points)
    degree = np.asarray(graph.g.degree(), dtype=np.int64)
    strength = (
        np.asarray(graph.g.strength(weights=list(graph.weights)), dtype=float)
        if graph.g.ecount()
        else np.zeros(n)
    )
    dep = deprivation or AreaDeprivation.none()
    bridging = Counter[str]()
    area_ties: Counter[str] = Counter()
    area_bridging: Counter[str] = Counter()
    n_bridging = 0
    for t in network.ties:
        a, b = network.node(t.source).area_code, network.node(t.target).area_code
        qa, qb = dep.quintile(a), dep.quintile(b)
        crosses = qa is not None and qb is not None and qa != qb
        for code in {a, b} - {None}:
            assert code is not None
            area_ties[code] += 1
            if crosses:
                area_bridging[code] += 1
        if crosses:
            n_bridging += 1
            bridging[t.source] += 1
            bridging[t.target] += 1
    nodes = tuple(
        NodeMeasures(
            id=node.id,
            kind=node.kind,
            name=node.name,
            degree=int(degree[i]),
            weighted_degree=float(strength[i]),
            betweenness=float(btw[i]),
            closeness=float(close[i]) if close is not None else None,
            pagerank=float(pr[i]),
            constraint=float(cons[i]),
            effective_size=float(eff[i]),
            community=int(membership[i]),
            articulation_point=i in cut,
            bridging_ties=bridging[node.id],
            area_code=node.area_code,
            imd_decile=dep.decile(node.area_code),
        )
        for i, node in enumerate(network.nodes)
    )
    area_nodes = Counter(n.area_code for n in network.nodes if n.area_code)
    areas = tuple(
        AreaBridging(
            code=code,
            name=dep.name(code),
            imd_decile=dep.decile(code),
            imd_quintile=dep.quintile(code),
            nodes=area_nodes[code],
            ties=area_ties[code],
            bridging_ties=area_bridging[code],
        )
        for code in sorted(set(area_nodes) | set(area_ties))
    )
    n_components = len(graph.g.connected_components(mode="weak")) if n else 0
    possible = n * (n - 1) if directed else n * (n - 1) / 2
    summary = GraphSummary(
        nodes=n,
        edges=graph.g.ecount(),
        components=n_components,
        communities=len(set(membership.tolist())),
        ties=len(network.ties),
        directed=directed,
        weighted=weighted,
        as_at=network.day,
        modularity=modularity,
        density=graph.g.ecount() / possible if possible else 0.0,
        bridges=len(bridge_pairs),
        articulation_points=len(cut_points),
        bridging_ties=n_bridging,
        community_method=community_method,
        seed=seed,
        betweenness=method,
        imd_release=dep.release,
        viewer=network.viewer.role if network.viewer else None,
    )
    ids = graph.ids
    named = sorted((min(ids[a], ids[b]), max(ids[a], ids[b])) for a, b in bridge_pairs)
    return Measures(nodes, summary, areas, tuple(named))


def ranked(values: Sequence[float], ids: Sequence[str], top: int) -> list[str]:
    """The ``top`` ids by value (highest first; equal values by id)."""
    order = sorted(range(len(ids)), key=lambda i: (-values[i], ids[i]))
    return [ids[i] for i in order[:top]]


__all__ = [
    "CONFIDENCE",
    "DEFAULT_SAMPLES",
    "DEFAULT_SEED",
    "EXACT_LIMIT",
    "AreaBridging",
    "BetweennessMethod",
    "Graph",
    "GraphSummary",
    "Measures",
    "NodeMeasures",
    "betweenness",
    "betweenness_error_bound",
    "bridges_and_cut_points",
    "build_graph",
    "closeness",
    "communities",
    "compute_measures",
    "pagerank",
    "ranked",
    "structural_holes",
]
