"""Directory import and search at 100,000 synthetic ORUK-shaped services (SQLite, in process).

Records:
* ``directory_import_rate``: services per second written through ``records.upsert_rows`` (the
  path of the tabular importers), flattening included, into a fresh SQLite file with the FTS5
  triggers on. Target >= 10,000/s. ``directory_import_oruk_rate``: the same documents through
  ``oruk.import_oruk`` (full JSON Schema validation, audit entries) on a sample, for comparison.
* ``directory_search_combined_p50`` / ``_p95``: ``search_services`` with text + taxonomy +
  1 km radius + open Wednesday 13:00-16:00, at random points in Leeds. Target p95 <= 20 ms.
  Its peer: the same FTS5 ``MATCH`` alone on a plain sqlite3 table of the same names and
  descriptions (the cost of the text part with no other filter), same queries.
* ``directory_search_combined_p50_vs_sql_only``: the same queries with ``prefilter=False``
  (every filter in SQL, no in-memory candidate sets, the text's BM25 scores computed afresh)
  on the same store, same answers (asserted).
* ``directory_search_first_after_write``: the first combined search after a write to the
  directory (the candidate sets it needs are rebuilt).
* ``directory_search_text_only_p50``: text alone ("lunch", about one service in eight), one page
  of 20, against plain FTS5 counting the matches and ranking them with its own ``bm25()``.
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from common import record, versus
from strengthmap.directory.records import MODELS, upsert_rows
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.directory.taxonomy import default_taxonomy, install_default_taxonomy, term_id
from strengthmap.storage import open_store

NAMES = [
    "Community lunch", "Lunch club", "Coffee morning", "Drop-in", "Wellbeing group",
    "Money advice", "Housing advice", "Walking group", "Toddler group", "Youth club",
    "Food bank", "Choir", "Men's shed", "Knit and natter", "Digital help", "Carers' cafe",
]  # fmt: skip
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
LEEDS = (-1.70, -1.35, 53.70, 53.92)  # lon/lat box around Leeds


def generate(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """``n`` ORUK service documents (organization, location, weekly schedule, term, cost)."""
    rng = random.Random(seed)
    codes = [t["code"] for t in default_taxonomy()["terms"]]
    orgs = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(max(1, n // 100))]
    out = []
    for i in range(n):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        name = rng.choice(NAMES)
        opens = rng.randrange(8, 19)
        out.append(
            {
                "id": sid,
                "name": f"{name} {i}",
                "description": f"{name} for neighbours, with tea and a chat",
                "status": "active",
                "abcd_kind": rng.choice(["association", "institution", "physical_space"]),
                "organization": {
                    "id": orgs[i % len(orgs)],
                    "name": f"Group {i % len(orgs)}",
                    "description": "A community group",
                },
                "service_at_locations": [
                    {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, sid + "/sal")),
                        "location": {
                            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, sid + "/loc")),
                            "location_type": "physical",
                            "name": f"Venue {i}",
                            "longitude": round(rng.uniform(LEEDS[0], LEEDS[1]), 6),
                            "latitude": round(rng.uniform(LEEDS[2], LEEDS[3]), 6),
                        },
                    }
                ],
                "schedules": [
                    {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, sid + "/schedule")),
                        "freq": "WEEKLY",
                        "byday": rng.choice(DAYS),
                        "opens_at": f"{opens:02d}:00",
                        "closes_at": f"{opens + 2:02d}:00",
                    }
                ],
                "attributes": [
                    {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, sid + "/attr")),
                        "taxonomy_term_id": term_id(rng.choice(codes)),
                    }
                ],
                "cost_options": [
                    {
                        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, sid + "/cost")),
                        "amount": rng.choice([0.0, 0.0, 2.5]),
                    }
                ],
            }
        )
    return out


def flatten(docs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The table rows of trusted ORUK service documents (the subset ``generate`` makes)."""
    rows: dict[str, list[dict[str, Any]]] = {
        k: []
        for k in (
            "organization",
            "service",
            "location",
            "service_at_location",
            "schedule",
            "attribute",
            "cost_option",
        )
    }
    seen_orgs: set[str] = set()
    for d in docs:
        org = d["organization"]
        if org["id"] not in seen_orgs:
            seen_orgs.add(org["id"])
            rows["organization"].append(dict(org))
        rows["service"].append(
            {
                "id": d["id"],
                "organization_id": org["id"],
                "name": d["name"],
                "description": d["description"],
                "status": d["status"],
                "abcd_kind": d["abcd_kind"],
            }
        )
        for sal in d["service_at_locations"]:
            rows["location"].append(dict(sal["location"]))
            rows["service_at_location"].append(
                {"id": sal["id"], "service_id": d["id"], "location_id": sal["location"]["id"]}
            )
        rows["schedule"].extend({**s, "service_id": d["id"]} for s in d["schedules"])
        rows["attribute"].extend(
            {**a, "link_id": d["id"], "link_type": "service"} for a in d["attributes"]
        )
        rows["cost_option"].extend({**c, "service_id": d["id"]} for c in d["cost_options"])
    return rows


