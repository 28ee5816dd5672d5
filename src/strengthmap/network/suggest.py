"""Who are the brokers, and who should meet whom: introductions with their reason in words.

Example:
    >>> from strengthmap.network.model import Network, NetworkNode, NetworkTie
    >>> from strengthmap.network.measures import compute_measures
    >>> nodes = tuple(NetworkNode(x, "person", x.title()) for x in ("amy", "ben", "cat", "dan", "eve"))
    >>> ties = tuple(NetworkTie(str(i), a, b, "meets_with") for i, (a, b) in enumerate(
    ...     [("amy", "ben"), ("ben", "cat"), ("cat", "amy"), ("cat", "dan"), ("dan", "eve")]))
    >>> net = Network(nodes, ties)
    >>> m = compute_measures(net)
    >>> [b.id for b in find_brokers(net, m, top=2).brokers]
    ['cat', 'dan']
    >>> s = suggest_introductions(net, m, top=1).suggestions[0]
    >>> (s.a.id, s.b.id, s.via)
    ('amy', 'dan', ('cat',))

Brokers (Burt 1992; Freeman 1977): the nodes that most often lie on the shortest paths between
others (betweenness), with their constraint and effective size (low constraint, high effective
size: contacts who do not know each other), the communities their ties reach, and whether the
network falls apart without them (articulation point).

Introductions are of two kinds:

* **structural hole**: two people or groups two steps apart (they share a contact) with no tie
  of their own, in different communities. An introduction closes the hole: the two
  communities no longer hang on one go-between. Pairs with an end in a deprived area (IMD
  decile 1 or 2) or across IMD quintiles come first.
* **deprivation link**: an area of IMD decile 1 or 2 whose people and groups have few ties,
  next to an area (sharing a boundary) whose network is well connected: the best-connected
  node of the first is introduced to the best broker of the second.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from strengthmap.network.measures import GraphSummary, Measures, NodeMeasures
from strengthmap.network.model import Network
from strengthmap.network.places import AreaDeprivation

#: Kinds of node that can be introduced to each other.
INTRODUCIBLE = ("person", "organization")
#: Deciles counted as deprived (the most deprived fifth of England's areas).
DEPRIVED_DECILES = (1, 2)


@dataclass(frozen=True)
class Broker:
    rank: int
    id: str
    kind: str
    name: str
    betweenness: float
    constraint: float | None
    effective_size: float | None
    degree: int
    communities_reached: int
    bridging_ties: int
    articulation_point: bool
    area_code: str | None
    imd_decile: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "betweenness": self.betweenness,
            "constraint": self.constraint,
            "effective_size": self.effective_size,
            "degree": self.degree,
            "communities_reached": self.communities_reached,
            "bridging_ties": self.bridging_ties,
            "articulation_point": self.articulation_point,
            "area_code": self.area_code,
            "imd_decile": self.imd_decile,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Brokers:
    brokers: tuple[Broker, ...]
    graph: GraphSummary

    def to_dict(self) -> dict[str, Any]:
        return {"brokers": [b.to_dict() for b in self.brokers], "graph": self.graph.to_dict()}


def _neighbours(network: Network) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for t in network.ties:
        out[t.source].add(t.target)
        out[t.target].add(t.source)
    return out


def _fmt(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def find_brokers(network: Network, measures: Measures, *, top: int = 10) -> Brokers:
    """The ``top`` brokers: highest betweenness first (equal: lower constraint, then id);
    nodes on no one's shortest path (betweenness 0) are not brokers."""
    adj = _neighbours(network)
    candidates = [n for n in measures.nodes if n.betweenness > 0]
    candidates.sort(
        key=lambda n: (-n.betweenness, n.constraint if n.constraint is not None else 1.0, n.id)
    )
    out = []
    for rank, n in enumerate(candidates[: max(0, top)], start=1):
        reached = {measures.node(x).community for x in adj.get(n.id, ())} | {n.community}
        parts = [
            f"{n.name} lies on {n.betweenness:.1%} of the shortest paths between others "
            f"(betweenness {n.betweenness:.3f})",
            f"their {n.degree} contact(s) reach {len(reached)} communit{'y' if len(reached) == 1 else 'ies'}",
            f"constraint {_fmt(n.constraint)} and effective size {_fmt(n.effective_size, 1)} "
            f"of {n.degree} (the lower the constraint, the less their contacts know each other)",
        ]
        if n.bridging_ties:
            parts.append(f"{n.bridging_ties} tie(s) join areas of different IMD quintiles")
        if n.articulation_point:
            parts.append("without them the network falls into more pieces")
        out.append(
            Broker(
                rank=rank,
                id=n.id,
                kind=n.kind,
                name=n.name,
                betweenness=n.betweenness,
                constraint=n.constraint,
                effective_size=n.effective_size,
                degree=n.degree,
                communities_reached=len(reached),
                bridging_ties=n.bridging_ties,
                articulation_point=n.articulation_point,
                area_code=n.area_code,
                imd_decile=n.imd_decile,
                reason="; ".join(parts) + ".",
            )
        )
    return Brokers(tuple(out), measures.graph)


