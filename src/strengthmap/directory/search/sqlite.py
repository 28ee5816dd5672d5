"""The directory search's SQLite adapter: FTS5 matches scored by BM25, the R*Tree of locations,
``json_each`` for sets of rowids, and the in-memory candidate sets (``sqlite_candidates``).

With candidate sets (the default), the box, text and term filters narrow the services to a
sorted array of ``service.rowid`` before any SQL runs, and a text's BM25 scores are kept per
directory version; a search ranked by text alone orders the kept scores and reads the places
of its page's services only. Without them (``prefilter=False``, or a store before migration
0004) every filter is asked in SQL and the scores are computed afresh; the answers are the same
(tests and benchmarks compare the two).

Example:
    >>> fts5_query("Lunch, at 1 o'clock")
    '"lunch" "at" "1" "o" "clock"'
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from strengthmap.directory.search import sqlite_candidates as candidates
from strengthmap.directory.search.hits import collapse, hit_statement, order_page, read_hits
from strengthmap.directory.search.plan import SearchPlan
from strengthmap.directory.search.query import SearchPage, ServiceQuery
from strengthmap.directory.search.scoring import TextScores, bm25, words
from strengthmap.errors import InputError
from strengthmap.storage import schema

_SVC = schema.Service.__table__
_ATTR = schema.Attribute.__table__
#: The service's integer key, which the FTS5 table, the candidate sets and the scores use.
ROWID: sa.ColumnElement[int] = sa.literal_column("service.rowid")


class SQLiteSearch:
    """``SearchBackend`` for SQLite (``backend.backend_for``)."""

    dialect = "sqlite"

    def search(self, session: Session, plan: SearchPlan, *, prefilter: bool) -> SearchPage:
        query = plan.query
        sets = candidates.current(session) if prefilter else None
        scores: TextScores | None = None
        if query.text:
            text = query.text
            scores = (
                sets.get(("scores", fts5_query(text)), lambda: text_scores(session, text))
                if sets is not None
                else text_scores(session, text)
            )
        conds = list(plan.conditions)
        if sets is not None and (plan.box is not None or scores is not None or plan.term_sets):
            found = sets.narrow(
                session,
                box=plan.box,
                text=scores.rowids if scores is not None else None,
                term_ids=plan.term_sets,
            )
            if not len(found):
                return plan.empty_page()
            conds.append(rowid_in(found))
            if scores is not None and plan.by_text_alone:
                live = (
                    np.intersect1d(found, sets.live(session), assume_unique=True)
                    if _only_live(query)
                    else None  # other conditions on the service row: asked in SQL
                )
                return _ranked_page(session, query, conds, scores, live)
        else:
            conds.extend(sql_filters(plan))
        hits, rows = read_hits(session, plan, conds, rowid=ROWID)
        if scores is not None and hits:
            rowid_of = {r.id: r.service_rowid for r in rows}
            for h, score in zip(
                hits, scores.of([rowid_of[h.service_id] for h in hits]), strict=True
            ):
                h.score = score
        return order_page(hits, query)


def sql_filters(plan: SearchPlan) -> list[sa.ColumnElement[bool]]:
    """The term, box and text filters in SQL alone (no candidate sets)."""
    svc = _SVC
    conds: list[sa.ColumnElement[bool]] = []
    # "+" keeps SQLite on the link_id index (a common term has thousands of rows)
    term_col: sa.ColumnElement[str] = sa.literal_column("+attribute.taxonomy_term_id")
    for ids in plan.term_sets:
        conds.append(
            sa.exists().where(
                _ATTR.c.link_id == svc.c.id,
                _ATTR.c.retired_at.is_(None),
                term_col.in_(sorted(ids)),
            )
        )
    box = plan.box
    if box is not None:
        # the R*Tree (migration 0003) finds the services with a location in the box
        rtree = (
            sa.text(
                "SELECT sal.service_id FROM location_rtree r "
                "JOIN location l ON l.rowid = r.id "
                "JOIN service_at_location sal ON sal.location_id = l.id "
                "WHERE l.retired_at IS NULL AND sal.retired_at IS NULL "
                "AND r.min_lon <= :maxx AND r.max_lon >= :minx "
                "AND r.min_lat <= :maxy AND r.max_lat >= :miny"
            )
            .bindparams(minx=box[0], miny=box[1], maxx=box[2], maxy=box[3])
            .columns(service_id=sa.String)
        )
        conds.append(svc.c.id.in_(rtree))
    if plan.query.text:
        matches = sa.text(
            "SELECT rowid FROM service_fts WHERE service_fts MATCH :fts_query"
        ).bindparams(fts_query=fts5_query(plan.query.text))
        # with a box, the box drives the join ("+" keeps SQLite from starting at FTS)
        rowid: sa.ColumnElement[int] = sa.literal_column(
            "+service.rowid" if box is not None else "service.rowid"
        )
        conds.append(rowid.in_(matches))
    return conds


def fts5_query(text: str) -> str:
    """User text -> an FTS5 query of quoted words (all must occur); no FTS syntax gets through."""
    found = words(text)
    if not found:
        raise InputError("the text has no words to search for", field="text")
    return " ".join(f'"{w}"' for w in found)


@lru_cache(maxsize=16)
def _bm25_counts_statement(n_words: int) -> sa.TextClause:
    """``SELECT max(rowid), df(q0), df(q1), ...`` over ``service`` and ``service_fts``."""
    dfs = "".join(
        f", (SELECT count(*) FROM service_fts WHERE service_fts MATCH :q{i})"
        for i in range(n_words)
    )
    return sa.text(f"SELECT (SELECT max(rowid) FROM service){dfs}")


def text_scores(session: Session, text: str, k1: float = 1.2, b: float = 0.75) -> TextScores:
    """Okapi BM25 (``scoring.bm25``) of every service whose name or description matches
    ``text`` (SQLite FTS5).

    The document count and each word's document frequency come from FTS5 (one count per query
    word); term frequencies and the average length from the matching services' own text. The
    scores depend only on the text and the store, so a search keeps them per directory version
    (``sqlite_candidates.CandidateSets.get``) and looks its hits up. FTS5's own ``bm25()`` reads
    every match's document size on each query, which costs more than the rest of a combined
    search when a word is common.
    """
    fts_query = fts5_query(text)
    distinct = list(dict.fromkeys(words(text)))
    # the document count and every word's document frequency in one round trip
    counts = session.execute(
        _bm25_counts_statement(len(distinct)), {f"q{i}": f'"{w}"' for i, w in enumerate(distinct)}
    ).one()
    rows = (
        session.connection()
        .exec_driver_sql(
            "SELECT s.rowid, s.name, s.description FROM service s WHERE s.rowid IN "
            "(SELECT rowid FROM service_fts WHERE service_fts MATCH ?) ORDER BY s.rowid",
            (fts_query,),
        )
        .all()
    )
    return bm25(rows, distinct, n_docs=counts[0] or 1, document_frequencies=counts[1:], k1=k1, b=b)


def rowid_in(rowids: npt.NDArray[np.int64]) -> sa.ColumnElement[bool]:
    """``service.rowid IN (...)`` of a sorted array of rowids, as one JSON parameter."""
    return ROWID.in_(
        sa.text("SELECT value FROM json_each(:rowids)").bindparams(
            rowids=json.dumps(rowids.tolist())
        )
    )


def _only_live(query: ServiceQuery) -> bool:
    """The query's only condition on the service row itself is "not retired"."""
    return not query.include_retired and all(
        getattr(query, name) is None
        for name in ("kind", "age", "minimum_age", "maximum_age", "free")
    )


