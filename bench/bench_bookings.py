"""Bookings: free slots of a room for a year (target < 50 ms), and booking throughput on SQLite and
PostgreSQL with concurrent writers.

Free slots: a room open Mo-Fr 09:00-21:30 and Sa 10:00-16:00 with about 700 bookings over the
year (weekday evening groups, daytime hires), set-up and clean-up buffers and closed dates;
the peer is the obvious implementation, a minute-by-minute grid of the year in numpy (open
minutes minus blocked ones, then runs), checked to give the same slots.

Throughput: worker processes make requests and confirmations over random overlapping slots in
5 rooms through a *client* (here the library, ``LibraryClient``); the peer is the database's own
guard alone (plain INSERTs that the exclusion constraint / triggers refuse on overlap, no checks
or quotes), on the same slots. An HTTP client against ``serve --workers 2`` slots in beside
``LibraryClient`` when the bookings API lands (same ``request`` / ``confirm`` methods).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

from booking_clients import POSTGIS_URL, location, worker
from common import record, versus
from strengthmap.bookings import (
    BookingConflict,
    BookingRequest,
    RoomSpec,
    add_room,
    confirm_booking,
    request_booking,
)
from strengthmap.bookings.availability import free_slots
from strengthmap.bookings.rooms import Closure
from strengthmap.storage import Store, open_store

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)


def _busy_room(store: Store) -> str:
    room = add_room(store, RoomSpec(location_id=location(store), name="Hall", capacity=60,
                                    hours=["Mo-Fr 09:00-21:30; Sa 10:00-16:00"], setup_minutes=15,
                                    cleanup_minutes=15, closed=[Closure(date(2026, 12, 24), date(2027, 1, 2), "Christmas")]))  # fmt: skip
    rnd = random.Random(7)
    day = date(2026, 11, 2)
    while day < date(2027, 10, 30):
        for _ in range(3):
            if day.weekday() == 6:
                break
            h = rnd.choice([9, 10, 13, 14, 18, 19])
            start = datetime(day.year, day.month, day.day, h, rnd.choice([0, 30]))
            try:
                r = request_booking(store, BookingRequest(room_id=room.id, start=start.isoformat(),
                                    end=(start + timedelta(minutes=rnd.choice([60, 90, 120]))).isoformat(),
                                    hirer_name="B", email="b@example.org", category="voluntary"), now=NOW)  # fmt: skip
                if rnd.random() < 0.8:
                    confirm_booking(store, r.id, now=NOW)
            except (BookingConflict, Exception):
                pass
        day += timedelta(days=1)
    return room.id


def _grid_peer(
    store: Store, room_id: str, lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime]]:
    """The obvious way: a boolean per minute of the range (open, minus each block widened)."""
    from strengthmap.bookings.rooms import get_room
    from strengthmap.directory.schedules import occurrences

    room = get_room(store, room_id)
    n = int((hi - lo).total_seconds() // 60)
    grid = np.zeros(n, dtype=bool)

    def idx(t: datetime) -> int:
        return min(n, max(0, int((t - lo).total_seconds() // 60)))

    for rec in room.hours.schedules:
        for o in occurrences(rec, lo, hi):
            grid[idx(o.start) : idx(o.end)] = True
    for c in room.closed:
        from strengthmap.bookings.times import local_midnight

        grid[idx(local_midnight(c.start)) : idx(local_midnight(c.end + timedelta(days=1)))] = False
    grid[: idx(NOW)] = False
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT block_starts_at, block_ends_at, status, hold_until FROM booking WHERE room_id = :r"
            ),
            {"r": room_id},
        ).all()
    for bs, be, status, _hold in rows:
        if status not in ("pending", "confirmed", "completed"):
            continue
        bs, be = (
            v if isinstance(v, datetime) else datetime.fromisoformat(str(v)) for v in (bs, be)
        )
        bs, be = (v.replace(tzinfo=UTC) if v.tzinfo is None else v for v in (bs, be))
        grid[
            idx(bs - timedelta(minutes=room.cleanup_minutes)) : idx(
                be + timedelta(minutes=room.setup_minutes)
            )
        ] = False
    edges = np.flatnonzero(np.diff(np.concatenate(([0], grid.view(np.int8), [0]))))
    out = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        s, e = lo + timedelta(minutes=int(a)), lo + timedelta(minutes=int(b))
        step = room.step_minutes
        s = s + timedelta(minutes=(-s.minute) % step)
        e = e - timedelta(minutes=e.minute % step)
        if e - s >= timedelta(minutes=room.min_minutes):
            out.append((s, e))
    return out


def _overlaps(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM booking a JOIN booking b ON a.room_id = b.room_id AND a.id < b.id "
            "WHERE a.status IN ('pending','confirmed','completed') AND b.status IN ('pending','confirmed','completed') "
            "AND a.block_starts_at < b.block_ends_at AND b.block_starts_at < a.block_ends_at")).scalar_one())  # fmt: skip


def _throughput(kind: str, store: Store, workers: int, seconds: float) -> tuple[float, int, int]:
    with store.engine.begin() as conn:
        for t in ("booking_message", "audit_entry", "booking", "booking_series"):
            conn.execute(text(f"DELETE FROM {t}"))
    loc = location(store)
    rooms = [
        add_room(
            store,
            RoomSpec(
                location_id=loc, name=f"R{i}", capacity=20, setup_minutes=15, cleanup_minutes=15
            ),
        ).id
        for i in range(5)
    ]
    url = store.engine.url.render_as_string(hide_password=False)
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(kind, url, rooms, s, seconds, out)) for s in range(workers)
    ]
    for p in procs:
        p.start()
    res = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    ops = sum(r[0] for r in res)
    return ops / seconds, sum(r[1] for r in res), _overlaps(store)


def _pg_store() -> Store | None:
    try:
        server = open_store(POSTGIS_URL, upgrade=False)
        name = f"{server.engine.url.database}_bench_{os.getpid()}"
        admin = server.engine.execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        server.close()
        return open_store(
            server.engine.url.set(database=name).render_as_string(hide_password=False)
        )
    except Exception:
        return None


def _drop_pg(store: Store) -> None:
    url = store.engine.url
    store.close()
    server = open_store(POSTGIS_URL, upgrade=False)
    with server.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    server.close()


def run(quick: bool, data_dir: Path | None) -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.sqlite")
        room_id = _busy_room(store)
        lo, hi = datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 11, 1, tzinfo=UTC)
        free_slots(store, room_id, lo, hi, now=NOW)
        runs = [
            _timed(lambda: free_slots(store, room_id, lo, hi, now=NOW))
            for _ in range(5 if quick else 20)
        ]
        best, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        slots = free_slots(store, room_id, lo, hi, now=NOW)
        t0 = time.perf_counter()
        peer = _grid_peer(store, room_id, lo, hi)
        peer_s = time.perf_counter() - t0
        assert [(s.start, s.end) for s in slots.free] == peer, (
            "free slots differ from the minute grid"
        )
        with store.engine.connect() as conn:
            n = conn.execute(
                text("SELECT count(*) FROM booking WHERE status IN ('pending','confirmed')")
            ).scalar_one()
        yield versus(f"bookings: free slots of a room for a year ({n} holding bookings, {len(slots.free)} slots)",
                     best, "minute grid in numpy (same slots)", peer_s, target_s=0.05, under_target=best < 0.05,
                     cpu_s=round(cpu, 6), load_average=round(os.getloadavg()[0], 1))  # fmt: skip
        store.close()
        workers = 4
        seconds = 4.0 if quick else 10.0
        backends: list[tuple[str, Store]] = [("sqlite", open_store(f"sqlite:///{tmp}/tp.sqlite"))]
        pg = _pg_store()
        if pg is not None:
            backends.append(("postgresql", pg))
        for name, st in backends:
            ours, refused, overlaps = _throughput("library", st, workers, seconds)
            peer_rate, _, peer_overlaps = _throughput("guard-only", st, workers, seconds)
            yield record(f"bookings: requests+confirmations per second, {workers} processes, 5 rooms ({name}, library)",
                         ours, "ops/s", peer="database guard alone (plain INSERTs)", peer_value=round(peer_rate, 1),
                         ratio=round(ours / peer_rate, 3), refused=refused, overlapping_holds=overlaps + peer_overlaps,
                         load_average=round(os.getloadavg()[0], 1))  # fmt: skip
            if name == "postgresql":
                _drop_pg(st)
            else:
                st.close()


def _timed(fn: Any) -> tuple[float, float]:
    """Wall and CPU seconds of one call (CPU time is what the machine's other load does not add)."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0
