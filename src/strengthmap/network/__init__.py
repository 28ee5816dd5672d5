"""The network of people and organisations: who connects whom, brokers and bridges across the city, with consent.

Example:
    >>> from strengthmap.storage import open_store
    >>> from strengthmap.network import Viewer, network_measures
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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers; at run time they load on first use
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

#: public name -> the module that defines it (imported on first use, so that ``import
#: strengthmap.network.model`` and the CLI stay light: igraph, networkx and scipy load when a
#: measure is asked for)
_LAZY = {
    "Brokers": "strengthmap.network.suggest",
    "EXPORT_FORMATS": "strengthmap.network.exports",
    "ExportReport": "strengthmap.network.exports",
    "FORMATS": "strengthmap.network.imports",
    "ImportReport": "strengthmap.network.imports",
    "Measures": "strengthmap.network.measures",
    "Network": "strengthmap.network.model",
    "NetworkNode": "strengthmap.network.model",
    "NetworkTie": "strengthmap.network.model",
    "NodeMeasures": "strengthmap.network.measures",
    "Suggestions": "strengthmap.network.suggest",
    "Viewer": "strengthmap.network.model",
    "compute_measures": "strengthmap.network.measures",
    "create_person": "strengthmap.network.editing",
    "create_tie": "strengthmap.network.editing",
    "export_network": "strengthmap.network.analysis",
    "find_brokers": "strengthmap.network.suggest",
    "import_network": "strengthmap.network.imports",
    "load_network": "strengthmap.network.records",
    "network_brokers": "strengthmap.network.analysis",
    "network_history": "strengthmap.network.editing",
    "network_measures": "strengthmap.network.analysis",
    "network_suggestions": "strengthmap.network.analysis",
    "read_network": "strengthmap.network.records",
    "restore_person": "strengthmap.network.editing",
    "restore_tie": "strengthmap.network.editing",
    "retire_person": "strengthmap.network.editing",
    "retire_tie": "strengthmap.network.editing",
    "set_member": "strengthmap.network.editing",
    "suggest_introductions": "strengthmap.network.suggest",
    "update_person": "strengthmap.network.editing",
    "update_tie": "strengthmap.network.editing",
    "visible_network": "strengthmap.network.consent",
    "write_network": "strengthmap.network.exports",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'strengthmap.network' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
