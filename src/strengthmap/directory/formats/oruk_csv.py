"""Open Referral UK tabular data packages: a folder of CSV files, one per table.

Example:
    >>> ORUK_CSV_FILES["services"], ORUK_CSV_FILES["service_at_locations"]
    ('service', 'service_at_location')

``read_oruk_csv`` reads every CSV whose name is an ORUK table (both spellings the spec's examples
use), converts each value to its column's type, keeps the columns the store does not hold in each
row's ``extra["oruk_csv"]``, and checks every reference (a record of the package or of the store);
the first fault names its file, row and column.
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path
from typing import Any

from strengthmap.directory.formats.base import DirectoryFormat, FormatRows, ImportContext, Probe
from strengthmap.directory.records import MODELS, TABLE_ORDER
from strengthmap.errors import InputError
from strengthmap.storage import Store

#: ORUK tabular data package file names -> tables (the spec's examples use both spellings).
ORUK_CSV_FILES = {
    "organizations": "organization",
    "organization": "organization",
    "organization_identifiers": "organization_identifier",
    "services": "service",
    "service": "service",
    "locations": "location",
    "location": "location",
    "addresses": "address",
    "address": "address",
    "service_at_location": "service_at_location",
    "service_at_locations": "service_at_location",
    "schedules": "schedule",
    "schedule": "schedule",
    "taxonomies": "taxonomy",
    "taxonomy": "taxonomy",
    "taxonomy_terms": "taxonomy_term",
    "attribute": "attribute",
    "attributes": "attribute",
    "contacts": "contact",
    "phones": "phone",
    "cost_options": "cost_option",
    "accessibility": "accessibility",
    "languages": "language",
    "service_areas": "service_area",
    "funding": "funding",
}
#: Optional references kept (in ``extra``) when they point outside the package and the store.
_SOFT = {
    ("organization", "parent_organization_id"),
    ("taxonomy_term", "parent_id"),
    ("taxonomy_term", "taxonomy_id"),
}
#: ORUK CSV columns whose column in the store has another name.
_RENAMED = {("funding", "source"): "source_text", ("taxonomy_term", "taxonomy"): "taxonomy_name"}


def _convert(value: str, column: Any, file: str, row: int, name: str) -> Any:
    if value == "":
        return None
    try:
        py = column.type.python_type
    except NotImplementedError:
        return value
    try:
        if py is int:
            return int(value)
        if py is float:
            return float(value)
        if py is bool:
            low = value.lower()
            if low not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError(value)
            return low in {"true", "1", "yes"}
        if py is date:
            return date.fromisoformat(value[:10])
        if py is datetime:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"not a valid {py.__name__}: {value!r}", file=file, row=row, field=name
        ) from None
    if py is str and getattr(column.type, "length", None) and len(value) > column.type.length:
        raise InputError(
            f"longer than {column.type.length} characters", file=file, row=row, field=name
        )
    return value


def read_oruk_csv(folder: Path, store: Store | None = None) -> dict[str, list[dict[str, Any]]]:
    """Rows by table from an ORUK tabular data package folder (one CSV per table).

    Columns the store does not hold are kept in each row's ``extra["oruk_csv"]``. References
    (``organization_id``, ``service_id`` ...) must point at a record in the package or already
    in the store; the first that does not is named by file, row and column.
    """
    if folder.is_file():
        folder = folder.parent
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    where: dict[tuple[str, str], tuple[str, int]] = {}
    for csv_path in sorted(folder.glob("*.csv")):
        table = ORUK_CSV_FILES.get(csv_path.stem)
        if table is None:
            continue
        model = MODELS[table]
        columns = {c.name: c for c in model.__table__.columns}
        with csv_path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            if "id" not in header:
                raise InputError("missing column", file=str(csv_path), row=1, field="id")
            for i, raw in enumerate(reader, start=2):
                row: dict[str, Any] = {}
                extra: dict[str, str] = {}
                for key, value in raw.items():
                    if key is None:
                        raise InputError("more values than columns", file=str(csv_path), row=i)
                    value = (value or "").strip()
                    col = _RENAMED.get((table, key), key)
                    if col in columns and col not in {
                        "extra",
                        "exdates",
                        "geometry",
                        "source",
                        "licence",
                    }:
                        if col == "timezone" and value and not value.isalpha() and "/" not in value:
                            extra[key] = value  # ORUK 3.0 gives a UTC offset; zones stay named
                            continue
                        row[col] = _convert(value, columns[col], str(csv_path), i, key)
                    elif value:
                        extra[key] = value
                if not row.get("id"):
                    raise InputError("empty", file=str(csv_path), row=i, field="id")
                for c in columns.values():
                    if (
                        not c.nullable
                        and c.default is None
                        and row.get(c.name) is None
                        and c.name not in {"created_at", "updated_at"}
                    ):
                        raise InputError("required", file=str(csv_path), row=i, field=c.name)
                if extra:
                    row["extra"] = {"oruk_csv": extra}
                table_rows = rows.setdefault(table, {})
                if row["id"] in table_rows:  # the same record in both spellings of a file
                    table_rows[row["id"]].update({k: v for k, v in row.items() if v is not None})
                else:
                    table_rows[row["id"]] = row
                    where[(table, row["id"])] = (str(csv_path), i)
    _check_references(rows, where, store)
    for service in rows.get("service", {}).values():  # as the ORUK JSON import does
        if service.get("last_verified") is None and service.get("assured_date") is not None:
            service["last_verified"] = service["assured_date"]
    return {t: list(rows[t].values()) for t in TABLE_ORDER if t in rows}


def _check_references(
    rows: dict[str, dict[str, dict[str, Any]]],
    where: dict[tuple[str, str], tuple[str, int]],
    store: Store | None,
) -> None:
    for table, by_id in rows.items():
        model = MODELS[table]
        for fk_col in model.__table__.columns:
            for fk in fk_col.foreign_keys:
                target = fk.column.table.name
                for rid, row in by_id.items():
                    ref = row.get(fk_col.name)
                    if ref is None or ref in rows.get(target, {}):
                        continue
                    if store is not None:
                        with store.session() as s:
                            if s.get(MODELS[target], ref) is not None:
                                continue
                    if (table, fk_col.name) in _SOFT:
                        row["extra"] = row.get("extra") or {"oruk_csv": {}}
                        row["extra"].setdefault("oruk_csv", {})[fk_col.name] = ref
                        row[fk_col.name] = None
                        continue
                    file, line = where[(table, rid)]
                    raise InputError(
                        f"points to no {target} with id {ref}",
                        file=file,
                        row=line,
                        field=fk_col.name,
                    )


def _detect(probe: Probe) -> bool:
    if probe.kind == "folder":
        return any((probe.path / f"{stem}.csv").is_file() for stem in ORUK_CSV_FILES)
    if probe.kind == "json":  # a data package descriptor beside its CSV files
        doc = probe.document
        return isinstance(doc, dict) and "resources" in doc and "profile" in doc
    return False


def _read(ctx: ImportContext) -> FormatRows:
    rows = read_oruk_csv(ctx.path, ctx.store)
    return FormatRows(rows, ctx.source or f"oruk-csv:{ctx.path.name}"[:64], ctx.licence or None)


#: A folder of ORUK CSV files (or its data package descriptor).
FORMAT = DirectoryFormat(
    "oruk-csv", "Open Referral UK tabular data package (CSV)", _detect, read=_read
)

__all__ = ["FORMAT", "ORUK_CSV_FILES", "read_oruk_csv"]
