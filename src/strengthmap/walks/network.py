"""The walking network: a routable pedestrian graph from OSM ways, noded at every shared vertex.

Example:
    >>> from strengthmap.walks.ways import Ways
    >>> import numpy as np
    >>> ways = Ways(np.array([[-1.550, 53.800], [-1.549, 53.800], [-1.548, 53.800],
    ...                       [-1.549, 53.800], [-1.549, 53.801]]),
    ...             np.array([0, 3, 5]), [{"highway": "footway", "osm_id": "1"},
    ...             {"highway": "steps", "osm_id": "2"}], "two.geojson", "geojson", "0" * 64)
    >>> net = build_network(ways)
    >>> net.report.nodes, net.report.edges           # the shared vertex splits way 1
    (4, 3)
    >>> a, top = (int(np.argmin(np.hypot(*(net.node_lonlat - p).T)))
    ...           for p in ([-1.550, 53.800], [-1.549, 53.801]))
    >>> round(net.shortest_path(a, top).length_m, 1)  # along way 1, then up the steps
    177.2
    >>> net.shortest_path(a, top, step_free=True)      # the steps are the only way up
    Traceback (most recent call last):
    ...
    strengthmap.errors.InputError: no step-free walk joins the two points: ...

Method (``docs/methods/walks.md``): the raw OSM ways are split at every vertex shared by two
walkable ways, or repeated within one, and at their ends (coordinates compared at 1e-7 degree,
about 1 cm); each piece between two such nodes is an edge, its length the sum of its segments
measured on the WGS84 ellipsoid (pyproj ``Geod``, Karney 2013). The foot access rules are those
of ``strengthmap.walks.ways.foot_rule``. Only the largest connected piece is kept; the others
are counted in the report. Shortest paths are Dijkstra's algorithm in
``scipy.sparse.csgraph`` (compiled, on a CSR matrix that holds the shorter of parallel edges).
A point is joined to the network at the nearest point of a walkable way (in a local azimuthal
equidistant projection, then measured on the ellipsoid), so a walk starts on the street, not
at the nearest junction.
"""

from __future__ import annotations

import io
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Geod, Transformer
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, dijkstra

from strengthmap.errors import InputError
from strengthmap.walks.ways import BUSY_ROADS, Ways, count_reasons, foot_rule

GEOD = Geod(ellps="WGS84")
#: Bumped when the arrays or the rules change: a stored network of another version is rebuilt.
BUILDER_VERSION = 1
#: Coordinates are compared at this many units per degree (1e-7 degree is about 1 cm).
QUANTUM = 1e7
#: How far (metres) a point may lie from the nearest walkable way and still be joined to it.
MAX_SNAP_M = 300.0
ATTRIBUTION_OSM = "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"
_ARRAYS = (
    "node_lonlat", "edge_u", "edge_v", "edge_length_m", "edge_way", "edge_v0", "edge_v1",
    "vertex_lonlat", "vertex_cum_m", "node_busy_ptr", "node_busy_road",
)  # fmt: skip


@dataclass
class NetworkReport:
    """What the build did: counts, the rules applied and the pieces dropped."""

    source: str
    format: str
    sha256: str
    ways_read: int
    ways_walkable: int
    ways_refused: dict[str, int]
    ways_steps: int
    nodes: int
    edges: int
    length_km: float
    components_dropped: int
    nodes_dropped: int
    edges_dropped: int
    length_dropped_km: float
    self_loops_dropped: int
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    skipped_features: dict[str, int] = field(default_factory=dict)
    builder_version: int = BUILDER_VERSION

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["bbox"] = list(self.bbox)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NetworkReport:
        d = dict(d)
        d["bbox"] = tuple(d["bbox"])
        return cls(**d)


@dataclass(frozen=True)
class Snap:
    """A point joined to the network: on edge ``edge`` at ``offset_m`` from its ``u`` end."""

    edge: int
    offset_m: float
    lon: float  # the point on the way
    lat: float
    distance_m: float  # from the point given to the way


