"""Write the network a viewer may see: GraphML and GEXF (Gephi, networkx), Kumu JSON, and a CSV pair.

Example:
    >>> import tempfile, pathlib, networkx as nx
    >>> from strengthmap.network.model import EXPORT_FORMATS, Network, NetworkNode, NetworkTie
    >>> net = Network((NetworkNode("amy", "person", "Amy"), NetworkNode("ben", "person", "Ben")),
    ...               (NetworkTie("t1", "amy", "ben", "meets_with", weight=2.0),))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "net.graphml"
    >>> write_network(net, "graphml", out).nodes
    2
    >>> sorted(nx.read_graphml(out).nodes)
    ['amy', 'ben']

Each tie is one edge from its source to its target (a multigraph: two ties between the same
people stay two edges), with its type, weight, dates and consent; each node carries its kind,
name, consent, area and, when given, its measures. The CSV pair (``nodes.csv``, ``edges.csv``,
and ``measures.csv`` with the measures) and the Kumu JSON read back with ``network import``.
Contact details (email, phone) are never written, whoever exports; what is written is only
what the network given holds, so an export made for a viewer (``load_network(store, viewer)``)
never holds a record that viewer may not see.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from strengthmap.errors import InputError
from strengthmap.network.measures import Measures
from strengthmap.network.model import EXPORT_FORMATS, Network, NetworkNode, NetworkTie

_KUMU_TYPES = {
    "person": "Person",
    "organization": "Organization",
    "service": "Service",
    "location": "Location",
}


@dataclass(frozen=True)
class ExportReport:
    format: str
    path: str
    files: tuple[str, ...]
    nodes: int
    ties: int
    viewer: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "path": self.path,
            "files": list(self.files),
            "nodes": self.nodes,
            "ties": self.ties,
            "viewer": self.viewer,
        }


def _node_attrs(node: NetworkNode, measures: Measures | None) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "kind": node.kind,
        "name": node.name,
        "label": node.name,
        "consent": node.consent,
        "area_code": node.area_code,
        "role": node.role,
        "consent_date": node.consent_recorded_on.isoformat() if node.consent_recorded_on else None,
        "lon": node.lon,
        "lat": node.lat,
    }
    if measures is not None:
        m = measures.node(node.id).to_dict()
        for key in (
            "degree",
            "weighted_degree",
            "betweenness",
            "closeness",
            "pagerank",
            "constraint",
            "effective_size",
            "community",
            "bridging_ties",
            "imd_decile",
        ):
            attrs[key] = m[key]
        attrs["articulation_point"] = m["articulation_point"]
    return {
        k: v
        for k, v in attrs.items()
        if v is not None and not (isinstance(v, float) and math.isnan(v))
    }


def _tie_attrs(tie: NetworkTie) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "id": tie.id,
        "tie_type": tie.type,  # "type" is GEXF's own edge attribute (directed / undirected)
        "label": tie.type_name,
        "weight": float(tie.weight),
        "start": tie.start.isoformat() if tie.start else None,
        "end": tie.end.isoformat() if tie.end else None,
        "consent": tie.consent,
        "mutual": tie.runs_both_ways(),
        "note": tie.note,
    }
    return {k: v for k, v in attrs.items() if v is not None}


def to_networkx(network: Network, measures: Measures | None = None) -> nx.MultiDiGraph:
    """A networkx multigraph of the ties (source -> target), node and edge attributes set."""
    g = nx.MultiDiGraph()
    for node in network.nodes:
        g.add_node(node.id, **_node_attrs(node, measures))
    for tie in network.ties:
        g.add_edge(tie.source, tie.target, key=tie.id, **_tie_attrs(tie))
    return g


def _kumu(network: Network, measures: Measures | None) -> dict[str, Any]:
    elements = []
    for node in network.nodes:
        attrs = _node_attrs(node, measures)
        element: dict[str, Any] = {
            "id": node.id,
            "label": node.name,
            "type": _KUMU_TYPES[node.kind],
            "consent": node.consent,
        }
        if node.area_code:
            element["area code"] = node.area_code
        if node.role:
            element["role"] = node.role
        if node.consent_recorded_on:
            element["consent date"] = node.consent_recorded_on.isoformat()
        for key in (
            "degree",
            "betweenness",
            "constraint",
            "effective_size",
            "community",
            "imd_decile",
        ):
            if key in attrs:
                element[key.replace("_", " ")] = attrs[key]
        elements.append(element)
    connections = []
    for tie in network.ties:
        c: dict[str, Any] = {
            "id": tie.id,
            "from": tie.source,
            "to": tie.target,
            "type": tie.type_code,
            "direction": "mutual" if tie.runs_both_ways() else "directed",
            "weight": tie.weight,
            "consent": tie.consent,
        }
        if tie.start:
            c["start"] = tie.start.isoformat()
        if tie.end:
            c["end"] = tie.end.isoformat()
        if tie.consent_recorded_on:
            c["consent date"] = tie.consent_recorded_on.isoformat()
        if tie.note:
            c["description"] = tie.note
        connections.append(c)
    return {"elements": elements, "connections": connections}


def _write_csv(network: Network, measures: Measures | None, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    nodes_path, edges_path = folder / "nodes.csv", folder / "edges.csv"
    with nodes_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "kind", "name", "consent", "area_code", "role", "consent_date"])
        for n in network.nodes:
            w.writerow(
                [
                    n.id,
                    n.kind,
                    n.name,
                    n.consent,
                    n.area_code or "",
                    n.role or "",
                    n.consent_recorded_on.isoformat() if n.consent_recorded_on else "",
                ]
            )
    with edges_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "source",
                "target",
                "type",
                "weight",
                "start",
                "end",
                "consent",
                "note",
                "consent_date",
            ]
        )
        for t in network.ties:
            w.writerow(
                [
                    t.source,
                    t.target,
                    t.type_code,
                    repr(float(t.weight)),
                    t.start.isoformat() if t.start else "",
                    t.end.isoformat() if t.end else "",
                    t.consent,
                    t.note or "",
                    t.consent_recorded_on.isoformat() if t.consent_recorded_on else "",
                ]
            )
    paths = [nodes_path, edges_path]
    if measures is not None:
        measures_path = folder / "measures.csv"
        rows = [n.to_dict() for n in measures.nodes]
        with measures_path.open("w", newline="", encoding="utf-8") as f:
            keys = list(rows[0]) if rows else ["id"]
            w2 = csv.DictWriter(f, fieldnames=keys)
            w2.writeheader()
            for row in rows:
                w2.writerow({k: ("" if v is None else v) for k, v in row.items()})
        paths.append(measures_path)
    return paths


def write_network(
    network: Network, format: str, out: Path, *, measures: Measures | None = None
) -> ExportReport:
    """Write ``network`` (already filtered for its viewer) to ``out`` in ``format``: a file for
    graphml, gexf and kumu; a folder for csv."""
    if format not in EXPORT_FORMATS:
        raise InputError(
            f"not an export format: {format!r} (one of {', '.join(EXPORT_FORMATS)})", field="format"
        )
    out = Path(out)
    if format != "csv":
        out.parent.mkdir(parents=True, exist_ok=True)
    if format == "graphml":
        nx.write_graphml(to_networkx(network, measures), out)
        files = [out]
    elif format == "gexf":
        nx.write_gexf(to_networkx(network, measures), out)
        files = [out]
    elif format == "kumu":
        out.write_text(
            json.dumps(_kumu(network, measures), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        files = [out]
    else:
        files = _write_csv(network, measures, out)
    return ExportReport(
        format=format,
        path=str(out),
        files=tuple(str(p) for p in files),
        nodes=len(network.nodes),
        ties=len(network.ties),
        viewer=network.viewer.role if network.viewer else None,
    )


__all__ = ["EXPORT_FORMATS", "ExportReport", "to_networkx", "write_network"]
