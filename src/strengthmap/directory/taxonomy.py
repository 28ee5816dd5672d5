"""Taxonomies: the default ABCD / wellbeing taxonomy shipped with the package, and custom ones.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> install_default_taxonomy(store)
    46
    >>> term_id("food") == term_id("food")   # stable UUIDs (uuid5), the same on every install
    True

Terms map onto the ORUK ``taxonomy`` / ``taxonomy_term`` tables: ``code`` is the short code used
by the importers (``community-meals``), ``parent_id`` makes the hierarchy, ``taxonomy_name`` names
the vocabulary. Custom taxonomies import from CSV (``code,name,description,parent_code``) or ORUK
JSON (a ``taxonomy_term`` object, a list of them, or the paginated wrapper).
"""

from __future__ import annotations

import csv
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa

from strengthmap.directory.records import stable_id, upsert_rows
from strengthmap.errors import Fault, InputError, ValidationFailed
from strengthmap.storage import Store, schema

DEFAULT_CODE = "strengthmap-wellbeing"


@cache
def default_taxonomy() -> dict[str, Any]:
    """The shipped taxonomy document: ``{"taxonomy": {...}, "terms": [{code, name, description, parent}]}``."""
    text = resources.files("strengthmap.directory").joinpath("default_taxonomy.json").read_text()
    doc: dict[str, Any] = json.loads(text)
    return doc


def term_id(code: str, taxonomy: str = DEFAULT_CODE) -> str:
    """The stable UUID of a term code in a taxonomy (default: the shipped one)."""
    return stable_id(f"taxonomy/{taxonomy}", code)


def taxonomy_id(taxonomy: str = DEFAULT_CODE) -> str:
    return stable_id("taxonomy", taxonomy)


