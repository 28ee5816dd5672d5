"""In-memory candidate sets for the directory search's SQLite adapter, kept per process and per
version.

The adapter (``search.sqlite``) narrows a query to the services that can match before it runs its
SQL: those with a live location in the query's bounding box, those tagged with a taxonomy term or
a narrower one, and those whose name or description matches the text (the rowids of the text's
BM25 scores, ``sqlite.text_scores``, which the search keeps here with ``CandidateSets.get``).
Each set is computed once and kept in memory as a sorted array of ``service.rowid``; a search
intersects the sets it needs (microseconds) and the SQL then reads only those services, instead
of joining the whole location index and materialising every full-text match on each request.

The sets are valid for one *directory version*: the counter in ``directory_version`` (migration
0004) that triggers bump on every insert, update and delete of ``service``, ``location``,
``service_at_location`` and ``attribute``, in the writer's own transaction and whatever process
writes. A search reads the counter in the same read transaction (snapshot) as everything else
and drops every set computed for another version, so a write by any process is seen by the next
search; a set is built from the snapshot whose version it is filed under. Writes elsewhere in
the store (bookings, stories) leave the sets alone.

The exact tests are made after narrowing: distances on the ellipsoid and areas in
``hits.collapse``, retirement, kind, ages and cost in the SQL. SQLite only: the PostgreSQL
adapter answers the same filters with its own indexes (GiST, GIN).

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> with store.session() as session:
    ...     found = narrow(session, box=(-1.6, 53.7, -1.5, 53.8))
    >>> found.tolist()
    []
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from strengthmap.directory.search.plan import Box

#: At most this many kept values (sets, scores) per store and process ...
MAX_SETS = 256
#: ... and at most this many bytes of arrays in them (least recently used dropped first; the
#: box index, one float triple per live service-location pair, is not counted).
MAX_BYTES = 64 * 1024 * 1024

_VERSION_SQL = "SELECT n FROM directory_version WHERE id = 1"
_POINTS_SQL = (
    "SELECT l.latitude, l.longitude, s.rowid FROM service_at_location sal "
    "JOIN location l ON l.id = sal.location_id "
    "JOIN service s ON s.id = sal.service_id "
    "WHERE sal.retired_at IS NULL AND l.retired_at IS NULL "
    "AND l.latitude IS NOT NULL AND l.longitude IS NOT NULL"
)
_EMPTY = np.zeros(0, np.int64)

#: A sorted array of distinct ``service.rowid`` values.
RowIds = npt.NDArray[np.int64]
#: The key of a kept value: its kind ("terms", "scores", "live") and what it was built from.
Key = tuple[object, ...]
T = TypeVar("T")


class _Points:
    """Every live (service, location) pair with a point, sorted by latitude."""

    def __init__(self, rows: Sequence[tuple[float, float, int]]) -> None:
        table = np.array(rows, dtype=float).reshape(-1, 3)
        order = np.argsort(table[:, 0], kind="stable")
        self.lat = np.ascontiguousarray(table[order, 0])
        self.lon = np.ascontiguousarray(table[order, 1])
        self.rowid = table[order, 2].astype(np.int64)

    def in_box(self, box: Box) -> RowIds:
        """The sorted distinct service rowids with a point in (min lon, min lat, max lon, max
        lat), edges included."""
        minx, miny, maxx, maxy = box
        i0 = int(np.searchsorted(self.lat, miny, "left"))
        i1 = int(np.searchsorted(self.lat, maxy, "right"))
        lon = self.lon[i0:i1]
        return np.unique(self.rowid[i0:i1][(lon >= minx) & (lon <= maxx)])


class CandidateSets:
    """The candidate sets of one store at one directory version (``current``)."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.points: _Points | None = None
        self.keyed: OrderedDict[Key, object] = OrderedDict()
        self.sizes: dict[Key, int] = {}
        self.bytes = 0
        self.lock = threading.Lock()

    def get(self, key: Key, build: Callable[[], T]) -> T:
        """``build()``, kept under ``key`` (at most ``MAX_SETS`` values and ``MAX_BYTES`` of
        arrays, least recently used dropped). For values computed from the directory tables
        alone, such as a text's scores."""
        with self.lock:
            found = self.keyed.get(key)
            if found is not None:
                self.keyed.move_to_end(key)
                return cast(T, found)  # a key is built by one builder, so of one type
        made = build()  # outside the lock: two threads may build the same set, both right
        size = _nbytes(made)
        with self.lock:
            if key not in self.keyed:
                self.keyed[key] = made
                self.sizes[key] = size
                self.bytes += size
            while len(self.keyed) > 1 and (len(self.keyed) > MAX_SETS or self.bytes > MAX_BYTES):
                old, _ = self.keyed.popitem(last=False)
                self.bytes -= self.sizes.pop(old)
        return made

    def narrow(
        self,
        session: Session,
        *,
        box: Box | None = None,
        text: RowIds | None = None,
        term_ids: Sequence[frozenset[str]] = (),
    ) -> RowIds:
        """The sorted ``service.rowid`` values that pass every given prefilter (AND).

        ``box``: a live location of the service (through a live ``service_at_location``) lies
        in the box; ``text``: the sorted rowids of the services matching the text (the caller
        has them with their scores, ``search.text_scores``); each of ``term_ids``: a live
        attribute of the service names one of the ids. Retired services are not removed here
        (the caller's SQL does that). At least one prefilter must be given.
        """
        if box is None and text is None and not term_ids:
            raise ValueError("narrow() needs a box, a text or a term")
        parts: list[RowIds] = [] if text is None else [text]
        for ids in term_ids:
            parts.append(self.get(("terms", ids), partial(_term_set, session, ids)))
        if box is not None:
            if self.points is None:
                self.points = _Points(
                    [(float(a), float(b), int(c)) for a, b, c in _rows(session, _POINTS_SQL)]
                )
            parts.append(self.points.in_box(box))
        parts.sort(key=len)  # intersect from the smallest
        found = parts[0]
        for other in parts[1:]:
            if not len(found):
                break
            found = np.intersect1d(found, other, assume_unique=True)
        return found

    def live(self, session: Session) -> RowIds:
        """The sorted rowids of the services that are not retired."""
        sql = "SELECT rowid FROM service WHERE retired_at IS NULL ORDER BY rowid"
        return self.get(("live",), lambda: _rowids(_rows(session, sql)))


