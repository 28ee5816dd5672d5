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

import numpy as np
import pandas as pd
from sqlalchemy import and_, insert, select
from sqlalchemy.orm import Session

from strengthmap.errors import ConfigError, InputError
from strengthmap.sources._common import (
    TableSource,
    check_codes,
    ensure_frame_areas,
    load_source,
    nan_to_none,
    read_csv_file,
    records,
    refuse_where,
    replace_rows,
    require_columns,
    table_of,
    to_number,
)
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.geo import LIFE_EXPECTANCY_BIRTH

INDICATOR_ID = LIFE_EXPECTANCY_BIRTH
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
class LifeExpectancyTable(TableSource):
    """Validated rows: ``code, name, period, sex, deaths, person_years, value, lower, upper, suppressed``."""

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
    file, digest, frame = read_csv_file(path, first_field="Code")
    mapping = _OFFICIAL if "Code" in frame.columns else _SHORT
    required = [mapping[k] for k in ("code", "sex", "value", "lower", "upper")]
    require_columns(
        frame, required, file, "column {!r} is missing: not an ONS life expectancy file"
    )
    rows_read = len(frame)
    welsh = frame[mapping["code"]].str.strip().str.startswith("W")
    skipped_wales = int(welsh.sum())
    frame = frame[~welsh]
    codes = check_codes(frame, mapping["code"], "msoa", file, unique=False)
    sex = frame[mapping["sex"]].str.strip().str.lower().map(_SEX)
    refuse_where(
        sex.isna(),
        frame,
        lambda row: f"sex {frame.loc[row, mapping['sex']]!r} is not Males, Females or Persons",
        file=file,
        field=mapping["sex"],
    )
    refuse_where(
        (codes + "|" + sex).duplicated(),
        frame,
        lambda row: f"duplicated code {codes[row]!r} for {sex[row]}",
        file=file,
        field=mapping["code"],
    )
    lo, hi = LE_RANGE_YEARS
    value = to_number(frame, mapping["value"], file, allow_blank=True, low=lo, high=hi)
    lower = to_number(frame, mapping["lower"], file, allow_blank=True, low=lo - 20, high=hi)
    upper = to_number(frame, mapping["upper"], file, allow_blank=True, low=lo, high=hi + 20)
    suppressed = value.isna()
    refuse_where(
        (suppressed != lower.isna()) | (suppressed != upper.isna()),
        frame,
        "the value and its 95% interval must be all given or all blank (suppressed)",
        file=file,
        field=lambda row: (
            mapping["lower"] if suppressed[row] != lower.isna()[row] else mapping["upper"]
        ),
    )
    refuse_where(
        ~suppressed & ((lower > value) | (upper < value)),
        frame,
        lambda row: (
            f"the 95% interval {lower[row]:.2f}..{upper[row]:.2f} does not contain {value[row]:.2f}"
        ),
        file=file,
        field=mapping["value"],
    )

    def text(key: str, default: pd.Series | str) -> pd.Series:
        col = mapping[key]
        if col in frame.columns:
            return frame[col].str.strip()
        return pd.Series(default, index=frame.index)

    def count(key: str) -> pd.Series:
        col = mapping[key]
        if col in frame.columns:
            return to_number(frame, col, file, allow_blank=True, low=0)
        return pd.Series(np.nan, index=frame.index)

    deaths, person_years = count("deaths"), count("person_years")
    names, period = text("name", codes), text("period", "2016 to 2020")
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


def crosscheck_life_expectancy(base: LifeExpectancyTable, other: LifeExpectancyTable) -> None:
    """``other`` (an extract) must give ``base``'s value for every area and sex it lists (both
    suppressed, or equal to 1e-6 years); the first that does not is named by row and field."""
    values: dict[tuple[str, str], float] = {
        (str(c), str(x)): float(v)
        for c, x, v in zip(base.frame["code"], base.frame["sex"], base.frame["value"], strict=True)
    }
    for i, (code, sex, value) in enumerate(
        zip(other.frame["code"], other.frame["sex"], other.frame["value"], strict=True)
    ):
        row = int(other.frame.index[i])
        key = (str(code), str(sex))
        if key not in values:
            raise InputError(
                f"{code} ({sex}) is not in {Path(base.file).name}",
                file=other.file,
                row=row,
                field=other.mapping["code"],
            )
        v, w = values[key], float(value)
        same = (v != v and w != w) or abs(v - w) < 1e-6  # both NaN (suppressed), or equal
        if not same:
            raise InputError(
                f"{code} ({sex}): {w} here but {v} in {Path(base.file).name}",
                file=other.file,
                row=row,
                field=other.mapping["value"],
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


def write_life_expectancy(
    session: Session, t: LifeExpectancyTable, *, source_id: str | None = None
) -> int:
    """Replace the life expectancy values of the periods in ``t`` (bulk insert); rows written."""
    source_id = source_id or t.dataset
    f = t.frame
    ids = ensure_frame_areas(session, f, "msoa", 2011, source_id=source_id)
    _ensure_indicator(session, source_id)
    table = table_of(schema.IndicatorValue)
    rows = records(
        {
            "area_id": [ids[str(c)] for c in f["code"]],
            "period": f["period"].tolist(),
            "sex": f["sex"].tolist(),
            "value": nan_to_none(f["value"]),
            "lower": nan_to_none(f["lower"]),
            "upper": nan_to_none(f["upper"]),
            "count": nan_to_none(f["deaths"]),
            "denominator": nan_to_none(f["person_years"]),
            "suppressed": [bool(x) for x in f["suppressed"]],
        },
        indicator_id=INDICATOR_ID,
        source_id=source_id,
    )
    stale = and_(table.c.indicator_id == INDICATOR_ID, table.c.period.in_(set(f["period"])))
    return replace_rows(session, table, rows, where=[stale])


def load_life_expectancy(store: Store, path: Path, *, place: str | None) -> LifeExpectancyTable:
    """Read one life expectancy file and write it in a single transaction, keeping the rows of
    ``place`` (``Settings.place``; ``None``: all of England and Wales)."""
    t = read_life_expectancy(path, place=place)
    return load_source(store, t, write_life_expectancy, scope=place or "England")


__all__ = [
    "INDICATOR_ID",
    "LifeExpectancyTable",
    "crosscheck_life_expectancy",
    "load_life_expectancy",
    "read_life_expectancy",
    "write_life_expectancy",
]
