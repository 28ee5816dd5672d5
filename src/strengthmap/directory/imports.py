"""Import any directory file: ORUK JSON or tabular CSV, OSM points, NHS ODS sites, the CSV template.

Example:
    >>> from pathlib import Path
    >>> detect_format(Path("docs/examples/new-wortley-community-centre.csv"))
    'template'

``import_file(store, path, format=None)`` detects the format when none is given, checks the
whole file first (a bad row names its row number and column; nothing is written), then writes
everything in one transaction, upserting by id so that a re-run changes nothing. ORUK JSON goes
to ``strengthmap.directory.oruk.import_oruk``; every other format goes through
``strengthmap.directory.records.upsert_rows``.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from strengthmap.directory.records import MODELS, TABLE_ORDER, retire_vanished, upsert_rows
from strengthmap.directory.taxonomy import install_default_taxonomy
from strengthmap.errors import InputError
from strengthmap.storage import Store, schema

FORMATS = ("oruk-json", "oruk-csv", "osm", "ods", "template")
#: Formats whose file is a publisher's whole dataset: what it no longer holds is retired.
SNAPSHOT_FORMATS = frozenset({"osm", "ods"})

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


@dataclass
class ImportSummary:
    """What an import wrote: rows per table, the format, source and licence."""

    file: str
    format: str
    source: str
    licence: str | None
    written: dict[str, int] = field(default_factory=dict)
    retired: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def services(self) -> int:
        return self.written.get("service", 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "source": self.source,
            "licence": self.licence,
            "written": self.written,
            "retired": self.retired,
            "notes": self.notes,
        }


def detect_format(path: Path) -> str:
    """The format of ``path`` from its shape (a folder of ORUK CSV, GeoJSON of OSM points ...)."""
    if path.is_dir():
        if any((path / f"{stem}.csv").is_file() for stem in ORUK_CSV_FILES):
            return "oruk-csv"
        raise InputError("a folder without ORUK CSV files (services.csv ...)", file=str(path))
    suffix = path.suffix.lower()
    if suffix in {".json", ".geojson"}:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"not JSON: {exc}", file=str(path)) from None
        if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
            props = (doc.get("features") or [{}])[0].get("properties") or {}
            if "osm_id" in props:
                return "osm"
            raise InputError("GeoJSON that is not OSM points (no osm_id)", file=str(path))
        if isinstance(doc, dict) and "resources" in doc and "profile" in doc:
            return "oruk-csv"  # a data package descriptor
        return "oruk-json"
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), [])
        cols = set(header)
        if {"org_code", "prescribing_setting"} <= cols:
            return "ods"
        if {"organization", "service_name"} <= cols:
            return "template"
        raise InputError(
            "a CSV that is neither the template (organization, service_name ...) nor ODS",
            file=str(path),
            row=1,
        )
    raise InputError(f"cannot tell the format of {path.name}; give --format", file=str(path))


def _sha256(path: Path) -> str | None:
    if path.is_dir():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_rows(
    store: Store,
    rows: dict[str, list[dict[str, Any]]],
    *,
    source: str,
    licence: str | None,
    dataset: dict[str, Any] | None = None,
    actor: str = "cli",
    snapshot: bool = False,
    stamp_verified: bool = True,
) -> tuple[dict[str, int], dict[str, int]]:
    """One transaction: the default taxonomy, the dataset row, then every row (upsert by id).

    ``snapshot``: the rows are the whole of ``source`` (a publisher's dataset), so its live rows
    that they no longer hold are retired (``records.retire_vanished``). ``stamp_verified``: rows
    without a ``last_verified`` get today's (a person filled them in today); off for published
    datasets, whose rows carry their own check dates or none. Returns the rows written and the
    rows retired, per table."""
    with store.transaction() as session:
        install_default_taxonomy(store, session)
        if dataset is not None:
            session.merge(schema.Dataset(**dataset))
        written = upsert_rows(
            session, rows, source=source, licence=licence, stamp_verified=stamp_verified
        )
        retired = (
            retire_vanished(
                session,
                source,
                {table: {r["id"] for r in table_rows} for table, table_rows in rows.items()},
                actor=actor,
            )
            if snapshot
            else {}
        )
        session.add(
            schema.AuditEntry(
                actor=actor,
                action="import",
                entity="dataset",
                entity_id=source[:36],
                changes={"written": written, "retired": retired},
            )
        )
    return written, retired


def import_file(
    store: Store,
    path: Path,
    format: str | None = None,
    *,
    actor: str = "cli",
    source: str | None = None,
    licence: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_vanished: bool = False,
) -> ImportSummary:
    """Check and import one file (or ORUK CSV folder) all-or-nothing; see the module docstring.

    The OSM and ODS files are whole datasets: importing a newer one retires (never deletes) the
    records of the same ``source`` that it no longer holds, unless ``keep_vanished``."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", file=str(path))
    fmt = format or detect_format(path)
    src: str
    lic: str | None
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}", field="format")
    if fmt == "oruk-json":
        from strengthmap.directory.oruk import import_oruk

        doc = json.loads(path.read_text(encoding="utf-8"))
        report = import_oruk(
            store,
            doc,
            source=source or f"oruk:{path.name}",
            licence=licence,
            actor=actor,
            file=str(path),
            progress=progress,
        )
        summary = ImportSummary(str(path), fmt, report.source, licence)
        summary.written = {
            k: report.created.get(k, 0) + report.updated.get(k, 0)
            for k in set(report.created) | set(report.updated)
        }
        summary.notes.append(str(report))
        return summary
    if fmt == "osm":
        from strengthmap.sources import osm

        doc = osm.read_osm(path)
        rows = osm.rows_from_osm(doc, str(path))
        src, lic = source or "osm_community_pois", licence or osm.LICENCE
        dataset = _dataset(
            src,
            path,
            "OpenStreetMap community points of interest",
            osm.PUBLISHER,
            lic,
            osm.ATTRIBUTION,
            len(doc["features"]),
        )
    elif fmt == "ods":
        from strengthmap.sources import ods

        records = ods.read_ods(path)
        rows = ods.rows_from_ods(records)
        src, lic = source or "ods_epraccur", licence or ods.LICENCE
        dataset = _dataset(
            src,
            path,
            "NHS GP practices and prescribing sites (ODS epraccur)",
            ods.PUBLISHER,
            lic,
            ods.ATTRIBUTION,
            len(records),
        )
    elif fmt == "template":
        from strengthmap.directory.template import read_template, rows_from_template

        records = read_template(path)
        rows = rows_from_template(records, str(path), postcodes=_postcodes(store, records))
        src, lic = source or f"template:{path.name}"[:64], licence or "CC-BY-4.0"
        dataset = None
    else:
        rows = read_oruk_csv(path, store)
        src, lic = source or f"oruk-csv:{path.name}"[:64], licence or None
        dataset = None
    summary = ImportSummary(str(path), fmt, src, lic)
    summary.written, summary.retired = write_rows(
        store,
        rows,
        source=src,
        licence=lic,
        dataset=dataset,
        actor=actor,
        snapshot=fmt in SNAPSHOT_FORMATS and not keep_vanished,
        # only the community builder's own sheet is a check made now; published files (OSM,
        # ODS, ORUK CSV) carry their own check dates (check_date, assured_date) or none
        stamp_verified=fmt == "template",
    )
    if summary.retired:
        summary.notes.append(
            "retired (no longer in this dataset): "
            + ", ".join(f"{n} {table}" for table, n in summary.retired.items())
        )
    if progress is not None:
        total = sum(summary.written.values())
        progress(total, total)
    return summary


