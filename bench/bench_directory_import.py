"""``import_oruk`` at scale: N synthetic ORUK services (100,000; quick: 10,000) into SQLite.

Each service is the shape a directory feed carries: a nested organisation (shared by 100
services), one service-at-location with its nested location, a weekly schedule, a taxonomy
attribute pointing at a term of the default taxonomy already in the store, and a cost option
(six table rows per service, plus the organisations and one audit entry per row).

Records:
* ``oruk_import_record_rate``: ORUK records (table rows) per second, same run.
* ``oruk_import_rate``: services per second through ``import_oruk`` (full validation, upsert,
  audit trail, FTS5 triggers on) into a fresh SQLite file, in chunks of 10,000 services (one
  transaction each). Target >= 10,000/s. Peer: a plain ``sqlite3`` ``executemany`` of the same
  flattened rows into bare tables of the same columns (no validation, no audit, no index);
  the peer's row counts are asserted equal to the store's.
* ``oruk_import_sqlite_floor_seconds``: the exact INSERT statements and parameters that
  ``import_oruk`` sent to SQLite (captured with a ``before_cursor_execute`` hook), replayed with
  plain ``sqlite3`` ``executemany`` into a fresh store of the same schema (indexes, foreign keys,
  FTS5 triggers, audit table): what the database alone costs, with no Python work at all. Its
  rate bounds what any import through this schema can reach on this machine.
* ``oruk_reimport_seconds``: importing the same N services again (upsert, nothing changes:
  every record reported unchanged, no audit entry written).

Usage: python bench/bench_directory_import.py [--quick]
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import record, versus  # noqa: E402  # bench scripts run as files, beside common.py

LEEDS = (-1.70, -1.35, 53.70, 53.92)  # lon/lat box around Leeds
NAMES = ("Community lunch", "Lunch club", "Coffee morning", "Drop-in", "Wellbeing group",
         "Money advice", "Housing advice", "Walking group", "Toddler group", "Youth club")  # fmt: skip
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
NS = uuid.UUID("5b0c3f0e-2a51-4a57-9d0e-7c1b9b3d2f10")
CHUNK = 10_000


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(NS, "/".join(map(str, parts))))


def synthetic_services(n: int, term_ids: list[str], seed: int = 4) -> list[dict[str, Any]]:
    """``n`` ORUK service documents (see the module docstring for their shape)."""
    rng = random.Random(seed)
    n_orgs = max(1, n // 100)
    out = []
    for i in range(n):
        sid = _uid("service", i)
        name = rng.choice(NAMES)
        opens = rng.randrange(8, 19)
        org = i % n_orgs
        out.append(
            {
                "id": sid,
                "name": f"{name} {i}",
                "description": f"{name} for neighbours, with tea and a chat",
                "status": "active",
                "organization": {
                    "id": _uid("org", org),
                    "name": f"Group {org}",
                    "description": "A community group",
                },
                "service_at_locations": [
                    {
                        "id": _uid("sal", i),
                        "location": {
                            "id": _uid("location", i),
                            "location_type": "physical",
                            "name": f"Venue {i}",
                            "longitude": round(rng.uniform(LEEDS[0], LEEDS[1]), 6),
                            "latitude": round(rng.uniform(LEEDS[2], LEEDS[3]), 6),
                        },
                    }
                ],
                "schedules": [
                    {
                        "id": _uid("schedule", i),
                        "freq": "WEEKLY",
                        "byday": rng.choice(DAYS),
                        "opens_at": f"{opens:02d}:00",
                        "closes_at": f"{opens + 2:02d}:00",
                    }
                ],
                "attributes": [{"id": _uid("attr", i), "taxonomy_term_id": rng.choice(term_ids)}],
                "cost_options": [{"id": _uid("cost", i), "amount": rng.choice((0, 0, 2.5))}],
            }
        )
    return out


_PEER_TABLES = {
    "organization": ("id", "name", "description"),
    "service": ("id", "organization_id", "name", "description", "status"),
    "location": ("id", "location_type", "name", "latitude", "longitude"),
    "service_at_location": ("id", "service_id", "location_id"),
    "schedule": ("id", "service_id", "freq", "byday", "opens_at", "closes_at"),
    "attribute": ("id", "link_id", "link_type", "taxonomy_term_id"),
    "cost_option": ("id", "service_id", "amount"),
}


def _flatten(docs: list[dict[str, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    """The table rows of trusted documents of the generator's shape (the peer's input)."""
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in _PEER_TABLES}
    orgs: dict[str, tuple[Any, ...]] = {}
    for d in docs:
        o = d["organization"]
        orgs[o["id"]] = (o["id"], o["name"], o["description"])
        rows["service"].append((d["id"], o["id"], d["name"], d["description"], d["status"]))
        for sal in d["service_at_locations"]:
            loc = sal["location"]
            rows["location"].append(
                (loc["id"], loc["location_type"], loc["name"], loc["latitude"], loc["longitude"])
            )
            rows["service_at_location"].append((sal["id"], d["id"], loc["id"]))
        for s in d["schedules"]:
            rows["schedule"].append(
                (s["id"], d["id"], s["freq"], s["byday"], s["opens_at"], s["closes_at"])
            )
        for a in d["attributes"]:
            rows["attribute"].append((a["id"], d["id"], "service", a["taxonomy_term_id"]))
        for c in d["cost_options"]:
            rows["cost_option"].append((c["id"], d["id"], c["amount"]))
    rows["organization"] = list(orgs.values())
    return rows


def _peer_import(path: Path, docs: list[dict[str, Any]]) -> dict[str, int]:
    """Plain sqlite3: flatten, then one executemany per table in one transaction."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    for table, cols in _PEER_TABLES.items():
        con.execute(f"CREATE TABLE {table} ({', '.join(cols)}, PRIMARY KEY (id))")
    con.execute("BEGIN")
    for table, rows in _flatten(docs).items():
        cols = _PEER_TABLES[table]
        marks = ", ".join("?" * len(cols))
        con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    con.execute("COMMIT")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _PEER_TABLES}
    con.close()
    return counts


