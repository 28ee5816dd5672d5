"""Booking clients for bench_bookings (importable by name, so that spawned worker processes can
run them): the library itself and, as the peer, the database's own guard alone. An HTTP client
against ``serve --workers 2`` joins ``CLIENTS`` with the bookings API (same two methods)."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from strengthmap.bookings import BookingConflict, BookingRequest, confirm_booking, request_booking
from strengthmap.storage import Store, open_store, schema

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)
POSTGIS_URL = os.environ.get(
    "STRENGTHMAP_BENCH_POSTGIS_URL",
    "postgresql+psycopg://strengthmap:strengthmap@127.0.0.1:5432/strengthmap_test",
)


def location(store: Store) -> str:
    with store.transaction() as s:
        loc = schema.Location(name="Bench Centre", latitude=53.79, longitude=-1.57)
        s.add(loc)
        s.flush()
        return loc.id


class LibraryClient:
    """Requests and confirmations straight through the library (one store per process)."""

    def __init__(self, url: str) -> None:
        self.store = open_store(url, upgrade=False)

    def request(self, room_id: str, start: datetime, end: datetime) -> str | None:
        try:
            return request_booking(self.store, BookingRequest(room_id=room_id, start=start, end=end, hirer_name="W",
                                                              email="w@example.org", category="voluntary"), now=NOW).id  # fmt: skip
        except BookingConflict:
            return None

    def confirm(self, booking_id: str) -> bool:
        try:
            confirm_booking(self.store, booking_id, now=NOW)
            return True
        except BookingConflict:
            return False

    def close(self) -> None:
        self.store.close()


class GuardOnlyClient:
    """The peer: plain INSERTs; the database's exclusion constraint / triggers refuse overlaps."""

    def __init__(self, url: str) -> None:
        self.store = open_store(url, upgrade=False)
        self.sqlite = self.store.dialect == "sqlite"

    def request(self, room_id: str, start: datetime, end: datetime) -> str | None:
        bid = str(uuid.uuid4())

        def fmt(t: datetime) -> object:  # SQLite keeps UTC text, PostgreSQL a timestamptz
            return t.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else t

        try:
            with self.store.engine.begin() as conn:
                conn.execute(text("INSERT INTO booking (id, room_id, starts_at, ends_at, block_starts_at, block_ends_at, status, "
                                  "hirer_name, hirer_category, created_at) VALUES (:i, :r, :s, :e, :bs, :be, 'pending', 'W', 'voluntary', :s)"),
                             {"i": bid, "r": room_id, "s": fmt(start), "e": fmt(end), "bs": fmt(start - timedelta(minutes=15)),
                              "be": fmt(end + timedelta(minutes=15))})  # fmt: skip
            return bid
        except (IntegrityError, OperationalError):  # an overlap, or (PostgreSQL) a deadlock
            return None

    def confirm(self, booking_id: str) -> bool:
        try:
            with self.store.engine.begin() as conn:
                conn.execute(
                    text("UPDATE booking SET status = 'confirmed' WHERE id = :i"), {"i": booking_id}
                )
            return True
        # PostgreSQL: two confirmations checking each other's rows can deadlock
        except OperationalError:
            return False

    def close(self) -> None:
        self.store.close()


class Client(Protocol):
    def request(self, room_id: str, start: datetime, end: datetime) -> str | None: ...
    def confirm(self, booking_id: str) -> bool: ...
    def close(self) -> None: ...


CLIENTS: dict[str, Callable[[str], Client]] = {
    "library": LibraryClient,
    "guard-only": GuardOnlyClient,
}


def worker(kind: str, url: str, rooms: list[str], seed: int, seconds: float, out: Any) -> None:
    client = CLIENTS[kind](url)
    rnd = random.Random(seed)
    ops = refused = 0
    mine: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if mine and rnd.random() < 0.3:
            client.confirm(mine.pop(rnd.randrange(len(mine))))
        else:
            day = datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(days=rnd.randrange(60))
            quarters = rnd.randrange(2, 12)  # 30 min to 2 h 45, inside 08:00-22:00 (GMT)
            start = day + timedelta(minutes=15 * rnd.randrange(0, 56 - quarters + 1))
            bid = client.request(rnd.choice(rooms), start, start + timedelta(minutes=15 * quarters))
            if bid is None:
                refused += 1
            else:
                mine.append(bid)
        ops += 1
    client.close()
    out.put((ops, refused))
