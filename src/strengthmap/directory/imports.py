"""Import any directory file: ORUK JSON or tabular CSV, OSM points, NHS ODS sites, the CSV template.

Example:
    >>> from pathlib import Path
    >>> detect_format(Path("docs/examples/new-wortley-community-centre.csv"))
    'template'

``import_file(store, path, format=None)`` detects the format when none is given (the registry
``strengthmap.directory.formats.FORMATS``, one module per format), checks the whole file first (a
bad row names its row number and column; nothing is written), then writes everything in one
transaction, upserting by id so that a re-run changes nothing. ORUK JSON goes to
``strengthmap.directory.oruk.import_oruk``; every other format's rows go through
``strengthmap.directory.records.upsert_rows`` (``write_rows``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from strengthmap.directory import formats
from strengthmap.directory.formats import ImportContext, ImportSummary
from strengthmap.directory.formats.oruk_csv import read_oruk_csv
from strengthmap.directory.records import retire_vanished, upsert_rows
from strengthmap.directory.taxonomy import install_default_taxonomy
from strengthmap.errors import InputError
from strengthmap.storage import Store, schema

#: The formats ``import_file`` takes, in the order the CLI lists them.
FORMATS = tuple(formats.FORMATS)
#: Formats whose file is a publisher's whole dataset: what it no longer holds is retired.
SNAPSHOT_FORMATS = frozenset(name for name, f in formats.FORMATS.items() if f.snapshot)


def detect_format(path: Path) -> str:
    """The name of the format of ``path``, from its shape (``formats.detect_format``)."""
    return formats.detect_format(path).name


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
    place: str | None = None,
) -> ImportSummary:
    """Check and import one file (or ORUK CSV folder) all-or-nothing; see the module docstring.

    The OSM and ODS files are whole datasets: importing a newer one retires (never deletes) the
    records of the same ``source`` that it no longer holds, unless ``keep_vanished``. ``place``
    (``Settings.place``) is the local authority the file covers: its dataset's scope, and the
    town of an address that names none."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file", file=str(path))
    fmt = formats.get_format(format) if format else formats.detect_format(path)
    ctx = ImportContext(path, store, source, licence, place, actor, progress)
    if fmt.load is not None:
        return fmt.load(ctx)
    assert fmt.read is not None
    got = fmt.read(ctx)
    summary = ImportSummary(str(path), fmt.name, got.source, got.licence)
    summary.written, summary.retired = write_rows(
        store,
        got.rows,
        source=got.source,
        licence=got.licence,
        dataset=got.dataset,
        actor=actor,
        snapshot=fmt.snapshot and not keep_vanished,
        # only a sheet a person filled in is a check made now; published files (OSM, ODS, ORUK
        # CSV) carry their own check dates (check_date, assured_date) or none
        stamp_verified=fmt.stamp_verified,
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


__all__ = [
    "FORMATS",
    "SNAPSHOT_FORMATS",
    "ImportSummary",
    "detect_format",
    "import_file",
    "read_oruk_csv",
    "write_rows",
]
