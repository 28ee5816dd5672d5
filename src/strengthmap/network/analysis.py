"""The network's questions over a store, each answered for one viewer: measures, brokers,
introductions and exports (the CLI, the API and the web page call these).

Example:
    >>> from strengthmap.storage import open_store
    >>> from strengthmap.network.model import Viewer
    >>> store = open_store("sqlite://")
    >>> network_measures(store, Viewer.anonymous()).to_dict()["graph"]["nodes"]
    0

Every function reads the network through ``records.load_network(store, viewer)``: the consent
of each node and tie is applied first, and every measure is computed on what is left. The
areas' IMD comes from the newest release loaded (``imd_release`` to choose another).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from strengthmap.indicators import IMD_VINTAGE
from strengthmap.network.exports import ExportReport, write_network
from strengthmap.network.measures import (
    Betweenness,
    CommunityMethod,
    Measures,
    compute_measures,
)
from strengthmap.network.model import Network, Viewer
from strengthmap.network.places import (
    AreaDeprivation,
    area_deprivation,
    area_neighbours,
    default_release,
)
from strengthmap.network.records import load_network
from strengthmap.network.suggest import Brokers, Suggestions, find_brokers, suggest_introductions
from strengthmap.storage import Store


def _deprivation(store: Store, network: Network, imd_release: int | None) -> AreaDeprivation:
    return area_deprivation(store, (n.area_code for n in network.nodes), imd_release)


def network_measures(
    store: Store,
    viewer: Viewer,
    *,
    at: date | None = None,
    directed: bool = False,
    weighted: bool = False,
    betweenness: Betweenness = "auto",
    samples: int | None = None,
    seed: int = 42,
    community_method: CommunityMethod = "leiden",
    imd_release: int | None = None,
) -> Measures:
    """Every measure of the network ``viewer`` may see, on day ``at`` if given."""
    network = load_network(store, viewer, at=at, imd_release=imd_release)
    return compute_measures(
        network,
        directed=directed,
        weighted=weighted,
        betweenness_mode=betweenness,
        samples=samples,
        seed=seed,
        community_method=community_method,
        deprivation=_deprivation(store, network, imd_release),
    )


def network_brokers(
    store: Store,
    viewer: Viewer,
    *,
    top: int = 10,
    at: date | None = None,
    directed: bool = False,
    weighted: bool = False,
    imd_release: int | None = None,
) -> Brokers:
    """The ``top`` brokers of the network ``viewer`` may see."""
    network = load_network(store, viewer, at=at, imd_release=imd_release)
    measures = compute_measures(
        network,
        directed=directed,
        weighted=weighted,
        deprivation=_deprivation(store, network, imd_release),
    )
    return find_brokers(network, measures, top=top)


def network_suggestions(
    store: Store,
    viewer: Viewer,
    *,
    top: int = 10,
    at: date | None = None,
    imd_release: int | None = None,
) -> Suggestions:
    """The ``top`` introductions worth making in the network ``viewer`` may see."""
    network = load_network(store, viewer, at=at, imd_release=imd_release)
    dep = _deprivation(store, network, imd_release)
    measures = compute_measures(network, deprivation=dep)
    release = default_release(store, imd_release)
    neighbours = area_neighbours(
        store,
        (n.area_code for n in network.nodes),
        vintage=IMD_VINTAGE.get(release) if release is not None else None,
    )
    return suggest_introductions(
        network, measures, top=top, deprivation=dep, area_neighbours=neighbours
    )


def export_network(
    store: Store,
    format: str,
    out: Path,
    viewer: Viewer,
    *,
    at: date | None = None,
    with_measures: bool = True,
    imd_release: int | None = None,
) -> ExportReport:
    """Write the network ``viewer`` may see (with its measures) to ``out`` in ``format``."""
    network = load_network(store, viewer, at=at, imd_release=imd_release)
    measures = (
        compute_measures(network, deprivation=_deprivation(store, network, imd_release))
        if with_measures
        else None
    )
    return write_network(network, format, Path(out), measures=measures)


__all__ = ["export_network", "network_brokers", "network_measures", "network_suggestions"]
