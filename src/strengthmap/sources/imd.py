"""The English Indices of Deprivation (IoD2019 on LSOA 2011, IoD2025 on LSOA 2021): read, validate, load.

Example:
    >>> t = read_imd(data_dir / "imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
    ...              release=2019, place="Leeds")                               # doctest: +SKIP
    >>> len(t.frame), t.n_areas, int(t.frame.loc[t.frame.code == "E01011264", "imd_rank"].iloc[0])
    ... # doctest: +SKIP
    (482, 32844, 13915)

Columns are mapped by name, so any of these layouts is read:

* the official MHCLG CSVs, with their long English names: File 1 (IMD rank and decile), File 2
  (domain ranks and deciles), File 5 (scores), File 6 (population denominators), File 7 (all),
  for IoD2019 (``LSOA code (2011)``) and IoD2025 (``LSOA code (2021)``); ranks with thousands
  separators (``"29,199"``) are read as numbers;
* the humaniverse/IMD layout of IoD2025 (``lsoa21_code, IMD_rank, Income_score, ...``);
* the Leeds joined IoD2019 file of ``shared/data/imd`` (``lsoa11cd, imd_rank, ...``).

The release is told from the LSOA code column (2011 codes: IoD2019; 2021 codes: IoD2025) and
checked against the release expected; in the official layouts every year their column names
carry is checked too (``Local Authority District code (2019)``, populations ``mid 2015``), so an
IoD2015 file, on the same 2011 LSOAs as IoD2019, is refused. Ranks must run within 1..n of that
release (32,844 LSOAs in 2019, 33,755 in 2025), deciles 1..10. Ranks and deciles are stored as published: a subset
(one city) is never re-ranked (see docs/methods/imd.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from strengthmap.errors import ConfigError, InputError
from strengthmap.sources._common import (
    TableSource,
    area_rows,
    check_codes,
    ensure_areas,
    load_source,
    nan_to_none,
    read_csv_file,
    records,
    replace_rows,
    table_of,
    to_number,
)
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.geo import IMD_DOMAINS

#: Number of LSOAs ranked in each release (England).
N_AREAS = {2019: 32844, 2025: 33755}
#: The LSOA vintage each release is published on.
LSOA_VINTAGE = {2019: 2011, 2025: 2021}

#: The years in the official column names of each release: ``LSOA code (<lsoa>)``,
#: ``Local Authority District code|name (<lad>)`` and the population denominators ``mid <pop>``
#: (IoD2019 File 6/7: ``Total population: mid 2015 (excluding prisoners)``; IoD2025 File 7:
#: ``Total population: mid 2022``). IoD2015 is listed only to be recognised and refused.
OFFICIAL_YEARS = {
    2015: {"lsoa": "2011", "lad": "2013", "pop": "2012"},
    2019: {"lsoa": "2011", "lad": "2019", "pop": "2015"},
    2025: {"lsoa": "2021", "lad": "2024", "pop": "2022"},
}
_YEAR_IN = {"lsoa": r"\((\d{4})\)", "lad": r"\((\d{4})\)", "pop": r"\bmid[ -]?(\d{4})\b"}

_OFFICIAL_DOMAIN = {
    "imd": r"index of multiple deprivation \(imd\)",
    "income": r"income",
    "employment": r"employment",
    "education": r"education, skills and training",
    "health": r"health deprivation and disability",
    "crime": r"crime",
    "housing_services": r"barriers to housing and services",
    "living_environment": r"living environment",
}
_OFFICIAL_POP = {
    "pop_total": r"total population",
    "pop_0_15": r"dependent children aged 0-15",
    "pop_16_59": r"population aged 16-59",
    "pop_60_plus": r"older population aged 60 and over",
    "pop_working_age": r"working age population",
}
_HUMANIVERSE_DOMAIN = {
    "imd": "IMD",
    "income": "Income",
    "employment": "Employment",
    "education": "Education",
    "health": "Health",
    "crime": "Crime",
    "housing_services": "Housing_and_Services",
    "living_environment": "Environment",
}
_LEEDS_DOMAIN = {d: d for d in ("imd", *IMD_DOMAINS)} | {"living_environment": "living_env"}
_LEEDS_POP = {
    "pop_total": "pop_total_mid2015",
    "pop_0_15": "pop_0_15_mid2015",
    "pop_16_59": "pop_16_59_mid2015",
    "pop_60_plus": "pop_60plus_mid2015",
    "pop_working_age": "pop_working_age_mid2015",
}
MEASURES = ("rank", "decile", "score")
VALUE_COLUMNS = [f"{d}_{m}" for d in ("imd", *IMD_DOMAINS) for m in MEASURES]
POP_COLUMNS = list(_OFFICIAL_POP)


@dataclass
class ImdTable(TableSource):
    """One IoD file, validated: ``frame`` has ``code, name, lad_code, lad_name`` and, where the
    file publishes them, ``<imd|domain>_<rank|decile|score>`` and ``pop_*`` columns."""

    release: int = 0
    n_areas: int = 0
    layout: str = ""
    mapping: dict[str, str] = field(default_factory=dict)  # our column -> the file's column


def _norm(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().lower())


def _map_prefixed(mapping: dict[str, str], columns: list[str], prefixes: dict[str, str]) -> None:
    """Add ``<ours>_<measure>`` -> ``<prefix>_<measure>`` for each measure the file has."""
    for ours, prefix in prefixes.items():
        for measure in MEASURES:
            if f"{prefix}_{measure}" in columns:
                mapping[f"{ours}_{measure}"] = f"{prefix}_{measure}"


def _map_columns(columns: list[str]) -> tuple[str, int | None, dict[str, str]]:
    """Which layout, the release its LSOA column says, and our column -> the file's column."""
    normed = {_norm(c): c for c in columns}
    mapping: dict[str, str] = {}
    # official long names
    official_code = next((c for n, c in normed.items() if n.startswith("lsoa code")), None)
    if official_code is not None:
        year = re.search(r"\((\d{4})\)", official_code)
        release = {"2011": 2019, "2021": 2025}.get(year.group(1)) if year else None
        mapping["code"] = official_code
        for key, prefix in (
            ("name", "lsoa name"),
            ("lad_code", "local authority district code"),
            ("lad_name", "local authority district name"),
        ):
            found = next((c for n, c in normed.items() if n.startswith(prefix)), None)
            if found:
                mapping[key] = found
        for dom, rx in _OFFICIAL_DOMAIN.items():
            for measure in MEASURES:
                pat = re.compile(rf"^{rx} {measure}\b")
                found = next((c for n, c in normed.items() if pat.match(n)), None)
                if found:
                    mapping[f"{dom}_{measure}"] = found
        for key, rx in _OFFICIAL_POP.items():
            found = next((c for n, c in normed.items() if n.startswith(rx)), None)
            if found:
                mapping[key] = found
        return "official", release, mapping
    if "lsoa21_code" in columns:
        mapping["code"] = "lsoa21_code"
        for opt in ("lsoa21_name", "lad24_code", "lad24_name"):
            if opt in columns:
                mapping[{"lsoa21_name": "name"}.get(opt, opt.replace("24", ""))] = opt
        _map_prefixed(mapping, columns, _HUMANIVERSE_DOMAIN)
        return "humaniverse", 2025, mapping
    short = next((c for c in ("lsoa11cd", "lsoa11_code", "lsoa21cd") if c in columns), None)
    if short is not None:
        mapping["code"] = short
        release = 2025 if "21" in short else 2019
        for key, col in (
            ("name", short[:-2] + "nm"),
            ("lad_code", "lad19cd"),
            ("lad_name", "lad19nm"),
        ):
            if col in columns:
                mapping[key] = col
        _map_prefixed(mapping, columns, _LEEDS_DOMAIN)
        for key, col in _LEEDS_POP.items():
            if col in columns:
                mapping[key] = col
        return "short", release, mapping
    return "unknown", None, mapping


