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

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from strengthmap.errors import InputError
from strengthmap.sources._common import (
    SourceFile,
    decode_bytes,
    first_bad,
    parse_csv,
    read_raw,
    table_of,
    to_number,
)
from strengthmap.storage import Store, schema

#: A UK postcode once normalised: outward code, one space, inward code (e.g. ``LS12 1BE``).
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")
_POSTCODE_COLS = ("postcode", "pcds", "Postcode")
_LON_COLS = ("lon", "long", "longitude")
_LAT_COLS = ("lat", "latitude")


def normalise_postcode(text: str) -> str:
    """Upper case with one space before the last three characters (``"ls121be"`` -> ``"LS12 1BE"``)."""
    compact = re.sub(r"\s+", "", text).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def pcd7(postcode: str) -> str:
    """The ONS fixed-width 7-character form (``"LS1 1AA"`` stays, ``"LS10 1AA"`` -> ``"LS101AA"``)."""
    out, inw = postcode.split(" ") if " " in postcode else (postcode[:-3], postcode[-3:])
    return f"{out:<4}{inw}"[:7] if len(out) < 4 else f"{out}{inw}"


@dataclass
class PostcodeTable(SourceFile):
    """Validated rows: ``postcode, pcd7, lon, lat`` (lon/lat NaN where the lookup has no point)."""

    frame: pd.DataFrame = field(default_factory=pd.DataFrame)


def read_postcodes(path: Path, *, dataset: str | None = None) -> PostcodeTable:
    """Read and validate a postcode centroid file (format, duplicates, points inside the UK)."""
    file = str(path)
    raw, digest = read_raw(path)
    text = decode_bytes(raw, file, first_field="postcode")
    frame = parse_csv(text, file)
    pc_col = next((c for c in _POSTCODE_COLS if c in frame.columns), None)
    lon_col = next((c for c in _LON_COLS if c in frame.columns), None)
    lat_col = next((c for c in _LAT_COLS if c in frame.columns), None)
    for col, want in ((pc_col, "postcode"), (lat_col, "lat"), (lon_col, "lon")):
        if col is None:
            raise InputError(f"column {want!r} is missing", file=file, row=1, field=want)
    assert pc_col and lon_col and lat_col
    postcodes = frame[pc_col].map(normalise_postcode)
    bad = ~postcodes.str.match(POSTCODE)
    if bad.any():
        row = first_bad(bad, frame)
        raise InputError(
            f"{frame.loc[row, pc_col]!r} is not a UK postcode", file=file, row=row, field=pc_col
        )
    dup = postcodes.duplicated()
    if dup.any():
        row = first_bad(dup, frame)
        raise InputError(
            f"duplicated postcode {postcodes[row]!r}", file=file, row=row, field=pc_col
        )
    lon = to_number(frame, lon_col, file, allow_blank=True, low=-9.0, high=2.5)
    lat = to_number(frame, lat_col, file, allow_blank=True, low=49.0, high=61.5)
    half = lon.isna() != lat.isna()
    if half.any():
        row = first_bad(half, frame)
        raise InputError(
            "lat and lon must both be given or both be blank",
            file=file,
            row=row,
            field=lat_col if lat.isna()[row] else lon_col,
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


def write_postcodes(session: Session, t: PostcodeTable, *, source_id: str) -> int:
    """Replace the postcodes of ``t`` (those this dataset wrote, and any of the same code)."""
    table = table_of(schema.Postcode)
    conn = session.connection()
    conn.execute(delete(table).where(table.c.source_id == source_id))
    f = t.frame
    lon = [None if v != v else float(v) for v in f["lon"].tolist()]  # NaN -> NULL
    lat = [None if v != v else float(v) for v in f["lat"].tolist()]
    rows = [
        {"postcode": p, "pcd7": c, "lon": x, "lat": y, "source_id": source_id}
        for p, c, x, y in zip(f["postcode"], f["pcd7"], lon, lat, strict=True)
    ]
    codes = [r["postcode"] for r in rows]
    for i in range(0, len(codes), 5000):
        conn.execute(delete(table).where(table.c.postcode.in_(codes[i : i + 5000])))
    conn.execute(insert(table), rows)
    return len(rows)


def load_postcodes(store: Store, path: Path) -> PostcodeTable:
    """Read one postcode file and write it in a single transaction."""
    from strengthmap.sources.catalog import record_dataset

    t = read_postcodes(path)
    with store.transaction() as session:
        record_dataset(session, t, scope=None)
        write_postcodes(session, t, source_id=t.dataset)
    return t


__all__ = [
    "POSTCODE",
    "PostcodeTable",
    "load_postcodes",
    "normalise_postcode",
    "pcd7",
    "read_postcodes",
    "write_postcodes",
]