def _nbytes(value: object) -> int:
    """The bytes of the arrays in ``value`` (an array, or an object holding arrays)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    fields = getattr(value, "__dict__", None)
    if fields is None and hasattr(value, "__dataclass_fields__"):
        fields = {name: getattr(value, name) for name in value.__dataclass_fields__}
    return sum(_nbytes(v) for v in (fields or {}).values())


#: Per engine (one per store): the sets of the latest version seen.
_SETS: weakref.WeakKeyDictionary[Engine, CandidateSets] = weakref.WeakKeyDictionary()
#: Per engine: whether its schema has ``directory_version`` (checked once per process).
_VERSIONED: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def available(session: Session) -> bool:
    """True when the session's SQLite store keeps a directory version (migration 0004)."""
    engine = session.get_bind().engine
    known = _VERSIONED.get(engine)
    if known is None:
        known = _VERSIONED[engine] = (
            session.connection()
            .exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'directory_version'"
            )
            .first()
            is not None
        )
    return known


def current(session: Session) -> CandidateSets | None:
    """The SQLite store's candidate sets for the directory version read in the session's
    transaction (once per search), or None when the store keeps no version (before migration
    0004)."""
    if not available(session):
        return None
    engine = session.get_bind().engine
    version = int(session.connection().exec_driver_sql(_VERSION_SQL).scalar_one())
    sets = _SETS.get(engine)
    if sets is None or sets.version != version:
        sets = _SETS[engine] = CandidateSets(version)
    return sets


def narrow(
    session: Session,
    *,
    box: Box | None = None,
    text: RowIds | None = None,
    term_ids: Sequence[frozenset[str]] = (),
) -> RowIds:
    """``CandidateSets.narrow`` on the store's current sets. Raises ``RuntimeError`` when the
    store keeps no directory version."""
    sets = current(session)
    if sets is None:
        raise RuntimeError("this store keeps no directory version (run `strengthmap db upgrade`)")
    return sets.narrow(session, box=box, text=text, term_ids=term_ids)


def _rows(session: Session, sql: str, params: tuple[object, ...] = ()) -> list[Any]:
    return list(session.connection().exec_driver_sql(sql, params).all())


def _rowids(rows: Sequence[Any]) -> RowIds:
    """The sorted distinct integers of the rows' first column."""
    return np.unique(np.fromiter((r[0] for r in rows), np.int64, len(rows))) if rows else _EMPTY


def _term_set(session: Session, ids: frozenset[str]) -> RowIds:
    ordered = sorted(ids)
    marks = ", ".join("?" * len(ordered))
    return _rowids(
        _rows(
            session,
            "SELECT s.rowid FROM attribute a JOIN service s ON s.id = a.link_id "
            f"WHERE a.retired_at IS NULL AND a.taxonomy_term_id IN ({marks})",
            tuple(ordered),
        )
    )


__all__ = ["MAX_BYTES", "MAX_SETS", "CandidateSets", "available", "current", "narrow"]