@dataclass(frozen=True)
class End:
    """One end of a suggested introduction."""

    id: str
    kind: str
    name: str
    area_code: str | None
    imd_decile: int | None
    community: int

    @classmethod
    def of(cls, n: NodeMeasures) -> End:
        return cls(n.id, n.kind, n.name, n.area_code, n.imd_decile, n.community)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "area_code": self.area_code,
            "imd_decile": self.imd_decile,
            "community": self.community,
        }


@dataclass(frozen=True)
class Suggestion:
    kind: Literal["structural_hole", "deprivation_link"]
    a: End
    b: End
    via: tuple[str, ...]
    score: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "via": list(self.via),
            "score": round(self.score, 6),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Suggestions:
    suggestions: tuple[Suggestion, ...]
    graph: GraphSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "suggestions": [s.to_dict() for s in self.suggestions],
            "graph": self.graph.to_dict(),
        }


def _deprived(decile: int | None) -> bool:
    return decile is not None and decile in DEPRIVED_DECILES


def _where(n: NodeMeasures) -> str:
    if n.area_code is None:
        return ""
    decile = f", IMD decile {n.imd_decile}" if n.imd_decile is not None else ""
    return f" ({n.area_code}{decile})"


def _holes(
    network: Network,
    measures: Measures,
    adj: dict[str, set[str]],
    dep: AreaDeprivation,
    per_node: int,
) -> list[Suggestion]:
    out: list[Suggestion] = []
    kinds = {n.id: n.kind for n in network.nodes}
    for u in sorted(adj):
        if kinds[u] not in INTRODUCIBLE:
            continue
        mu = measures.node(u)
        two_steps: dict[str, list[str]] = defaultdict(list)
        for w in adj[u]:
            for v in adj[w]:
                if v > u and v not in adj[u] and kinds[v] in INTRODUCIBLE:
                    two_steps[v].append(w)
        found = []
        for v, via in two_steps.items():
            mv = measures.node(v)
            if mv.community == mu.community:
                continue
            deprived = _deprived(mu.imd_decile) or _deprived(mv.imd_decile)
            qu, qv = dep.quintile(mu.area_code), dep.quintile(mv.area_code)
            across = qu is not None and qv is not None and qu != qv
            score = (
                1.0 + (1.0 if deprived else 0.0) + (0.5 if across else 0.0) + 0.1 * min(len(via), 3)
            )
            found.append((score, v, sorted(via)))
        found.sort(key=lambda x: (-x[0], x[1]))
        for score, v, via in found[:per_node]:
            mv = measures.node(v)
            names = ", ".join(measures.node(w).name for w in via[:3]) + (
                " and others" if len(via) > 3 else ""
            )
            text = (
                f"{mu.name}{_where(mu)} and {mv.name}{_where(mv)} are two steps apart through "
                f"{names}, with no tie of their own, and sit in different communities "
                f"({mu.community} and {mv.community}): an introduction would join the two "
                f"communities directly instead of through {('one go-between' if len(via) == 1 else f'{len(via)} go-betweens')}"
            )
            if _deprived(mu.imd_decile) or _deprived(mv.imd_decile):
                text += ", and give someone in one of England's most deprived areas a new contact"
            out.append(
                Suggestion("structural_hole", End.of(mu), End.of(mv), tuple(via), score, text + ".")
            )
    return out