@dataclass
class Path:
    """A walk along the network: its vertices (lon/lat), length, and the edges used in order."""

    coords: NDArray[np.float64]
    length_m: float
    edges: list[int]
    nodes: list[int]  # base nodes passed, in order (virtual points left out)
    nodes_at_m: list[float] = field(default_factory=list)  # where along the path each is

    def to_geojson(self) -> dict[str, Any]:
        return {
            "type": "LineString",
            "coordinates": [[round(float(x), 7), round(float(y), 7)] for x, y in self.coords],
        }


@dataclass
class RoutingGraph:
    """A CSR graph for Dijkstra: the base network plus points joined to it (virtual nodes)."""

    csr: csr_array
    edge_of: NDArray[np.int64]  # the network edge of each CSR entry (aligned with csr.data)
    n_base: int
    snaps: list[Snap]  # virtual node n_base + i is snaps[i]
    node_of_snap: list[int]  # the graph node of each snap given (a base node when at an end)
    _keys: NDArray[np.int64] | None = None

    @property
    def keys(self) -> NDArray[np.int64]:
        """``row * n + col`` of every CSR entry, ascending: one ``searchsorted`` finds many."""
        if self._keys is None:
            n = int(self.csr.shape[0])
            rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(self.csr.indptr))
            self._keys = rows * n + self.csr.indices.astype(np.int64)
        return self._keys


