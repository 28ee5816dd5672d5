"""The ONS area lookups: LSOA 2011 -> MSOA 2011, LSOA 2011 -> LSOA 2021 (change codes),
LSOA 2021 -> ward 2024 (best fit), MSOA 2011 -> MSOA 2021: read, validate, load as area links.

Example:
    >>> t = read_lookup(data_dir / "lookups/leeds_lsoa2011_to_lsoa2021.csv")   # doctest: +SKIP
    >>> t.kind, t.relation, t.frame["change_code"].value_counts().to_dict()     # doctest: +SKIP
    ('lsoa2011_lsoa2021', 'successor', {'U': 473, 'S': 14, 'M': 2})

The kind of lookup is told from its column names (the geographr names such as ``lsoa11_code``,
or the ONS names such as ``LSOA11CD``, ``CHGIND``, ``WD24CD``). Each row becomes an
``AreaLink``: ``relation="parent"`` for LSOA -> MSOA / ward, ``relation="successor"`` across
vintages, with the ONS change code (U unchanged, S split, M merged, X irregular).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from strengthmap.errors import InputError
from strengthmap.sources._common import (
    TableSource,
    check_codes,
    ensure_frame_areas,
    load_source,
    read_csv_file,
    records,
    refuse_where,
    replace_rows,
    table_of,
)
from strengthmap.storage import Store, schema

# our name -> accepted column names (geographr, ONS)
_ALIASES = {
    "lsoa11_code": ("lsoa11_code", "lsoa11cd"),
    "lsoa11_name": ("lsoa11_name", "lsoa11nm"),
    "lsoa21_code": ("lsoa21_code", "lsoa21cd"),
    "lsoa21_name": ("lsoa21_name", "lsoa21nm"),
    "msoa11_code": ("msoa11_code", "msoa11cd"),
    "msoa11_name": ("msoa11_name", "msoa11nm"),
    "msoa21_code": ("msoa21_code", "msoa21cd"),
    "msoa21_name": ("msoa21_name", "msoa21nm"),
    "ward24_code": ("ward24_code", "wd24cd"),
    "ward24_name": ("ward24_name", "wd24nm"),
    "change_code": ("change_code", "chgind"),
    "lad_code": ("ltla22_code", "lad22cd", "ltla24_code", "lad24cd"),
    "lad_name": ("ltla22_name", "lad22nm", "ltla24_name", "lad24nm"),
}
#: kind -> (child level, child vintage, parent level, parent vintage, relation, best fit)
KINDS: dict[str, tuple[str, int, str, int, str, bool]] = {
    "lsoa2011_lsoa2021": ("lsoa", 2011, "lsoa", 2021, "successor", False),
    "lsoa2011_msoa2011": ("lsoa", 2011, "msoa", 2011, "parent", False),
    "lsoa2021_ward2024": ("lsoa", 2021, "ward", 2024, "parent", True),
    "msoa2011_msoa2021": ("msoa", 2011, "msoa", 2021, "successor", False),
}
CHANGE_CODES = {"U", "S", "M", "X"}


@dataclass
class LookupTable(TableSource):
    """Validated links: ``frame`` has ``child, child_name, parent, parent_name, change_code, lad_code``."""

    kind: str = ""
    relation: str = ""


#: kind -> (our child column, our parent column), tried in this order to tell the kind
_KEYS = {
    "lsoa2011_lsoa2021": ("lsoa11_code", "lsoa21_code"),
    "lsoa2011_msoa2011": ("lsoa11_code", "msoa11_code"),
    "lsoa2021_ward2024": ("lsoa21_code", "ward24_code"),
    "msoa2011_msoa2021": ("msoa11_code", "msoa21_code"),
}


def _kind(cols: dict[str, str]) -> str | None:
    return next((k for k, (c, p) in _KEYS.items() if c in cols and p in cols), None)


def read_lookup(path: Path, *, dataset: str | None = None) -> LookupTable:
    """Read and validate one ONS lookup (codes, duplicates, change codes)."""
    file, digest, frame = read_csv_file(path, first_field="lsoa11_code")
    lower = {c.lower(): c for c in frame.columns}
    cols = {
        ours: lower[alias]
        for ours, aliases in _ALIASES.items()
        for alias in aliases
        if alias in lower
    }
    kind = _kind(cols)
    if kind is None:
        raise InputError(
            "not a known ONS lookup: expected two of lsoa11_code, lsoa21_code, msoa11_code, "
            f"msoa21_code, ward24_code; found {list(frame.columns)}",
            file=file,
            row=1,
            field=str(frame.columns[0]),
        )
    child_level, _cv, parent_level, _pv, relation, _bf = KINDS[kind]
    child_key, parent_key = _KEYS[kind]
    # a parent lookup gives each child one parent; a successor lookup may repeat either side
    child = check_codes(frame, cols[child_key], child_level, file, unique=relation == "parent")
    parent = check_codes(frame, cols[parent_key], parent_level, file, unique=False)
    refuse_where(
        (child + ">" + parent).duplicated(),
        frame,
        lambda row: f"duplicated link {child[row]} -> {parent[row]}",
        file=file,
        field=cols[child_key],
    )
    change = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if "change_code" in cols:
        change = frame[cols["change_code"]].str.strip().str.upper()
        refuse_where(
            ~change.isin(CHANGE_CODES),
            frame,
            lambda row: f"change code {change[row]!r} is not one of U, S, M, X",
            file=file,
            field=cols["change_code"],
        )

    def opt(key: str, fallback: pd.Series) -> pd.Series:
        return frame[cols[key]].str.strip() if key in cols else fallback

    out = pd.DataFrame(
        {
            "child": child,
            "child_name": opt(child_key.replace("_code", "_name"), child),
            "parent": parent,
            "parent_name": opt(parent_key.replace("_code", "_name"), parent),
            "change_code": change,
            "lad_code": opt("lad_code", pd.Series([None] * len(frame), index=frame.index)),
            "lad_name": opt("lad_name", pd.Series([None] * len(frame), index=frame.index)),
        }
    )
    return LookupTable(
        dataset=dataset or f"lookup_{kind}",
        file=file,
        sha256=digest,
        rows_read=len(out),
        kind=kind,
        relation=relation,
        frame=out,
    )


def write_lookup(session: Session, t: LookupTable, *, source_id: str | None = None) -> int:
    """Replace the links this dataset wrote before; areas at either end are created if missing."""
    source_id = source_id or t.dataset
    child_level, child_vintage, parent_level, parent_vintage, relation, best_fit = KINDS[t.kind]
    f = t.frame
    # the LAD column of a lookup is of the later vintage: it describes the 2021/2024 side
    child_ids = ensure_frame_areas(
        session, f, child_level, child_vintage, source_id=source_id, code="child",
        name="child_name", lad="lad_code" if child_vintage >= 2021 else None,
    )  # fmt: skip
    parent_ids = ensure_frame_areas(
        session, f, parent_level, parent_vintage, source_id=source_id, code="parent",
        name="parent_name", lad="lad_code",
    )  # fmt: skip
    rows = records(
        {"child_id": [child_ids[c] for c in f["child"]],
         "parent_id": [parent_ids[p] for p in f["parent"]],
         "change_code": [cc if isinstance(cc, str) else None for cc in f["change_code"]]},
        relation=relation, best_fit=best_fit, source_id=source_id,
    )  # fmt: skip
    table = table_of(schema.AreaLink)
    return replace_rows(session, table, rows, where=[table.c.source_id == source_id])


def load_lookup(store: Store, path: Path) -> LookupTable:
    """Read one lookup and write its links in a single transaction."""
    return load_source(store, read_lookup(path), write_lookup)


__all__ = ["KINDS", "LookupTable", "load_lookup", "read_lookup", "write_lookup"]