def _dataset(
    id: str, path: Path, title: str, publisher: str, licence: str, attribution: str, rows: int
) -> dict[str, Any]:
    return {
        "id": id,
        "title": title,
        "publisher": publisher,
        "licence": licence,
        "attribution": attribution,
        "file": path.name,
        "sha256": _sha256(path),
        "rows": rows,
        "scope": "Leeds",
    }


def _postcodes(store: Store, records: list[dict[str, str]]) -> dict[str, tuple[float, float]]:
    """Postcode centroids for template rows that give a postcode and no coordinates."""
    wanted = {
        " ".join(r["postcode"].upper().split())
        for r in records
        if r.get("postcode") and not r.get("latitude")
    }
    if not wanted:
        return {}
    out = {}
    normal = {f"{w.replace(' ', '')[:-3]} {w.replace(' ', '')[-3:]}" for w in wanted}
    with store.session() as s:
        for p in s.scalars(sa.select(schema.Postcode).where(schema.Postcode.postcode.in_(normal))):
            if p.lon is not None and p.lat is not None:
                out[p.postcode] = (p.lon, p.lat)
    return out


# --- ORUK tabular data package ----------------------------------------------------------------


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


__all__ = [
    "FORMATS",
    "SNAPSHOT_FORMATS",
    "ImportSummary",
    "detect_format",
    "import_file",
    "read_oruk_csv",
    "write_rows",
]
