"""Hirers' personal data: anonymised after the retention period, keeping what the report needs.

Example:
    >>> anonymise_bookings(store, retention_months=12).count         # doctest: +SKIP
    3

A booking that ended more than ``retention_months`` ago (12 by default, the
``booking_retention_months`` setting) loses its hirer's name, email, organisation, postcode,
purpose and cancellation code, and its messages lose their address and text; its room, times,
status, category, people, prices and the home area code and IMD decile stay, so the equity
report is unchanged. Nothing is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select, update

from strengthmap.bookings.times import utcnow
from strengthmap.errors import InputError
from strengthmap.storage import Store, schema

ANONYMOUS = "(anonymised)"


@dataclass(frozen=True)
class AnonymiseResult:
    """How many bookings were anonymised, and the cut-off (bookings ending before it)."""

    count: int
    messages: int
    before: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "anonymised": self.count,
            "messages": self.messages,
            "ended_before": self.before.isoformat(),
        }


def anonymise_bookings(
    store: Store, *, retention_months: int = 12, now: datetime | None = None, actor: str = "cli"
) -> AnonymiseResult:
    """Anonymise every booking that ended more than ``retention_months`` ago (one transaction)."""
    if (
        isinstance(retention_months, bool)
        or not isinstance(retention_months, int)
        or retention_months < 0
    ):
        raise InputError(
            f"the retention period must be a whole number of months, not {retention_months!r}",
            field="months",
        )
    now = now or utcnow()
    cutoff = now - relativedelta(months=retention_months)
    B = schema.Booking
    with store.transaction() as session:
        ids = list(
            session.scalars(select(B.id).where(B.ends_at < cutoff, B.anonymised_at.is_(None)))
        )
        if not ids:
            return AnonymiseResult(0, 0, cutoff)
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            session.execute(
                update(B).where(B.id.in_(chunk)).values(
                    hirer_name=ANONYMOUS, hirer_email=None, hirer_organisation=None,
                    hirer_postcode=None, purpose=None, token_hash=None, decision_note=None,
                    anonymised_at=now,
                )
            )  # fmt: skip
        n_msg = 0
        M = schema.BookingMessage
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            res = session.execute(
                update(M)
                .where(M.booking_id.in_(chunk))
                .values(to_addr=None, text_body=ANONYMOUS, html_body=ANONYMOUS, ics=None)
            )
            n_msg += int(res.rowcount or 0)  # type: ignore[attr-defined]
        session.add(schema.AuditEntry(actor=actor, action="anonymise", entity="booking", entity_id="*",
                                      changes={"count": [None, len(ids)], "ended_before": [None, cutoff.isoformat()]}))  # fmt: skip
        return AnonymiseResult(len(ids), n_msg, cutoff)


__all__ = ["ANONYMOUS", "AnonymiseResult", "anonymise_bookings"]