def _check_official_years(mapping: dict[str, str], release: int, file: str) -> None:
    """Refuse an official file whose column names carry another release's years, naming the
    first such column (the LSOA code, then the local authority, then the populations)."""
    expected = OFFICIAL_YEARS[release]
    keys = [("lsoa", "code"), ("lad", "lad_code"), ("lad", "lad_name")]
    keys += [("pop", k) for k in POP_COLUMNS]
    for kind, key in keys:
        col = mapping.get(key)
        found = re.search(_YEAR_IN[kind], col, flags=re.IGNORECASE) if col else None
        if col is None or found is None or found.group(1) == expected[kind]:
            continue
        year = found.group(1)
        others = [f"IoD{r}" for r, years in OFFICIAL_YEARS.items() if years[kind] == year]
        raise InputError(
            f"column {col!r} says {year}: this is a file of "
            f"{' or '.join(others) or 'another release'}, but IoD{release} was expected "
            f"(its column says {expected[kind]}): releases are kept apart and never mixed",
            file=file,
            row=1,
            field=col,
        )


def read_imd(
    path: Path,
    *,
    release: int,
    place: str | None = None,
    place_codes: set[str] | None = None,
    dataset: str | None = None,
) -> ImdTable:
    """Read an IoD file of ``release`` (2019 or 2025), validate every row, keep ``place``'s LSOAs.

    ``place`` (a local authority name or code) filters on the file's local authority column;
    files without one (the humaniverse IoD2025 layout) are filtered to ``place_codes`` instead.
    ``place=None`` keeps all of England.
    """
    if release not in N_AREAS:
        raise ConfigError(f"unknown IoD release {release}: expected one of {sorted(N_AREAS)}")
    file, digest, frame = read_csv_file(path, first_field="LSOA code")
    layout, found_release, mapping = _map_columns(list(frame.columns))
    if "code" not in mapping:
        raise InputError(
            "no LSOA code column (expected 'LSOA code (2011)', 'LSOA code (2021)', "
            "'lsoa21_code' or 'lsoa11cd'): is this an Indices of Deprivation file?",
            file=file,
            row=1,
            field=str(frame.columns[0]),
        )
    code_col = mapping["code"]
    if layout == "official":
        _check_official_years(mapping, release, file)
    if found_release is not None and found_release != release:
        raise InputError(
            f"this is an IoD{found_release} file (LSOA {LSOA_VINTAGE[found_release]} codes in "
            f"column {code_col!r}), but IoD{release} (LSOA {LSOA_VINTAGE[release]}) was expected: "
            "releases are kept apart and never mixed",
            file=file,
            row=1,
            field=code_col,
        )
    n_areas = N_AREAS[release]
    level_codes = check_codes(frame, code_col, "lsoa", file)
    measures = [k for k in VALUE_COLUMNS if k in mapping]
    if not any(k.endswith(("_rank", "_score")) for k in measures) and not any(
        k in mapping for k in POP_COLUMNS
    ):
        raise InputError(
            "no rank, score or population column found: not an Indices of Deprivation data file",
            file=file,
            row=1,
            field=code_col,
        )
    out = pd.DataFrame({"code": level_codes.to_numpy()}, index=frame.index)
    for key in ("name", "lad_code", "lad_name"):
        out[key] = frame[mapping[key]].str.strip().to_numpy() if key in mapping else None
    for key in measures:
        col = mapping[key]
        if key.endswith("_rank"):
            values = to_number(frame, col, file, integer=True, low=1, high=n_areas)
        elif key.endswith("_decile"):
            values = to_number(frame, col, file, integer=True, low=1, high=10)
        else:
            values = to_number(frame, col, file)
        out[key] = values.to_numpy()
    for key in POP_COLUMNS:
        if key in mapping:
            out[key] = to_number(frame, mapping[key], file, integer=True, low=0).to_numpy()
    rows_read = len(out)
    notes: list[str] = []
    if place is not None:
        keep: np.ndarray
        if "lad_name" in mapping or "lad_code" in mapping:
            keep = np.zeros(len(out), dtype=bool)
            if "lad_name" in mapping:
                keep |= (out["lad_name"].str.casefold() == place.casefold()).to_numpy()
            if "lad_code" in mapping:
                keep |= (out["lad_code"] == place).to_numpy()
        elif place_codes is not None:
            keep = out["code"].isin(place_codes).to_numpy()
        else:
            raise ConfigError(
                f"{file} has no local authority column, so it cannot be filtered to {place}: "
                "load the LSOA lookups of the place with it (or use --all-england)"
            )
        out = out[keep]
        if out.empty:
            raise ConfigError(f"no LSOA of {place!r} in {file}: check the place name")
        notes.append(f"{len(out)} of {rows_read} LSOAs kept for {place}")
    return ImdTable(
        dataset=dataset or f"imd{release}",
        file=file,
        sha256=digest,
        rows_read=rows_read,
        notes=notes,
        release=release,
        n_areas=n_areas,
        layout=layout,
        frame=out,
        mapping=mapping,
    )