class WalkNetwork:
    """The pedestrian graph as arrays (see the module docstring); build with ``build_network``."""

    def __init__(
        self,
        arrays: dict[str, NDArray[Any]],
        ways: list[dict[str, str]],
        busy_roads: list[dict[str, str]],
        report: NetworkReport,
    ) -> None:
        self.node_lonlat: NDArray[np.float64] = arrays["node_lonlat"]
        self.edge_u: NDArray[np.int64] = arrays["edge_u"].astype(np.int64)
        self.edge_v: NDArray[np.int64] = arrays["edge_v"].astype(np.int64)
        self.edge_length_m: NDArray[np.float64] = arrays["edge_length_m"]
        self.edge_way: NDArray[np.int64] = arrays["edge_way"].astype(np.int64)
        self.edge_v0: NDArray[np.int64] = arrays["edge_v0"].astype(np.int64)
        self.edge_v1: NDArray[np.int64] = arrays["edge_v1"].astype(np.int64)
        self.vertex_lonlat: NDArray[np.float64] = arrays["vertex_lonlat"]
        self.vertex_cum_m: NDArray[np.float64] = arrays["vertex_cum_m"]
        self.node_busy_ptr: NDArray[np.int64] = arrays["node_busy_ptr"].astype(np.int64)
        self.node_busy_road: NDArray[np.int64] = arrays["node_busy_road"].astype(np.int64)
        self.ways = ways
        self.busy_roads = busy_roads
        self.report = report
        self.edge_steps = np.array(
            [ways[w].get("highway") == "steps" for w in self.edge_way], dtype=bool
        )
        self._csr: dict[bool, tuple[csr_array, NDArray[np.int64]]] = {}
        self._tree: tuple[shapely.STRtree, NDArray[np.int64], NDArray[np.float64], Any] | None = (
            None
        )
        self._components: dict[bool, NDArray[np.int32]] = {}
        self._base_graph: dict[bool, RoutingGraph] = {}

    # --- sizes ------------------------------------------------------------------------------

    @property
    def n_nodes(self) -> int:
        return len(self.node_lonlat)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    def stats(self) -> dict[str, int]:
        """The ``network`` object of the plan JSON."""
        return {
            "nodes": self.n_nodes,
            "edges": self.n_edges,
            "components_dropped": self.report.components_dropped,
        }

    # --- serialisation ----------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The arrays, way tags and report as one compressed ``.npz`` (no pickles)."""
        buf = io.BytesIO()
        meta = json.dumps(
            {"ways": self.ways, "busy_roads": self.busy_roads, "report": self.report.to_dict()},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        arrays = {name: getattr(self, name) for name in _ARRAYS}
        np.savez_compressed(buf, meta=np.frombuffer(meta, dtype=np.uint8), **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> WalkNetwork:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            arrays = {name: z[name] for name in _ARRAYS}
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
        return cls(
            arrays, meta["ways"], meta["busy_roads"], NetworkReport.from_dict(meta["report"])
        )

    # --- the graph --------------------------------------------------------------------------

    def _allowed(self, step_free: bool) -> NDArray[np.bool_]:
        return ~self.edge_steps if step_free else np.ones(self.n_edges, dtype=bool)

    def _entries(
        self, step_free: bool
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
        keep = np.flatnonzero(self._allowed(step_free))
        rows = np.concatenate([self.edge_u[keep], self.edge_v[keep]])
        cols = np.concatenate([self.edge_v[keep], self.edge_u[keep]])
        data = np.concatenate([self.edge_length_m[keep], self.edge_length_m[keep]])
        eid = np.concatenate([keep, keep]).astype(np.int64)
        return rows, cols, data, eid

    def csr(self, step_free: bool = False) -> tuple[csr_array, NDArray[np.int64]]:
        """The symmetric CSR matrix of edge lengths (the shorter of parallel edges) and the
        network edge of each stored entry."""
        if step_free not in self._csr:
            self._csr[step_free] = _to_csr(*self._entries(step_free), self.n_nodes)
        return self._csr[step_free]

    def components(self, step_free: bool = False) -> NDArray[np.int32]:
        """The connected piece of each node (all one piece unless ``step_free`` cuts some off)."""
        if step_free not in self._components:
            _, labels = connected_components(self.csr(step_free)[0], directed=False)
            self._components[step_free] = labels.astype(np.int32)
        return self._components[step_free]

    def graph(self, snaps: Sequence[Snap] = (), *, step_free: bool = False) -> RoutingGraph:
        """The network with ``snaps`` joined as virtual nodes (several on one edge are chained
        in order along it); a snap at an edge's end is that end node."""
        base, base_edge = self.csr(step_free)
        n = self.n_nodes
        if not snaps:
            if step_free not in self._base_graph:
                self._base_graph[step_free] = RoutingGraph(base, base_edge, n, [], [])
            return self._base_graph[step_free]
        virtual: list[Snap] = []
        node_of_snap: list[int] = []
        seen: dict[tuple[int, float], int] = {}
        by_edge: dict[int, list[tuple[float, int]]] = {}
        for s in snaps:
            length = float(self.edge_length_m[s.edge])
            if s.offset_m <= 0.01:
                node_of_snap.append(int(self.edge_u[s.edge]))
                continue
            if s.offset_m >= length - 0.01:
                node_of_snap.append(int(self.edge_v[s.edge]))
                continue
            key = (s.edge, round(s.offset_m, 2))
            if key not in seen:
                seen[key] = n + len(virtual)
                virtual.append(s)
                by_edge.setdefault(s.edge, []).append((s.offset_m, seen[key]))
            node_of_snap.append(seen[key])
        if not virtual:
            return RoutingGraph(base, base_edge, n, [], node_of_snap)
        extra_r: list[int] = []
        extra_c: list[int] = []
        extra_d: list[float] = []
        extra_e: list[int] = []
        for edge, points in by_edge.items():
            points.sort()
            chain = [(0.0, int(self.edge_u[edge])), *points,
                     (float(self.edge_length_m[edge]), int(self.edge_v[edge]))]  # fmt: skip
            for (o1, a), (o2, b) in itertools.pairwise(chain):
                d = max(o2 - o1, 1e-6)
                extra_r += [a, b]
                extra_c += [b, a]
                extra_d += [d, d]
                extra_e += [edge, edge]
        # the extra entries all touch a virtual node, so none repeats a base entry
        total = n + len(virtual)
        rows = np.concatenate([np.repeat(np.arange(n, dtype=np.int64), np.diff(base.indptr)),
                               np.asarray(extra_r, dtype=np.int64)])  # fmt: skip
        cols = np.concatenate([base.indices.astype(np.int64), np.asarray(extra_c, dtype=np.int64)])
        data = np.concatenate([base.data, np.asarray(extra_d, dtype=float)])
        eid = np.concatenate([base_edge, np.asarray(extra_e, dtype=np.int64)])
        order = np.argsort(rows * total + cols, kind="stable")
        rows, cols, data, eid = rows[order], cols[order], data[order], eid[order]
        indptr = np.searchsorted(rows, np.arange(total + 1)).astype(np.int64)
        csr = csr_array((data, cols.astype(np.int32), indptr), shape=(total, total))
        return RoutingGraph(csr, eid, n, virtual, node_of_snap)

    def dijkstra(
        self, graph: RoutingGraph, sources: Sequence[int], *, limit: float = np.inf
    ) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
        """Distances (metres; ``inf`` beyond ``limit`` or unreachable) and predecessors from
        each source to every node of ``graph`` (rows in the order of ``sources``)."""
        dist, pred = dijkstra(
            graph.csr,
            directed=True,  # the matrix holds both directions: no symmetrising copy per call
            indices=np.asarray(sources, dtype=np.int64),
            return_predecessors=True,
            limit=limit,
        )
        return np.atleast_2d(dist), np.atleast_2d(pred)

    def shortest_path(self, a: int, b: int, *, step_free: bool = False) -> Path:
        """The shortest walk between two nodes of the network.

        The search is first cut off at 2.5 times the straight line (or 1.5 km more): streets
        are rarely longer than that, and Dijkstra is exact for every node within the cut-off;
        when the end lies beyond it, the search runs again without one.
        """
        graph = self.graph(step_free=step_free)
        (xa, ya), (xb, yb) = self.node_lonlat[a], self.node_lonlat[b]
        crow = geodesic_m(float(xa), float(ya), float(xb), float(yb))
        dist, pred = self.dijkstra(graph, [a], limit=max(2.5 * crow, crow + 1500.0))
        if not np.isfinite(dist[0, b]):
            dist, pred = self.dijkstra(graph, [a])
        if not np.isfinite(dist[0, b]):
            raise InputError(
                f"no {'step-free ' if step_free else ''}walk joins the two points: "
                f"they are in pieces of the network that do not connect"
            )
        return self.path(graph, pred[0], a, b)

    def node_sequence(self, pred: NDArray[np.int32], a: int, b: int) -> list[int]:
        """The nodes from ``a`` to ``b`` read back from a predecessor row."""
        seq = [b]
        while seq[-1] != a:
            p = int(pred[seq[-1]])
            if p < 0:
                raise InputError("no walk joins the two points")
            seq.append(p)
        return seq[::-1]

    def path(self, graph: RoutingGraph, pred: NDArray[np.int32], a: int, b: int) -> Path:
        """The street path from graph node ``a`` to ``b`` (a predecessor row from ``a``)."""
        return self.path_of_nodes(graph, self.node_sequence(pred, a, b))

    def path_of_nodes(self, graph: RoutingGraph, seq: Sequence[int]) -> Path:
        """Vertices of the path through graph nodes ``seq`` (consecutive nodes are adjacent)."""
        nodes = np.asarray(seq, dtype=np.int64)
        a, b = nodes[:-1], nodes[1:]
        n = int(graph.csr.shape[0])
        k = np.searchsorted(graph.keys, a * n + b)
        if len(k) and (k.max() >= len(graph.keys) or (graph.keys[k] != a * n + b).any()):
            raise InputError("the nodes of the path are not adjacent")  # pragma: no cover
        edges = graph.edge_of[k]
        lengths = np.asarray(graph.csr.data[k], dtype=float)
        at = np.concatenate([[0.0], np.cumsum(lengths)])
        pieces: list[NDArray[np.float64]] = [self._node_xy(graph, int(nodes[0]))[None, :]]
        nb = graph.n_base
        for i in range(len(a)):
            ai, bi, e = int(a[i]), int(b[i]), int(edges[i])
            if ai < nb and bi < nb:
                xy = self.vertex_lonlat[self.edge_v0[e] : self.edge_v1[e] + 1]
                pieces.append(xy[1:] if ai == self.edge_u[e] else xy[::-1][1:])
            else:
                pieces.append(self._piece(graph, e, ai, bi)[1:])
        coords = np.vstack(pieces)
        keep = np.ones(len(coords), dtype=bool)
        keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)
        base = np.flatnonzero(nodes < nb)
        return Path(coords[keep], float(at[-1]), [int(e) for e in edges],
                    [int(x) for x in nodes[base]], [float(x) for x in at[base]])  # fmt: skip

    def _node_xy(self, graph: RoutingGraph, node: int) -> NDArray[np.float64]:
        if node < graph.n_base:
            xy: NDArray[np.float64] = self.node_lonlat[node]
            return xy
        s = graph.snaps[node - graph.n_base]
        return np.array([s.lon, s.lat])

    def _offset(self, graph: RoutingGraph, edge: int, node: int) -> float:
        if node >= graph.n_base:
            return graph.snaps[node - graph.n_base].offset_m
        if node == self.edge_u[edge] and node != self.edge_v[edge]:
            return 0.0
        return float(self.edge_length_m[edge])

    def _piece(self, graph: RoutingGraph, edge: int, a: int, b: int) -> NDArray[np.float64]:
        """The vertices of ``edge`` from node ``a`` to node ``b`` (either may be virtual)."""
        v0, v1 = int(self.edge_v0[edge]), int(self.edge_v1[edge])
        whole = a < graph.n_base and b < graph.n_base
        if whole:
            xy = self.vertex_lonlat[v0 : v1 + 1]
            return xy if a == self.edge_u[edge] else xy[::-1]
        oa, ob = self._offset(graph, edge, a), self._offset(graph, edge, b)
        lo, hi = min(oa, ob), max(oa, ob)
        along = self.vertex_cum_m[v0 : v1 + 1] - self.vertex_cum_m[v0]
        inner = self.vertex_lonlat[v0 : v1 + 1][(along > lo + 1e-6) & (along < hi - 1e-6)]
        start, end = self._node_xy(graph, a), self._node_xy(graph, b)
        if oa > ob:
            inner = inner[::-1]
        return np.vstack([start[None, :], inner, end[None, :]])

    # --- joining points to the network --------------------------------------------------------

    def _segment_index(
        self,
    ) -> tuple[shapely.STRtree, NDArray[np.int64], NDArray[np.float64], Any]:
        if self._tree is None:
            lon0 = float(np.mean(self.report.bbox[0::2]))
            lat0 = float(np.mean(self.report.bbox[1::2]))
            aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")
            fwd = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
            inv = Transformer.from_crs(aeqd, "EPSG:4326", always_xy=True)
            counts = self.edge_v1 - self.edge_v0
            seg_edge = np.repeat(np.arange(self.n_edges, dtype=np.int64), counts)
            first = np.repeat(np.cumsum(counts) - counts, counts)
            seg_start = self.edge_v0[seg_edge] + (np.arange(len(seg_edge)) - first)
            x, y = fwd.transform(self.vertex_lonlat[:, 0], self.vertex_lonlat[:, 1])
            xy = np.column_stack([x, y])
            segs = np.stack([xy[seg_start], xy[seg_start + 1]], axis=1)
            tree = shapely.STRtree(shapely.linestrings(segs))
            self._tree = (tree, np.column_stack([seg_edge, seg_start]), segs, (fwd, inv))
        return self._tree

    def snap(
        self,
        lons: Sequence[float] | NDArray[np.float64],
        lats: Sequence[float] | NDArray[np.float64],
        *,
        step_free: bool = False,
        max_m: float = MAX_SNAP_M,
    ) -> list[Snap | None]:
        """Join each point to the nearest point of a walkable way within ``max_m`` metres
        (``None`` where there is none); step-free joins skip steps."""
        tree, seg_info, segs, (fwd, inv) = self._segment_index()
        lons = np.asarray(lons, dtype=float)
        lats = np.asarray(lats, dtype=float)
        px, py = fwd.transform(lons, lats)
        px, py = np.atleast_1d(px), np.atleast_1d(py)
        pts = shapely.points(px, py)
        # planar distances are within a fraction of a percent of the ellipsoid's here: widen
        pi, si = tree.query(pts, predicate="dwithin", distance=max_m * 1.01 + 1.0)
        allowed = self._allowed(step_free)
        ok = allowed[seg_info[si, 0]]
        pi, si = pi[ok], si[ok]
        a, b = segs[si, 0], segs[si, 1]
        p = np.column_stack([px[pi], py[pi]])
        d = b - a
        dd = np.einsum("ij,ij->i", d, d)
        t = np.clip(np.einsum("ij,ij->i", p - a, d) / np.where(dd > 0, dd, 1.0), 0.0, 1.0)
        foot = a + t[:, None] * d
        dist = np.hypot(*(foot - p).T)
        out: list[Snap | None] = [None] * len(lons)
        order = np.lexsort((si, dist, pi))
        first = np.ones(len(order), dtype=bool)
        first[1:] = pi[order][1:] != pi[order][:-1]
        best = order[first]
        if not len(best):
            return out
        edge = seg_info[si[best], 0]
        start = seg_info[si[best], 1]
        flon, flat = inv.transform(foot[best, 0], foot[best, 1])
        flon, flat = np.atleast_1d(flon), np.atleast_1d(flat)
        pt = pi[best]
        _, _, dm = GEOD.inv(lons[pt], lats[pt], flon, flat)
        dm = np.atleast_1d(dm)
        seg_len = self.vertex_cum_m[start + 1] - self.vertex_cum_m[start]
        offset = (
            self.vertex_cum_m[start] - self.vertex_cum_m[self.edge_v0[edge]] + t[best] * seg_len
        )
        for j in np.flatnonzero(dm <= max_m):
            out[int(pt[j])] = Snap(int(edge[j]), float(offset[j]), float(flon[j]), float(flat[j]),
                                   float(dm[j]))  # fmt: skip
        return out

    def distance_to_network_m(self, lon: float, lat: float) -> float:
        """How far a point is from the nearest walkable way (metres, any distance)."""
        tree, _, _, (fwd, _) = self._segment_index()
        x, y = fwd.transform(lon, lat)
        _, dist = tree.query_nearest(shapely.points(x, y), return_distance=True)
        return float(np.min(dist))

    def to_networkx(self, step_free: bool = False) -> Any:
        """The same graph in networkx (the shorter of parallel edges), for checks and benches."""
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(self.n_nodes))
        for e in np.flatnonzero(self._allowed(step_free)):
            u, v, w = int(self.edge_u[e]), int(self.edge_v[e]), float(self.edge_length_m[e])
            if not graph.has_edge(u, v) or graph[u][v]["weight"] > w:
                graph.add_edge(u, v, weight=w, edge=int(e))
        return graph


def _to_csr(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    data: NDArray[np.float64],
    eid: NDArray[np.int64],
    n: int,
) -> tuple[csr_array, NDArray[np.int64]]:
    """A CSR matrix keeping the shortest of entries sharing (row, col), with its edge ids."""
    order = np.lexsort((eid, data, cols, rows))
    rows, cols, data, eid = rows[order], cols[order], data[order], eid[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, data, eid = rows[first], cols[first], data[first], eid[first]
    indptr = np.searchsorted(rows, np.arange(n + 1)).astype(np.int64)
    csr = csr_array((data, cols.astype(np.int32), indptr), shape=(n, n))
    return csr, eid


def _keys(coords: NDArray[np.float64]) -> NDArray[np.uint64]:
    q = np.round(coords * QUANTUM).astype(np.int64) + (1 << 31)
    return (q[:, 0].astype(np.uint64) << np.uint64(32)) | q[:, 1].astype(np.uint64)


def build_network(ways: Ways) -> WalkNetwork:
    """Build the walking network from OSM ways (see the module docstring for the method)."""
    rules = [foot_rule(t) for t in ways.tags]
    n_ways = len(ways)
    walkable = np.fromiter((r.walkable for r in rules), dtype=bool, count=n_ways)
    lengths = np.diff(ways.offsets)
    way_of = np.repeat(np.arange(n_ways, dtype=np.int64), lengths)
    coords = ways.coords
    # drop a vertex repeating the one before it on the same way
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(coords[1:] != coords[:-1], axis=1) | (way_of[1:] != way_of[:-1])
    coords, way_of = coords[keep], way_of[keep]
    counts = np.bincount(way_of, minlength=n_ways)
    walkable &= counts >= 2
    keys = _keys(coords)

    on = walkable[way_of]
    w_coords, w_way, w_keys = coords[on], way_of[on], keys[on]
    if not len(w_coords):
        raise InputError("no walkable ways in the file (every way is refused by the foot rules)",
                         file=ways.source)  # fmt: skip
    uniq, inv, n_occ = np.unique(w_keys, return_inverse=True, return_counts=True)
    is_first = np.ones(len(w_way), dtype=bool)
    is_first[1:] = w_way[1:] != w_way[:-1]
    is_last = np.ones(len(w_way), dtype=bool)
    is_last[:-1] = w_way[1:] != w_way[:-1]
    is_node = (n_occ[inv] >= 2) | is_first | is_last
    node_uniq = np.unique(inv[is_node])
    node_of_uniq = np.full(len(uniq), -1, dtype=np.int64)
    node_of_uniq[node_uniq] = np.arange(len(node_uniq))

    # segment lengths on the ellipsoid; cumulative along each way
    _, _, seg = GEOD.inv(w_coords[:-1, 0], w_coords[:-1, 1], w_coords[1:, 0], w_coords[1:, 1])
    seg = np.where(w_way[1:] == w_way[:-1], np.atleast_1d(seg), 0.0)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    first_idx = np.flatnonzero(is_first)
    cum = cum - np.repeat(cum[first_idx], np.diff(np.append(first_idx, len(w_way))))

    idx = np.flatnonzero(is_node)
    same = w_way[idx[1:]] == w_way[idx[:-1]]
    v0, v1 = idx[:-1][same], idx[1:][same]
    u = node_of_uniq[inv[v0]]
    v = node_of_uniq[inv[v1]]
    length = cum[v1] - cum[v0]
    edge_way = w_way[v0]
    loop = u == v
    self_loops = int(loop.sum())
    u, v, length, edge_way, v0, v1 = (x[~loop] for x in (u, v, length, edge_way, v0, v1))
    node_xy = _node_coords(w_coords, inv, is_node, len(node_uniq), node_of_uniq)

    # keep the largest connected piece
    n_nodes = len(node_uniq)
    csr, _ = _to_csr(np.concatenate([u, v]), np.concatenate([v, u]),
                     np.concatenate([length, length]),
                     np.zeros(2 * len(u), dtype=np.int64), n_nodes)  # fmt: skip
    n_comp, labels = connected_components(csr, directed=False)
    sizes = np.bincount(labels, minlength=n_comp)
    # nodes with no edge left (only self-loops) are pieces too; the largest piece wins
    main = int(np.argmax(sizes))
    keep_node = labels == main
    keep_edge = keep_node[u]
    new_id = np.cumsum(keep_node) - 1
    dropped_len = float(length[~keep_edge].sum())
    u, v, length, edge_way, v0, v1 = (x[keep_edge] for x in (u, v, length, edge_way, v0, v1))
    u, v = new_id[u], new_id[v]
    node_xy = node_xy[keep_node]

    # compact the vertices to those of the kept edges
    used = np.zeros(len(w_coords) + 1, dtype=np.int64)
    np.add.at(used, v0, 1)
    np.add.at(used, v1 + 1, -1)
    used_mask = np.cumsum(used[:-1]) > 0
    used_mask[v1] = True
    vid = np.cumsum(used_mask) - 1
    vertex_lonlat = w_coords[used_mask]
    vertex_cum = cum[used_mask]
    v0, v1 = vid[v0], vid[v1]

    # ways: renumber to those used; tags kept for the briefing (names, steps, crossings)
    way_ids, edge_way = np.unique(edge_way, return_inverse=True)
    way_tags = [ways.tags[int(w)] for w in way_ids]

    # busy roads (walkable or not) touching each node: where a walk crosses them
    busy_way = np.fromiter(
        (t.get("highway") in BUSY_ROADS for t in ways.tags), dtype=bool, count=n_ways
    )
    b_on = busy_way[way_of]
    b_keys, b_way = keys[b_on], way_of[b_on]
    node_keys = _keys(node_xy)
    order = np.argsort(node_keys)
    pos = np.searchsorted(node_keys[order], b_keys)
    pos = np.clip(pos, 0, max(len(order) - 1, 0))
    hit = node_keys[order][pos] == b_keys if len(order) else np.zeros(len(b_keys), dtype=bool)
    pairs = np.unique(np.column_stack([order[pos[hit]], b_way[hit]]), axis=0)
    road_ids, road_idx = np.unique(pairs[:, 1], return_inverse=True) if len(pairs) else (
        np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))  # fmt: skip
    busy_roads = [
        {k: ways.tags[int(w)][k] for k in ("osm_id", "name", "ref", "highway")
         if k in ways.tags[int(w)]} | {"walkable": "yes" if walkable[int(w)] else "no"}
        for w in road_ids
    ]  # fmt: skip
    node_busy_ptr = np.searchsorted(pairs[:, 0], np.arange(len(node_xy) + 1)) if len(pairs) else (
        np.zeros(len(node_xy) + 1, dtype=np.int64))  # fmt: skip

    bbox = (
        float(vertex_lonlat[:, 0].min()), float(vertex_lonlat[:, 1].min()),
        float(vertex_lonlat[:, 0].max()), float(vertex_lonlat[:, 1].max()),
    )  # fmt: skip
    report = NetworkReport(
        source=ways.source,
        format=ways.format,
        sha256=ways.sha256,
        ways_read=n_ways,
        ways_walkable=int(walkable.sum()),
        ways_refused=count_reasons(rules),
        ways_steps=int(sum(1 for r, w in zip(rules, walkable, strict=True) if r.steps and w)),
        nodes=len(node_xy),
        edges=len(u),
        length_km=round(float(length.sum()) / 1000, 3),
        components_dropped=int(n_comp - 1),
        nodes_dropped=int((~keep_node).sum()),
        edges_dropped=int((~keep_edge).sum()),
        length_dropped_km=round(dropped_len / 1000, 3),
        self_loops_dropped=self_loops,
        bbox=bbox,
        skipped_features=dict(ways.skipped),
    )
    arrays: dict[str, NDArray[Any]] = {
        "node_lonlat": node_xy.astype(float),
        "edge_u": u.astype(np.int32),
        "edge_v": v.astype(np.int32),
        "edge_length_m": length.astype(float),
        "edge_way": edge_way.astype(np.int32),
        "edge_v0": v0.astype(np.int64),
        "edge_v1": v1.astype(np.int64),
        "vertex_lonlat": vertex_lonlat.astype(float),
        "vertex_cum_m": vertex_cum.astype(float),
        "node_busy_ptr": np.asarray(node_busy_ptr, dtype=np.int64),
        "node_busy_road": np.asarray(road_idx, dtype=np.int32),
    }
    return WalkNetwork(arrays, way_tags, busy_roads, report)


def _node_coords(
    w_coords: NDArray[np.float64],
    inv: NDArray[np.int64],
    is_node: NDArray[np.bool_],
    n_nodes: int,
    node_of_uniq: NDArray[np.int64],
) -> NDArray[np.float64]:
    """The coordinates of each node (the first occurrence of its vertex)."""
    out = np.empty((n_nodes, 2), dtype=float)
    occ = np.flatnonzero(is_node)
    out[node_of_uniq[inv[occ]]] = w_coords[occ]
    return out


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two points on the WGS84 ellipsoid."""
    _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    return float(d)


def bbox_distance_m(bbox: tuple[float, float, float, float], lon: float, lat: float) -> float:
    """Metres from a point to the nearest point of a lon/lat box (0 inside)."""
    clon = min(max(lon, bbox[0]), bbox[2])
    clat = min(max(lat, bbox[1]), bbox[3])
    return 0.0 if (clon, clat) == (lon, lat) else geodesic_m(lon, lat, clon, clat)


def finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


__all__ = [
    "ATTRIBUTION_OSM",
    "BUILDER_VERSION",
    "MAX_SNAP_M",
    "NetworkReport",
    "Path",
    "RoutingGraph",
    "Snap",
    "WalkNetwork",
    "bbox_distance_m",
    "build_network",
    "geodesic_m",
]
