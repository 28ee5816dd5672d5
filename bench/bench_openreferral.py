"""The /openreferral feed under load: ``strengthmap serve`` vs ``datasette`` on the same SQLite file.

N synthetic ORUK services (100,000; quick: 5,000) within about 3 km of New Wortley are imported with
``import_oruk`` (its rate is recorded too). ``strengthmap serve`` (uvicorn; two workers for the
target, one for the comparison) and ``datasette`` (one process) each serve the file on a random
free port on 127.0.0.1; a load generator in a second process (raw asyncio HTTP/1.1, 16 keep-alive
connections, bounded count and time) measures requests per second for:

- ours, full filters: ``/openreferral/services?text=lunch&taxonomy_term_id=food&proximity=1000
  &lat=..&lon=..&day=wednesday&start_time=13:00&end_time=16:00`` (the issue's target: >= 300/s);
- ours, text only, and datasette's equivalent full-text query
  ``/db/service.json?_search=lunch&_size=50`` (FTS5 over the same ``service_fts`` table); the two
  must report the same number of matches (asserted) before their rates are compared.

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


async def _load(url: str, count: int, concurrency: int, limit_s: float) -> dict[str, Any]:
    """``count`` GETs of ``url`` over ``concurrency`` keep-alive connections (at most
    ``limit_s`` seconds), timed after ``WARMUP_PER_CONNECTION`` untimed GETs on each (a server
    worker's first requests fill its statement caches and connection pool).

    A raw asyncio HTTP/1.1 client: httpx's client cost about 1.9 ms of CPU per request here,
    which on 2 cores is taken from the servers being measured."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Accept: application/json\r\nAccept-Encoding: gzip\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    next_i = 0
    deadline = time.monotonic() + limit_s

    async def worker() -> None:
        nonlocal next_i, errors
        conn = _Connection(parts.hostname or "127.0.0.1", parts.port or 80)
        try:
            for _ in range(WARMUP_PER_CONNECTION):  # steady state: statement caches, pools
                await conn.get(request)
            ready.append(1)
            if len(ready) == concurrency:
                start.set()
            await start.wait()
            while next_i < count and time.monotonic() < deadline:
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
    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
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


def _loadgen(url: str, count: int, limit_s: float) -> dict[str, Any]:
    """Run the load generator in a second process and return its summary."""
    out = subprocess.run(
        [sys.executable, __file__, "--loadgen", url, str(count), str(limit_s)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    import httpx

    from strengthmap.directory.oruk import import_oruk
    from strengthmap.storage import open_store

    n = 5_000 if quick else 100_000
    count = 1_000 if quick else 3_000
    limit_s = 30.0 if quick else 60.0
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "feed.sqlite"
        store = open_store(f"sqlite:///{db}")
        services = synthetic_services(n)
        t0 = time.perf_counter()
        for i in range(0, n, 10_000):
            import_oruk(store, services[i : i + 10_000], source="bench")
        import_s = time.perf_counter() - t0
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        store.close()
        yield record("oruk_import_rate", n / import_s, "records/s", services=n)

        env = {**os.environ, "STRENGTHMAP_DATABASE_URL": f"sqlite:///{db}"}
        ours_port, ours1_port, peer_port = _free_port(), _free_port(), _free_port()
        bin_dir = Path(sys.executable).parent

        def serve(port: int, workers: int) -> subprocess.Popen[bytes]:
            args = ["serve", "--no-load", "--workers", str(workers), "--port", str(port)]
            return subprocess.Popen(
                [str(bin_dir / "strengthmap"), *args],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        # the target is for the machine (2 cores: one worker per core); the comparison with
        # datasette, which serves from one process, uses one worker too
        ours = serve(ours_port, 2)
        ours1 = serve(ours1_port, 1)
        # datasette does not detect an FTS5 table declared with content='service'; name it
        meta = Path(tmp) / "metadata.json"
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
                str(bin_dir / "datasette"),
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
            full_url = str(httpx.URL(base, params=FULL_QUERY))
            text_url = str(
                httpx.URL(
                    f"http://127.0.0.1:{ours1_port}/openreferral/services", params={"text": "lunch"}
                )
            )
            peer_url = str(
                httpx.URL(peer_base, params={"_search": "lunch", "_size": 50, "_shape": "objects"})
            )
            full = httpx.get(full_url, timeout=30).json()
            ours_text = httpx.get(text_url, timeout=30).json()
            peer_text = httpx.get(peer_url, timeout=30).json()
            assert full["total_items"] > 0, "the full query should find something"
            assert ours_text["total_items"] == peer_text["filtered_table_rows_count"], (
                ours_text["total_items"],
                peer_text["filtered_table_rows_count"],
            )
            got_full = _loadgen(full_url, count, limit_s)
            got_text = _loadgen(text_url, count, limit_s)
            got_peer = _loadgen(peer_url, count, limit_s)
        finally:
            for proc in (ours, ours1, peer):
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        yield record(
            "openreferral_services_full_filters_rps",
            got_full["rps"],
            "requests/s",
            services=n,
            matches=full["total_items"],
            p95_ms=round(got_full["p95_ms"], 2),
            requests=got_full["requests"],
            errors=got_full["errors"],
            target=300,
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
        url, count, limit_s = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 16
        print(json.dumps(asyncio.run(_load(url, count, concurrency, limit_s))))
    else:
        for rec in run("--quick" in sys.argv, None):
            print(json.dumps(rec), flush=True)
