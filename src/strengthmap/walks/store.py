"""The walking network in the store: built once from an OSM extract, kept whole, read back in one go.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> load_walk_network(store, "../shared/data/streets/leeds_central_osm_ways_2022.geojson")  # doctest: +SKIP
    NetworkLoad(network_id=1, ..., skipped_unchanged=False)
    >>> current_network(store)
    Traceback (most recent call last):
    ...
    strengthmap.errors.NotFound: no walking network is loaded: run `strengthmap walk network load FILE` (or `strengthmap data load` with the OSM streets file in the data directory)

Why the store: every process (CLI, each web worker, every app server of a PostgreSQL deployment)
reads the same network, built once. The graph is kept as one compressed ``.npz`` blob in
``walk_network`` (about 1.3 MB for central Leeds, 5 MB for the 6 km extract) and read whole in
tens of milliseconds; a planner never needs a single node on its own, so rows per node would only
cost time. The row keeps its source file's SHA-256: loading the same file again (same builder
version) is skipped; a different file retires the older row (kept, never deleted).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from strengthmap.errors import NotFound
from strengthmap.storage import Store, schema
from strengthmap.walks.network import (
    ATTRIBUTION_OSM,
    BUILDER_VERSION,
    NetworkReport,
    WalkNetwork,
    build_network,
)
from strengthmap.walks.ways import file_sha256, read_ways

#: The streets files of the data directory, preferred first (the 6 km extract holds the centre).
STREETS_FILES = (
    "streets/leeds_osm_ways_2022_6km.geojson.gz",
    "streets/leeds_central_osm_ways_2022.geojson",
)


@dataclass
class NetworkLoad:
    """What ``load_walk_network`` did: the row, its report, and whether it was unchanged."""

    network_id: int
    name: str
    report: NetworkReport
    skipped_unchanged: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "network_id": self.network_id,
            "name": self.name,
            "skipped_unchanged": self.skipped_unchanged,
            "report": self.report.to_dict(),
        }


def default_streets_file(data_dir: Path | str | None) -> Path | None:
    """The OSM streets file of a data directory (the largest extract present), or ``None``."""
    if data_dir is None:
        return None
    for rel in STREETS_FILES:
        path = Path(data_dir) / rel
        if path.is_file():
            return path
    return None


def load_from_data_dir(store: Store, data_dir: Path | str | None) -> NetworkLoad | None:
    """``load_walk_network`` on the data directory's streets file (``None`` when it has none):
    the step ``data load`` runs after the other files."""
    path = default_streets_file(data_dir)
    return None if path is None else load_walk_network(store, path)


def load_walk_network(store: Store, path: str | Path, *, force: bool = False) -> NetworkLoad:
    """Build the walking network from an OSM extract and keep it in the store (one transaction).

    The same file (by SHA-256) already loaded by this builder version is skipped unless
    ``force``. Bad files raise ``InputError`` naming the file; the store is left as it was.
    """
    path = Path(path)
    sha = file_sha256(path) if path.is_file() else None
    if sha is not None and not force:
        with store.session() as session:
            row = session.execute(
                select(schema.WalkNetwork)
                .where(
                    schema.WalkNetwork.sha256 == sha,
                    schema.WalkNetwork.builder_version == BUILDER_VERSION,
                    schema.WalkNetwork.retired_at.is_(None),
                )
                .order_by(schema.WalkNetwork.id.desc())
            ).scalar_one_or_none()
            if row is not None:
                return NetworkLoad(row.id, row.name, NetworkReport.from_dict(row.report), True)
    network = build_network(read_ways(path))
    report = network.report
    with store.transaction() as session:
        session.execute(
            update(schema.WalkNetwork)
            .where(schema.WalkNetwork.retired_at.is_(None))
            .values(retired_at=datetime.now(UTC))
        )
        row = schema.WalkNetwork(
            name=path.name,
            source_file=str(path),
            sha256=report.sha256,
            format=report.format,
            licence="ODbL-1.0",
            attribution=ATTRIBUTION_OSM,
            builder_version=BUILDER_VERSION,
            nodes=report.nodes,
            edges=report.edges,
            min_lon=report.bbox[0],
            min_lat=report.bbox[1],
            max_lon=report.bbox[2],
            max_lat=report.bbox[3],
            report=report.to_dict(),
            arrays=network.to_bytes(),
        )
        session.add(row)
        session.flush()
        network_id = int(row.id)
    # the next read takes it back from the store, keyed by the row as stored
    _CACHE.pop(store, None)
    return NetworkLoad(network_id, path.name, report, False)


@dataclass
class NetworkInfo:
    """The live network's row, without its arrays (``walk network show``)."""

    network_id: int
    name: str
    source_file: str
    sha256: str
    licence: str
    attribution: str
    built_at: datetime
    report: NetworkReport
    retired: int  # older networks kept

    def to_dict(self) -> dict[str, Any]:
        return {
            "network_id": self.network_id,
            "name": self.name,
            "source_file": self.source_file,
            "sha256": self.sha256,
            "licence": self.licence,
            "attribution": self.attribution,
            "built_at": self.built_at.isoformat(),
            "retired_networks": self.retired,
            "report": self.report.to_dict(),
        }


def network_info(store: Store) -> NetworkInfo:
    """The live network's metadata; ``NotFound`` when none is loaded."""
    W = schema.WalkNetwork
    with store.session() as session:
        row = session.execute(
            select(W.id, W.name, W.source_file, W.sha256, W.licence, W.attribution, W.built_at,
                   W.report).where(W.retired_at.is_(None)).order_by(W.id.desc()).limit(1)
        ).one_or_none()  # fmt: skip
        retired = len(session.scalars(select(W.id).where(W.retired_at.is_not(None))).all())
    if row is None:
        raise NotFound(_NONE)
    return NetworkInfo(row.id, row.name, row.source_file, row.sha256, row.licence,
                       row.attribution, row.built_at, NetworkReport.from_dict(row.report),
                       retired)  # fmt: skip


_NONE = (
    "no walking network is loaded: run `strengthmap walk network load FILE` "
    "(or `strengthmap data load` with the OSM streets file in the data directory)"
)
_CACHE: weakref.WeakKeyDictionary[Store, tuple[tuple[int, str, str], WalkNetwork]] = (
    weakref.WeakKeyDictionary()
)


def current_network(store: Store) -> WalkNetwork:
    """The live walking network, read from the store once per process and kept until replaced."""
    W = schema.WalkNetwork
    with store.session() as session:
        live = session.execute(
            select(W.id, W.sha256, W.built_at, W.builder_version)
            .where(W.retired_at.is_(None)).order_by(W.id.desc()).limit(1)
        ).one_or_none()  # fmt: skip
        if live is None:
            raise NotFound(_NONE)
        if live.builder_version != BUILDER_VERSION:
            raise NotFound(
                f"the walking network in the store was built by an older version ({live.builder_version}): "
                "run `strengthmap walk network load --force FILE` to rebuild it"
            )
        key = (int(live.id), str(live.sha256), str(live.built_at))
        cached = _CACHE.get(store)
        if cached is not None and cached[0] == key:
            return cached[1]
        blob = session.execute(select(W.arrays).where(W.id == live.id)).scalar_one()
    network = WalkNetwork.from_bytes(bytes(blob))
    _CACHE[store] = (key, network)
    return network


__all__ = [
    "STREETS_FILES",
    "NetworkInfo",
    "NetworkLoad",
    "current_network",
    "default_streets_file",
    "load_from_data_dir",
    "load_walk_network",
    "network_info",
]
