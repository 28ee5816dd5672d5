"""Import ORUK JSON: validate every record, then write it through the directory's one upsert
(``records.upsert_rows`` in audited mode) in one transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from strengthmap.directory.oruk.mapping import _EXTRA_FIELDS, _EXTRA_POS, _EXTRA_RAW, ENTITIES
from strengthmap.directory.oruk.validate import _collect, _Item, _reference_faults
from strengthmap.directory.records import UpsertCounts, free_of_charge, upsert_rows
from strengthmap.errors import ValidationFailed
from strengthmap.storage import Store

#: The keys of a record's ``extra`` JSON that an ORUK import owns (replaced on re-import; other
#: keys, written by other tools, are kept).
_OWN_EXTRA = frozenset({_EXTRA_FIELDS, _EXTRA_RAW, _EXTRA_POS})


@dataclass(kw_only=True)
class ImportReport(UpsertCounts):
    """What an import did: records created / updated / unchanged / retired, by table."""

    source: str
    records: int = 0  # top-level records in the document

    @property
    def total_written(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values()) + sum(self.retired.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "records": self.records,
            "created": dict(self.created),
            "updated": dict(self.updated),
            "unchanged": dict(self.unchanged),
            "retired": dict(self.retired),
        }

    def __str__(self) -> str:
        def fmt(d: dict[str, int]) -> str:
            return ", ".join(f"{v} {k}" for k, v in sorted(d.items()) if v) or "none"

        return (
            f"{self.records} record(s) from {self.source}: created {fmt(self.created)}; "
            f"updated {fmt(self.updated)}; unchanged {sum(self.unchanged.values())}; "
            f"retired {fmt(self.retired)}"
        )


def import_oruk(
    store: Store,
    documents: Any,
    *,
    source: str = "oruk",
    licence: str | None = None,
    actor: str = "cli",
    kind: str | None = None,
    file: str | None = None,
    check_coordinates: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ORUK JSON into the store: all or nothing, upsert by id, with an audit trail.

    Example:
        >>> from strengthmap.storage import open_store
        >>> store = open_store("sqlite://")
        >>> org = {"id": "d9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610", "name": "New Wortley CA",
        ...        "description": "Community association"}
        >>> print(import_oruk(store, org, source="example", kind="organization"))
        1 record(s) from example: created 1 organization; updated none; unchanged 0; retired none

    Every fault found by ``validate_oruk`` (with the store for references) raises
    ``ValidationFailed`` listing all of them, and nothing is written. Otherwise one transaction
    inserts new records and updates changed ones (nested records too: schedules, locations,
    contacts ...); nested records that a re-imported parent no longer lists are retired (never
    deleted). Each change writes an ``AuditEntry`` (who: ``actor``; what: the changed fields).
    ``source`` and ``licence`` are recorded on every record. ``progress(done, total)`` is
    called as tables are written.
    """
    items, faults = _collect(documents, kind, check_coordinates)
    with store.transaction() as session:
        faults.extend(_reference_faults(items, None, session))
        if faults:
            raise ValidationFailed(faults, file=file)
        report = ImportReport(source=source, records=sum(1 for i in items if i.top))
        rows, listed = _rows(items, source=source, licence=licence)
        upsert_rows(
            session,
            rows,
            source=source,
            licence=licence,
            actor=actor,
            stamp_verified=False,
            extra_keys=_OWN_EXTRA,
            listed_children=listed,
            counts=report,
            progress=progress,
        )
    return report


def _rows(
    items: list[_Item], *, source: str, licence: str | None
) -> tuple[dict[str, list[dict[str, Any]]], dict[tuple[str, str, str], dict[str, set[str]]]]:
    """Validated items as directory rows by table, and the children each parent lists in full.

    A mapped column that a record leaves out is given as None (cleared when the record is
    already stored), except the columns with a default and the ABCD kind, which keep what the
    store has."""
    by_entity: dict[str, dict[str, _Item]] = defaultdict(dict)
    for item in items:
        by_entity[item.entity][item.row["id"]] = item  # identical repeats collapse
    rows: dict[str, list[dict[str, Any]]] = {}
    for ent, group in by_entity.items():
        spec = ENTITIES[ent]
        mapped = {f.col for f in spec.fields} | {c for item in group.values() for c in item.sets}
        cleared = dict.fromkeys(
            mapped - {f.col for f in spec.fields if f.default is not None} - {"abcd_kind"}
        )
        ordered = (
            _parents_first(group) if ent in ("organization", "taxonomy_term") else group.items()
        )
        out = []
        for _rid, item in ordered:
            row: dict[str, Any] = {**cleared, **item.row}
            if ent == "service" and "cost_options" in item.data:
                row["free"] = _free(item.data["cost_options"])
            if ent == "service" and row.get("assured_date") is not None:
                row["last_verified"] = row["assured_date"]
            row["source"], row["licence"] = source, licence
            row["extra"] = item.extra or None
            out.append(row)
        rows[ent] = out
    children: dict[tuple[str, tuple[str, str]], set[str]] = defaultdict(set)
    for c in items:
        if c.parent is not None:
            children[(c.entity, c.parent)].add(c.row["id"])
    listed: dict[tuple[str, str, str], dict[str, set[str]]] = defaultdict(dict)
    for item in items:
        for child_ent, fk in item.lists:
            rid = item.row["id"]
            listed[(item.entity, child_ent, fk)][rid] = children.get(
                (child_ent, (item.entity, rid)), set()
            )
    return rows, listed


def _parents_first(group: dict[str, _Item]) -> list[tuple[str, _Item]]:
    """Self-referencing tables: each record after the record it names as parent."""
    col = (
        "parent_id"
        if any("parent_id" in i.row for i in group.values())
        else "parent_organization_id"
    )
    out: list[tuple[str, _Item]] = []
    placed: set[str] = set()
    pending = dict(group)
    while pending:
        progressed = False
        for rid, item in list(pending.items()):
            parent = item.row.get(col)
            if parent is None or parent not in group or parent in placed or parent == rid:
                out.append((rid, item))
                placed.add(rid)
                del pending[rid]
                progressed = True
        if not progressed:  # a cycle: write the rest without their parent link
            for rid, item in pending.items():
                item.row[col] = None
                out.append((rid, item))
            break
    return out


def _free(cost_options: Any) -> bool | None:
    """Free of charge by ``records.free_of_charge`` (every known amount 0; None when unknown)."""
    if not isinstance(cost_options, list):
        return None
    return free_of_charge(c.get("amount") for c in cost_options if isinstance(c, dict))


__all__ = ["ImportReport", "import_oruk"]
