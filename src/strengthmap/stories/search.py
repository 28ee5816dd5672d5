"""The stories' backend adapters: full-text matching and story numbers, one class per backend.

Example:
    >>> fts5_query("Lunch club, Armley!")
    '"lunch" "club" "armley"'

Both backends index the title and the text of every story that is not withdrawn (migration 0010)
and answer "every word occurs" with English stemming:

* SQLite: ``story_fts`` (FTS5, ``porter unicode61 remove_diacritics 2``, external content keyed
  by ``story.number``); ranked by ``bm25`` with the title weighted 4 to the text's 1 (the
  table's ``rank`` setting).
* PostgreSQL: ``story.story_fts_vector`` (``to_tsvector('english')``, title weight A, text D)
  with a GIN index; ``plainto_tsquery('english')``, ranked by ``ts_rank``.

Words in any script are indexed (Unicode word characters); PostgreSQL drops English stop words
("the", "and") from a query, FTS5 does not. The choice of backend is made once per store
(``backend_for``); no other stories module knows which one it runs on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from strengthmap.errors import InputError
from strengthmap.storage import Store, schema

S = schema.Story


def fts5_query(text: str) -> str:
    """User text -> an FTS5 query of quoted words (all must occur); no FTS syntax gets through."""
    words = re.findall(r"\w+", text.lower())
    if not words:
        raise InputError("the search has no words to look for", field="text")
    return " ".join(f'"{w}"' for w in words)


def _sqlite_match(text: str) -> str:
    """Every word, in the title or the text."""
    return f"{{title text}} : ({fts5_query(text)})"


def _numbers_where(
    session: Session, among: Any, audiences: Iterable[str], where: Sequence[Any]
) -> NDArray[np.int64]:
    found = session.scalars(
        sa.select(S.number).where(among, S.audience.in_(sorted(audiences)), *where)
    ).all()
    return np.sort(np.fromiter(found, np.int64, len(found)))


class StoryBackend(Protocol):
    """What the stories package needs from a backend."""

    def next_number(self, session: Session) -> int:
        """The next story number, inside the writing transaction."""
        ...

    def match(self, stmt: sa.Select[Any], text: str) -> sa.Select[Any]:
        """``stmt`` (over ``story``) narrowed to stories whose title or text hold every word."""
        ...

    def version(self, session: Session) -> tuple[str, int]:
        """``story_version``: the database's epoch and its write counter."""
        ...

    def rank_all(
        self, session: Session, text: str
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Every story (of any audience) whose title or text holds every word of ``text``: the
        numbers best first (ties: higher number first) and their scores (higher is better)."""
        ...

    def passing(
        self,
        session: Session,
        numbers: NDArray[np.int64],
        audiences: Iterable[str],
        where: Sequence[Any],
    ) -> NDArray[np.int64]:
        """Which of ``numbers`` are stories of ``audiences`` meeting ``where`` (sorted)."""
        ...

    def before_erase(self, session: Session) -> None:
        """Called in a withdrawal's transaction before the story's words are overwritten."""
        ...

    def plain_match_sql(self) -> str:
        """The bare full-text query over the same rows (the benchmark's peer): ids of the 20
        best matches of ``:q``, nothing else."""
        ...


class SQLiteStories:
    """FTS5 over ``story_fts``; numbers are max + 1 under the write lock (BEGIN IMMEDIATE)."""

    def next_number(self, session: Session) -> int:
        return int(session.scalar(sa.select(sa.func.coalesce(sa.func.max(S.number), 0))) or 0) + 1

    def match(self, stmt: sa.Select[Any], text: str) -> sa.Select[Any]:
        hits: sa.Select[Any] = (
            sa.select(sa.literal_column("rowid"))
            .select_from(sa.table("story_fts"))
            .where(sa.text("story_fts MATCH :fts_q").bindparams(fts_q=_sqlite_match(text)))
        )
        return stmt.where(S.number.in_(hits))

    def version(self, session: Session) -> tuple[str, int]:
        row = session.execute(sa.text("SELECT epoch, n FROM story_version WHERE id = 1")).one()
        return str(row[0]), int(row[1])

    def rank_all(
        self, session: Session, text: str
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        rows = (
            session.connection()
            .exec_driver_sql(
                "SELECT rowid, rank FROM story_fts WHERE story_fts MATCH ? "
                "ORDER BY rank, rowid DESC",
                (_sqlite_match(text),),
            )
            .all()
        )
        numbers = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        scores = -np.fromiter((r[1] for r in rows), np.float64, len(rows))  # bm25: lower is better
        return numbers, scores

    def passing(
        self,
        session: Session,
        numbers: NDArray[np.int64],
        audiences: Iterable[str],
        where: Sequence[Any],
    ) -> NDArray[np.int64]:
        # the numbers travel as one JSON parameter (no limit on how many)
        among = sa.text("story.number IN (SELECT value FROM json_each(:numbers))").bindparams(
            numbers=json.dumps(numbers.tolist())
        )
        return _numbers_where(session, among, audiences, where)

    def before_erase(self, session: Session) -> None:
        # freed space in the database file is overwritten with zeros, not left for a file
        # reader to find (a per-connection setting; it stays on for this pooled connection)
        session.execute(sa.text("PRAGMA secure_delete = ON"))

    def plain_match_sql(self) -> str:
        return "SELECT rowid FROM story_fts WHERE story_fts MATCH :q ORDER BY rank LIMIT 20"


class PostgresStories:
    """``story_fts_vector`` with its GIN index; numbers from ``story_number_seq``."""

    _vector: sa.ColumnClause[Any] = sa.literal_column("story.story_fts_vector")

    def next_number(self, session: Session) -> int:
        return int(session.scalar(sa.text("SELECT nextval('story_number_seq')")) or 0)

    def _query(self, text: str) -> Any:
        if not re.search(r"\w", text):
            raise InputError("the search has no words to look for", field="text")
        return sa.func.plainto_tsquery(sa.literal_column("'english'::regconfig"), text)

    def match(self, stmt: sa.Select[Any], text: str) -> sa.Select[Any]:
        return stmt.where(self._vector.op("@@")(self._query(text)))

    def version(self, session: Session) -> tuple[str, int]:
        row = session.execute(sa.text("SELECT epoch, n FROM story_version WHERE id = 1")).one()
        return str(row[0]), int(row[1])

    def rank_all(
        self, session: Session, text: str
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        query = self._query(text)
        score = sa.func.ts_rank(self._vector, query)
        rows = session.execute(
            sa.select(S.number, score)
            .where(self._vector.op("@@")(query))
            .order_by(score.desc(), S.number.desc())
        ).all()
        numbers = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        scores = np.fromiter((r[1] for r in rows), np.float64, len(rows))
        return numbers, scores

    def passing(
        self,
        session: Session,
        numbers: NDArray[np.int64],
        audiences: Iterable[str],
        where: Sequence[Any],
    ) -> NDArray[np.int64]:
        among = S.number == sa.any_(
            sa.bindparam("numbers", numbers.tolist(), type_=postgresql.ARRAY(sa.Integer))
        )
        return _numbers_where(session, among, audiences, where)

    def before_erase(self, session: Session) -> None:
        # old row versions stay in the table's files until VACUUM (autovacuum) reclaims them;
        # no query can read them (docs/guide-community-builders-stories.md says so)
        return None

    def plain_match_sql(self) -> str:
        return (
            "SELECT id FROM story WHERE story_fts_vector @@ to_tsquery('english', :q) "
            "ORDER BY ts_rank(story_fts_vector, to_tsquery('english', :q)) DESC LIMIT 20"
        )


_BACKENDS: dict[str, StoryBackend] = {"sqlite": SQLiteStories(), "postgresql": PostgresStories()}


def backend_for(store: Store) -> StoryBackend:
    """The adapter of ``store``'s backend."""
    return _BACKENDS[store.dialect]


__all__ = ["PostgresStories", "SQLiteStories", "StoryBackend", "backend_for", "fts5_query"]
