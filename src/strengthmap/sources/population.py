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

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.orm import Session

from strengthmap.errors import InputError
from strengthmap.sources._common import (
    SourceFile,
    area_rows,
    check_codes,
    decode_bytes,
    ensure_areas,
    first_bad,
    parse_csv,
    read_raw,
    table_of,
    to_number,
)
from strengthmap.storage import Store, schema

AGE_COLUMNS = [str(a) for a in range(90)] + ["90+"]
_CODE = ("lsoa11_code", "LSOA Code", "LSOA 2011 Code", "lsoa11cd")
_NAME = ("lsoa11_name", "LSOA Name", "LSOA 2011 Name", "lsoa11nm")
_TOTAL = ("total_population", "All Ages", "Total")


@dataclass
class PopulationTable(SourceFile):
    """Validated rows: ``code, name, total, ages`` (a list of 91 counts: 0..89, 90+)."""

    year: int = 2020
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)


def read_population(path: Path, *, year: int = 2020, dataset: str | None = None) -> PopulationTable:
    """Read and validate a mid-year LSOA 2011 population file (persons, single years of age)."""
    file = str(path)
    raw, digest = read_raw(path)
    text = decode_bytes(raw, file, first_field=_CODE[0])
    frame = parse_csv(text, file)
    code_col = next((c for c in _CODE if c in frame.columns), None)
    total_col = next((c for c in _TOTAL if c in frame.columns), None)
    name_col = next((c for c in _NAME if c in frame.columns), None)
    for col, want in ((code_col, _CODE[0]), (total_col, _TOTAL[0])):
        if col is None:
            raise InputError(f"column {want!r} is missing", file=file, row=1, field=want)
    assert code_col is not None and total_col is not None
    missing = [a for a in AGE_COLUMNS if a not in frame.columns]
    if missing:
        raise InputError(
            f"single-year-of-age column {missing[0]!r} is missing (expected 0..89 and 90+)",
            file=file,
            row=1,
            field=missing[0],
        )
    codes = check_codes(frame, code_col, "lsoa", file)
    total = to_number(frame, total_col, file, integer=True, low=0, high=100_000)
    ages = np.column_stack(
        [
            to_number(frame, a, file, integer=True, low=0, high=100_000).to_numpy()
            for a in AGE_COLUMNS
        ]
    ).astype(np.int64)
    differ = ages.sum(axis=1) != total.to_numpy()
    if differ.any():
        row = first_bad(differ, frame)
        i = int(np.flatnonzero(differ)[0])
        raise InputError(
            f"the ages add up to {int(ages[i].sum())}, not the total {int(total.iloc[i])}",
            file=file,
            row=row,
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


def write_population(session: Session, t: PopulationTable, *, source_id: str) -> int:
    """Replace the estimates of ``t.year`` and set ``Area.population``; rows written."""
    f = t.frame
    ids = ensure_areas(
        session,
        area_rows("lsoa", 2011, f["code"].tolist(), f["name"].tolist()),
        source_id=source_id,
    )
    conn = session.connection()
    table = table_of(schema.PopulationEstimate)
    conn.execute(delete(table).where(table.c.year == t.year, table.c.sex == "persons"))
    rows = [
        {"area_id": ids[code], "year": t.year, "sex": "persons", "total": int(total),
         "ages": ages, "source_id": source_id}
        for code, total, ages in zip(f["code"], f["total"], f["ages"], strict=True)
    ]  # fmt: skip
    conn.execute(insert(table), rows)
    area = table_of(schema.Area)
    conn.execute(
        update(area)
        .where(area.c.id == bindparam("b_id"))
        .values(population=bindparam("b_pop"), population_year=bindparam("b_year")),
        [{"b_id": r["area_id"], "b_pop": r["total"], "b_year": t.year} for r in rows],
    )
    return len(rows)


def load_population(store: Store, path: Path) -> PopulationTable:
    """Read one population file and write it in a single transaction."""
    from strengthmap.sources.catalog import record_dataset

    t = read_population(path)
    with store.transaction() as session:
        record_dataset(session, t, scope=None)
        write_population(session, t, source_id=t.dataset)
    return t


__all__ = [
    "AGE_COLUMNS",
    "PopulationTable",
    "load_population",
    "read_population",
    "write_population",
]
