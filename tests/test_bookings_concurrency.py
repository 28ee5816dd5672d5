"""Concurrent writers cannot double-book: processes request and confirm overlapping random slots in
5 rooms straight through the library, on SQLite and on PostgreSQL, for a bounded time; then an
independent SQL query finds no two overlapping holding bookings, and every refusal was a clash."""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from bookings_helpers import add_location, make_room, overlapping_holds
from strengthmap.bookings import BookingConflict, BookingRequest, confirm_booking, request_booking
from strengthmap.storage import Store, open_store

WORKERS = 4
SECONDS = 6.0
NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)
DAYS = 3  # few days, so that random slots collide often


def _worker(url: str, room_ids: list[str], seed: int, seconds: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    store = open_store(url, upgrade=False)
    rnd = random.Random(seed)
    made, clashes, confirmed, other = 0, 0, 0, []
    mine: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if mine and rnd.random() < 0.3:
            try:
                confirm_booking(store, mine.pop(rnd.randrange(len(mine))), actor="w", now=NOW)
                confirmed += 1
            except BookingConflict:
                clashes += 1
            except Exception as exc:
                other.append(repr(exc))
            continue
        day = datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(days=rnd.randrange(DAYS))
        quarters = rnd.randrange(2, 12)  # 30 min to 2 h 45, inside 08:00-22:00 (GMT in December)
        start = day + timedelta(minutes=15 * rnd.randrange(0, 56 - quarters + 1))
        end = start + timedelta(minutes=15 * quarters)
        try:
            r = request_booking(
                store,
                BookingRequest(
                    room_id=rnd.choice(room_ids),
                    start=start,
                    end=end,
                    hirer_name=f"w{seed}",
                    email="w@example.org",
                    category="voluntary",
                ),
                now=NOW,
            )
            made += 1
            mine.append(r.id)
        except BookingConflict:
            clashes += 1
        except Exception as exc:  # outside hours etc. are not expected: slots stay within 08-22
            other.append(repr(exc))
    store.close()
    out.put((made, clashes, confirmed, other))


@pytest.mark.slow
def test_no_double_booking_under_concurrent_writers(store: Store) -> None:
    loc = add_location(store)
    rooms = [
        make_room(store, loc, name=f"Room {i}", setup_minutes=15, cleanup_minutes=15).id
        for i in range(5)
    ]
    url = store.engine.url.render_as_string(hide_password=False)
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = [
        ctx.Process(target=_worker, args=(url, rooms, seed, SECONDS, out))
        for seed in range(WORKERS)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=SECONDS + 60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    made = sum(r[0] for r in results)
    clashes = sum(r[1] for r in results)
    errors = [e for r in results for e in r[3]]
    assert errors == []  # every refusal was a clash (409 / exit 5), nothing else
    assert made > 20 and clashes > 20, (made, clashes)  # the slots really did collide
    assert overlapping_holds(store) == 0
