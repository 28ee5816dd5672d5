"""Taxonomy terms named in a search (by id, code or name) -> the ids they and their narrower
terms have; one index per store, rebuilt when the ``taxonomy_term`` table changes.

Example:
    >>> index = TermIndex([("t1", "food", "Food", None), ("t2", None, "Soup", "t1")])
    >>> sorted(index.closure("FOOD") or ()), index.closure("soup"), index.closure("art")
    (['t1', 't2'], frozenset({'t2'}), None)
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from strengthmap.errors import NotFound
from strengthmap.storage import schema


class TermIndex:
    """The taxonomy terms of one store, indexed for ``resolve_terms``: each lower-cased id,
    code and name -> the ids it names, and each term -> its narrower terms."""

    def __init__(self, rows: Iterable[tuple[str, str | None, str, str | None]]) -> None:
        """``rows``: ``(id, code, name, parent_id)`` of every term."""
        self.by_key: dict[str, set[str]] = {}
        self.children: dict[str, list[str]] = {}
        for term_id, code, name, parent_id in rows:
            for key in {term_id.lower(), (code or "").lower(), name.lower()} - {""}:
                self.by_key.setdefault(key, set()).add(term_id)
            if parent_id:
                self.children.setdefault(parent_id, []).append(term_id)
        self.closures: dict[str, frozenset[str]] = {}

    def closure(self, term: str) -> frozenset[str] | None:
        """The ids ``term`` names and their narrower terms' ids (None when it names none)."""
        key = term.strip().lower()
        done = self.closures.get(key)
        if done is not None:
            return done
        found = set(self.by_key.get(key, ()))
        if not found:
            return None
        stack = list(found)
        while stack:
            for child in self.children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        done = self.closures[key] = frozenset(found)
        return done


#: Per store (engine): (fingerprint of the taxonomy_term table, its index). The fingerprint (row
#: count and latest ``updated_at``; every write path stamps ``updated_at``) is read on each
#: search, so a term written by any process (another worker, the CLI) is seen by the next search.
_TERM_INDEXES: weakref.WeakKeyDictionary[Engine, tuple[tuple[object, ...], TermIndex]] = (
    weakref.WeakKeyDictionary()
)
_TERM_FINGERPRINT = sa.select(
    sa.func.count(), sa.func.max(schema.TaxonomyTerm.updated_at)
).select_from(schema.TaxonomyTerm)
_TERM_ROWS = sa.select(
    schema.TaxonomyTerm.id,
    schema.TaxonomyTerm.code,
    schema.TaxonomyTerm.name,
    schema.TaxonomyTerm.parent_id,
)


def term_index(session: Session) -> TermIndex:
    """The store's term index, rebuilt only when the ``taxonomy_term`` table has changed."""
    owner = session.get_bind().engine
    fingerprint = tuple(session.execute(_TERM_FINGERPRINT).one())
    cached = _TERM_INDEXES.get(owner)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    index = TermIndex(session.execute(_TERM_ROWS).all())
    _TERM_INDEXES[owner] = (fingerprint, index)
    return index


def resolve_terms(session: Session, terms: Sequence[str]) -> list[set[str]]:
    """Each given term (id, code or name) -> the set of its id and its narrower terms' ids."""
    index = term_index(session)
    out: list[set[str]] = []
    for term in terms:
        found = index.closure(term)
        if found is None:
            raise NotFound(f"no taxonomy term with id, code or name {term!r}")
        out.append(set(found))
    return out


__all__ = ["TermIndex", "resolve_terms", "term_index"]
