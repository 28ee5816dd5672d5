"""What every reader and loader shares: raw bytes and their SHA-256, strict decoding, CSV parsing
that names file:row:field on every fault, code and range checks, and bulk writes of areas.

Example:
    >>> text = decode_bytes(b"code,rank\\nE01011264,1\\n", "x.csv")
    >>> frame = parse_csv(text, "x.csv", required=["code", "rank"])
    >>> refuse_where(frame["rank"] == "0", frame, "rank 0", file="x.csv", field="rank")
    >>> check_codes(frame, "code", "lsoa", "x.csv").tolist()
    ['E01011264']

Rows are counted as a spreadsheet would: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, Table, delete, insert, select, update
from sqlalchemy.orm import Session

from strengthmap.errors import InputError
from strengthmap.storage import Store, schema

#: ONS GSS code formats of the English areas Strengthmap loads (E + 2-digit entity + 6 digits).
CODE_PATTERNS: dict[str, re.Pattern[str]] = {
    "lsoa": re.compile(r"^E01[0-9]{6}$"),
    "msoa": re.compile(r"^E02[0-9]{6}$"),
    "ward": re.compile(r"^E05[0-9]{6}$"),
    "lad": re.compile(r"^E0[6-9][0-9]{6}$"),
}
#: The entity prefix of each level, for messages ("E01 = LSOA").
LEVEL_PREFIX = {"lsoa": "E01", "msoa": "E02", "ward": "E05", "lad": "E06-E09"}
ANY_GSS = re.compile(r"^[EWSN][0-9]{8}$")


@dataclass
class SourceFile:
    """A file read and validated, ready to write: what it is, its checksum, and its rows."""

    dataset: str
    file: str
    sha256: str
    rows_read: int
    notes: list[str] = field(default_factory=list)


S = TypeVar("S", bound=SourceFile)


@dataclass
class TableSource(SourceFile):
    """A tabular file read and validated: its rows in ``frame`` (index = spreadsheet row)."""

    frame: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class LoadReport:
    """What loading one dataset did: rows read from the file, rows written, or skipped as unchanged."""

    dataset: str
    file: str
    rows_read: int = 0
    rows_written: int = 0
    skipped_unchanged: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """``dataset, file, rows_read, rows_written, skipped_unchanged, notes`` (a copy)."""
        return asdict(self)


def table_of(model: Any) -> Table:
    """The Core ``Table`` of a mapped class (bulk inserts go through Core, not the ORM)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def sha256_bytes(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes as stored (compressed files are hashed compressed)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_raw(path: Path) -> tuple[bytes, str]:
    """The file's bytes (gunzipped when it ends in ``.gz``) and the SHA-256 of the stored bytes.

    A gzip stream that ends early is named as truncated, with the row where the data stops.
    """
    name = str(path)
    try:
        stored = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError("file not found", file=name, row=None, field=None) from exc
    digest = sha256_bytes(stored)
    if path.suffix != ".gz":
        return stored, digest
    try:
        return gzip.decompress(stored), digest
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        # decompress what arrived, to say where the data stops
        partial = b""
        with contextlib.suppress(zlib.error):
            partial = zlib.decompressobj(wbits=31).decompress(stored)
        row = partial.count(b"\n") + 1
        raise InputError(
            f"compressed file is truncated or corrupt ({exc}); the data stops in this row",
            file=name,
            row=row,
            field="(whole row)",
        ) from exc


def decode_bytes(raw: bytes, file: str, *, first_field: str = "header") -> str:
    """Strict UTF-8 text (a UTF-8 byte-order mark is allowed); any other encoding is refused
    with the row and field of the first byte that is not UTF-8."""
    if not raw.strip():
        raise InputError("file is empty (no header, no rows)", file=file, row=1, field=first_field)
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or raw[:200].count(b"\x00") > 10:
        raise InputError(
            "file is UTF-16, not UTF-8: save it as UTF-8 (CSV UTF-8) and load it again",
            file=file,
            row=1,
            field=first_field,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        row = raw.count(b"\n", 0, exc.start) + 1
        header = raw.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").strip()
        column = raw[line_start : exc.start].count(b",")
        names = next(csv.reader([header])) if header else []
        fld = names[column] if 0 <= column < len(names) else f"column {column + 1}"
        bad = raw[exc.start : exc.start + 1].hex()
        raise InputError(
            f"byte 0x{bad} is not UTF-8 (the file looks like Windows-1252 / Latin-1): "
            "save it as UTF-8 and load it again",
            file=file,
            row=row,
            field=fld,
        ) from exc


_PANDAS_LINE = re.compile(r"line (\d+)", re.IGNORECASE)
_PANDAS_ROW = re.compile(r"row (\d+)", re.IGNORECASE)


def parse_csv(text: str, file: str, *, required: Sequence[str] = ()) -> pd.DataFrame:
    """All columns as text (``""`` for blank), header names stripped; ``required`` columns must exist.

    Rows with missing trailing fields (a truncated file) and rows with extra fields are refused.
    """
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False, engine="c"
        )
    except pd.errors.EmptyDataError as exc:
        raise InputError("file is empty (no header)", file=file, row=1, field="header") from exc
    except pd.errors.ParserError as exc:
        msg = str(exc)
        m = _PANDAS_LINE.search(msg) or _PANDAS_ROW.search(msg)
        row = int(m.group(1)) if m else None
        if "EOF inside string" in msg:
            raise InputError(
                "file ends inside a quoted field: it is truncated",
                file=file,
                row=row + 1 if row is not None else None,
                field="(quoted field)",
            ) from exc
        raise InputError(
            f"row has the wrong number of fields ({msg.strip().splitlines()[-1]})",
            file=file,
            row=row,
            field="(whole row)",
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"column {missing[0]!r} is missing (found: {', '.join(frame.columns[:8])}"
            f"{', ...' if len(frame.columns) > 8 else ''})",
            file=file,
            row=1,
            field=missing[0],
        )
    if frame.empty:
        raise InputError("file has a header but no rows", file=file, row=2, field=frame.columns[0])
    # a truncated last row has fewer fields: pandas fills them with NaN despite na_filter=False
    null_mask = frame.isna()
    if null_mask.to_numpy().any():
        r, c = np.argwhere(null_mask.to_numpy())[0]
        raise InputError(
            "row ends early: the field is missing (is the file truncated?)",
            file=file,
            row=int(r) + 2,
            field=str(frame.columns[c]),
        )
    frame.index = pd.RangeIndex(2, len(frame) + 2)  # spreadsheet row numbers
    return frame


def first_bad(mask: pd.Series | np.ndarray, frame: pd.DataFrame) -> int:
    """The spreadsheet row of the first True in ``mask``."""
    idx = np.flatnonzero(np.asarray(mask))
    return int(frame.index[idx[0]])


def read_csv_file(path: Path, *, first_field: str) -> tuple[str, str, pd.DataFrame]:
    """A CSV file (or ``.csv.gz``) read, decoded and parsed: ``(file name, SHA-256, frame)``.

    Every fault (missing, truncated, empty, not UTF-8, ragged rows) names file, row and field;
    ``first_field`` is the field named when the fault is in the header (an empty or UTF-16 file).
    """
    file = str(path)
    raw, digest = read_raw(path)
    return file, digest, parse_csv(decode_bytes(raw, file, first_field=first_field), file)


def refuse_where(
    mask: pd.Series | np.ndarray,
    frame: pd.DataFrame,
    message: str | Callable[[int], str],
    *,
    file: str,
    field: str | Callable[[int], str],
) -> None:
    """Raise ``InputError`` at the first row where ``mask`` is True (nothing when none is).

    ``message`` and ``field`` may be functions of that row (its spreadsheet number, a label of
    ``frame``'s index), to name the value found there.
    """
    if not np.asarray(mask, dtype=bool).any():
        return
    row = first_bad(mask, frame)
    raise InputError(
        message(row) if callable(message) else message,
        file=file,
        row=row,
        field=field(row) if callable(field) else field,
    )


def find_column(frame: pd.DataFrame, names: Sequence[str]) -> str | None:
    """The first of ``names`` (accepted spellings of one column) that ``frame`` has."""
    return next((c for c in names if c in frame.columns), None)


def require_column(frame: pd.DataFrame, names: Sequence[str], file: str) -> str:
    """As ``find_column``, but a missing column is refused under its first spelling."""
    found = find_column(frame, names)
    if found is None:
        require_columns(frame, names[:1], file)
    assert found is not None
    return found


def require_columns(
    frame: pd.DataFrame, columns: Sequence[str], file: str, message: str = "column {!r} is missing"
) -> None:
    """Refuse the first of ``columns`` that ``frame`` lacks (``message`` formatted with its name),
    naming the header row and that column."""
    missing = next((c for c in columns if c not in frame.columns), None)
    if missing is not None:
        raise InputError(message.format(missing), file=file, row=1, field=missing)


def to_number(
    frame: pd.DataFrame,
    column: str,
    file: str,
    *,
    integer: bool = False,
    allow_blank: bool = False,
    low: float | None = None,
    high: float | None = None,
    label: str | None = None,
) -> pd.Series:
    """A column as numbers (thousands separators allowed, ``"29,199"``), range-checked.

    Blank cells become NaN where ``allow_blank``; anything else non-numeric is refused, naming the row.
    """
    raw = frame[column].astype(str).str.strip()
    cleaned = raw.str.replace(",", "", regex=False)
    values = pd.to_numeric(cleaned, errors="coerce")
    blank = raw == ""
    fld = label or column
    refuse_where(
        values.isna() & ~blank, frame, lambda r: f"{raw[r]!r} is not a number", file=file, field=fld
    )
    if not allow_blank:
        refuse_where(blank, frame, "value is missing", file=file, field=fld)
    if integer:
        frac = values.notna() & (values != np.floor(values))
        refuse_where(
            frac, frame, lambda r: f"{raw[r]!r} is not a whole number", file=file, field=fld
        )
    if low is not None or high is not None:
        lo = -np.inf if low is None else low
        hi = np.inf if high is None else high
        out = values.notna() & ((values < lo) | (values > hi))
        refuse_where(
            out,
            frame,
            lambda r: f"{raw[r]} is outside the range {lo:g}..{hi:g}",
            file=file,
            field=fld,
        )
    return values


def check_codes(
    frame: pd.DataFrame,
    column: str,
    level: str,
    file: str,
    *,
    unique: bool = True,
    label: str | None = None,
) -> pd.Series:
    """The column's area codes, each in the ONS format of ``level``; duplicates refused."""
    codes = frame[column].astype(str).str.strip()
    fld = label or column

    def wrong_format(row: int) -> str:
        what = "malformed" if not ANY_GSS.match(codes[row]) else "unknown"
        return (
            f"{what} {level.upper()} code {codes[row]!r}: expected {LEVEL_PREFIX[level]} "
            "followed by 6 digits (an English ONS code)"
        )

    def duplicated(row: int) -> str:
        first = int(codes.index[codes == codes[row]][0])
        return f"duplicated code {codes[row]!r} (first seen in row {first})"

    refuse_where(~codes.str.match(CODE_PATTERNS[level]), frame, wrong_format, file=file, field=fld)
    if unique:
        refuse_where(codes.duplicated(), frame, duplicated, file=file, field=fld)
    return codes


def require_known(
    codes: Iterable[tuple[int, str]], known: set[str], *, file: str, field: str, what: str
) -> None:
    """Refuse the first code (given with its row) that is not among ``known``."""
    for row, code in codes:
        if code not in known:
            raise InputError(
                f"unknown {what} code {code!r}: it is not among the areas loaded or being loaded",
                file=file,
                row=row,
                field=field,
            )


# ---------------------------------------------------------------- writing


def area_rows(
    level: str,
    vintage: int,
    codes: Sequence[str],
    names: Sequence[str] | None = None,
    lad_codes: Sequence[str | None] | None = None,
    geometries: Sequence[BaseGeometry | None] | None = None,
) -> list[dict[str, Any]]:
    """Plain dicts for ``ensure_areas`` (bounding boxes filled from the geometry)."""
    out = []
    for i, code in enumerate(codes):
        geom = geometries[i] if geometries is not None else None
        row: dict[str, Any] = {
            "code": code,
            "name": (names[i] if names is not None and names[i] else code),
            "level": level,
            "vintage": vintage,
            "lad_code": lad_codes[i] if lad_codes is not None else None,
            "geometry": geom,
        }
        if geom is not None:
            row["min_lon"], row["min_lat"], row["max_lon"], row["max_lat"] = geom.bounds
        out.append(row)
    return out


def area_ids(session: Session, level: str, vintage: int) -> dict[str, int]:
    """Code -> id of every stored area of one level and vintage."""
    a = table_of(schema.Area)
    rows = session.connection().execute(
        select(a.c.code, a.c.id).where(a.c.level == level, a.c.vintage == vintage)
    )
    return {code: id_ for code, id_ in rows}


def ensure_areas(
    session: Session, rows: list[dict[str, Any]], *, source_id: str | None
) -> dict[str, int]:
    """Insert the areas not yet stored (in bulk); fill in a geometry, a real name or a LAD code
    that an existing row lacks. Returns code -> id for the level and vintage of ``rows``."""
    if not rows:
        return {}
    level, vintage = rows[0]["level"], rows[0]["vintage"]
    a = table_of(schema.Area)
    conn = session.connection()
    existing = {
        r.code: r
        for r in conn.execute(
            select(a.c.id, a.c.code, a.c.name, a.c.lad_code, a.c.min_lon).where(
                a.c.level == level, a.c.vintage == vintage
            )
        )
    }
    new = []
    for row in rows:
        old = existing.get(row["code"])
        if old is None:
            new.append({**row, "source_id": source_id})
            continue
        changes: dict[str, Any] = {}
        if row["geometry"] is not None and old.min_lon is None:
            changes.update(
                {k: row[k] for k in ("geometry", "min_lon", "min_lat", "max_lon", "max_lat")}
            )
        if row["name"] != row["code"] and old.name == old.code:
            changes["name"] = row["name"]
        if row["lad_code"] and not old.lad_code:
            changes["lad_code"] = row["lad_code"]
        if changes:
            conn.execute(update(a).where(a.c.id == old.id).values(**changes))
    if new:
        keys = ["code", "name", "level", "vintage", "lad_code", "geometry", "source_id"]
        bbox = ["min_lon", "min_lat", "max_lon", "max_lat"]
        with_geom = [r for r in new if r["geometry"] is not None]
        without = [r for r in new if r["geometry"] is None]
        if with_geom:
            conn.execute(insert(a), [{k: r[k] for k in keys + bbox} for r in with_geom])
        if without:
            conn.execute(insert(a), [{k: r[k] for k in keys if k != "geometry"} for r in without])
    return area_ids(session, level, vintage)


def ensure_frame_areas(
    session: Session,
    frame: pd.DataFrame,
    level: str,
    vintage: int,
    *,
    source_id: str,
    code: str = "code",
    name: str = "name",
    lad: str | None = None,
) -> dict[str, int]:
    """``ensure_areas`` for the distinct codes of a frame's ``code`` column (the first row of each
    gives its name and, where ``lad`` is named, its LAD code). Returns code -> id."""
    firsts = frame.drop_duplicates(code)
    rows = area_rows(
        level,
        vintage,
        firsts[code].tolist(),
        firsts[name].tolist(),
        firsts[lad].tolist() if lad else None,
    )
    return ensure_areas(session, rows, source_id=source_id)


def nan_to_none(values: Iterable[Any], cast: Callable[[Any], Any] = float) -> list[Any]:
    """Plain Python values for the database: NaN/None become NULL, the rest go through ``cast``."""
    plain = values.tolist() if isinstance(values, pd.Series | np.ndarray) else values
    return [None if pd.isna(v) else cast(v) for v in plain]


def records(columns: dict[str, Sequence[Any]], **constants: Any) -> list[dict[str, Any]]:
    """Rows for an executemany insert: one dict per position of the equally long ``columns``,
    each with the ``constants`` added (``records({"a": [1, 2]}, b=0)`` -> ``[{a:1,b:0},{a:2,b:0}]``)."""
    keys = list(columns)
    return [
        dict(zip(keys, values, strict=True), **constants)
        for values in zip(*columns.values(), strict=True)
    ]


def replace_rows(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    where: Iterable[ColumnElement[bool]],
) -> int:
    """Delete the stored rows each ``where`` clause selects (one DELETE per clause, e.g. those an
    earlier load of the dataset wrote), then insert ``rows`` in bulk; rows written."""
    conn = session.connection()
    for clause in where:
        conn.execute(delete(table).where(clause))
    if rows:
        conn.execute(insert(table), rows)
    return len(rows)


def chunks(seq: Sequence[Any], size: int = 5000) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def load_source(
    store: Store,
    source: S,
    write: Callable[[Session, S], object],
    *,
    scope: str | None = None,
) -> S:
    """Write a file just read in one transaction: its ``dataset`` row, then ``write(session,
    source)``; returns ``source``. Every ``load_*`` is this around its ``read_*`` and ``write_*``:

        >>> load_source(store, read_population(path), write_population)  # doctest: +SKIP
    """
    # the catalog imports every reader module, whose load_* call this: look it up when called
    from strengthmap.sources.catalog import record_dataset

    with store.transaction() as session:
        record_dataset(session, source, scope=scope)
        write(session, source)
    return source


__all__ = [
    "CODE_PATTERNS",
    "LoadReport",
    "SourceFile",
    "TableSource",
    "area_ids",
    "area_rows",
    "check_codes",
    "decode_bytes",
    "ensure_areas",
    "ensure_frame_areas",
    "find_column",
    "load_source",
    "nan_to_none",
    "parse_csv",
    "read_csv_file",
    "read_raw",
    "records",
    "refuse_where",
    "replace_rows",
    "require_column",
    "require_columns",
    "require_known",
    "sha256_file",
    "table_of",
    "to_number",
]
