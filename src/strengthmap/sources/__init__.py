"""Readers and loaders for official open data formats: ``read_*`` validates, ``load_*`` writes in one transaction."""

from __future__ import annotations

from pathlib import Path


def find_data_files(data_dir: Path) -> list[Path]:
    """The recognised data files present in ``data_dir`` (empty when there is no data)."""
    if not data_dir.is_dir():
        return []
    return sorted(
        p for p in data_dir.rglob("*") if p.is_file() and p.suffix in {".csv", ".gz", ".geojson"}
    )
