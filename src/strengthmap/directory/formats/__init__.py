"""The file formats the directory imports, one module each, and the registry ``import_file`` uses.

Example:
    >>> list(FORMATS)
    ['oruk-json', 'oruk-csv', 'osm', 'ods', 'template']
    >>> from pathlib import Path
    >>> detect_format(Path("docs/examples/new-wortley-community-centre.csv")).name
    'template'

Each module (``oruk_json``, ``oruk_csv``, ``osm``, ``ods``, ``template``) defines its
``FORMAT``: a ``DirectoryFormat`` that recognises its files (``detect``) and reads them into
directory rows (or imports them itself). A new format is a module with a ``FORMAT`` and one line
in ``register`` below; ``strengthmap.directory.imports.import_file`` and the CLI's ``--format``
find it here. Official open data that is not a directory (boundaries, IMD, life expectancy ...)
is read by ``strengthmap.sources`` instead.
"""

from __future__ import annotations

from pathlib import Path

from strengthmap.directory.formats import ods, oruk_csv, oruk_json, osm, template
from strengthmap.directory.formats.base import (
    DirectoryFormat,
    FormatRows,
    ImportContext,
    ImportSummary,
    Probe,
)
from strengthmap.errors import InputError

#: Every format by name, in the order the CLI lists them.
FORMATS: dict[str, DirectoryFormat] = {}


def register(fmt: DirectoryFormat) -> DirectoryFormat:
    """Add ``fmt`` to ``FORMATS`` (a name may be registered once)."""
    if fmt.name in FORMATS:
        raise ValueError(f"a directory format named {fmt.name!r} is already registered")
    FORMATS[fmt.name] = fmt
    return fmt


for _module in (oruk_json, oruk_csv, osm, ods, template):
    register(_module.FORMAT)


def get_format(name: str) -> DirectoryFormat:
    """The format called ``name``; ``InputError`` naming the known ones otherwise."""
    fmt = FORMATS.get(name)
    if fmt is None:
        raise InputError(f"unknown format {name!r}; one of {', '.join(FORMATS)}", field="format")
    return fmt


def detect_format(path: Path) -> DirectoryFormat:
    """The format of ``path`` from its shape (a folder of ORUK CSV, GeoJSON of OSM points ...);
    ``InputError`` saying what the file looks like when no format recognises it."""
    probe = Probe(path)
    found = [fmt for fmt in FORMATS.values() if fmt.detect(probe)]
    if len(found) == 1:
        return found[0]
    if found:  # formats that claim the same files: a mistake in the registry, not in the file
        raise ValueError(f"{path.name} is claimed by {', '.join(f.name for f in found)}")
    if probe.kind == "folder":
        raise InputError("a folder without ORUK CSV files (services.csv ...)", file=str(path))
    if probe.kind == "json" and probe.feature_collection:
        raise InputError("GeoJSON that is not OSM points (no osm_id)", file=str(path))
    if probe.kind == "csv":
        raise InputError(
            "a CSV that is neither the template (organization, service_name ...) nor ODS",
            file=str(path),
            row=1,
        )
    raise InputError(f"cannot tell the format of {path.name}; give --format", file=str(path))


__all__ = [
    "FORMATS",
    "DirectoryFormat",
    "FormatRows",
    "ImportContext",
    "ImportSummary",
    "Probe",
    "detect_format",
    "get_format",
    "register",
]
