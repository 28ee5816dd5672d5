"""Search results kept in memory per store version: each text's ranked matches, and those each
kind of viewer may see, so that the next page and the same search by someone else cost array
work instead of ranking every match again.

Example:
    >>> cache = RankCache(max_entries=2, max_items=10)
    >>> cache.put(("k", 1), (np.array([3, 1]), np.array([2.0, 1.0])))
    >>> cache.get(("k", 1))[0].tolist(), cache.get(("k", 2))
    ([3, 1], None)

Why: ranking is the cost of a search. Both full-text indexes find the matches of a word
quickly, but ordering them by relevance scores every match (FTS5 ``bm25``, PostgreSQL
``ts_rank``), so a word in one story of ten costs 40 to 80 ms at 100,000 stories on each
backend, whatever the page. Here a text's matches are ranked once per *store version* (all
audiences together, as numbers and scores); the numbers that the viewer's audiences and the
query's other filters let through are asked of SQL once (the matches' numbers as one parameter,
checked on a covering index), and each page is a slice.

The version is ``story_version`` (migration 0010): a counter that triggers bump inside every
writer's transaction on ``story`` and ``story_link``, whatever process writes, with an epoch
that tells one database from another. A search reads it in its own read transaction, so a
story added, approved or withdrawn is seen by the very next search in every process; entries
of other versions are never used again and age out (least recently used first, bounded by
entries and by numbers held). The page's rows are read from ``story`` again with the audience
condition, so a story can never be shown from a stale entry. Nothing but numbers and scores is
kept: no text.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy.orm import Session

from strengthmap.storage import Store
from strengthmap.stories.search import backend_for

Ranked = tuple[NDArray[np.int64], NDArray[np.float64]]


class RankCache:
    """A thread-safe least-recently-used map, bounded by entries and by numbers held."""

    def __init__(self, *, max_entries: int = 4096, max_items: int = 4_000_000) -> None:
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
        """Forget every entry, or only those of one ``kind`` (``text``: a text's ranked matches,
        ``seen``: those a viewer's audiences and filters let through; the fourth part of their
        keys)."""
        with self._lock:
            for key in list(self._data):
                if kind is None or (isinstance(key, tuple) and len(key) > 3 and key[3] == kind):
                    self._items -= self._size(self._data.pop(key))


#: The process's cache (each worker of ``serve --workers N`` has its own).
CACHE = RankCache()


def text_key(text: str) -> str:
    """A search text as a cache key: lower case, runs of spaces as one."""
    return " ".join(text.lower().split())


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
    """The number of stories of ``audiences`` meeting ``conds`` whose title or text holds every
    word of ``text``, and the page ``[offset, offset + limit)`` of ``(number, score)``, best
    first. ``filter_key`` identifies ``conds`` (the query's filters) for the cache."""
    backend = backend_for(store)
    version = (store.url.render_as_string(hide_password=True), *backend.version(session))
    words = text_key(text)
    seen_key = (*version, "seen", words, tuple(sorted(audiences)), filter_key)
    seen: Ranked | None = CACHE.get(seen_key)
    if seen is None:
        ranked: Ranked | None = CACHE.get((*version, "text", words))
        if ranked is None:
            ranked = backend.rank_all(session, text)
            CACHE.put((*version, "text", words), ranked)
        numbers, scores = ranked
        if len(numbers):
            mask = np.isin(numbers, backend.passing(session, numbers, audiences, conds))
            seen = (numbers[mask], scores[mask])
        else:
            seen = ranked
        CACHE.put(seen_key, seen)
    hits, hit_scores = seen
    page = slice(offset, offset + limit)
    return len(hits), list(zip(hits[page].tolist(), hit_scores[page].tolist(), strict=True))


__all__ = ["CACHE", "RankCache", "search_numbers", "text_key"]