def _rows(tax: dict[str, Any], terms: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    code = tax["code"]
    tid = taxonomy_id(code)
    return {
        "taxonomy": [
            {
                "id": tid,
                "name": tax["name"],
                "description": tax.get("description") or "",
                "uri": tax.get("uri"),
                "version": tax.get("version"),
            }
        ],
        "taxonomy_term": [
            {
                "id": term_id(t["code"], code),
                "code": t["code"],
                "name": t["name"],
                "description": t.get("description") or "",
                "parent_id": term_id(t["parent"], code) if t.get("parent") else None,
                "taxonomy_id": tid,
                "taxonomy_name": tax["name"],
            }
            for t in terms
        ],
    }


def install_default_taxonomy(store: Store, session: Any = None) -> int:
    """Write the shipped taxonomy (upsert; safe to repeat). Returns the number of terms."""
    doc = default_taxonomy()
    rows = _rows(doc["taxonomy"], doc["terms"])
    if session is not None:
        upsert_rows(session, rows, source="strengthmap", licence="CC0-1.0")
    else:
        with store.transaction() as s:
            upsert_rows(s, rows, source="strengthmap", licence="CC0-1.0")
    return len(doc["terms"])


def read_taxonomy_csv(
    path: Path, *, code: str | None = None, name: str | None = None
) -> dict[str, Any]:
    """A custom taxonomy from CSV with columns ``code,name`` and optional ``description,parent_code``.

    Every fault is checked before anything is written: missing columns, empty codes or names,
    duplicate codes, parents that are not in the file.
    """
    code = code or path.stem
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        cols = set(reader.fieldnames or [])
        for needed in ("code", "name"):
            if needed not in cols:
                raise InputError("missing column", file=str(path), row=1, field=needed)
        terms: list[dict[str, Any]] = []
        seen: set[str] = set()
        for i, r in enumerate(reader, start=2):
            for needed in ("code", "name"):
                if not (r.get(needed) or "").strip():
                    raise InputError("empty", file=str(path), row=i, field=needed)
            c = r["code"].strip()
            if c in seen:
                raise InputError(f"duplicate code {c!r}", file=str(path), row=i, field="code")
            seen.add(c)
            terms.append(
                {
                    "code": c,
                    "name": r["name"].strip(),
                    "description": (r.get("description") or "").strip(),
                    "parent": (r.get("parent_code") or "").strip() or None,
                    "_row": i,
                }
            )
    for t in terms:
        if t["parent"] and t["parent"] not in seen:
            raise InputError(
                f"no term with code {t['parent']!r}",
                file=str(path),
                row=int(t["_row"]),
                field="parent_code",
            )
        t.pop("_row")
    return {"taxonomy": {"code": code, "name": name or code}, "terms": terms}


def import_taxonomy(
    store: Store, path: Path, *, code: str | None = None, name: str | None = None
) -> int:
    """Import a custom taxonomy from CSV or ORUK JSON (upsert). Returns the number of terms."""
    if path.suffix.lower() == ".json":
        rows = _rows_from_oruk_json(path)
        with store.transaction() as s:
            upsert_rows(s, rows, source=f"taxonomy:{path.name}")
        return len(rows["taxonomy_term"])
    doc = read_taxonomy_csv(path, code=code, name=name)
    rows = _rows(doc["taxonomy"], doc["terms"])
    with store.transaction() as s:
        upsert_rows(s, rows, source=f"taxonomy:{path.name}")
    return len(doc["terms"])


def _rows_from_oruk_json(path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc}", file=str(path)) from None
    items = doc.get("contents", doc) if isinstance(doc, dict) and "contents" in doc else doc
    if isinstance(items, dict):
        items = [items]
    faults: list[Fault] = []
    terms: list[dict[str, Any]] = []
    taxonomies: dict[str, dict[str, Any]] = {}
    for i, t in enumerate(items):
        p = f"$[{i}]"
        if not isinstance(t, dict):
            faults.append(Fault(p, "not an object"))
            continue
        for needed in ("id", "name"):
            if not isinstance(t.get(needed), str) or not t.get(needed):
                faults.append(Fault(f"{p}.{needed}", "required string missing"))
        tax = t.get("taxonomy_detail")
        if isinstance(tax, dict) and tax.get("id"):
            taxonomies[tax["id"]] = {
                "id": tax["id"],
                "name": tax.get("name") or "",
                "description": tax.get("description") or "",
                "uri": tax.get("uri"),
                "version": tax.get("version"),
            }
        terms.append(
            {
                "id": t.get("id"),
                "code": t.get("code"),
                "name": t.get("name"),
                "description": t.get("description") or "",
                "parent_id": t.get("parent_id"),
                "taxonomy_id": t.get("taxonomy_id") or (tax or {}).get("id"),
                "taxonomy_name": t.get("taxonomy"),
                "term_uri": t.get("term_uri"),
                "language": t.get("language"),
            }
        )
    if faults:
        raise ValidationFailed(faults, file=str(path))
    known = {t["id"] for t in terms}
    for t in terms:  # a parent outside the file cannot be linked; keep the term at the top
        if t["parent_id"] not in known:
            t["parent_id"] = None
        if t["taxonomy_id"] and t["taxonomy_id"] not in taxonomies:
            t["taxonomy_id"] = None
    return {"taxonomy": list(taxonomies.values()), "taxonomy_term": terms}


class TermChoice(NamedTuple):
    """A taxonomy term in a pick list: its code (None for a term without one) and name."""

    code: str | None
    name: str


def list_terms(store: Store) -> list[TermChoice]:
    """The live taxonomy terms by name (the directory search form's topics).

    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> _ = install_default_taxonomy(store)
    >>> list_terms(store)[0]
    TermChoice(code='adult-learning', name='Adult learning and skills')
    """
    term = schema.TaxonomyTerm
    with store.session() as session:
        rows = session.execute(
            sa.select(term.code, term.name).where(term.retired_at.is_(None)).order_by(term.name)
        ).all()
    return [TermChoice(*row) for row in rows]


__all__ = [
    "DEFAULT_CODE",
    "TermChoice",
    "default_taxonomy",
    "import_taxonomy",
    "install_default_taxonomy",
    "list_terms",
    "read_taxonomy_csv",
    "taxonomy_id",
    "term_id",
]