def _links(
    network: Network,
    measures: Measures,
    adj: dict[str, set[str]],
    dep: AreaDeprivation,
    area_neighbours: Mapping[str, set[str]],
) -> list[Suggestion]:
    by_area: dict[str, list[NodeMeasures]] = defaultdict(list)
    for n in measures.nodes:
        if n.area_code and n.kind in INTRODUCIBLE:
            by_area[n.area_code].append(n)
    ties = {a.code: a.ties for a in measures.areas}
    if not ties:
        return []
    ranked_ties = sorted(ties.values())
    median = ranked_ties[len(ranked_ties) // 2]
    out = []
    for code in sorted(by_area):
        decile = dep.decile(code)
        if not _deprived(decile) or ties.get(code, 0) > median:
            continue
        best_here = max(by_area[code], key=lambda n: (n.degree, n.betweenness, n.id))
        options = [
            c
            for c in area_neighbours.get(code, ())
            if c in by_area and ties.get(c, 0) > ties.get(code, 0)
        ]
        if not options:
            continue
        other = max(options, key=lambda c: (ties.get(c, 0), c))
        candidates = [n for n in by_area[other] if n.id not in adj.get(best_here.id, set())]
        if not candidates:
            continue
        best_there = max(candidates, key=lambda n: (n.betweenness, n.degree, n.id))
        gap = ties.get(other, 0) - ties.get(code, 0)
        text = (
            f"{code}{f' ({dep.name(code)})' if dep.name(code) else ''} is in IMD decile {decile} "
            f"and its {len(by_area[code])} people and groups have {ties.get(code, 0)} tie(s); next door, "
            f"{other} (decile {dep.decile(other) if dep.decile(other) is not None else 'unknown'}) has "
            f"{ties.get(other, 0)}. Introducing {best_here.name}, the best connected in {code}, to "
            f"{best_there.name}, {'the main broker' if best_there.betweenness > 0 else 'the best connected'} "
            f"in {other}, would link a poorly connected deprived area to a well-connected neighbour."
        )
        out.append(
            Suggestion(
                "deprivation_link",
                End.of(best_here),
                End.of(best_there),
                (),
                2.0 + gap / (1 + gap),
                text,
            )
        )
    return out


def suggest_introductions(
    network: Network,
    measures: Measures,
    *,
    top: int = 10,
    deprivation: AreaDeprivation | None = None,
    area_neighbours: Mapping[str, set[str]] | None = None,
    per_node: int = 3,
) -> Suggestions:
    """The ``top`` introductions, best first (see the module docstring for how they are found
    and scored). ``area_neighbours``: LSOAs sharing a boundary (``places.area_neighbours``);
    without it only structural holes are suggested."""
    dep = deprivation or AreaDeprivation.none()
    adj = _neighbours(network)
    found = _holes(network, measures, adj, dep, per_node)
    if area_neighbours:
        found += _links(network, measures, adj, dep, area_neighbours)
    seen: set[tuple[str, str]] = set()
    by_kind: dict[str, list[Suggestion]] = defaultdict(list)
    for s in sorted(found, key=lambda s: (-s.score, s.a.id, s.b.id)):
        key = (min(s.a.id, s.b.id), max(s.a.id, s.b.id))
        if key not in seen:
            seen.add(key)
            by_kind[s.kind].append(s)
    # the two kinds take turns (each best first), so neither crowds the other out of the top
    unique: list[Suggestion] = []
    queues = sorted(by_kind.values(), key=lambda q: (-q[0].score, q[0].kind))
    for i in range(max((len(q) for q in queues), default=0)):
        unique.extend(q[i] for q in queues if i < len(q))
    return Suggestions(tuple(unique[: max(0, top)]), measures.graph)


__all__ = [
    "DEPRIVED_DECILES",
    "INTRODUCIBLE",
    "Broker",
    "Brokers",
    "End",
    "Suggestion",
    "Suggestions",
    "find_brokers",
    "suggest_introductions",
]
