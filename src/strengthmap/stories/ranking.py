"""Search results kept in memory per store version: each text's ranked matches, and who may read
each story, so that a page of results, the next page and the same search by someone else cost
array work instead of ranking every match again.

Example:
    >>> cache = RankCache(max_entries=2, max_items=10)
    >>> cache.put(("k", 1), (np.array([3, 1]), np.array([2.0, 1.0])))
    >>> cache.get(("k", 1))[0].tolist(), cache.get(("k", 2))
    ([3, 1], None)

Why: ranking is the cost of a search. Both full-text indexes find the matches of a word
quickly, but ordering them by relevance scores every match (FTS5 ``bm25``, PostgreSQL
``ts_rank``), so a word in one story of ten costs 40 to 80 ms at 100,000 stories on each
backend, whatever the page. Here a text's matches are ranked once per *store version* (all
audiences together, as numbers and scores), and a search filters them by the viewer's audiences
(an array of each story's audience, loaded once per version) and by its other filters (the
numbers that pass them, from SQL), then slices its page.

The version is ``story_version`` (migration 0009): a counter that triggers bump inside every
writer's transaction on ``story`` and ``story_link``, whatever process writes, with an epoch
that tells one database from another. A search reads it in its own read transaction, so a
story added, approved or withdrawn is seen by the very next search in every process; entries
of other versions are never used again and age out (least recently used first, bounded by
entries and by numbers held). The page's rows are read from ``story`` again with the audience
condition, so a story can never be shown from a stale entry. Nothing but numbers and scores is
kept: no text.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from strengthmap.storage import Store, schema
from strengthmap.stories.search import backend_for

Ranked = tuple[NDArray[np.int64], NDArray[np.float64]]
#: Audience -> the small code kept per story number (0: withdrawn or no story).
AUDIENCE_CODES = {"none": 0, "public": 1, "internal": 2, "team": 3}


class RankCache:
    """A thread-safe least-recently-used map, bounded by entries and by numbers held."""

    def __init__(self, *, max_entries: int = 256, max_items: int = 4_000_000) -> None:
        self.max_entries = max_entries
        self.max_items = max_items
        self._items = 0
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _size(value: Any) -> int:
        if isinstance(value, tuple):
            return sum(len(v) for v in value)
        return len(value)

    def get(self, key: Hashable) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> None:
        size = self._size(value)
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._items -= self._size(old)
            self._data[key] = value
            self._items += size
            while self._data and (
                len(self._data) > self.max_entries or self._items > self.max_items
            ):
                _, dropped = self._data.popitem(last=False)
                self._items -= self._size(dropped)

    def clear(self, kind: str | None = None) -> None:
        """Forget every entry, or only those of one ``kind`` (``text``, ``audience``, ``filter``:
        the fourth part of their keys)."""
        with self._lock:
            for key in list(self._data):
                if kind is None or (isinstance(key, tuple) and len(key) > 3 and key[3] == kind):
                    self._items -= self._size(self._data.pop(key))


#: The process's cache (each worker of ``serve --workers N`` has its own).
CACHE = RankCache()


def text_key(text: str) -> tuple[str, ...]:
    """What a text searches for: its words, lower-cased (both backends match words)."""
    return tuple(re.findall(r"\w+", text.lower()))


def _audience_codes(session: Session) -> NDArray[np.int8]:
    # read from the covering index ix_story_number_audience, not the rows with their text
    rows = session.connection().exec_driver_sql("SELECT number, audience FROM story").all()
    size = max((r[0] for r in rows), default=0) + 1
    codes = np.zeros(size, np.int8)
    if rows:
        numbers = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        values = np.fromiter((AUDIENCE_CODES.get(r[1], 0) for r in rows), np.int8, len(rows))
        codes[numbers] = values
    return codes


def search_numbers(
    session: Session,
    store: Store,
    text: str,
    audiences: frozenset[str],
    conds: Sequence[Any],
    filter_key: Hashable,
    offset: int,
    limit: int,
) -> tuple[int, list[tuple[int, float]]]:
    """The number of stories of ``audiences`` passing ``conds`` whose title or text holds every
    word of ``text``, and the page ``[offset, offset + limit)`` of ``(number, score)``, best
    first. ``filter_key`` identifies ``conds`` (the query's filters) for the cache."""
    backend = backend_for(store)
    version = (store.url.render_as_string(hide_password=True), *backend.version(session))
    key = (*version, "text", text_key(text))
    ranked: Ranked | None = CACHE.get(key)
    if ranked is None:
        ranked = backend.rank_all(session, text)
        CACHE.put(key, ranked)
    numbers, scores = ranked
    if not len(numbers):
        return 0, []
    codes: NDArray[np.int8] | None = CACHE.get((*version, "audience"))
    if codes is None:
        codes = _audience_codes(session)
        CACHE.put((*version, "audience"), codes)
    allowed = np.zeros(len(AUDIENCE_CODES), bool)
    allowed[[AUDIENCE_CODES[a] for a in audiences if a != "none"]] = True
    inside = numbers < len(codes)  # a story newer than the array is not readable from it
    mask = inside & allowed[codes[np.where(inside, numbers, 0)]]
    if conds:
        fkey = (*version, "filter", filter_key, tuple(sorted(audiences)))
        passing: NDArray[np.int64] | None = CACHE.get(fkey)
        if passing is None:
            S = schema.Story
            found = session.scalars(
                sa.select(S.number).where(S.audience.in_(sorted(audiences)), *conds)
            ).all()
            passing = np.sort(np.fromiter(found, np.int64, len(found)))
            CACHE.put(fkey, passing)
        mask &= np.isin(numbers, passing, assume_unique=True)
    hits, hit_scores = numbers[mask], scores[mask]
    page = slice(offset, offset + limit)
    return len(hits), list(zip(hits[page].tolist(), hit_scores[page].tolist(), strict=True))


__all__ = ["AUDIENCE_CODES", "CACHE", "RankCache", "search_numbers", "text_key"]