def combine_imd(base: ImdTable, *others: ImdTable) -> pd.DataFrame:
    """One frame per release from several files of it (File 2 + File 6, or File 1 + File 5):
    columns missing from ``base`` are taken from the others; values both give must agree."""
    frame = base.frame.set_index("code")
    for other in others:
        if other.release != base.release:
            raise InputError(
                f"IoD{other.release} file given with IoD{base.release} files",
                file=other.file,
                row=1,
                field=other.mapping.get("code"),
            )
        of = other.frame.set_index("code")
        missing = of.index.difference(frame.index)
        if len(missing):
            row = int(other.frame.index[other.frame["code"] == missing[0]][0])
            raise InputError(
                f"LSOA {missing[0]} is not in {Path(base.file).name}",
                file=other.file,
                row=row,
                field=other.mapping["code"],
            )
        for col in of.columns:
            if col in ("name", "lad_code", "lad_name"):
                continue
            if col not in frame.columns or frame[col].isna().all():
                frame[col] = of[col].reindex(frame.index)
                continue
            a = frame.loc[of.index, col].to_numpy(dtype=float)
            b = of[col].to_numpy(dtype=float)
            differ = ~np.isclose(a, b, equal_nan=True)
            if differ.any():
                i = int(np.flatnonzero(differ)[0])
                row = int(other.frame.index[i])
                raise InputError(
                    f"{of.index[i]}: {b[i]:g} here but {a[i]:g} in {Path(base.file).name}",
                    file=other.file,
                    row=row,
                    field=other.mapping.get(col, col),
                )
    return frame.reset_index()


