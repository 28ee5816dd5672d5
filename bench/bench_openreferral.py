"""The /openreferral feed under load: ``strengthmap serve`` vs ``datasette`` on the same SQLite file.

Two workloads, each in its own SQLite file, served by ``strengthmap serve`` (uvicorn) on a random
free port on 127.0.0.1; a load generator in a second process (raw asyncio HTTP/1.1, 16 keep-alive
connections, bounded count and time) measures requests per second.

1. The issue's workload, the same as ``bench_directory.py``'s combined search: N services from
   its generator (``bench_directory.generate``; 100,000, quick: 10,000) spread across Leeds,
   written the same way (``install_default_taxonomy`` then ``records.upsert_rows`` of
   ``bench_directory.flatten``), and the same queries: text "lunch" + one top-level taxonomy term
   + 1 km radius + open Wednesday 13:00-16:00, 20 a page, at the same seeded random points
   (``random.Random(7)``; 200, quick: 40). The load generator cycles through those query URLs
   in a fixed order. Before timing, every URL's ``total_items`` is checked against
   ``search_services`` run in process on the same query. Two workers (one per core).
   Record ``openreferral_services_full_filters_rps`` (the issue's target: >= 300/s).
2. A dense cluster: N services (100,000; quick: 5,000) within about 3 km of New Wortley,
   imported with ``import_oruk`` (its rate is recorded as ``oruk_import_rate``), one in twenty a
   Wednesday lunch club, so one URL (full filters at New Wortley) matches thousands of rows
   before paging; far denser than the issue's search. Records
   ``openreferral_services_dense_cluster_rps`` (two workers) and
   ``openreferral_services_text_rps``: ours (one worker), text only, against datasette's
   equivalent full-text query ``/db/service.json?_search=lunch&_size=50`` (FTS5 over the same
   ``service_fts`` table, one process); the two must report the same number of matches
   (asserted) before their rates are compared.

Usage: python bench/bench_openreferral.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_directory import flatten, generate  # noqa: E402  # as common, below
from common import record  # noqa: E402  # bench scripts run as files, beside common.py

NEW_WORTLEY = (-1.57538, 53.79023)
NS = uuid.UUID("1f0c9a7e-5d8b-4c3e-9e61-0a2b3c4d5e6f")
TERMS = ("food", "social connection", "mental health", "money advice", "housing",
         "physical activity", "learning", "children and families", "older people", "carers")  # fmt: skip
WORDS = ("lunch", "breakfast", "drop-in", "wellbeing", "group", "club", "advice", "walk",
         "café", "support", "garden", "choir", "craft", "library", "sports", "youth")  # fmt: skip
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: Untimed requests on each load-generator connection before timing starts.
WARMUP_PER_CONNECTION = 5
FULL_QUERY = {
    "text": "lunch",
    "taxonomy_term_id": "food",
    "proximity": 1000,
    "lat": NEW_WORTLEY[1],
    "lon": NEW_WORTLEY[0],
    "day": "wednesday",
    "start_time": "13:00",
    "end_time": "16:00",
}


def directory_queries(quick: bool) -> list[dict[str, Any]]:
    """The feed parameters of ``bench_directory.py``'s combined-search queries, in its order.

    The same seeded draws as that bench (``random.Random(7)``: a point in Leeds, then one
    top-level term code, per query; 40 quick, 200 full), so both benches ask the same questions.
    """
    from strengthmap.directory.taxonomy import default_taxonomy

    rng = random.Random(7)
    codes = [t["code"] for t in default_taxonomy()["terms"] if t.get("parent") is None]
    out = []
    for _ in range(40 if quick else 200):
        lon, lat = rng.uniform(-1.62, -1.45), rng.uniform(53.75, 53.86)
        out.append(
            {
                "text": "lunch",
                "taxonomy_term_id": rng.choice(codes),
                "proximity": 1000,
                "lat": lat,
                "lon": lon,
                "day": "wednesday",
                "start_time": "13:00",
                "end_time": "16:00",
                "per_page": 20,
            }
        )
    return out


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(NS, "/".join(map(str, parts))))


def synthetic_services(n: int, seed: int = 4) -> list[dict[str, Any]]:
    """``n`` ORUK services with a location within ~3 km of New Wortley, a weekly session and
    one or two taxonomy terms (the terms are shared, so nested copies are identical)."""
    rng = random.Random(seed)
    terms = {t: {"id": _uid("term", t), "name": t, "description": t, "term": t} for t in TERMS}
    out = []
    for i in range(n):
        words = rng.sample(WORDS, 3)
        start = rng.randrange(8, 19)
        lon = NEW_WORTLEY[0] + rng.uniform(-0.045, 0.045)
        lat = NEW_WORTLEY[1] + rng.uniform(-0.027, 0.027)
        chosen = rng.sample(TERMS, rng.choice((1, 2)))
        if i % 20 == 0:  # one in twenty: a Wednesday lunch club, so the full query finds some
            words, start, chosen = ["lunch", "club", "community"], 12, ["food"]
        out.append(
            {
                "id": _uid("service", i),
                "name": " ".join(words).capitalize() + f" {i}",
                "description": f"A {words[0]} and {words[1]} for everyone in the area.",
                "status": "active",
                "schedules": [
                    {
                        "id": _uid("schedule", i),
                        "freq": "WEEKLY",
                        "byday": "WE" if i % 20 == 0 else rng.choice(DAYS),
                        "opens_at": f"{start:02d}:00",
                        "closes_at": f"{start + rng.choice((1, 2, 3)):02d}:00",
                    }
                ],
                "service_at_locations": [
                    {
                        "id": _uid("sal", i),
                        "location": {
                            "id": _uid("location", i),
                            "location_type": "physical",
                            "name": f"Venue {i}",
                            "latitude": round(lat, 6),
                            "longitude": round(lon, 6),
                        },
                    }
                ],
                "attributes": [
                    {"id": _uid("attr", i, t), "taxonomy_term": terms[t]} for t in chosen
                ],
            }
        )
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not answer in {timeout_s} s")


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One keep-alive HTTP/1.1 GET on an open connection; the status (the body is read whole:
    ``Content-Length`` or chunked)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


class _Connection:
    """A keep-alive connection that reopens itself when the server has closed it (uvicorn
    closes a connection idle for 5 s, as one may be while the others warm up)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, request: bytes) -> int:
        for attempt in (1, 2):
            if self.streams is None:
                self.streams = await asyncio.open_connection(self.host, self.port)
            try:
                return await _get(*self.streams, request)
            except (asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _load(urls: list[str], count: int, concurrency: int, limit_s: float) -> dict[str, Any]:
    """``count`` GETs over ``concurrency`` keep-alive connections (at most ``limit_s``
    seconds), the i-th timed request asking for ``urls[i % len(urls)]`` (one host and port),
    timed after ``WARMUP_PER_CONNECTION`` untimed GETs on each (a server worker's first requests
    fill its statement caches and connection pool).

    A raw asyncio HTTP/1.1 client: httpx's client cost about 1.9 ms of CPU per request here,
    which on 2 cores is taken from the servers being measured."""
    from urllib.parse import urlsplit

    split = [urlsplit(url) for url in urls]
    parts = split[0]
    assert all(p.netloc == parts.netloc for p in split), "one server per load"
    requests = [
        (
            f"GET {p.path}{f'?{p.query}' if p.query else ''} HTTP/1.1\r\nHost: {p.netloc}\r\n"
            "Accept: application/json\r\nAccept-Encoding: gzip\r\n\r\n"
        ).encode()
        for p in split
    ]
    latencies: list[float] = []
    errors = 0
    next_i = 0
    deadline = float("inf")  # set when timing starts: the warm-up is not counted in it

    async def worker(k: int) -> None:
        nonlocal next_i, errors, deadline
        conn = _Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        try:
            for j in range(WARMUP_PER_CONNECTION):  # steady state: statement caches, pools
                await conn.get(requests[(k * WARMUP_PER_CONNECTION + j) % len(requests)])
            ready.append(1)
            if len(ready) == concurrency:
                deadline = time.monotonic() + limit_s
                start.set()
            await start.wait()
            while next_i < count and time.monotonic() < deadline:
                request = requests[next_i % len(requests)]
                next_i += 1
                t0 = time.perf_counter()
                status = await conn.get(request)
                latencies.append(time.perf_counter() - t0)
                if status != 200:
                    errors += 1
        finally:
            conn.close()

    start = asyncio.Event()
    ready: list[int] = []
    tasks = [asyncio.create_task(worker(k)) for k in range(concurrency)]
    started = asyncio.create_task(start.wait())  # every connection open and warmed up
    await asyncio.wait([started, *tasks], return_when=asyncio.FIRST_COMPLETED)
    t0 = time.perf_counter()
    await asyncio.gather(*tasks)  # raises at once if a connection failed while warming up
    wall = time.perf_counter() - t0
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors,
        "rps": n / wall if wall else 0.0,
        "p95_ms": latencies[int(0.95 * (n - 1))] * 1000 if n else 0.0,
    }


