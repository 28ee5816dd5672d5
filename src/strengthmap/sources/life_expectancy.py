"""Life expectancy at birth by MSOA 2011 (ONS, 2016 to 2020) with 95% CIs: read, validate, load.

Example:
    >>> t = read_life_expectancy(data_dir / "life_expectancy/le_birth_msoa2011_2016_2020_england_wales.csv",
    ...                          place="Leeds")                                   # doctest: +SKIP
    >>> len(t.frame), t.skipped_wales                                             # doctest: +SKIP
    (321, 1230)

Reads the official column names of the England and Wales file (``Code``, ``Sex``,
``Life Expectancy at birth (in years)``, ``Lower 95% confidence interval``...) and the short names
of the Leeds file (``msoa11cd, sex, le_birth, le_lci95, le_uci95``). Welsh MSOAs (``W02...``) are
skipped and counted. A blank value is the publisher's suppression: it is stored as
``suppressed=True`` with null value and interval, never 0. ``Population`` is person-years over
the five years (the life-table denominator), not a one-year population. The method is ONS's
abridged life table (Chiang II) with 95% confidence intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from strengthmap.errors import ConfigError, InputError
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

INDICATOR_ID = "life_expectancy_birth"
#: plausible range of a life expectancy at birth, in years
LE_RANGE_YEARS = (40.0, 110.0)
_SEX = {"males": "male", "male": "male", "females": "female", "female": "female",
        "persons": "persons", "person": "persons", "all": "persons"}  # fmt: skip
_OFFICIAL = {
    "period": "Period",
    "code": "Code",
    "name": "Code Name",
    "sex": "Sex",
    "deaths": "No of Deaths",
    "person_years": "Population",
    "value": "Life Expectancy at birth (in years)",
    "lower": "Lower 95% confidence interval",
    "upper": "Upper 95% confidence interval",
}
_SHORT = {
    "period": "period",
    "code": "msoa11cd",
    "name": "msoa11nm",
    "sex": "sex",
    "deaths": "deaths",
    "person_years": "person_years",
    "value": "le_birth",
    "lower": "le_lci95",
    "upper": "le_uci95",
}


@dataclass
class LifeExpectancyTable(SourceFile):
    """Validated rows: ``code, name, period, sex, deaths, person_years, value, lower, upper, suppressed``."""

    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    skipped_wales: int = 0
    mapping: dict[str, str] = field(default_factory=dict)


def read_life_expectancy(
    path: Path,
    *,
    place: str | None = None,
    place_codes: set[str] | None = None,
    dataset: str | None = None,
) -> LifeExpectancyTable:
    """Read and validate every row; keep English MSOAs of ``place`` (by ``Code Name`` prefix,
    e.g. ``Leeds 011``, or ``place_codes``); ``place=None`` keeps all of England."""
    file = str(path)
    raw, digest = read_raw(path)
    text = decode_bytes(raw, file, first_field="Code")
    frame = parse_csv(text, file)
    mapping = _OFFICIAL if "Code" in frame.columns else _SHORT
    required = [mapping[k] for k in ("code", "sex", "value", "lower", "upper")]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"column {missing[0]!r} is missing: not an ONS life expectancy file",
            file=file,
            row=1,
            field=missing[0],
        )
    rows_read = len(frame)
    codes = frame[mapping["code"]].str.strip()
    welsh = codes.str.startswith("W")
    skipped_wales = int(welsh.sum())
    frame = frame[~welsh]
    codes = check_codes(frame, mapping["code"], "msoa", file, unique=False)
    sex_raw = frame[mapping["sex"]].str.strip().str.lower()
    sex = sex_raw.map(_SEX)
    if sex.isna().any():
        row = first_bad(sex.isna(), frame)
        raise InputError(
            f"sex {frame.loc[row, mapping['sex']]!r} is not Males, Females or Persons",
            file=file,
            row=row,
            field=mapping["sex"],
        )
    key = codes + "|" + sex
    dup = key.duplicated()
    if dup.any():
        row = first_bad(dup, frame)
        raise InputError(
            f"duplicated code {codes[row]!r} for {sex[row]}",
            file=file,
            row=row,
            field=mapping["code"],
        )
    lo, hi = LE_RANGE_YEARS
    value = to_number(frame, mapping["value"], file, allow_blank=True, low=lo, high=hi)
    lower = to_number(frame, mapping["lower"], file, allow_blank=True, low=lo - 20, high=hi)
    upper = to_number(frame, mapping["upper"], file, allow_blank=True, low=lo, high=hi + 20)
    suppressed = value.isna()
    half = suppressed != lower.isna()
    half |= suppressed != upper.isna()
    if half.any():
        row = first_bad(half, frame)
        fld = mapping["lower"] if suppressed[row] != lower.isna()[row] else mapping["upper"]
        raise InputError(
            "the value and its 95% interval must be all given or all blank (suppressed)",
            file=file,
            row=row,
            field=fld,
        )
    wrong = ~suppressed & ((lower > value) | (upper < value))
    if wrong.any():
        row = first_bad(wrong, frame)
        raise InputError(
            f"the 95% interval {lower[row]:.2f}..{upper[row]:.2f} does not contain {value[row]:.2f}",
            file=file,
            row=row,
            field=mapping["value"],
        )
    deaths = (
        to_number(frame, mapping["deaths"], file, allow_blank=True, low=0)
        if mapping["deaths"] in frame.columns
        else pd.Series(np.nan, index=frame.index)
    )
    person_years = (
        to_number(frame, mapping["person_years"], file, allow_blank=True, low=0)
        if mapping["person_years"] in frame.columns
        else pd.Series(np.nan, index=frame.index)
    )
    names = frame[mapping["name"]].str.strip() if mapping["name"] in frame.columns else codes
    period = (
        frame[mapping["period"]].str.strip()
        if mapping["period"] in frame.columns
        else pd.Series("2016 to 2020", index=frame.index)
    )
    out = pd.DataFrame(
        {
            "code": codes,
            "name": names,
            "period": period,
            "sex": sex,
            "deaths": deaths,
            "person_years": person_years,
            "value": value,
            "lower": lower,
            "upper": upper,
            "suppressed": suppressed,
        }
    )
    notes = [f"{skipped_wales} Welsh rows skipped"] if skipped_wales else []
    if place is not None:
        if place_codes is not None:
            keep = out["code"].isin(place_codes)
        else:
            keep = out["name"].str.startswith(place + " ")
        out = out[keep]
        if out.empty:
            raise ConfigError(f"no MSOA of {place!r} in {file}: check the place name")
        notes.append(f"{len(out)} of {rows_read - skipped_wales} English rows kept for {place}")
    notes.append(f"{int(out['suppressed'].sum())} values suppressed by the publisher")
    return LifeExpectancyTable(
        dataset=dataset or "life_expectancy",
        file=file,
        sha256=digest,
        rows_read=rows_read,
        notes=notes,
        frame=out,
        skipped_wales=skipped_wales,
        mapping=mapping,
    )


def _ensure_indicator(session: Session, source_id: str) -> None:
    table = table_of(schema.Indicator)
    conn = session.connection()
    if conn.execute(select(table.c.id).where(table.c.id == INDICATOR_ID)).first() is None:
        conn.execute(
            insert(table).values(
                id=INDICATOR_ID,
                name="Life expectancy at birth",
                unit="years",
                description="Expected years of life at birth at the death rates of the period "
                "(ONS, MSOA 2011, five years pooled).",
                method="Abridged life table (Chiang II) with 95% confidence intervals; values "
                "withheld by ONS where the numbers are small are stored as suppressed.",
                higher_is_better=True,
                source_id=source_id,
            )
        )


def write_life_expectancy(session: Session, t: LifeExpectancyTable, *, source_id: str) -> int:
    """Replace the life expectancy values of the periods in ``t`` (bulk insert); rows written."""
    f = t.frame
    firsts = f.drop_duplicates("code")
    ids = ensure_areas(
        session,
        area_rows("msoa", 2011, firsts["code"].tolist(), firsts["name"].tolist()),
        source_id=source_id,
    )
    _ensure_indicator(session, source_id)
    table = table_of(schema.IndicatorValue)
    conn = session.connection()
    conn.execute(
        delete(table).where(
            table.c.indicator_id == INDICATOR_ID, table.c.period.in_(set(f["period"]))
        )
    )

    def num(v: Any) -> float | None:
        return None if pd.isna(v) else float(v)

    rows = [
        {
            "indicator_id": INDICATOR_ID,
            "area_id": ids[str(r.code)],
            "period": r.period,
            "sex": r.sex,
            "value": num(r.value),
            "lower": num(r.lower),
            "upper": num(r.upper),
            "count": num(r.deaths),
            "denominator": num(r.person_years),
            "suppressed": bool(r.suppressed),
            "source_id": source_id,
        }
        for r in f.itertuples(index=False)
    ]
    if rows:
        conn.execute(insert(table), rows)
    return len(rows)


def load_life_expectancy(
    store: Store, path: Path, *, place: str | None = "Leeds"
) -> LifeExpectancyTable:
    """Read one life expectancy file and write it in a single transaction."""
    from strengthmap.sources.catalog import record_dataset

    t = read_life_expectancy(path, place=place)
    with store.transaction() as session:
        record_dataset(session, t, scope=place or "England")
        write_life_expectancy(session, t, source_id=t.dataset)
    return t


__all__ = [
    "INDICATOR_ID",
    "LifeExpectancyTable",
    "load_life_expectancy",
    "read_life_expectancy",
    "write_life_expectancy",
]