def base_first(tables: list[ImdTable]) -> list[ImdTable]:
    """IoD files of one release, the base first: the most areas, then the most rank columns
    (File 7 before File 2 before File 1 before File 6); the others add their columns for the
    areas the base has (``combine_imd``)."""
    return sorted(
        tables, key=lambda t: (-len(t.frame), -sum(c.endswith("_rank") for c in t.frame.columns))
    )


def write_imd(
    session: Session,
    release: int,
    frame: pd.DataFrame,
    *,
    source_id: str,
    lad_codes: dict[str, str] | None = None,
) -> int:
    """Replace the stored rows of ``release`` with ``frame`` (bulk insert); rows written."""
    vintage = LSOA_VINTAGE[release]
    codes = frame["code"].tolist()
    lads = frame["lad_code"].tolist() if "lad_code" in frame else [None] * len(codes)
    if lad_codes:
        lads = [lad or lad_codes.get(code) for code, lad in zip(codes, lads, strict=True)]
    names = frame["name"].tolist() if "name" in frame else None
    ids = ensure_areas(session, area_rows("lsoa", vintage, codes, names, lads), source_id=source_id)
    table = table_of(schema.Deprivation)
    cols = [c for c in VALUE_COLUMNS + POP_COLUMNS if c in frame.columns]
    rows = records(
        {"area_id": [ids[code] for code in codes]}
        | {c: nan_to_none(frame[c], float if c.endswith("_score") else int) for c in cols},
        release=release,
        n_areas=N_AREAS[release],
        source_id=source_id,
    )
    return replace_rows(session, table, rows, where=[table.c.release == release])


def load_imd(
    store: Store, path: Path, *, release: int, place: str | None,
    place_codes: set[str] | None = None,
) -> ImdTable:  # fmt: skip
    """Read one IoD file and write it in a single transaction (with its ``dataset`` row); an
    England-wide file keeps the rows of ``place`` (``Settings.place``; ``None``: all of England)."""
    table = read_imd(path, release=release, place=place, place_codes=place_codes)

    def write(session: Session, t: ImdTable) -> int:
        return write_imd(session, t.release, t.frame, source_id=t.dataset)

    return load_source(store, table, write, scope=place or "England")


__all__ = [
    "LSOA_VINTAGE",
    "N_AREAS",
    "OFFICIAL_YEARS",
    "ImdTable",
    "base_first",
    "combine_imd",
    "load_imd",
    "read_imd",
    "write_imd",
]