def _loadgen(urls: str | list[str], count: int, limit_s: float) -> dict[str, Any]:
    """Run the load generator in a second process (the URLs on its stdin, as JSON) and return
    its summary."""
    out = subprocess.run(
        [sys.executable, __file__, "--loadgen", str(count), str(limit_s)],
        input=json.dumps([urls] if isinstance(urls, str) else urls),
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def _serve(db: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    """``strengthmap serve`` over the SQLite file ``db`` (no data load) on 127.0.0.1:``port``."""
    env = {**os.environ, "STRENGTHMAP_DATABASE_URL": f"sqlite:///{db}"}
    args = ["serve", "--no-load", "--workers", str(workers), "--port", str(port)]
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "strengthmap"), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _checkpoint(store: Any) -> None:
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _directory_workload(
    quick: bool, tmp: Path, count: int, limit_s: float
) -> Iterator[dict[str, Any]]:
    """The issue's workload: ``bench_directory.py``'s services and combined-search queries."""
    import httpx

    from strengthmap.directory.records import upsert_rows
    from strengthmap.directory.search import ServiceQuery, search_services
    from strengthmap.directory.taxonomy import install_default_taxonomy
    from strengthmap.storage import open_store

    n = 10_000 if quick else 100_000
    db = tmp / "directory.sqlite"
    store = open_store(f"sqlite:///{db}")
    install_default_taxonomy(store)
    with store.transaction() as session:  # as bench_directory.py writes them
        upsert_rows(session, flatten(generate(n)), source="bench", licence="CC0-1.0")
    params = directory_queries(quick)
    # the answers in process, to check that the feed answers the same questions
    expected = [
        search_services(
            store,
            ServiceQuery(
                text=q["text"],
                taxonomy_term_ids=[q["taxonomy_term_id"]],
                near=(q["lon"], q["lat"]),
                radius_m=q["proximity"],
                day="wed",
                start_time=q["start_time"],
                end_time=q["end_time"],
                per_page=q["per_page"],
            ),
        ).total
        for q in params
    ]
    _checkpoint(store)
    store.close()

    port = _free_port()
    server = _serve(db, port, 2)
    try:
        base = f"http://127.0.0.1:{port}/openreferral/services"
        _wait(f"http://127.0.0.1:{port}/openreferral/", server)
        urls = [str(httpx.URL(base, params=q)) for q in params]
        with httpx.Client(timeout=30) as client:
            served = [client.get(url).json()["total_items"] for url in urls]
        assert served == expected, list(zip(served, expected, strict=True))
        got = _loadgen(urls, count, limit_s)
    finally:
        _stop(server)
    yield record(
        "openreferral_services_full_filters_rps",
        got["rps"],
        "requests/s",
        services=n,
        workload="bench_directory services and combined-search queries",
        queries=len(urls),
        mean_matches=round(sum(expected) / len(expected), 2),
        max_matches=max(expected),
        p95_ms=round(got["p95_ms"], 2),
        requests=got["requests"],
        errors=got["errors"],
        target=300,
        workers=2,
    )


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    import httpx

    from strengthmap.directory.oruk import import_oruk
    from strengthmap.storage import open_store

    count = 1_000 if quick else 3_000
    limit_s = 30.0 if quick else 60.0
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        yield from _directory_workload(quick, tmp, count, limit_s)

        # the dense cluster: every service within ~3 km of New Wortley
        n = 5_000 if quick else 100_000
        db = tmp / "feed.sqlite"
        store = open_store(f"sqlite:///{db}")
        services = synthetic_services(n)
        t0 = time.perf_counter()
        for i in range(0, n, 10_000):
            import_oruk(store, services[i : i + 10_000], source="bench")
        import_s = time.perf_counter() - t0
        _checkpoint(store)
        store.close()
        yield record("openreferral_dense_import_rate", n / import_s, "services/s", services=n)

        ours_port, ours1_port, peer_port = _free_port(), _free_port(), _free_port()
        # two workers (one per core) for the dense run; the comparison with datasette, which
        # serves from one process, uses one worker too
        ours = _serve(db, ours_port, 2)
        ours1 = _serve(db, ours1_port, 1)
        # datasette does not detect an FTS5 table declared with content='service'; name it
        meta = tmp / "metadata.json"
        meta.write_text(
            json.dumps(
                {
                    "databases": {
                        db.stem: {
                            "tables": {"service": {"fts_table": "service_fts", "fts_pk": "rowid"}}
                        }
                    }
                }
            )
        )
        peer = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "datasette"),
                "serve",
                str(db),
                "--port",
                str(peer_port),
                "--metadata",
                str(meta),
                "--setting",
                "num_sql_threads",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{ours_port}/openreferral/services"
            peer_base = f"http://127.0.0.1:{peer_port}/{db.stem}/service.json"
            _wait(f"http://127.0.0.1:{ours_port}/openreferral/", ours)
            _wait(f"http://127.0.0.1:{ours1_port}/openreferral/", ours1)
            _wait(f"http://127.0.0.1:{peer_port}/{db.stem}.json", peer)
            dense_url = str(httpx.URL(base, params=FULL_QUERY))
            text_url = str(
                httpx.URL(
                    f"http://127.0.0.1:{ours1_port}/openreferral/services", params={"text": "lunch"}
                )
            )
            peer_url = str(
                httpx.URL(peer_base, params={"_search": "lunch", "_size": 50, "_shape": "objects"})
            )
            dense = httpx.get(dense_url, timeout=30).json()
            ours_text = httpx.get(text_url, timeout=30).json()
            peer_text = httpx.get(peer_url, timeout=30).json()
            assert dense["total_items"] > 0, "the dense query should find something"
            assert ours_text["total_items"] == peer_text["filtered_table_rows_count"], (
                ours_text["total_items"],
                peer_text["filtered_table_rows_count"],
            )
            got_dense = _loadgen(dense_url, count, limit_s)
            got_text = _loadgen(text_url, count, limit_s)
            got_peer = _loadgen(peer_url, count, limit_s)
        finally:
            _stop(ours, ours1, peer)
        yield record(
            "openreferral_services_dense_cluster_rps",
            got_dense["rps"],
            "requests/s",
            services=n,
            workload="all services within ~3 km of New Wortley, one URL (full filters there)",
            matches=dense["total_items"],
            p95_ms=round(got_dense["p95_ms"], 2),
            requests=got_dense["requests"],
            errors=got_dense["errors"],
            workers=2,
        )
        yield record(
            "openreferral_services_text_rps",
            got_text["rps"],
            "requests/s",
            services=n,
            matches=ours_text["total_items"],
            p95_ms=round(got_text["p95_ms"], 2),
            peer="datasette " + _datasette_version(),
            peer_value=round(got_peer["rps"], 3),
            peer_p95_ms=round(got_peer["p95_ms"], 2),
            ratio=round(got_text["rps"] / got_peer["rps"], 3) if got_peer["rps"] else None,
            errors=got_text["errors"] + got_peer["errors"],
            workers=1,
        )


def _datasette_version() -> str:
    try:
        from importlib.metadata import version

        return version("datasette")
    except Exception:
        return "?"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--loadgen":
        count, limit_s = int(sys.argv[2]), float(sys.argv[3])
        concurrency = int(sys.argv[4]) if len(sys.argv) > 4 else 16
        urls = json.load(sys.stdin)
        print(json.dumps(asyncio.run(_load(urls, count, concurrency, limit_s))))
    else:
        for rec in run("--quick" in sys.argv, None):
            print(json.dumps(rec), flush=True)