def _raw_insert(path: str, rows: dict[str, list[dict[str, Any]]]) -> float:
    """Seconds to insert ``rows`` with plain sqlite3 into a freshly migrated store at ``path``."""
    peer_store = open_store(f"sqlite:///{path}")
    install_default_taxonomy(peer_store)
    peer_store.close()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("PRAGMA cache_size=-262144")
    stamp = "2026-01-01 00:00:00.000000"
    prepared = []
    for table, table_rows in rows.items():
        given = {k for r in table_rows for k in r}
        defaults = {
            c.name: c.default.arg
            for c in MODELS[table].__table__.columns
            if c.name not in given and c.default is not None and c.default.is_scalar
        }
        defaults.pop("created_at", None)
        defaults.pop("updated_at", None)
        cols = sorted(given) + sorted(defaults)
        marks = ", ".join("?" * (len(cols) + 2))
        sql = f"INSERT INTO {table} ({', '.join(cols)}, created_at, updated_at) VALUES ({marks})"
        fixed = tuple(defaults[c] for c in sorted(defaults))
        params = [(*(r.get(c) for c in sorted(given)), *fixed, stamp, stamp) for r in table_rows]
        prepared.append((sql, params))
    t0 = time.perf_counter()
    con.execute("BEGIN")
    for sql, params in prepared:
        con.executemany(sql, params)
    con.execute("COMMIT")
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    n = 10_000 if quick else 100_000
    docs = generate(n)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.sqlite")
        install_default_taxonomy(store)
        t0 = time.perf_counter()
        with store.transaction() as session:
            upsert_rows(session, flatten(docs), source="bench", licence="CC0-1.0")
        elapsed = time.perf_counter() - t0
        yield record(
            "directory_import_rate",
            n / elapsed,
            "services/s",
            services=n,
            seconds=round(elapsed, 3),
            target=">= 10000",
        )
        # the peer: the same rows as ready-made tuples, sqlite3 executemany, same schema
        # (indexes, FTS5 and R*Tree triggers, foreign keys), no upsert, no Python conversion
        peer_s = _raw_insert(f"{tmp}/peer.sqlite", flatten(docs))
        yield versus(
            "directory_import_seconds",
            elapsed,
            "sqlite3 executemany of prepared tuples, same schema",
            peer_s,
            services=n,
            peer_rate_per_s=round(n / peer_s, 1),
        )

        sample = docs[: 500 if quick else 2000]
        oruk_store = open_store(f"sqlite:///{tmp}/oruk.sqlite")
        install_default_taxonomy(oruk_store)
        try:
            from strengthmap.directory.oruk import import_oruk

            t0 = time.perf_counter()
            import_oruk(oruk_store, sample, source="bench", kind="service", check_coordinates=False)
            oruk_s = time.perf_counter() - t0
            yield record(
                "directory_import_oruk_rate",
                len(sample) / oruk_s,
                "services/s",
                services=len(sample),
                note="JSON Schema validation + audit trail per record",
            )
        except ImportError:
            pass
        oruk_store.close()

        rng = random.Random(7)
        codes = [t["code"] for t in default_taxonomy()["terms"] if t.get("parent") is None]
        queries = []
        for _ in range(40 if quick else 200):
            point = (rng.uniform(-1.62, -1.45), rng.uniform(53.75, 53.86))
            queries.append(
                ServiceQuery(
                    text="lunch",
                    taxonomy_term_ids=[rng.choice(codes)],
                    near=point,
                    radius_m=1000,
                    day="wed",
                    start_time="13:00",
                    end_time="16:00",
                    per_page=20,
                )
            )
        search_services(store, queries[0])  # warm caches
        times = []
        totals = []
        for q in queries:
            t0 = time.perf_counter()
            page = search_services(store, q)
            times.append(time.perf_counter() - t0)
            totals.append(page.total)
        times.sort()
        p50 = statistics.median(times)
        p95 = times[int(0.95 * (len(times) - 1))]

        # the peer: the text part alone on a plain sqlite3 FTS5 table of the same rows
        peer = sqlite3.connect(":memory:")
        peer.execute(
            "CREATE VIRTUAL TABLE t USING fts5(name, description, tokenize='porter unicode61')"
        )
        peer.executemany(
            "INSERT INTO t VALUES (?, ?)", [(d["name"], d["description"]) for d in docs]
        )
        peer_times = []
        for _q in queries:
            t0 = time.perf_counter()
            peer.execute(
                "SELECT rowid, bm25(t) FROM t WHERE t MATCH '\"lunch\"' ORDER BY bm25(t)"
            ).fetchall()
            peer_times.append(time.perf_counter() - t0)
        peer_times.sort()
        peer_p50 = statistics.median(peer_times)
        yield versus(
            "directory_search_combined_p50",
            p50,
            "sqlite3 FTS5 MATCH alone (same text, no other filter)",
            peer_p50,
            services=n,
            queries=len(queries),
            mean_hits=round(statistics.mean(totals), 2),
        )
        yield record("directory_search_combined_p95", p95, "s", services=n, target="<= 0.020")

        # the same queries with every filter in SQL (no in-memory candidate sets): what the
        # sets save, measured on the same store
        sql_times = []
        for q in queries:
            t0 = time.perf_counter()
            assert search_services(store, q, prefilter=False).total == totals[len(sql_times)]
            sql_times.append(time.perf_counter() - t0)
        yield versus(
            "directory_search_combined_p50_vs_sql_only",
            p50,
            "search_services(prefilter=False): every filter in SQL, BM25 scored afresh",
            statistics.median(sql_times),
            services=n,
            queries=len(queries),
        )

        # the first search after a write to the directory rebuilds the sets it needs
        with store.transaction() as session:
            session.execute(sa.text("UPDATE service SET name = name || '' WHERE rowid = 1"))
        t0 = time.perf_counter()
        search_services(store, queries[0])
        yield record(
            "directory_search_first_after_write",
            time.perf_counter() - t0,
            "s",
            services=n,
            note="rebuilds the radius index, the text set and scores of 'lunch', one term set",
        )

        # text alone, one page of 20 of the ~12,500 matches, against FTS5 ranking them itself
        text_query = ServiceQuery(text="lunch", per_page=20)
        search_services(store, text_query)
        text_times = []
        for _ in range(50):
            t0 = time.perf_counter()
            text_total = search_services(store, text_query).total
            text_times.append(time.perf_counter() - t0)
        peer_text = []
        for _ in range(50):
            t0 = time.perf_counter()
            peer.execute("SELECT count(*) FROM t WHERE t MATCH '\"lunch\"'").fetchone()
            peer.execute(
                "SELECT rowid, bm25(t) FROM t WHERE t MATCH '\"lunch\"' ORDER BY bm25(t) LIMIT 20"
            ).fetchall()
            peer_text.append(time.perf_counter() - t0)
        yield versus(
            "directory_search_text_only_p50",
            statistics.median(text_times),
            "sqlite3 FTS5: count, then ORDER BY bm25 LIMIT 20 (same text)",
            statistics.median(peer_text),
            services=n,
            matches=text_total,
        )
        store.close()
