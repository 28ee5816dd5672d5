"""What a directory format is: how to recognise its files and read them into directory rows.

Example:
    >>> from pathlib import Path
    >>> probe = Probe(Path("docs/examples/new-wortley-community-centre.csv"))
    >>> probe.kind, {"organization", "service_name"} <= probe.header
    ('csv', True)

A format either reads a file into rows by table (``read``: the rows then go through the
directory's one write path, ``records.upsert_rows``, in ``imports.write_rows``) or imports it
itself (``load``: ORUK JSON, which has its own validation and nested-record import). A format
whose files are a publisher's whole dataset (``snapshot``) retires what a newer file no longer
holds; one filled in by a person (``stamp_verified``) stamps today as its check date.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from strengthmap.errors import InputError
from strengthmap.storage import Store

#: ``progress(done, total)``, called as tables are written.
ImportProgress = Callable[[int, int], None]


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


@dataclass(frozen=True)
class ImportContext:
    """One import: the file, the store, and what the caller said about it (``None``: the
    format's default). ``place`` is the local authority the file covers (``Settings.place``):
    the dataset's scope, and the town of an address that gives none."""

    path: Path
    store: Store
    source: str | None = None
    licence: str | None = None
    place: str | None = None
    actor: str = "cli"
    progress: ImportProgress | None = None


@dataclass
class FormatRows:
    """A file read into directory rows by table, with its source, licence and ``dataset`` row."""

    rows: dict[str, list[dict[str, Any]]]
    source: str
    licence: str | None
    dataset: dict[str, Any] | None = None


class Probe:
    """A file looked at once to tell its format: a folder, JSON (parsed), CSV (its header row)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @cached_property
    def kind(self) -> Literal["folder", "json", "csv", "other"]:
        if self.path.is_dir():
            return "folder"
        suffix = self.path.suffix.lower()
        if suffix in {".json", ".geojson"}:
            return "json"
        return "csv" if suffix == ".csv" else "other"

    @cached_property
    def document(self) -> Any:
        """The parsed JSON document (``InputError`` when it is not JSON)."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"not JSON: {exc}", file=str(self.path)) from None

    @property
    def feature_collection(self) -> bool:
        doc = self.document
        return isinstance(doc, dict) and doc.get("type") == "FeatureCollection"

    @cached_property
    def header(self) -> set[str]:
        """The column names of a CSV file's first row."""
        with self.path.open(newline="", encoding="utf-8-sig") as f:
            return set(next(csv.reader(f), []))


@dataclass(frozen=True)
class DirectoryFormat:
    """A file format the directory imports (see the module docstring)."""

    name: str
    title: str
    detect: Callable[[Probe], bool]
    read: Callable[[ImportContext], FormatRows] | None = None
    load: Callable[[ImportContext], ImportSummary] | None = None
    snapshot: bool = False
    stamp_verified: bool = False

    def __post_init__(self) -> None:
        if (self.read is None) == (self.load is None):
            raise ValueError(f"format {self.name}: give exactly one of read and load")


def sha256_of(path: Path) -> str | None:
    """The SHA-256 of a file's bytes (None for a folder)."""
    if path.is_dir():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dataset_row(
    ctx: ImportContext, *, id: str, title: str, publisher: str, licence: str, attribution: str,
    rows: int,
) -> dict[str, Any]:  # fmt: skip
    """The ``dataset`` row of a published file (credited wherever its records are shown)."""
    return {
        "id": id,
        "title": title,
        "publisher": publisher,
        "licence": licence,
        "attribution": attribution,
        "file": ctx.path.name,
        "sha256": sha256_of(ctx.path),
        "rows": rows,
        "scope": ctx.place,
    }


__all__ = [
    "DirectoryFormat",
    "FormatRows",
    "ImportContext",
    "ImportProgress",
    "ImportSummary",
    "Probe",
    "dataset_row",
    "sha256_of",
]
