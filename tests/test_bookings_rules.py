"""A hypothesis state machine over the booking rules: random requests, series, confirmations,
declines, cancellations and the clock moving on, checked against a plain model after every step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from sqlalchemy import delete

from bookings_helpers import add_location, make_room, overlapping_holds
from strengthmap.bookings import (
    BookingConflict,
    BookingRequest,
    cancel_booking,
    confirm_booking,
    decline_booking,
    free_slots,
    list_bookings,
    request_booking,
)
from strengthmap.errors import Conflict, InputError
from strengthmap.storage import Store, open_store, schema

START = datetime(2026, 11, 30, 9, tzinfo=UTC)
HOLD = timedelta(hours=6)
HOLDING = {"pending", "confirmed", "completed"}


class BookingRules(RuleBasedStateMachine):
    """The model: every booking's interval and status, and the clock."""

    store: Store
    room_ids: list[str]
    bookings = Bundle("bookings")

    def __init__(self) -> None:
        super().__init__()
        with self.store.transaction() as s:
            for t in (
                schema.BookingMessage,
                schema.AuditEntry,
                schema.Booking,
                schema.BookingSeries,
            ):
                s.execute(delete(t))
        self.now = START
        self.model: dict[str, dict[str, Any]] = {}

    def _blocks(self, b: dict[str, Any]) -> tuple[datetime, datetime]:
        return b["start"] - timedelta(minutes=15), b["end"] + timedelta(minutes=15)

    def _holds(self, b: dict[str, Any]) -> bool:
        if b["status"] == "pending":
            return bool(b["hold_until"] > self.now)
        return b["status"] in ("confirmed", "completed")

    def _free(self, room: int, start: datetime, end: datetime, exclude: str | None = None) -> bool:
        lo, hi = start - timedelta(minutes=15), end + timedelta(minutes=15)
        for k, b in self.model.items():
            if k != exclude and b["room"] == room and self._holds(b):
                bs, be = self._blocks(b)
                if bs < hi and be > lo:
                    return False
        return True

    @rule(
        target=bookings,
        room=st.integers(0, 1),
        day=st.integers(1, 4),
        slot=st.integers(0, 50),
        length=st.integers(2, 12),
    )
    def request(self, room: int, day: int, slot: int, length: int) -> str:
        start = datetime(2026, 12, day, 8, tzinfo=UTC) + timedelta(minutes=15 * slot)
        end = start + timedelta(minutes=15 * length)
        valid = start >= self.now and end <= start.replace(hour=22, minute=0)
        free = self._free(room, start, end)
        try:
            r = request_booking(self.store, BookingRequest(room_id=self.room_ids[room], start=start, end=end,
                                hirer_name="H", email="h@example.org", category="resident"), now=self.now, hold=HOLD)  # fmt: skip
        except BookingConflict:
            assert valid and not free
            return "none"
        except InputError:
            assert not valid
            return "none"
        assert valid and free
        self.model[r.id] = {
            "room": room,
            "start": start,
            "end": end,
            "status": "pending",
            "hold_until": min(self.now + HOLD, start),
        }
        return r.id

    @rule(b=bookings)
    def confirm(self, b: str) -> None:
        if b == "none":
            return
        self._settle()
        m = self.model[b]
        if m["status"] == "confirmed":
            expected = "confirmed"
        elif m["status"] not in ("pending", "expired") or m["start"] <= self.now:
            expected = "refused"
        elif m["status"] == "expired" and not self._free(
            m["room"], m["start"], m["end"], exclude=b
        ):
            expected = "clash"
        else:
            expected = "confirmed"
        try:
            confirm_booking(self.store, b, now=self.now)
            outcome = "confirmed"
        except BookingConflict:
            outcome = "clash"
        except Conflict:
            outcome = "refused"
        assert outcome == expected, (m, outcome)
        if outcome == "confirmed":
            m["status"] = "confirmed"

    @rule(b=bookings)
    def decline(self, b: str) -> None:
        if b == "none":
            return
        self._settle()
        m = self.model[b]
        try:
            decline_booking(self.store, b, now=self.now)
        except Conflict:
            assert m["status"] not in ("pending", "expired", "declined")
            return
        assert m["status"] in ("pending", "expired", "declined")
        m["status"] = "declined"

    @rule(b=bookings)
    def cancel(self, b: str) -> None:
        if b == "none":
            return
        self._settle()
        m = self.model[b]
        try:
            cancel_booking(self.store, b, by="staff", now=self.now)
        except Conflict:
            assert m["status"] not in ("pending", "confirmed", "cancelled")
            return
        assert m["status"] in ("pending", "confirmed", "cancelled")
        m["status"] = "cancelled"

    @rule(hours=st.integers(1, 30))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    def _settle(self) -> None:
        for m in self.model.values():
            if m["status"] == "pending" and m["hold_until"] <= self.now:
                m["status"] = "expired"
            if m["status"] == "confirmed" and m["end"] <= self.now:
                m["status"] = "completed"

    @invariant()
    def matches_the_model_and_never_overlaps(self) -> None:
        self._settle()
        got = {b.id: b.status for b in list_bookings(self.store, now=self.now)}
        assert got == {k: v["status"] for k, v in self.model.items()}
        assert overlapping_holds(self.store) == 0

    @invariant()
    def free_slots_never_cross_a_hold(self) -> None:
        for room in (0, 1):
            a = free_slots(
                self.store, self.room_ids[room], "2026-12-01", "2026-12-05", now=self.now
            )
            for s in a.free:
                assert self._free(room, s.start, s.end)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgis"])
def test_booking_rules_state_machine(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        store = open_store(f"sqlite:///{tmp_path / 'rules.sqlite'}")
    else:
        store = request.getfixturevalue("postgis_store")
    loc = add_location(store)
    ids = [
        make_room(store, loc, name=f"R{i}", setup_minutes=15, cleanup_minutes=15).id
        for i in range(2)
    ]
    BookingRules.store = store
    BookingRules.room_ids = ids
    run = BookingRules.TestCase
    run.settings = settings(max_examples=25 if backend == "sqlite" else 8, stateful_step_count=30,
                            deadline=None, suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
    run().runTest()
    if backend == "sqlite":
        store.close()
