"""Typed views of bookings: the staff view (with the hirer), clashes, and the conflict error.

The public never sees a :class:`BookingView`: public answers are built from
:mod:`strengthmap.bookings.availability` (busy and free times only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strengthmap.bookings.times import to_local_iso
from strengthmap.errors import Conflict
from strengthmap.storage import schema


@dataclass(frozen=True)
class Hirer:
    """Who asked (personal data: staff only, anonymised after the retention period)."""

    name: str
    email: str | None
    organisation: str | None
    postcode: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "email": self.email,
            "organisation": self.organisation,
            "postcode": self.postcode,
        }


@dataclass(frozen=True)
class BookingView:
    """One booking as staff see it (``to_dict`` has ``id``, ``start``, ``end``, ``status`` with
    London offsets, the hirer, the quote and the decision)."""

    id: str
    room_id: str
    room_name: str | None
    series_id: str | None
    start: datetime
    end: datetime
    block_start: datetime
    block_end: datetime
    status: str
    hold_until: datetime | None
    hirer: Hirer
    category: str
    area_code: str | None
    imd_decile: int | None
    imd_release: int | None
    people: int | None
    layout: str | None
    purpose: str | None
    extras: tuple[str, ...]
    quote: dict[str, Any] | None
    charge_pence: int | None
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    cancelled_at: datetime | None
    cancelled_by: str | None
    cancel_fee_pence: int | None
    cancel_rule: str | None
    anonymised: bool

    @classmethod
    def of(cls, row: schema.Booking, room_name: str | None = None) -> BookingView:
        return cls(
            id=row.id,
            room_id=row.room_id,
            room_name=room_name,
            series_id=row.series_id,
            start=row.starts_at,
            end=row.ends_at,
            block_start=row.block_starts_at,
            block_end=row.block_ends_at,
            status=row.status,
            hold_until=row.hold_until,
            hirer=Hirer(
                row.hirer_name, row.hirer_email, row.hirer_organisation, row.hirer_postcode
            ),
            category=row.hirer_category,
            area_code=row.hirer_area_code,
            imd_decile=row.hirer_imd_decile,
            imd_release=row.hirer_imd_release,
            people=row.people,
            layout=row.layout,
            purpose=row.purpose,
            extras=tuple(row.extras or ()),
            quote=row.quote,
            charge_pence=row.price_pence,
            created_at=row.created_at,
            decided_at=row.decided_at,
            decided_by=row.decided_by,
            decision_note=row.decision_note,
            cancelled_at=row.cancelled_at,
            cancelled_by=row.cancelled_by,
            cancel_fee_pence=row.cancel_fee_pence,
            cancel_rule=row.cancel_rule,
            anonymised=row.anonymised_at is not None,
        )

    def to_dict(self) -> dict[str, Any]:
        def iso(v: datetime | None) -> str | None:
            return to_local_iso(v) if v is not None else None

        return {
            "id": self.id,
            "room_id": self.room_id,
            "room_name": self.room_name,
            "series_id": self.series_id,
            "start": iso(self.start),
            "end": iso(self.end),
            "blocked_from": iso(self.block_start),
            "blocked_to": iso(self.block_end),
            "status": self.status,
            "hold_until": iso(self.hold_until),
            "hirer": self.hirer.to_dict(),
            "category": self.category,
            "home_area_code": self.area_code,
            "home_imd_decile": self.imd_decile,
            "home_imd_release": self.imd_release,
            "people": self.people,
            "layout": self.layout,
            "purpose": self.purpose,
            "extras": list(self.extras),
            "quote": self.quote,
            "charge_pence": self.charge_pence,
            "created_at": iso(self.created_at),
            "decided_at": iso(self.decided_at),
            "decided_by": self.decided_by,
            "decision_note": self.decision_note,
            "cancelled_at": iso(self.cancelled_at),
            "cancelled_by": self.cancelled_by,
            "cancel_fee_pence": self.cancel_fee_pence,
            "cancel_rule": self.cancel_rule,
            "anonymised": self.anonymised,
        }


@dataclass(frozen=True)
class Clash:
    """Why a requested time cannot be had: another booking holds it, or the room is shut then.

    ``booking_id`` names the holding booking (never its hirer); ``busy_from`` / ``busy_to`` is
    the time it keeps the room, buffers included.
    """

    start: datetime
    end: datetime
    reason: str
    booking_id: str | None = None
    busy_from: datetime | None = None
    busy_to: datetime | None = None
    status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": to_local_iso(self.start),
            "end": to_local_iso(self.end),
            "reason": self.reason,
            "booking_id": self.booking_id,
            "busy_from": to_local_iso(self.busy_from) if self.busy_from else None,
            "busy_to": to_local_iso(self.busy_to) if self.busy_to else None,
            "status": self.status,
        }

    def __str__(self) -> str:
        when = f"{to_local_iso(self.start)} to {to_local_iso(self.end)}"
        if self.booking_id:
            return (
                f"{when} clashes with booking {self.booking_id} ({self.status}, holding the room "
                f"{to_local_iso(self.busy_from or self.start)} to {to_local_iso(self.busy_to or self.end)})"
            )
        return f"{when}: {self.reason}"


class BookingConflict(Conflict):
    """A request that clashes (exit 5, HTTP 409); lists every clash."""

    def __init__(self, clashes: list[Clash], *, note: str | None = None) -> None:
        self.clashes = list(clashes)
        first = str(self.clashes[0]) if self.clashes else "the room is not free then"
        more = f" (and {len(self.clashes) - 1} more)" if len(self.clashes) > 1 else ""
        super().__init__(first + more + (f"; {note}" if note else ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": "conflict",
            "message": str(self),
            "clashes": [c.to_dict() for c in self.clashes],
        }


__all__ = ["BookingConflict", "BookingView", "Clash", "Hirer"]
