"""Okapi BM25 scores (Robertson & Zaragoza 2009) of the services matching a text.

Pure: the backend adapter that scores this way (SQLite, ``sqlite.text_scores``) reads the
document count, each word's document frequency and the matching services' text, and this module
turns them into scores. A service's name counts twice; words are lower-cased and their common
English suffixes stripped (``stem``) so that "lunches" scores as "lunch".

Example:
    >>> scores = bm25([(1, "Lunch club", None), (4, "Choir", "and a lunch")], ["lunch"],
    ...               n_docs=10, document_frequencies=[2])
    >>> scores.of([1, 4, 9])
    [2.102923, 1.417187, None]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

_SUFFIXES = ("ing", "es", "ed", "s")
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The lower-cased words of ``text``, in order (``\\w+`` runs)."""
    return _WORD.findall(text.lower())


def stem(word: str) -> str:
    """A light English suffix stripper (lunches -> lunch), for scoring only; the backend's own
    full-text index decides what matches."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class TextScores:
    """BM25 scores of the services matching one text: ``rowids`` sorted, ``scores`` aligned."""

    rowids: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]

    def array(self, rowids: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The score of each rowid as an array (NaN for a rowid that does not match the text)."""
        wanted = np.asarray(rowids, np.int64)
        out = np.full(len(wanted), np.nan)
        if len(self.rowids) and len(wanted):
            at = np.minimum(np.searchsorted(self.rowids, wanted), len(self.rowids) - 1)
            found = self.rowids[at] == wanted
            out[found] = self.scores[at[found]]
        return out

    def of(self, rowids: Sequence[int]) -> list[float | None]:
        """The score of each rowid (None for a rowid that does not match the text)."""
        return [None if np.isnan(v) else float(v) for v in self.array(rowids)]


def bm25(
    documents: Sequence[tuple[int, str | None, str | None]],
    query_words: Iterable[str],
    *,
    n_docs: int,
    document_frequencies: Iterable[int],
    k1: float = 1.2,
    b: float = 0.75,
) -> TextScores:
    """BM25 of each ``(rowid, name, description)`` in ``documents`` (sorted by rowid) for the
    distinct ``query_words``, each found in ``document_frequencies`` of the ``n_docs`` documents.

    ``idf = ln(1 + (N - df + 0.5) / (df + 0.5))``; a word's term frequency ``tf`` in a document
    of ``dl`` tokens adds ``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))``, with
    ``avgdl`` over the given documents. Scores are rounded to 6 decimals so that ties are ties.
    """
    if not documents:
        return TextScores(np.zeros(0, np.int64), np.zeros(0))
    idf: dict[str, float] = {}
    for word, df in zip(query_words, document_frequencies, strict=True):
        idf[stem(word)] = float(np.log(1 + (n_docs - df + 0.5) / (df + 0.5)))
    stems: dict[str, str] = {}

    def cached_stem(word: str) -> str:
        found = stems.get(word)
        if found is None:
            found = stems[word] = stem(word)
        return found

    docs = []
    for _rowid, name, description in documents:
        tokens = [cached_stem(t) for t in words(name or "")] * 2
        tokens += [cached_stem(t) for t in words(description or "")]
        docs.append(tokens)
    avgdl = max(1.0, sum(len(d) for d in docs) / len(docs))
    scores = np.zeros(len(documents))
    for i, tokens in enumerate(docs):
        dl = len(tokens)
        score = 0.0
        for word_stem, weight in idf.items():
            tf = tokens.count(word_stem)
            if tf:
                score += weight * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
        scores[i] = round(score, 6)
    return TextScores(np.array([d[0] for d in documents], np.int64), scores)


__all__ = ["TextScores", "bm25", "stem", "words"]
