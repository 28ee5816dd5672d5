"""Import a network: a CSV pair a community builder fills in a spreadsheet, or Kumu's JSON.

Example:
    >>> from strengthmap.storage import open_store
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "nodes.csv").write_text(
    ...     "id,kind,name,consent,area_code\\namy,person,Amy,public,\\nben,person,Ben,internal,\\n")
    >>> _ = (folder / "edges.csv").write_text(
    ...     "source,target,type,weight,start,end,consent\\namy,ben,meets_with,2,2024-01-01,,public\\n")
    >>> store = open_store("sqlite://")
    >>> import_network(store, folder).to_dict()["people"]
    {'created': 2, 'updated': 0, 'unchanged': 0}

**CSV** (``--format csv``; a folder holding ``nodes.csv`` and ``edges.csv``, or the two files):

* ``nodes.csv``: ``id,kind,name,consent,area_code`` (optional: ``role``, ``consent_date``).
  ``kind`` is person, organization (organisation), service or location. A person's ``id`` is
  yours to choose (1-36 letters, digits, ``. _ : -``) and stays the same between imports; a
  directory record's ``id`` is its id in the directory (its ``name`` may be left blank).
  ``consent``: private, internal or public; blank is private for a person, public for a
  directory record. ``area_code``: the LSOA of a person's or organisation's home (blank: a
  directory record is placed by its own location). ``consent_date`` (YYYY-MM-DD): when consent
  was recorded; blank is the day of the import.
* ``edges.csv``: ``source,target,type,weight,start,end,consent`` (optional: ``note``,
  ``consent_date``). ``source`` / ``target``: ids in ``nodes.csv``, in the network already, or
  of any directory record. ``type``: runs, volunteers_at, refers_to, funds, meets_with,
  partners_with, or ``custom:<name>``. ``weight``: a positive number (blank 1). ``start`` /
  ``end``: dates (``end`` is the last day). ``consent``: blank is the most private of the two
  ends.

**Kumu** (``--format kumu``): a blueprint ``{"elements": [...], "connections": [...]}``
(elements: ``label``, ``id``, ``type`` as the kind, and ``consent``, ``area code``, ``role``;
connections: ``from``, ``to`` (ids, or labels when elements have none), ``type``,
``direction`` (directed, mutual, undirected), ``weight``/``strength``, ``start``, ``end``,
``consent``). Kumu's own exports, whose fields sit under ``attributes``, read the same.

Every fault of the whole import is listed (file, row, field) and nothing is written unless
there are none: ``ValidationFailed``. Importing the same file twice changes nothing; a row
whose id is in the store already updates that record, with an audit entry.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from strengthmap.errors import Fault, Forbidden, InputError, ValidationFailed
from strengthmap.network.model import IMPORT_FORMATS, Viewer, most_private
from strengthmap.network.places import known_lsoa_codes
from strengthmap.network.records import (
    directory_kinds,
    tie_id,
    upsert_member,
    upsert_person,
    upsert_tie,
)
from strengthmap.network.values import (
    check_dates,
    parse_area_code,
    parse_consent,
    parse_date,
    parse_kind,
    parse_node_id,
    parse_type,
    parse_weight,
)
from strengthmap.storage import Store, schema

NODE_COLUMNS = ("id", "kind", "name", "consent", "area_code")
EDGE_COLUMNS = ("source", "target", "type", "weight", "start", "end", "consent")
FORMATS = IMPORT_FORMATS
_KUMU_NAMESPACE = uuid.UUID("3c0d2f63-7a85-5e0c-8f0e-2f3e1a9b6d44")


@dataclass(frozen=True)
class Where:
    """Where a record was read: the file, its row (CSV: header = row 1; JSON: 1-based
    position in its list) and, for JSON, the path of the record."""

    file: str
    row: int
    path: str | None = None

    def fault(self, field: str, message: str) -> Fault:
        if self.path is None:
            return Fault.at(message, file=self.file, row=self.row, field=field)
        return Fault(
            f"{self.file}: {self.path}.{field}", message, file=self.file, row=self.row, field=field
        )


@dataclass
class RawRecords:
    """What a reader found, before any check against the store: one dict per node and tie."""

    nodes: list[tuple[Where, dict[str, Any]]] = field(default_factory=list)
    edges: list[tuple[Where, dict[str, Any]]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    source: str = ""


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def to_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass
class ImportReport:
    """What an import wrote: people, directory records in the network (members) and ties."""

    source: str
    format: str
    people: Counts = field(default_factory=Counts)
    members: Counts = field(default_factory=Counts)
    ties: Counts = field(default_factory=Counts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "people": self.people.to_dict(),
            "members": self.members.to_dict(),
            "ties": self.ties.to_dict(),
        }


# --- readers ----------------------------------------------------------------------------------


def _csv_rows(
    path: Path, needed: tuple[str, ...], faults: list[Fault]
) -> Iterator[tuple[Where, dict[str, str]]]:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        faults.append(Fault.at("file not found", file=str(path)))
        return
    except UnicodeDecodeError:
        faults.append(Fault.at("not UTF-8 text (save the sheet as CSV UTF-8)", file=name))
        return
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in needed if c not in header]
    for column in missing:
        faults.append(
            Fault.at(f"missing column (needs {', '.join(needed)})", file=name, row=1, field=column)
        )
    if missing:
        return
    reader.fieldnames = header
    for i, row in enumerate(reader, start=2):
        values = {
            k: (v or "").strip() for k, v in row.items() if k is not None and isinstance(v, str)
        }
        if not any(values.values()):
            continue  # a blank line of the sheet
        yield Where(name, i), values


def read_csv_pair(paths: list[Path]) -> RawRecords:
    """The rows of ``nodes.csv`` and ``edges.csv`` (a folder holding both, or the two files)."""
    nodes_path, edges_path = _pair(paths)
    out = RawRecords(source=str(nodes_path.parent if len(paths) == 1 else paths[0]))
    out.nodes = list(_csv_rows(nodes_path, NODE_COLUMNS, out.faults))
    out.edges = list(_csv_rows(edges_path, EDGE_COLUMNS, out.faults))
    return out


def _pair(paths: list[Path]) -> tuple[Path, Path]:
    for p in paths:
        if not p.exists():
            raise InputError("no such file or folder", file=str(p))
    if len(paths) == 1 and paths[0].is_dir():
        return paths[0] / "nodes.csv", paths[0] / "edges.csv"
    if len(paths) == 2:
        by_name = {p.name.lower(): p for p in paths}
        if "nodes.csv" in by_name and "edges.csv" in by_name:
            return by_name["nodes.csv"], by_name["edges.csv"]
        return paths[0], paths[1]  # nodes first, edges second
    if len(paths) == 1 and paths[0].name.lower() in ("nodes.csv", "edges.csv"):
        folder = paths[0].parent
        return folder / "nodes.csv", folder / "edges.csv"
    raise InputError(
        "give a folder holding nodes.csv and edges.csv, or the two files", file=str(paths[0])
    )


def _kumu_fields(record: dict[str, Any]) -> dict[str, Any]:
    """A Kumu element or connection's fields, lower-cased (``attributes`` of Kumu's own
    exports merged in)."""
    merged: dict[str, Any] = {}
    attributes = record.get("attributes")
    for source in (record, attributes if isinstance(attributes, dict) else {}):
        for k, v in source.items():
            if k != "attributes":
                merged[str(k).strip().lower().lstrip("_").replace("_", " ")] = v
    return merged


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value).strip()


def read_kumu(path: Path) -> RawRecords:
    """The elements and connections of a Kumu blueprint (JSON)."""
    name = path.name
    out = RawRecords(source=str(path))
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        out.faults.append(Fault.at("file not found", file=str(path)))
        return out
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        out.faults.append(Fault.at(f"not JSON: {exc}", file=name))
        return out
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("elements"), list)
        or not isinstance(doc.get("connections", []), list)
    ):
        out.faults.append(
            Fault(
                f"{name}: $",
                "not a Kumu blueprint: expected an object with "
                "an 'elements' list and a 'connections' list",
                file=name,
            )
        )
        return out
    labels: dict[str, str] = {}
    for i, element in enumerate(doc["elements"]):
        where = Where(name, i + 1, f"$.elements[{i}]")
        if not isinstance(element, dict):
            out.faults.append(Fault(f"{name}: {where.path}", "not an object", file=name, row=i + 1))
            continue
        f = _kumu_fields(element)
        label = _text(f.get("label"))
        given_id = _text(f.get("id"))
        node_id = given_id or (str(uuid.uuid5(_KUMU_NAMESPACE, label)) if label else "")
        if label and not given_id:
            labels.setdefault(label, node_id)
        if given_id:
            labels.setdefault(given_id, node_id)
        out.nodes.append(
            (
                where,
                {
                    "id": node_id,
                    "kind": _text(f.get("type") or f.get("element type") or f.get("kind")),
                    "name": label,
                    "consent": _text(f.get("consent")),
                    "area_code": _text(f.get("area code") or f.get("area")),
                    "role": _text(f.get("role")),
                    "consent_date": _text(f.get("consent date")),
                    "_label_field": "label",
                },
            )
        )
    for i, connection in enumerate(doc.get("connections", [])):
        where = Where(name, i + 1, f"$.connections[{i}]")
        if not isinstance(connection, dict):
            out.faults.append(Fault(f"{name}: {where.path}", "not an object", file=name, row=i + 1))
            continue
        f = _kumu_fields(connection)
        direction = _text(f.get("direction")).lower()
        if direction and direction not in ("directed", "mutual", "undirected"):
            out.faults.append(
                where.fault(
                    "direction", f"not a direction: {direction!r} (directed, mutual or undirected)"
                )
            )
        ends = {}
        for end in ("from", "to"):
            ref = _text(f.get(end))
            ends[end] = labels.get(ref, ref)
        out.edges.append(
            (
                where,
                {
                    "source": ends["from"],
                    "target": ends["to"],
                    "type": _text(f.get("type") or f.get("connection type")),
                    "weight": _text(
                        f.get("weight") if f.get("weight") is not None else f.get("strength")
                    ),
                    "start": _text(f.get("start") or f.get("start date")),
                    "end": _text(f.get("end") or f.get("end date")),
                    "consent": _text(f.get("consent")),
                    "note": _text(f.get("note") or f.get("description")),
                    "consent_date": _text(f.get("consent date")),
                    "_mutual": direction in ("mutual", "undirected"),
                    "_fields": {"source": "from", "target": "to"},
                },
            )
        )
    return out


def read_records(path: Path | list[Path], format: str | None = None) -> RawRecords:
    """Read ``path`` (one file or folder, or the two CSV files) in ``format`` (guessed from the
    name when None: ``.json`` is Kumu, else CSV)."""
    paths = [Path(p) for p in (path if isinstance(path, list) else [path])]
    fmt = format or ("kumu" if paths[0].suffix.lower() == ".json" else "csv")
    if fmt not in FORMATS:
        raise InputError(f"not an import format: {fmt!r} (csv or kumu)", field="format")
    if fmt == "kumu":
        if len(paths) != 1:
            raise InputError("a Kumu import is one JSON file", file=str(paths[0]))
        return read_kumu(paths[0])
    return read_csv_pair(paths)


# --- checking against the store -----------------------------------------------------------------


@dataclass
class Draft:
    """An import checked against the store: rows ready to write (``upsert_*`` values)."""

    people: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    ties: list[dict[str, Any]] = field(default_factory=list)


def _store_nodes(store: Store, ids: set[str]) -> tuple[dict[str, tuple[str, str, bool]], set[str]]:
    """``({id: (kind, consent, retired)}, LSOA codes)`` for the ids that the store knows."""
    wanted = sorted(ids)
    known: dict[str, tuple[str, str, bool]] = {}
    members: dict[str, str] = {}
    with store.session() as session:
        for start in range(0, len(wanted), 5000):
            chunk = wanted[start : start + 5000]
            for pid, consent, retired_at in session.execute(
                sa.select(schema.Person.id, schema.Person.consent, schema.Person.retired_at).where(
                    schema.Person.id.in_(chunk)
                )
            ):
                known[pid] = ("person", consent, retired_at is not None)
            for mid, member_consent in session.execute(
                sa.select(schema.NetworkMember.id, schema.NetworkMember.consent).where(
                    schema.NetworkMember.id.in_(chunk),
                    schema.NetworkMember.retired_at.is_(None),
                )
            ):
                members[mid] = member_consent
        for rid, (kind, _name, gone) in directory_kinds(session, wanted).items():
            known[rid] = (kind, members.get(rid, "public"), gone)
    return known, known_lsoa_codes(store)


def check_records(store: Store, raw: RawRecords) -> Draft:
    """Check every record against the rules and the store; ``ValidationFailed`` lists every fault."""
    faults = list(raw.faults)
    ids = {str(v.get("id", "")).strip() for _, v in raw.nodes}
    ids |= {str(v.get(k, "")).strip() for _, v in raw.edges for k in ("source", "target")}
    known, lsoas = _store_nodes(store, {i for i in ids if i})
    draft = Draft()
    file_nodes: dict[str, tuple[str, str]] = {}  # id -> (kind, consent)
    first_row: dict[str, int] = {}

    def attempt(where: Where, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except ValueError as exc:
            faults.append(where.fault(name, str(exc)))
            return None

    for where, v in raw.nodes:
        before = len(faults)
        label_field = v.get("_label_field", "name")
        node_id = attempt(where, "id", parse_node_id, v.get("id", ""))
        kind = attempt(where, "type" if where.path else "kind", parse_kind, v.get("kind", ""))
        area = attempt(
            where,
            "area code" if where.path else "area_code",
            parse_area_code,
            v.get("area_code"),
            lsoas,
        )
        recorded = attempt(
            where,
            "consent date" if where.path else "consent_date",
            parse_date,
            v.get("consent_date"),
        )
        consent = None
        if kind is not None:
            default = "private" if kind == "person" else "public"
            consent = attempt(where, "consent", parse_consent, v.get("consent"), default)
        if node_id is not None:
            if node_id in first_row:
                faults.append(
                    where.fault("id", f"duplicate id {node_id!r} (also row {first_row[node_id]})")
                )
            first_row.setdefault(node_id, where.row)
        if node_id is not None and kind is not None:
            stored = known.get(node_id)
            if kind == "person":
                if not v.get("name"):
                    faults.append(where.fault(label_field, "required"))
                if stored and stored[0] != "person":
                    faults.append(
                        where.fault(
                            "id",
                            f"{node_id!r} is the id of a directory "
                            f"{stored[0]}: give the person another id",
                        )
                    )
                elif stored and stored[2]:
                    faults.append(
                        where.fault(
                            "id",
                            f"person {node_id!r} was retired: restore it before importing it again",
                        )
                    )
            elif stored is None or stored[0] == "person":
                faults.append(where.fault("id", f"no {kind} with id {node_id!r} in the directory"))
            elif stored[0] != kind:
                faults.append(
                    where.fault(
                        "type" if where.path else "kind",
                        f"{node_id!r} is a {stored[0]} in the directory, not a {kind}",
                    )
                )
            elif stored[2]:
                faults.append(where.fault("id", f"{kind} {node_id!r} is retired in the directory"))
        if len(faults) > before or node_id is None or kind is None or consent is None:
            continue
        file_nodes[node_id] = (kind, consent)
        if kind == "person":
            draft.people.append(
                {
                    "id": node_id,
                    "display_name": v["name"],
                    "role": v.get("role") or None,
                    "consent": consent,
                    "consent_recorded_on": recorded,
                    "home_area_code": area,
                    "source": f"{'kumu' if where.path else 'csv'}:{where.file}",
                }
            )
        else:
            draft.members.append(
                {
                    "id": node_id,
                    "kind": kind,
                    "area_code": area,
                    "consent": consent,
                    "consent_recorded_on": recorded,
                    "source": f"{'kumu' if where.path else 'csv'}:{where.file}",
                }
            )

    seen_ties: dict[str, int] = {}
    for where, v in raw.edges:
        before = len(faults)
        names = v.get("_fields", {})
        ends: dict[str, tuple[str, str]] = {}
        for end in ("source", "target"):
            ref = v.get(end, "")
            shown = names.get(end, end)
            if not ref:
                faults.append(where.fault(shown, "required"))
                continue
            if ref in file_nodes:
                ends[end] = file_nodes[ref]
            elif ref in first_row:
                continue  # the node's own row has a fault, listed already
            elif ref in known and not known[ref][2]:
                ends[end] = known[ref][:2]
            else:
                faults.append(
                    where.fault(
                        shown,
                        f"no node with id {ref!r} (not in the nodes, the network or the directory)",
                    )
                )
        if v.get("source") and v.get("source") == v.get("target"):
            faults.append(where.fault(names.get("target", "target"), "a tie from a node to itself"))
        parsed_type = attempt(where, "type", parse_type, v.get("type", ""))
        weight = attempt(where, "weight", parse_weight, v.get("weight"))
        start = attempt(where, "start", parse_date, v.get("start"))
        end_day = attempt(where, "end", parse_date, v.get("end"))
        recorded = attempt(
            where,
            "consent date" if where.path else "consent_date",
            parse_date,
            v.get("consent_date"),
        )
        if start is not None and end_day is not None:
            attempt(where, "end", check_dates, start, end_day)
        consent = None
        if len(ends) == 2:
            default = most_private(ends["source"][1], ends["target"][1])
            consent = attempt(where, "consent", parse_consent, v.get("consent"), default)
        if len(faults) > before or len(ends) < 2 or parsed_type is None or consent is None:
            continue
        tie_type, label = parsed_type
        type_code = f"custom:{label}" if label else tie_type
        rid = tie_id(v["source"], v["target"], type_code, start)
        if rid in seen_ties:
            faults.append(
                where.fault(
                    "type",
                    f"the same tie (ends, type and start) is on row {seen_ties[rid]} already",
                )
            )
            continue
        seen_ties[rid] = where.row
        tie: dict[str, Any] = {
            "id": rid,
            "source_kind": ends["source"][0],
            "source_id": v["source"],
            "target_kind": ends["target"][0],
            "target_id": v["target"],
            "tie_type": tie_type,
            "type_label": label,
            "weight": weight,
            "started": start,
            "ended": end_day,
            "note": v.get("note") or None,
            "consent": consent,
            "consent_recorded_on": recorded,
            "source": f"{'kumu' if where.path else 'csv'}:{where.file}",
        }
        if v.get("_mutual"):
            tie["mutual"] = True
        draft.ties.append(tie)
    if faults:
        raise ValidationFailed(faults, file=raw.source)
    return draft


def _consent_day(
    session: Session, model: Any, values: dict[str, Any], today: date
) -> dict[str, Any]:
    """The day consent was recorded: the file's, else today for a new record or a changed
    consent; a record whose consent is unchanged keeps its day."""
    if values.get("consent_recorded_on") is not None:
        return values
    out = dict(values)
    row = session.get(model, values["id"])
    if row is None or row.consent != values.get("consent"):
        out["consent_recorded_on"] = today
    else:
        out.pop("consent_recorded_on", None)
    return out


def write_draft(
    store: Store, draft: Draft, *, actor: str, report: ImportReport, today: date | None = None
) -> ImportReport:
    """Write a checked import in one transaction, with an audit entry per change."""
    day = today or date.today()
    with store.transaction() as session:
        for person in draft.people:
            values = _consent_day(session, schema.Person, person, day)
            report.people.add(upsert_person(session, values, actor=actor))
        for member in draft.members:
            values = _consent_day(session, schema.NetworkMember, member, day)
            report.members.add(upsert_member(session, values, actor=actor))
        session.flush()
        for tie in draft.ties:
            values = _consent_day(session, schema.Tie, tie, day)
            report.ties.add(upsert_tie(session, values, actor=actor))
    return report


def import_network(
    store: Store,
    path: Path | list[Path],
    *,
    format: str | None = None,
    viewer: Viewer | None = None,
    today: date | None = None,
) -> ImportReport:
    """Read, check and write a network file (``format``: csv or kumu); all or nothing.

    ``viewer`` must be an editor or admin (default: the CLI operator); records are added by
    its actor, so a private person imported by an editor is visible to that editor alone.
    """
    viewer = viewer or Viewer.operator()
    if not viewer.may_edit or viewer.actor is None:
        raise Forbidden("only editors may import a network")
    raw = read_records(path, format)
    draft = check_records(store, raw)
    fmt = (
        "kumu" if any(w.path for w, _ in raw.nodes) or str(raw.source).endswith(".json") else "csv"
    )
    report = ImportReport(source=raw.source, format=format or fmt)
    return write_draft(store, draft, actor=viewer.actor, report=report, today=today)


__all__ = [
    "EDGE_COLUMNS",
    "FORMATS",
    "NODE_COLUMNS",
    "Draft",
    "ImportReport",
    "RawRecords",
    "check_records",
    "import_network",
    "read_csv_pair",
    "read_kumu",
    "read_records",
    "write_draft",
]