def _ranked_page(
    session: Session,
    query: ServiceQuery,
    conds: list[sa.ColumnElement[bool]],
    scores: TextScores,
    live: npt.NDArray[np.int64] | None = None,
) -> SearchPage:
    """A text search with no place or time filter: rank the matching services by their kept
    scores, ties by name then id, then read the places of the page's services only.

    Only the services that can reach the page are ordered: those scoring above the
    (first + per_page)-th best score (in Python), then as many of those scoring exactly it as
    are needed (SQLite orders them by name and id, with a LIMIT). ``live``: the services already
    known to pass ``conds`` (sorted rowids), else they are read."""
    svc = _SVC
    if live is None:  # the candidates passing ``conds``
        live = np.array(
            session.execute(sa.select(ROWID).select_from(svc).where(*conds)).scalars().all(),
            np.int64,
        )
    total = len(live)
    first = (query.page - 1) * query.per_page
    if first >= total:
        return SearchPage([], total, query.page, query.per_page)
    score = np.nan_to_num(scores.array(live))
    needed = min(total, first + query.per_page)
    threshold = -np.partition(-score, needed - 1)[needed - 1]
    above = live[score > threshold]
    named: list[Any] = list(
        session.execute(sa.select(ROWID, svc.c.name, svc.c.id).where(rowid_in(above))).all()
    )
    score_of = dict(zip(above.tolist(), score[score > threshold].tolist(), strict=True))
    named.sort(key=lambda r: (-score_of[r[0]], r[1], r[2]))
    tied = session.execute(
        sa.select(ROWID)
        .select_from(svc)
        .where(rowid_in(live[score == threshold]))
        .order_by(svc.c.name, svc.c.id)
        .limit(needed - len(named))
    ).scalars()
    ordered = [r[0] for r in named] + list(tied)
    page_rowids = np.array(ordered[first:needed], np.int64)
    rows = session.execute(hit_statement([rowid_in(page_rowids)], rowid=ROWID)).all()
    position = {r: k for k, r in enumerate(page_rowids.tolist())}
    rowid_of = {r.id: r.service_rowid for r in rows}
    hits = sorted(
        collapse(rows, query, None, session), key=lambda h: position[rowid_of[h.service_id]]
    )
    for h, value in zip(hits, scores.of([rowid_of[h.service_id] for h in hits]), strict=True):
        h.score = value
    return SearchPage(hits, total, query.page, query.per_page)


__all__ = ["ROWID", "SQLiteSearch", "fts5_query", "rowid_in", "sql_filters", "text_scores"]
