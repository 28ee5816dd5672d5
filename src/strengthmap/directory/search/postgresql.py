"""The directory search's PostgreSQL adapter: full-text search on a ``tsvector`` (the GIN index of
migration 0002) ranked by ``ts_rank``, the b-tree indexes on location latitude and longitude, and
paging in the database.

Every filter is SQL; a search ranked by text alone is counted, ordered and paged by the database,
and only its page's services have their places read.

Example:
    >>> from sqlalchemy.dialects import postgresql
    >>> print(text_match("lunch clubs").compile(dialect=postgresql.dialect()))
    to_tsvector('english', coalesce(service.name, '') || ... @@ plainto_tsquery(...)
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from strengthmap.directory.search.hits import collapse, hit_statement, order_page, read_hits
from strengthmap.directory.search.plan import SearchPlan
from strengthmap.directory.search.query import SearchPage, ServiceQuery
from strengthmap.storage import schema

#: Must stay the same expression as the GIN index of migration 0002 (qualified for joins).
PG_TSVECTOR = (
    "to_tsvector('english', coalesce(service.name, '') || ' ' || coalesce(service.description, ''))"
)
_SVC = schema.Service.__table__
_LOC = schema.Location.__table__
_ATTR = schema.Attribute.__table__


class PostgreSQLSearch:
    """``SearchBackend`` for PostgreSQL (``backend.backend_for``)."""

    dialect = "postgresql"

    def search(self, session: Session, plan: SearchPlan, *, prefilter: bool) -> SearchPage:
        conds = [*plan.conditions, *sql_filters(plan)]
        text = plan.query.text
        if prefilter and plan.by_text_alone:
            return _ranked_page(session, plan.query, conds)
        hits, _rows = read_hits(session, plan, conds, score=rank(text) if text else None)
        return order_page(hits, plan.query)


def text_match(text: str) -> sa.ColumnElement[bool]:
    """The service's name or description matches ``text`` (English stemming, every word)."""
    tsv: sa.ColumnElement[Any] = sa.literal_column(PG_TSVECTOR)
    return tsv.op("@@")(sa.func.plainto_tsquery("english", text))


def rank(text: str) -> sa.ColumnElement[float]:
    """``ts_rank`` of the service's name and description for ``text``."""
    return sa.func.ts_rank(sa.literal_column(PG_TSVECTOR), sa.func.plainto_tsquery("english", text))


def sql_filters(plan: SearchPlan) -> list[sa.ColumnElement[bool]]:
    """The term, box and text filters."""
    conds: list[sa.ColumnElement[bool]] = []
    for ids in plan.term_sets:
        conds.append(
            sa.exists().where(
                _ATTR.c.link_id == _SVC.c.id,
                _ATTR.c.retired_at.is_(None),
                _ATTR.c.taxonomy_term_id.in_(sorted(ids)),
            )
        )
    box = plan.box
    if box is not None:
        # the b-tree indexes on latitude and longitude (a location written without a geometry
        # is still found)
        conds.append(_LOC.c.longitude.between(box[0], box[2]))
        conds.append(_LOC.c.latitude.between(box[1], box[3]))
    if plan.query.text:
        conds.append(text_match(plan.query.text))
    return conds


def _ranked_page(
    session: Session, query: ServiceQuery, conds: list[sa.ColumnElement[bool]]
) -> SearchPage:
    """A text search with no place or time filter: the database counts the matches, ranks them
    (``ts_rank``, then name in code-point order, then id: the order of ``hits.order_page``) and
    returns one page; only that page's services have their places read."""
    svc = _SVC
    assert query.text
    score = rank(query.text)
    total = int(session.scalar(sa.select(sa.func.count()).select_from(svc).where(*conds)) or 0)
    first = (query.page - 1) * query.per_page
    ranked = session.execute(
        sa.select(svc.c.id, score.label("score"))
        .where(*conds)
        .order_by(score.desc(), svc.c.name.collate("C"), svc.c.id.collate("C"))
        .offset(first)
        .limit(query.per_page)
    ).all()
    if not ranked:
        return SearchPage([], total, query.page, query.per_page)
    position = {sid: k for k, (sid, _score) in enumerate(ranked)}
    rows = session.execute(
        hit_statement([svc.c.id.in_(list(position))], score=rank(query.text))
    ).all()
    hits = sorted(collapse(rows, query, None, session), key=lambda h: position[h.service_id])
    return SearchPage(hits, total, query.page, query.per_page)


__all__ = ["PG_TSVECTOR", "PostgreSQLSearch", "rank", "sql_filters", "text_match"]
