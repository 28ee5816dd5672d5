"""Load the community assets in ``data_dir/assets/``: OSM points (ODbL) and NHS ODS sites (OGL).

Example:
    >>> from pathlib import Path
    >>> from strengthmap.storage import open_store
    >>> reports = load_assets(open_store("sqlite://"), Path("/nonexistent"), place="Leeds")
    >>> reports
    []

Each file is checked, then written in one transaction through the directory's import (its format
in ``strengthmap.directory.formats``, by way of ``strengthmap.directory.imports.import_file``)
with a ``Dataset`` row holding its licence, attribution and SHA-256; a file whose SHA-256 is
already recorded is skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from strengthmap.directory.imports import import_file
from strengthmap.sources._common import LoadReport
from strengthmap.storage import Store, schema

#: (dataset id, file name, format) of the asset files, in load order.
ASSET_FILES = (
    ("osm_community_pois", "leeds_central_osm_community_pois_2022.geojson", "osm"),
    ("ods_epraccur", "leeds_gp_and_prescribing_sites_epraccur_2025-05.csv", "ods"),
)


def load_assets(
    store: Store,
    data_dir: Path,
    *,
    place: str | None,
    progress: Callable[[int, int], None] | None = None,
) -> list[LoadReport]:
    """Load every asset file present under ``data_dir/assets`` (upsert; skipped when unchanged)
    as the directory records of ``place`` (``Settings.place``: the local authority they cover)."""
    reports = []
    for dataset, name, fmt in ASSET_FILES:
        path = Path(data_dir) / "assets" / name
        if not path.is_file():
            continue
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        with store.session() as s:
            known = s.get(schema.Dataset, dataset)
            unchanged = known is not None and known.sha256 == sha
        report = LoadReport(dataset=dataset, file=str(path))
        if unchanged:
            report.skipped_unchanged = True
            reports.append(report)
            continue
        summary = import_file(
            store, path, fmt, source=dataset, actor="loader", progress=progress, place=place
        )
        report.rows_read = summary.services
        report.rows_written = sum(summary.written.values())
        report.notes.append(f"{summary.services} services, licence {summary.licence}")
        report.notes.extend(summary.notes)
        reports.append(report)
    return reports


__all__ = ["ASSET_FILES", "load_assets"]
