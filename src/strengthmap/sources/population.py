"""ONS mid-year population estimates by LSOA 2011, single years of age (mid-2020): read, validate, load.

Example:
    >>> t = read_population(data_dir / "population/leeds_lsoa2011_population_mid2020.csv")  # doctest: +SKIP
    >>> len(t.frame), int(t.frame["total"].sum())                                          # doctest: +SKIP
    (482, 798786)

Columns: ``lsoa11_code`` (or ``LSOA Code``), ``lsoa11_name``, ``total_population`` (or ``All
Ages``), then ``0`` ... ``89`` and ``90+``. The ages must add up to the total on every row.
Loading also sets ``Area.population`` (and ``population_year``) of each LSOA 2011.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import and_, bindparam, update
from sqlalchemy.orm import Session

from strengthmap.sources._common import (
    TableSource,
    check_codes,
    ensure_frame_areas,
    find_column,
    load_source,
    read_csv_file,
    records,
    refuse_where,
    replace_rows,
    require_column,
    require_columns,
    table_of,
    to_number,
)
from strengthmap.storage import Store, schema

AGE_COLUMNS = [str(a) for a in range(90)] + ["90+"]
_CODE = ("lsoa11_code", "LSOA Code", "LSOA 2011 Code", "lsoa11cd")
_NAME = ("lsoa11_name", "LSOA Name", "LSOA 2011 Name", "lsoa11nm")
_TOTAL = ("total_population", "All Ages", "Total")


@dataclass
class PopulationTable(TableSource):
    """Validated rows: ``code, name, total, ages`` (a list of 91 counts: 0..89, 90+)."""

    year: int = 2020


def read_population(path: Path, *, year: int = 2020, dataset: str | None = None) -> PopulationTable:
    """Read and validate a mid-year LSOA 2011 population file (persons, single years of age)."""
    file, digest, frame = read_csv_file(path, first_field=_CODE[0])
    code_col = require_column(frame, _CODE, file)
    total_col = require_column(frame, _TOTAL, file)
    name_col = find_column(frame, _NAME)
    require_columns(
        frame,
        AGE_COLUMNS,
        file,
        "single-year-of-age column {!r} is missing (expected 0..89 and 90+)",
    )
    codes = check_codes(frame, code_col, "lsoa", file)
    total = to_number(frame, total_col, file, integer=True, low=0, high=100_000)
    ages = np.column_stack(
        [
            to_number(frame, a, file, integer=True, low=0, high=100_000).to_numpy()
            for a in AGE_COLUMNS
        ]
    ).astype(np.int64)
    sums = pd.Series(ages.sum(axis=1), index=frame.index)
    refuse_where(
        sums != total,
        frame,
        lambda row: f"the ages add up to {int(sums[row])}, not the total {int(total[row])}",
        file=file,
        field=total_col,
    )
    out = pd.DataFrame(
        {
            "code": codes,
            "name": frame[name_col].str.strip() if name_col else codes,
            "total": total.astype(np.int64),
            "ages": list(ages.tolist()),
        }
    )
    return PopulationTable(
        dataset=dataset or f"population_lsoa2011_mid{year}",
        file=file,
        sha256=digest,
        rows_read=len(out),
        year=year,
        frame=out,
    )


def write_population(session: Session, t: PopulationTable, *, source_id: str | None = None) -> int:
    """Replace the estimates of ``t.year`` and set ``Area.population``; rows written."""
    source_id = source_id or t.dataset
    f = t.frame
    ids = ensure_frame_areas(session, f, "lsoa", 2011, source_id=source_id)
    table = table_of(schema.PopulationEstimate)
    rows = records(
        {"area_id": [ids[c] for c in f["code"]], "total": [int(n) for n in f["total"]],
         "ages": f["ages"].tolist()},
        year=t.year, sex="persons", source_id=source_id,
    )  # fmt: skip
    replace_rows(
        session, table, rows, where=[and_(table.c.year == t.year, table.c.sex == "persons")]
    )
    area = table_of(schema.Area)
    session.connection().execute(
        update(area)
        .where(area.c.id == bindparam("b_id"))
        .values(population=bindparam("b_pop"), population_year=bindparam("b_year")),
        [{"b_id": r["area_id"], "b_pop": r["total"], "b_year": t.year} for r in rows],
    )
    return len(rows)


def load_population(store: Store, path: Path) -> PopulationTable:
    """Read one population file and write it in a single transaction."""
    return load_source(store, read_population(path), write_population)


__all__ = [
    "AGE_COLUMNS",
    "PopulationTable",
    "load_population",
    "read_population",
    "write_population",
]
