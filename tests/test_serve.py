"""The README's main command path end to end: ``strengthmap serve`` run as a real process on a
fresh SQLite file creates the database, loads the data directory, answers, and stops cleanly; with
no data it says exactly how to get some and still starts. Also ``python -m strengthmap``."""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from strengthmap.sources.catalog import CATALOG

START_TIMEOUT_S = 120.0  # the first run loads the whole Leeds data directory (about 7 s here)


def _command() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m strengthmap.cli``."""
    script = Path(sys.executable).parent / "strengthmap"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "strengthmap.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base: str
    out: Path
    err: Path

    def output(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def stop(self) -> int:
        """Ctrl-C, as a person would; uvicorn shuts down cleanly and exits 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"serve did not stop on SIGINT:\n{self.output()}")
        return int(self.proc.returncode)


StartServe = Callable[..., Server]


@pytest.fixture
def start_serve(tmp_path: Path) -> Iterator[StartServe]:
    """``start_serve(database_url, data_dir)`` runs ``strengthmap serve --port <free>`` in tmp and
    waits until ``/api/health`` answers; every server started is stopped at the end."""
    started: list[Server] = []

    def start(database_url: str, data_dir: Path, *args: str) -> Server:
        port = _free_port()
        env = dict(os.environ)
        env.update(
            STRENGTHMAP_DATABASE_URL=database_url,
            STRENGTHMAP_DATA_DIR=str(data_dir),
            COLUMNS="200",  # rich: no wrapping of the messages checked below
        )
        n = len(started)
        out, err = tmp_path / f"serve{n}.out", tmp_path / f"serve{n}.err"
        with out.open("wb") as fo, err.open("wb") as fe:
            proc = subprocess.Popen(
                [*_command(), "serve", "--port", str(port), *args],
                cwd=tmp_path,  # anything written relative to the working directory stays in tmp
                env=env,
                stdout=fo,
                stderr=fe,
                stdin=subprocess.DEVNULL,
            )
        server = Server(proc, f"http://127.0.0.1:{port}", out, err)
        started.append(server)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"serve exited with {proc.returncode}:\n{server.output()}")
            try:
                if httpx.get(server.base + "/api/health", timeout=2.0).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        pytest.fail(f"serve did not answer within {START_TIMEOUT_S} s:\n{server.output()}")

    yield start
    for s in started:
        s.stop()


