"""Loading time: the Leeds data directory, and all-England IMD (IoD2019 Files 1, 2, 6 and IoD2025).

Peer for the IMD load: ``pandas.read_csv`` + ``DataFrame.to_sql`` of the same files into SQLite
(no validation, no areas, no links), run in the same process on the same data.
Targets (issue 2): Leeds < 30 s, all-England IMD < 20 s on 2 cores.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from common import record, versus
from strengthmap.sources import load_data_dir
from strengthmap.storage import open_store

IMD_FILES = [
    "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
    "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
    "File_6_-_IoD2019_Population_Denominators.csv.gz",
    "imd2025_england_lsoa21.csv.gz",
]


def _load(data_dir: Path, place: str | None, tmp: Path, name: str) -> tuple[float, int]:
    store = open_store(f"sqlite:///{tmp / name}.sqlite")
    t0 = time.perf_counter()
    reports = load_data_dir(store, data_dir, place=place)
    elapsed = time.perf_counter() - t0
    store.close()
    return elapsed, sum(r.rows_written for r in reports)


def _pandas_peer(imd_dir: Path, tmp: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    rows = 0
    with sqlite3.connect(tmp / "peer.sqlite") as conn:
        for i, name in enumerate(IMD_FILES):
            frame = pd.read_csv(imd_dir / name, thousands=",", encoding="utf-8-sig")
            rows += frame.to_sql(f"t{i}", conn, index=False, if_exists="replace") or 0
    return time.perf_counter() - t0, rows


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    if data_dir is None:
        return
    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        leeds_s, leeds_rows = _load(data_dir, "Leeds", tmp, "leeds")
        yield record("load_leeds_data_dir", leeds_s, "s", rows_written=leeds_rows, target_s=30)
        imd_dir = tmp / "imd_only" / "imd"
        imd_dir.mkdir(parents=True)
        for name in IMD_FILES:
            shutil.copy(data_dir / "imd" / name, imd_dir / name)
        ours_s, ours_rows = _load(imd_dir.parent, None, tmp, "england")
        peer_s, peer_rows = _pandas_peer(imd_dir, tmp)
        yield versus(
            "load_all_england_imd", ours_s, "pandas.read_csv+to_sql (no validation)", peer_s,
            rows_written=ours_rows, peer_rows=peer_rows, target_s=20,
        )  # fmt: skip
