"""Open Referral UK JSON documents (a service, a list of them, or a page of the ORUK API).

Example:
    >>> from strengthmap.directory.formats.base import Probe
    >>> FORMAT.name, FORMAT.load is not None, FORMAT.read is None
    ('oruk-json', True, True)

ORUK JSON has its own import (``strengthmap.directory.oruk.import_oruk``: the whole document
validated against the UK schemas, nested records upserted, records a re-imported parent no longer
lists retired), so this format ``load``s the file itself instead of reading it into rows.
"""

from __future__ import annotations

import json

from strengthmap.directory.formats.base import (
    DirectoryFormat,
    ImportContext,
    ImportSummary,
    Probe,
)
from strengthmap.errors import InputError


def _detect(probe: Probe) -> bool:
    if probe.kind != "json":
        return False
    doc = probe.document
    data_package = isinstance(doc, dict) and "resources" in doc and "profile" in doc
    return not probe.feature_collection and not data_package


def _load(ctx: ImportContext) -> ImportSummary:
    from strengthmap.directory.oruk import import_oruk  # the validator loads the UK schemas

    try:
        doc = json.loads(ctx.path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"not JSON: {exc}", file=str(ctx.path)) from None
    report = import_oruk(
        ctx.store,
        doc,
        source=ctx.source or f"oruk:{ctx.path.name}",
        licence=ctx.licence,
        actor=ctx.actor,
        file=str(ctx.path),
        progress=ctx.progress,
    )
    summary = ImportSummary(str(ctx.path), FORMAT.name, report.source, ctx.licence)
    summary.written = {
        k: report.created.get(k, 0) + report.updated.get(k, 0)
        for k in set(report.created) | set(report.updated)
    }
    summary.notes.append(str(report))
    return summary


#: ORUK JSON: validated and imported by ``import_oruk``.
FORMAT = DirectoryFormat("oruk-json", "Open Referral UK JSON", _detect, load=_load)

__all__ = ["FORMAT"]