def _replay(path: Path, statements: list[tuple[str, Any]]) -> float:
    """Seconds to replay ``statements`` (SQL, executemany parameters) with plain sqlite3."""
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
        con.execute(f"PRAGMA {pragma}")
    t0 = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    for sql, params in statements:
        con.executemany(sql, params)
    con.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def _import_all(store: Any, docs: list[dict[str, Any]]) -> list[Any]:
    from strengthmap.directory.oruk import import_oruk

    return [
        import_oruk(store, docs[i : i + CHUNK], source="bench", kind="service")
        for i in range(0, len(docs), CHUNK)
    ]


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    from sqlalchemy import event, func, select

    from strengthmap.directory.taxonomy import default_taxonomy, install_default_taxonomy, term_id
    from strengthmap.storage import open_store, schema

    n = 10_000 if quick else 100_000
    docs = synthetic_services(n, [term_id(t["code"]) for t in default_taxonomy()["terms"]])
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/import.sqlite")
        install_default_taxonomy(store)
        with store.session() as s:
            audit0 = s.scalar(select(func.count()).select_from(schema.AuditEntry)) or 0

        statements: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, sql: str, params: Any, ctx: Any, many: bool) -> None:
            if many and sql.lstrip().upper().startswith("INSERT"):
                statements.append((sql, params))

        event.listen(store.engine, "before_cursor_execute", capture)
        t0, c0 = time.perf_counter(), time.process_time()
        reports = _import_all(store, docs)
        ours_s, ours_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        event.remove(store.engine, "before_cursor_execute", capture)

        floor_store = open_store(f"sqlite:///{tmp}/floor.sqlite")
        install_default_taxonomy(floor_store)
        floor_store.close()
        floor_s = _replay(Path(tmp) / "floor.sqlite", statements)
        statements.clear()

        t0, c0 = time.perf_counter(), time.process_time()
        peer_counts = _peer_import(Path(tmp) / "peer.sqlite", docs)
        peer_s, peer_cpu_s = time.perf_counter() - t0, time.process_time() - c0

        with store.session() as s:
            counts = {
                t: s.scalar(select(func.count()).select_from(schema.Base.metadata.tables[t]))
                for t in _PEER_TABLES
            }
            counts["attribute"] = s.scalar(
                select(func.count())
                .select_from(schema.Attribute)
                .where(schema.Attribute.link_type == "service")
            )
            audit1 = s.scalar(select(func.count()).select_from(schema.AuditEntry)) or 0
        assert counts == peer_counts, (counts, peer_counts)
        rows = sum(counts.values())
        assert audit1 - audit0 == rows, (audit1 - audit0, rows)
        assert sum(r.records for r in reports) == n
        yield versus(
            "oruk_import_seconds",
            ours_s,
            "sqlite3 executemany of the flattened rows (no validation, audit or index)",
            peer_s,
            services=n,
            rows=rows,
            rate_per_s=round(n / ours_s),
            cpu_s=round(ours_cpu_s, 3),
            peer_cpu_s=round(peer_cpu_s, 3),
            target="rate_per_s >= 10000",
        )
        yield versus(
            "oruk_import_sqlite_floor_seconds",
            floor_s,
            "import_oruk (the same INSERTs, with validation and all Python work)",
            ours_s,
            services=n,
            floor_rate_per_s=round(n / floor_s),
        )
        yield record(
            "oruk_import_rate",
            n / ours_s,
            "services/s",
            services=n,
            per_cpu_s=round(n / ours_cpu_s),
            target=">= 10000",
        )
        # each service carries six ORUK records (service, service_at_location, location,
        # schedule, attribute, cost_option) plus its share of an organisation
        yield record(
            "oruk_import_record_rate",
            rows / ours_s,
            "ORUK records/s",
            services=n,
            records=rows,
            target=">= 10000",
        )

        t0, c0 = time.perf_counter(), time.process_time()
        again = _import_all(store, docs)
        re_s, re_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        written = sum(r.total_written for r in again)
        unchanged = sum(sum(r.unchanged.values()) for r in again)
        with store.session() as s:
            audit2 = s.scalar(select(func.count()).select_from(schema.AuditEntry)) or 0
        assert written == 0 and audit2 == audit1, (written, audit2 - audit1)
        yield record(
            "oruk_reimport_seconds",
            re_s,
            "s",
            services=n,
            unchanged=unchanged,
            rate_per_s=round(n / re_s),
            cpu_s=round(re_cpu_s, 3),
        )
        store.close()


if __name__ == "__main__":
    for rec in run("--quick" in sys.argv, None):
        print(json.dumps(rec), flush=True)
