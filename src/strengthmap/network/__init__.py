"""The network of people and organisations: who connects whom, brokers and bridges across the city, with consent.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> anyone = Viewer.anonymous()
    >>> network_measures(store, anyone).to_dict()["graph"]["edges"]
    0

Layers (each a module; the CLI, the API and the web page call the functions re-exported here):

* ``model``: plain data (``Viewer``, ``NetworkNode``, ``NetworkTie``, ``Network``).
* ``consent``: ``visible_network(network, viewer)``, what a viewer may see, applied before any
  measure (measures are computed on the visible graph only).
* ``records``: the network in the store (``load_network(store, viewer)``), audited writes.
* ``imports``: the CSV pair and Kumu JSON (``import_network``), every fault listed.
* ``editing``: create / update / retire / restore people, ties and members, audited.
* ``places``: the nodes' areas and their IMD deciles; neighbouring areas.
* ``measures``: ``compute_measures`` (igraph; equal to networkx), typed results.
* ``suggest``: brokers and introductions with their reasons.
* ``exports``: GraphML, GEXF, Kumu JSON, CSV.
* ``analysis``: each question over a store for one viewer (``network_measures``, ...).
"""

from __future__ import annotations

from strengthmap.network.analysis import (
    export_network,
    network_brokers,
    network_measures,
    network_suggestions,
)
from strengthmap.network.consent import visible_network
from strengthmap.network.editing import (
    create_person,
    create_tie,
    network_history,
    restore_person,
    restore_tie,
    retire_person,
    retire_tie,
    set_member,
    update_person,
    update_tie,
)
from strengthmap.network.exports import EXPORT_FORMATS, ExportReport, write_network
from strengthmap.network.imports import FORMATS, ImportReport, import_network
from strengthmap.network.measures import Measures, NodeMeasures, compute_measures
from strengthmap.network.model import Network, NetworkNode, NetworkTie, Viewer
from strengthmap.network.records import load_network, read_network
from strengthmap.network.suggest import (
    Brokers,
    Suggestions,
    find_brokers,
    suggest_introductions,
)

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "Brokers",
    "ExportReport",
    "ImportReport",
    "Measures",
    "Network",
    "NetworkNode",
    "NetworkTie",
    "NodeMeasures",
    "Suggestions",
    "Viewer",
    "compute_measures",
    "create_person",
    "create_tie",
    "export_network",
    "find_brokers",
    "import_network",
    "load_network",
    "network_brokers",
    "network_history",
    "network_measures",
    "network_suggestions",
    "read_network",
    "restore_person",
    "restore_tie",
    "retire_person",
    "retire_tie",
    "set_member",
    "suggest_introductions",
    "update_person",
    "update_tie",
    "visible_network",
    "write_network",
]
