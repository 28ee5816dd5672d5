"""Several server processes on one port, each with its own listening socket (``SO_REUSEPORT``).

``strengthmap serve --workers N`` runs N uvicorn servers. Sharing one listening socket, as
uvicorn's own supervisor does, lets whichever process wakes first take every waiting connection
(asyncio accepts up to the backlog in one go): 16 keep-alive clients arriving together often all
landed on one worker, and the feed served at half its speed (measured: 310 against 650 requests
a second, at random from run to run). Here each worker listens on a socket of its own, bound to
the same address with ``SO_REUSEPORT``, and the Linux kernel spreads new connections across them
by a hash of the client's address and port.

The parent process starts the workers, restarts one that dies, and stops them all on SIGINT or
SIGTERM. Each worker builds the app from the environment (``app_from_environment``), as uvicorn's
supervisor would. Where ``SO_REUSEPORT`` does not balance (not Linux), ``serve`` uses uvicorn's
supervisor instead (``balanced_workers_supported``).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from typing import Any

logger = logging.getLogger("uvicorn.error")

#: Seconds between checks that every worker is alive.
CHECK_EVERY_S = 0.5
#: A worker that dies this many times in a row, each within ``QUICK_S`` of starting, stops the
#: server (it cannot start: a broken app or store), rather than restarting for ever.
MAX_QUICK_DEATHS = 5
QUICK_S = 60.0


def balanced_workers_supported() -> bool:
    """``SO_REUSEPORT`` spreads connections across sockets (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def reuseport_sockets(host: str, port: int, n: int) -> list[socket.socket]:
    """``n`` TCP sockets bound to ``host``:``port`` with ``SO_REUSEPORT`` (port 0: the first
    socket's free port for all), not yet listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    out: list[socket.socket] = []
    try:
        for _ in range(n):
            sock = socket.socket(family, socket.SOCK_STREAM)
            out.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.set_inheritable(True)
    except OSError:
        for sock in out:
            sock.close()
        raise
    return out


def _worker(config_kwargs: dict[str, Any], sock: socket.socket) -> None:  # pragma: no cover
    """One worker process: a uvicorn server on its own socket (runs in the child)."""
    import uvicorn

    config = uvicorn.Config(**config_kwargs)
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(config_kwargs: dict[str, Any], workers: int) -> int:
    """Serve with ``workers`` processes, each on its own ``SO_REUSEPORT`` socket, until SIGINT
    or SIGTERM; returns the exit code (0 after a clean stop).

    ``config_kwargs`` are ``uvicorn.Config``'s arguments, with ``app`` an import string (each
    worker imports it) and ``host`` / ``port``.
    """
    sockets = reuseport_sockets(config_kwargs["host"], config_kwargs["port"], workers)
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    procs: list[Any] = [None] * workers
    started_at = [0.0] * workers
    deaths = [0] * workers

    def start(i: int) -> None:
        started_at[i] = time.monotonic()
        proc = context.Process(
            target=_worker, args=(config_kwargs, sockets[i]), name=f"strengthmap-worker-{i}"
        )
        proc.start()
        procs[i] = proc

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        for i in range(workers):
            start(i)
        while not stop.wait(CHECK_EVERY_S):
            for i, proc in enumerate(procs):
                if proc.is_alive():
                    continue
                quick = time.monotonic() - started_at[i] < QUICK_S
                deaths[i] = deaths[i] + 1 if quick else 1
                if deaths[i] >= MAX_QUICK_DEATHS:
                    logger.error("Worker %d keeps dying (exit code %s): stopping", i, proc.exitcode)
                    code = 1
                    stop.set()
                    break
                logger.warning("Worker %d died (exit code %s): restarting", i, proc.exitcode)
                start(i)
    finally:
        for proc in procs:
            if proc is not None and proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn finishes its requests and exits
        for proc in procs:
            if proc is not None:
                proc.join(timeout=30)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


__all__ = ["balanced_workers_supported", "reuseport_sockets", "run_workers"]
