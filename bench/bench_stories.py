"""Full-text search over 100,000 stories, SQLite and PostgreSQL, against the plain FTS query.

Records (``<backend>`` is ``sqlite`` or ``postgresql``):

* ``stories_search_<backend>_p50`` / ``_p95``: ``search_stories`` as an anonymous reader (only
  approved public stories, one page of 20 ranked by relevance, plus the total count), 200
  queries. Target p95 < 20 ms. Its peer, on the same rows in the same process: the plain
  full-text query alone (SQLite: ``SELECT rowid FROM story_fts WHERE story_fts MATCH ? ORDER BY
  rank LIMIT 20`` through ``sqlite3``; PostgreSQL: ``to_tsquery`` over ``story_fts_vector``
  ranked by ``ts_rank``, ``LIMIT 20``, through psycopg): no visibility rule, no count, no rows
  read, no themes or areas. Ratio = peer time / ours (below 1: the price of everything else).
* ``stories_load_<backend>_rate``: stories written per second by the bulk insert that fills the
  benchmark store (FTS triggers or the generated tsvector and its GIN index included).
* ``stories_withdraw_<backend>_ms``: one staff withdrawal at 100,000 stories (the erasure, the
  index update and the audit entry in one transaction), then a search for the story's own
  unique word finds nothing (asserted).

The stories are synthetic, shaped like real ones: 40 to 400 words (lognormal, median about
110), words drawn from a Zipf law (s = 1.1) over a vocabulary of 20,000 types ranked as in
English: function words first, 20 frequent community words ("community", "help", "family", ...)
among the common words (each in 2 to 9 % of stories), 400 specific everyday words ("library",
"allotment", "bus") at ranks 1,000 to 4,000 (each in 0.1 to 0.5 %), made-up words for the
rest. Of the stories 70 % are approved public, 10 % internal, 5 % private, 10 % pending and
5 % withdrawn. The queries: 15 % a frequent word, 45 % a specific word, 20 % two specific
words, 20 % a rare word, drawn with the same seed each run. PostgreSQL is used when the server of
the test suite answers (``STRENGTHMAP_BENCH_POSTGIS_URL`` overrides); otherwise its records are
skipped with a note.
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from common import record, versus
from strengthmap.storage import Store, open_store, schema
from strengthmap.storage.bulk import insert_many, large_write
from strengthmap.stories import ANONYMOUS, OPERATOR, StoryQuery, list_stories, withdraw_story
from strengthmap.stories.model import audience_of
from strengthmap.stories.ranking import CACHE
from strengthmap.stories.themes import DEFAULT_THEMES

POSTGIS_URL = os.environ.get(
    "STRENGTHMAP_BENCH_POSTGIS_URL",
    "postgresql+psycopg://strengthmap:strengthmap@127.0.0.1:5432/strengthmap_test",
)
FUNCTION_WORDS = """
the and to of a in i it was we for that is on with my they at you but had have be this there
are so all our when from he she not as were by me her his one can what would if out just up
more about do an no them been get us
""".split()  # noqa: SIM905 - a word list reads as text
CONTENT_WORDS = """
library bus lunch park garden allotment church mosque temple school nursery college hospital
doctor nurse surgery pharmacy clinic dentist hall centre cafe pub shop market bakery butcher
chemist post office bank food bank pantry kitchen dinner breakfast tea coffee cake soup bread
family children kids baby mum dad grandma grandad neighbour neighbours friends friend community
group club choir band music dance football cricket rugby swimming pool gym walking walk running
run cycling bike path canal river woods trees flowers bench street road pavement lights
crossing traffic parking car van taxi train station stop shelter rain cold winter summer spring
autumn snow heat warm heating bills rent housing flat house home landlord council repairs damp
mould window door stairs lift disabled wheelchair ramp access carer caring care home respite
lonely loneliness isolation anxiety depression stress wellbeing health mental support help
advice money debt benefits job work jobs volunteer volunteering volunteers training course
class classes english language lessons reading books computer internet wifi phone online forms
letters appointment waiting queue translator interpreter refugee asylum newcomer welcome faith
prayer festival eid diwali christmas party celebration fun games play playground youth
teenagers young older elderly pensioners retired men women girls boys sport team coach leader
organiser everyone together safe safety crime police fear noise litter rubbish bins fly tipping
graffiti drugs alcohol smoking clean cleaner tidy green space spaces trees pond ducks dog dogs
walkers view hill valley estate terrace streets corner alley bridge tunnel underpass subway
crossing lights lamp dark night evening morning afternoon weekend monday tuesday wednesday
thursday friday saturday sunday holiday holidays half term summer fair gala bonfire fireworks
parade carnival history heritage mill mills factory chapel war memorial statue mural art artist
paint painting craft knitting sewing crafts pottery photography film cinema theatre stage drama
poetry poems stories storytelling radio newsletter facebook whatsapp leaflet poster noticeboard
meeting meetings committee forum residents association tenants campaign petition funding grant
charity trust fund raise raised donations donate shop charity warm space spaces hub hubs drop
in drop-in session sessions counselling listening listened listen kindness kind smile smiled
laughed laughter tears cried proud pride hope hopeful change changed better worse closed
closing opened opening new old lost found missing miss missed remember memories grew born moved
stayed leaving left returned
""".split()  # noqa: SIM905 - a word list reads as text
SYLLABLES = """
ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re
ri ro ru sa se si so su ta te ti to tu va ve vi vo zu
""".split()  # noqa: SIM905 - a word list reads as text


#: Words of community stories that are frequent in them (about 2 to 9 % of stories each).
FREQUENT_WORDS = """
community help people group home family children place local support friends centre time work
school park food money health street
""".split()  # noqa: SIM905 - a word list reads as text


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    """Word types by rank: function words first, the frequent community words among the
    common general words (ranks 70-260), the specific everyday words at ranks 1,000-4,000 (as in
    English, where "library" or "allotment" rank in the thousands), made-up words elsewhere."""
    made: set[str] = set(FUNCTION_WORDS) | set(FREQUENT_WORDS) | set(CONTENT_WORDS)

    def pseudo() -> str:
        while True:
            w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
            if w not in made:
                made.add(w)
                return w

    specific = [w for w in dict.fromkeys(CONTENT_WORDS) if w not in FREQUENT_WORDS]
    at: dict[int, str] = {i: w for i, w in enumerate(FUNCTION_WORDS)}
    at.update({70 + 10 * i: w for i, w in enumerate(FREQUENT_WORDS)})
    step = 3000 / len(specific)
    at.update({1000 + int(i * step): w for i, w in enumerate(specific)})
    return [at[i] if i in at else pseudo() for i in range(size)]


class _Zipf:
    def __init__(self, n: int, s: float, rng: random.Random) -> None:
        weights = [1 / (k**s) for k in range(1, n + 1)]
        total = sum(weights)
        acc = 0.0
        self.cum = []
        for w in weights:
            acc += w / total
            self.cum.append(acc)
        self.rng = rng

    def draw(self, k: int) -> list[int]:
        import bisect

        return [
            min(bisect.bisect_left(self.cum, self.rng.random()), len(self.cum) - 1)
            for _ in range(k)
        ]


def generate(n: int, seed: int = 11) -> tuple[list[dict[str, Any]], list[str]]:
    rng = random.Random(seed)
    vocab = _vocabulary(rng)
    zipf = _Zipf(len(vocab), 1.1, rng)
    slugs = [t.slug for t in DEFAULT_THEMES]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        length = max(40, min(400, int(rng.lognormvariate(math.log(110), 0.5))))
        words = [vocab[k] for k in zipf.draw(length)]
        words[0] = words[0].capitalize()
        text = " ".join(words) + "."
        r = rng.random()
        consent, moderation, withdrawn = (
            ("public", "approved", False) if r < 0.70 else
            ("internal", "approved", False) if r < 0.80 else
            ("private", "approved", False) if r < 0.85 else
            ("public", "pending", False) if r < 0.95 else
            ("public", "approved", True)
        )  # fmt: skip
        created = start + timedelta(minutes=7 * i)
        themes = rng.sample(slugs, rng.randint(1, 2))
        rows.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "number": i + 1,
                "title": "" if rng.random() < 0.6 else " ".join(vocab[k] for k in zipf.draw(4)),
                "text": "" if withdrawn else text,
                "consent": consent,
                "moderation": moderation,
                "audience": audience_of(consent, moderation, withdrawn=withdrawn),
                "withdrawn_at": created + timedelta(days=3) if withdrawn else None,
                "themes": None if withdrawn else themes,
                "created_at": created,
                "moderated_at": created + timedelta(hours=5) if moderation == "approved" else None,
            }
        )
    return rows, vocab


def _load(store: Store, rows: list[dict[str, Any]]) -> float:
    names = list(rows[0])
    tab = schema.Story.__table__
    link = schema.StoryLink.__table__
    t0 = time.perf_counter()
    with store.transaction() as session, large_write(session, len(rows)):
        for i in range(0, len(rows), 10_000):
            chunk = rows[i : i + 10_000]
            insert_many(session, tab, names, [[r[k] for k in names] for r in chunk])  # type: ignore[arg-type]
            insert_many(
                session, link, ["story_id", "target_kind", "target_id"],  # type: ignore[arg-type]
                [[r["id"], "theme", t] for r in chunk for t in (r["themes"] or [])],
            )  # fmt: skip
        if store.dialect == "postgresql":
            session.execute(sa.text("SELECT setval('story_number_seq', :n)"), {"n": len(rows)})
    elapsed = time.perf_counter() - t0
    if store.dialect == "postgresql":
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE story"))
    return elapsed


def _queries(vocab: list[str], n: int, seed: int = 5) -> list[str]:
    """15 % a frequent community word, 45 % a specific everyday word, 20 % two of them, 20 % a
    rare word from the long tail."""
    rng = random.Random(seed)
    specific = [w for w in dict.fromkeys(CONTENT_WORDS) if w not in FREQUENT_WORDS]
    tail = vocab[4000:]
    out = []
    for _ in range(n):
        r = rng.random()
        if r < 0.15:
            out.append(rng.choice(FREQUENT_WORDS))
        elif r < 0.60:
            out.append(rng.choice(specific))
        elif r < 0.80:
            out.append(" ".join(rng.sample(specific, 2)))
        else:
            out.append(rng.choice(tail))
    return out


def _quantiles(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return statistics.median(times), cuts[94]


def _ours(store: Store, queries: list[str], *, cold: bool) -> tuple[list[float], list[int]]:
    """``search_stories`` for each query: ``cold`` empties the process's result cache before
    each (every search ranks its matches afresh, as the first search of a text after a write
    does); otherwise the cache works as in service."""
    list_stories(store, StoryQuery(text="warmup"), viewer=ANONYMOUS)  # connection, page cache
    times, totals = [], []
    for q in queries:
        if cold:
            CACHE.clear()
        t0 = time.perf_counter()
        page = list_stories(store, StoryQuery(text=q), viewer=ANONYMOUS)
        times.append(time.perf_counter() - t0)
        totals.append(page.total)
    return times, totals


def _peer_sqlite(path: str, queries: list[str]) -> list[float]:
    from strengthmap.stories.search import SQLiteStories, fts5_query

    sql = SQLiteStories().plain_match_sql().replace(":q", "?")
    conn = sqlite3.connect(path)
    conn.execute(sql, (fts5_query(queries[0]),)).fetchall()
    times = []
    for q in queries:
        t0 = time.perf_counter()
        conn.execute(sql, (fts5_query(q),)).fetchall()
        times.append(time.perf_counter() - t0)
    conn.close()
    return times


def _peer_postgres(store: Store, queries: list[str]) -> list[float]:
    from strengthmap.stories.search import PostgresStories

    sql = PostgresStories().plain_match_sql().replace(":q", "%(q)s")
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        times = []
        for q in [queries[0], *queries]:
            t0 = time.perf_counter()
            cur.execute(sql, {"q": " & ".join(q.split())})
            cur.fetchall()
            times.append(time.perf_counter() - t0)
        return times[1:]
    finally:
        raw.close()


def _withdraw(store: Store, rows: list[dict[str, Any]], backend: str) -> Iterator[dict[str, Any]]:
    rng = random.Random(3)
    live = [r for r in rows if r["audience"] == "public"]
    times = []
    for r in rng.sample(live, 10):
        with store.transaction() as session:  # give it a word nobody else uses
            session.execute(
                sa.update(schema.Story).where(schema.Story.id == r["id"]).values(text=r["text"] + " zzuniq" + str(r["number"]))
            )  # fmt: skip
        word = f"zzuniq{r['number']}"
        assert list_stories(store, StoryQuery(text=word)).total == 1
        t0 = time.perf_counter()
        withdraw_story(store, r["id"], viewer=OPERATOR)
        times.append(time.perf_counter() - t0)
        assert list_stories(store, StoryQuery(text=word)).total == 0
    yield record(
        f"stories_withdraw_{backend}_ms", statistics.median(times) * 1000, "ms",
        stories=len(rows), note="median of 10; search finds nothing right after (asserted)",
    )  # fmt: skip


def _bench(
    store: Store, rows: list[dict[str, Any]], vocab: list[str], backend: str, quick: bool
) -> Iterator[dict[str, Any]]:
    n = len(rows)
    load_s = _load(store, rows)
    yield record(
        f"stories_load_{backend}_rate", n / load_s, "stories/s", stories=n, seconds=round(load_s, 2)
    )
    queries = _queries(vocab, 40 if quick else 200)
    if backend == "sqlite":
        peer = _peer_sqlite(str(store.engine.url.database), queries)
        peer_name = "plain FTS5 MATCH ORDER BY rank LIMIT 20 (sqlite3)"
    else:
        peer = _peer_postgres(store, queries)
        peer_name = "plain to_tsquery @@ story_fts_vector ORDER BY ts_rank LIMIT 20 (psycopg)"
    cold, totals = _ours(store, queries, cold=True)
    CACHE.clear()
    stream, _ = _ours(store, queries, cold=False)
    warm, _ = _ours(store, queries, cold=False)
    peer50, peer95 = _quantiles(peer)
    extra: dict[str, Any] = {
        "stories": n,
        "queries": len(queries),
        "distinct_queries": len(set(queries)),
        "median_matches": int(statistics.median(totals)),
        "max_matches": max(totals),
    }
    for label, times, note in (
        ("", stream, "the query stream in order: a text's first search ranks, repeats reuse"),
        ("_cold", cold, "every search ranks its matches afresh"),
        ("_warm", warm, "the same stream again: every text ranked before"),
    ):
        p50, p95 = _quantiles(times)
        yield versus(
            f"stories_search_{backend}{label}_p50", p50, peer_name, peer50, note=note, **extra
        )
        yield versus(
            f"stories_search_{backend}{label}_p95", p95, peer_name, peer95,
            target="< 0.020 s", note=note, **extra,
        )  # fmt: skip
    frequent = [i for i, q in enumerate(queries) if q in FREQUENT_WORDS]
    if frequent:
        yield versus(
            f"stories_search_{backend}_frequent_word_cold_p50",
            statistics.median(cold[i] for i in frequent), peer_name,
            statistics.median(peer[i] for i in frequent),
            queries=len(frequent), median_matches=int(statistics.median(totals[i] for i in frequent)),
            note="a word in 2-9 % of stories, ranked afresh: both rank every match",
        )  # fmt: skip
    yield from _withdraw(store, rows, backend)


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    n = 10_000 if quick else 100_000
    rows, vocab = generate(n)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/stories.sqlite")
        try:
            yield from _bench(store, rows, vocab, "sqlite", quick)
        finally:
            store.close()
    try:
        server = open_store(POSTGIS_URL, upgrade=False)
    except Exception as exc:
        yield {
            "name": "stories_search_postgresql_p95",
            "skipped": f"PostgreSQL not reachable: {exc}",
        }
        return
    admin = server.engine.execution_options(isolation_level="AUTOCOMMIT")
    url = server.engine.url.set(database=f"strengthmap_bench_stories_{os.getpid()}")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    store = open_store(url.render_as_string(hide_password=False))
    try:
        yield from _bench(store, rows, vocab, "postgresql", quick)
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        server.close()
