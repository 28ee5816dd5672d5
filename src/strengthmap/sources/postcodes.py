"""Postcode centroids (ONS National Statistics Postcode Lookup): every postcode to a lon/lat point.

Example:
    >>> normalise_postcode(" ls121be ")
    'LS12 1BE'
    >>> t = read_postcodes(data_dir / "postcodes/ls_postcodes_nspl_may2025.csv")   # doctest: +SKIP
    >>> len(t.frame), int(t.frame["lon"].isna().sum())                            # doctest: +SKIP
    (32762, 34)

Accepts the columns ``postcode`` / ``pcds`` / ``Postcode`` and ``lat`` with ``lon`` / ``long``.
Postcodes the lookup lists without coordinates (terminated or non-geographic ones) are stored
with a null point, so typing one gives a clear "no coordinates" answer rather than "unknown".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from strengthmap.coords import POSTCODE, normalise_postcode
from strengthmap.sources._common import (
    TableSource,
    chunks,
    load_source,
    nan_to_none,
    read_csv_file,
    records,
    refuse_where,
    replace_rows,
    require_column,
    table_of,
    to_number,
)
from strengthmap.storage import Store, schema

_POSTCODE_COLS = ("postcode", "pcds", "Postcode")
_LON_COLS = ("lon", "long", "longitude")
_LAT_COLS = ("lat", "latitude")


def pcd7(postcode: str) -> str:
    """The ONS fixed-width 7-character form (``"LS1 1AA"`` stays, ``"LS10 1AA"`` -> ``"LS101AA"``)."""
    out, inw = postcode.split(" ") if " " in postcode else (postcode[:-3], postcode[-3:])
    return f"{out:<4}{inw}"[:7] if len(out) < 4 else f"{out}{inw}"


@dataclass
class PostcodeTable(TableSource):
    """Validated rows: ``postcode, pcd7, lon, lat`` (lon/lat NaN where the lookup has no point)."""


def read_postcodes(path: Path, *, dataset: str | None = None) -> PostcodeTable:
    """Read and validate a postcode centroid file (format, duplicates, points inside the UK)."""
    file, digest, frame = read_csv_file(path, first_field="postcode")
    pc_col = require_column(frame, _POSTCODE_COLS, file)
    lat_col = require_column(frame, _LAT_COLS, file)
    lon_col = require_column(frame, _LON_COLS, file)
    postcodes = frame[pc_col].map(normalise_postcode)
    refuse_where(
        ~postcodes.str.match(POSTCODE),
        frame,
        lambda row: f"{frame.loc[row, pc_col]!r} is not a UK postcode",
        file=file,
        field=pc_col,
    )
    refuse_where(
        postcodes.duplicated(),
        frame,
        lambda row: f"duplicated postcode {postcodes[row]!r}",
        file=file,
        field=pc_col,
    )
    lon = to_number(frame, lon_col, file, allow_blank=True, low=-9.0, high=2.5)
    lat = to_number(frame, lat_col, file, allow_blank=True, low=49.0, high=61.5)
    refuse_where(
        lon.isna() != lat.isna(),
        frame,
        "lat and lon must both be given or both be blank",
        file=file,
        field=lambda row: lat_col if lat.isna()[row] else lon_col,
    )
    out = pd.DataFrame(
        {
            "postcode": postcodes,
            "pcd7": postcodes.map(pcd7),
            "lon": lon.astype(float),
            "lat": lat.astype(float),
        }
    )
    n_missing = int(out["lon"].isna().sum())
    return PostcodeTable(
        dataset=dataset or "postcodes",
        file=file,
        sha256=digest,
        rows_read=len(out),
        notes=[f"{n_missing} postcodes have no coordinates"] if n_missing else [],
        frame=out,
    )


def write_postcodes(session: Session, t: PostcodeTable, *, source_id: str | None = None) -> int:
    """Replace the postcodes of ``t`` (those this dataset wrote, and any of the same code)."""
    source_id = source_id or t.dataset
    table = table_of(schema.Postcode)
    f = t.frame
    codes = f["postcode"].tolist()
    rows = records(
        {"postcode": codes, "pcd7": f["pcd7"].tolist(), "lon": nan_to_none(f["lon"]),
         "lat": nan_to_none(f["lat"])},
        source_id=source_id,
    )  # fmt: skip
    stale = [table.c.source_id == source_id]
    stale += [table.c.postcode.in_(chunk) for chunk in chunks(codes)]
    return replace_rows(session, table, rows, where=stale)


def load_postcodes(store: Store, path: Path) -> PostcodeTable:
    """Read one postcode file and write it in a single transaction."""
    return load_source(store, read_postcodes(path), write_postcodes)


__all__ = [
    "POSTCODE",
    "PostcodeTable",
    "load_postcodes",
    "normalise_postcode",
    "pcd7",
    "read_postcodes",
    "write_postcodes",
]
