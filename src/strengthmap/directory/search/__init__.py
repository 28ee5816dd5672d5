"""Search the directory: free text (ranked), taxonomy, ABCD kind, age, cost, distance, area, "open at".

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> page = search_services(store, ServiceQuery(text="lunch", near=(-1.5754, 53.7902),
    ...                                             radius_m=1000, day="wed",
    ...                                             start_time="13:00", end_time="16:00"))
    >>> page.total, page.items
    (0, [])

Every filter given must hold (AND). Free text uses SQLite FTS5 ranked by BM25 (Robertson &
Zaragoza 2009) or PostgreSQL full-text search ranked by ``ts_rank``; both stem English words
(Porter), so "lunches" finds "lunch". Distances are geodesic metres on the WGS84 ellipsoid
(Karney 2013, via ``pyproj.Geod``), measured to the nearest of a service's locations. "Open at"
expands each service's schedules (``strengthmap.directory.schedules.open_at``).

The package, by layer (see docs/architecture.md, "Backend adapters"):

* ``query``: the question (``ServiceQuery``, validated) and the answer (``ServiceHit``,
  ``SearchPage``); ``parse_near``.
* ``plan``: a query made ready for any backend (conditions on the service row, terms resolved
  by ``terms``, the radius's bounding box, the area's geometry).
* ``hits``: rows -> hits, the same on every backend (distance, area, "open at", page order).
* ``scoring``: BM25, pure.
* ``sqlite`` (with ``sqlite_candidates``) and ``postgresql``: the backend adapters, one class
  each implementing ``backend.SearchBackend``; ``backend.backend_for`` picks one by dialect.
"""

from __future__ import annotations

from strengthmap.directory.search.backend import SearchBackend, backend_for
from strengthmap.directory.search.plan import plan_search
from strengthmap.directory.search.postgresql import PG_TSVECTOR
from strengthmap.directory.search.query import SearchPage, ServiceHit, ServiceQuery, parse_near
from strengthmap.directory.search.scoring import TextScores
from strengthmap.directory.search.sqlite import text_scores
from strengthmap.directory.search.terms import resolve_terms
from strengthmap.storage import Store


def search_services(store: Store, query: ServiceQuery, *, prefilter: bool = True) -> SearchPage:
    """The services matching every filter of ``query``, best first, one page of them.

    Order: by text relevance when ``text`` is given, else by distance when ``near`` is given,
    else by name. On SQLite the box, text and term filters come from in-memory candidate sets
    and text scores are kept per directory version (``sqlite_candidates``);
    ``prefilter=False`` asks the same questions in SQL alone and scores afresh (the answers are
    the same; tests and benchmarks compare the two).
    """
    query.validate()
    backend = backend_for(store)
    with store.session() as session:
        return backend.search(session, plan_search(session, query), prefilter=prefilter)


__all__ = [
    "PG_TSVECTOR",
    "SearchBackend",
    "SearchPage",
    "ServiceHit",
    "ServiceQuery",
    "TextScores",
    "backend_for",
    "parse_near",
    "resolve_terms",
    "search_services",
    "text_scores",
]