def _home_counts(page: str) -> tuple[int, int]:
    """(LSOAs, datasets) as the home page states them."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    lsoas = re.search(r"\((\d[\d,]*) neighbourhoods\)", text)
    datasets = re.search(r"\((\d[\d,]*) loaded\)", text)
    assert lsoas and datasets, text
    return int(lsoas[1].replace(",", "")), int(datasets[1].replace(",", ""))


@pytest.mark.realdata
@pytest.mark.slow
def test_first_run_creates_the_database_loads_the_data_and_serves(
    start_serve: StartServe, data_dir: Path, tmp_path: Path
) -> None:
    db = tmp_path / "var" / "fresh.sqlite"  # a folder that does not exist yet either
    url = f"sqlite:///{db}"
    server = start_serve(url, data_dir)
    assert db.is_file()
    health = httpx.get(server.base + "/api/health").json()
    assert health["status"] == "ok" and health["backend"] == "sqlite" and health["revision"]

    # independent expectations: the boundary file's features, the catalogued files present
    lsoa_file = json.loads((data_dir / "boundaries/leeds_lsoa2011_bgc.geojson").read_text())
    assert len(lsoa_file["features"]) == 482
    expected = {e.id for e in CATALOG if (data_dir / e.path).is_file()}
    datasets = httpx.get(server.base + "/api/datasets").json()
    ids = {d["id"] for d in datasets}
    assert expected <= ids, expected - ids
    assert _home_counts(httpx.get(server.base + "/").text) == (482, len(datasets))
    about = html.unescape(httpx.get(server.base + "/about/data").text)
    for d in datasets:
        assert d["title"] in about, d["id"]

    first = server.output()
    assert "First run: loading" in first and "postcodes_ls" in first  # the summary table
    assert server.stop() == 0
    assert "Application shutdown complete" in server.output()

    # the second start finds the store loaded: no second load, same content
    again = start_serve(url, data_dir)
    assert "First run" not in again.output()
    assert _home_counts(httpx.get(again.base + "/").text) == (482, len(datasets))
    assert again.stop() == 0


@pytest.mark.slow
def test_no_data_says_how_to_get_some_and_still_starts(
    start_serve: StartServe, tmp_path: Path
) -> None:
    empty = tmp_path / "no-data"
    empty.mkdir()
    server = start_serve(f"sqlite:///{tmp_path / 'empty.sqlite'}", empty)
    assert httpx.get(server.base + "/api/health").json()["status"] == "ok"
    assert _home_counts(httpx.get(server.base + "/").text) == (0, 0)
    said = " ".join(server.err.read_text().split())  # rich may wrap: compare word by word
    assert f"No data found in {empty}" in said
    assert "strengthmap data download --place Leeds" in said
    assert "STRENGTHMAP_DATA_DIR" in said
    assert server.stop() == 0


@pytest.mark.parametrize("module", ["strengthmap", "strengthmap.cli"])
def test_python_dash_m_help(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    assert f"python -m {module}" in done.stdout
    for command in ("serve", "data", "areas"):
        assert re.search(rf"^\W*{command}\b", done.stdout, re.MULTILINE), command


@pytest.mark.slow
def test_workers_share_the_settings_so_csrf_tokens_work_in_every_worker(
    start_serve: StartServe, tmp_path: Path
) -> None:
    """``serve --workers 2``: each worker builds the app from the environment; a CSRF token made
    by one worker must be accepted by the other (same secret key), so a wrong password gives 401
    (CSRF passed), never 403 (CSRF refused), whichever worker answers."""
    empty = tmp_path / "no-data"
    empty.mkdir()
    server = start_serve(f"sqlite:///{tmp_path / 'w.sqlite'}", empty, "--workers", "2")
    with httpx.Client(base_url=server.base) as client:
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, "the login form carries a CSRF token"
        cookies = client.cookies
    statuses = []
    for i in range(12):  # each on a new connection: the kernel spreads them over the workers
        with httpx.Client(base_url=server.base, cookies=cookies) as fresh:
            statuses.append(
                fresh.post(
                    "/login",
                    data={
                        "email": f"nobody{i}@example.org",
                        "password": "x",
                        "csrf_token": token[1],
                    },
                ).status_code
            )
    assert statuses == [401] * 12
    said = server.output()
    assert said.count("Started server process") == 2, said
    # connections are spread over both workers (each has its own SO_REUSEPORT socket), not all
    # taken by whichever woke first: 24 new connections reach two processes
    pids = set()
    for _ in range(24):
        with httpx.Client(base_url=server.base) as fresh:
            pids.add(fresh.get("/api/health").json()["pid"])
    assert len(pids) == 2, pids
    # each worker listens on a socket of its own (SO_REUSEPORT), so the kernel, not a race
    # between the workers, shares out new connections: two listening sockets on the port (with
    # one shared socket, as uvicorn's supervisor has, 16 keep-alive connections opened together
    # often all went to one worker and the feed ran at half speed)
    port = int(server.base.rsplit(":", 1)[1])
    listening = [
        line.split()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
        if line.split()[3] == "0A"  # TCP_LISTEN
    ]
    assert sum(int(f[1].split(":")[1], 16) == port for f in listening) == 2, listening
    # a worker that dies is replaced, on its socket, and the other goes on answering
    dead = pids.pop()
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 60
    seen: set[int] = set()
    while time.monotonic() < deadline and len(seen - {dead}) < 2:
        with contextlib.suppress(httpx.HTTPError), httpx.Client(base_url=server.base) as fresh:
            seen.add(fresh.get("/api/health", timeout=5).json()["pid"])
        time.sleep(0.05)
    assert dead not in seen and len(seen) == 2 and pids < seen, (dead, seen)


@pytest.mark.slow
def test_workers_that_cannot_start_stop_the_server_instead_of_restarting_for_ever() -> None:
    """A worker that dies again and again right after starting (here: an app that cannot be
    imported) makes the supervisor stop with exit code 1, its sockets closed."""
    from strengthmap.server import workers

    port = _free_port()
    config = {"app": "strengthmap_no_such_module:app", "host": "127.0.0.1", "port": port,
              "log_level": "critical"}  # fmt: skip
    started = time.monotonic()
    assert workers.run_workers(config, 2) == 1
    assert time.monotonic() - started < 120
    with socket.socket() as s:  # the port is free again
        s.bind(("127.0.0.1", port))
