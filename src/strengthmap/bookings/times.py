"""Booking times: Europe/London wall clock in, UTC stored, right across the clock changes.

Example:
    >>> parse_when("2026-06-01T10:00", field="start").isoformat()
    '2026-06-01T09:00:00+00:00'
    >>> to_local_iso(parse_when("2026-12-01T10:00", field="start"))
    '2026-12-01T10:00:00+00:00'
    >>> parse_when("2026-03-29T01:30", field="start")
    Traceback (most recent call last):
    ...
    strengthmap.errors.InputError: field start: 2026-03-29 01:30 does not exist in Europe/London: the clocks go forward from 01:00 to 02:00 that night
    >>> parse_when("2026-10-25T01:30", field="start", ambiguous="later").isoformat()
    '2026-10-25T01:30:00+00:00'

A time without an offset is London wall-clock time. On the last Sunday of March 01:00-01:59
does not exist (the clocks go forward): such a time is refused, never moved. On the last Sunday
of October 01:00-01:59 happens twice (BST, then GMT): the caller says which, by an offset in the
text (``+01:00`` the first, ``+00:00`` the second) or by ``ambiguous="earlier" | "later"``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from strengthmap.errors import InputError

LONDON = ZoneInfo("Europe/London")
Ambiguity = Literal["earlier", "later"]


def local_kind(naive: datetime, zone: ZoneInfo = LONDON) -> Literal["ok", "missing", "twice"]:
    """Whether a wall time exists once, not at all (spring forward) or twice (fall back)."""
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return "missing"
    if first.utcoffset() != second.utcoffset():
        return "twice"
    return "ok"


def localise(
    naive: datetime, *, field: str, ambiguous: Ambiguity | None = None, zone: ZoneInfo = LONDON
) -> datetime:
    """A London wall time -> an aware UTC datetime; refuses a missing time, asks for a twice one."""
    kind = local_kind(naive, zone)
    stamp = naive.strftime("%Y-%m-%d %H:%M")
    if kind == "missing":
        raise InputError(
            f"{stamp} does not exist in Europe/London: the clocks go forward from 01:00 to "
            "02:00 that night",
            field=field,
        )
    if kind == "twice":
        if ambiguous is None:
            first = naive.replace(tzinfo=zone, fold=0).isoformat(timespec="minutes")
            second = naive.replace(tzinfo=zone, fold=1).isoformat(timespec="minutes")
            raise InputError(
                f"{stamp} happens twice in Europe/London (the clocks go back at 02:00 BST): "
                f"say which, {first} (the first, BST) or {second} (the second, GMT), or choose "
                "with --ambiguous earlier|later",
                field=field,
            )
        if ambiguous not in ("earlier", "later"):
            raise InputError(
                f"ambiguous must be 'earlier' or 'later', not {ambiguous!r}", field="ambiguous"
            )
        naive = naive.replace(fold=0 if ambiguous == "earlier" else 1)
    return naive.replace(tzinfo=zone).astimezone(UTC)


def parse_when(text: str | datetime, *, field: str, ambiguous: Ambiguity | None = None) -> datetime:
    """ISO 8601 text (``2026-06-01T10:00``, with or without an offset) -> aware UTC datetime."""
    if isinstance(text, datetime):
        value = text
    else:
        raw = str(text).strip()
        try:
            value = datetime.fromisoformat(raw.replace(" ", "T", 1) if " " in raw else raw)
        except ValueError:
            raise InputError(
                f"not a date and time (ISO 8601, like 2026-06-01T10:00): {text!r}", field=field
            ) from None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return localise(value, field=field, ambiguous=ambiguous)


def parse_day_or_time(text: str | date | datetime, *, field: str) -> datetime:
    """A date (local midnight) or a date and time -> aware UTC (for ``--from`` / ``--to``)."""
    if isinstance(text, datetime):
        return parse_when(text, field=field, ambiguous="earlier")
    if isinstance(text, date):
        return local_midnight(text)
    raw = str(text).strip()
    if len(raw) == 10:
        try:
            return local_midnight(date.fromisoformat(raw))
        except ValueError:
            raise InputError(f"not a date (YYYY-MM-DD): {text!r}", field=field) from None
    return parse_when(raw, field=field, ambiguous="earlier")


def local_midnight(day: date) -> datetime:
    """The start of a local day, in UTC (midnight always exists in London)."""
    return datetime.combine(day, time(0)).replace(tzinfo=LONDON).astimezone(UTC)


def to_local(value: datetime) -> datetime:
    """An aware datetime on the London clock."""
    return value.astimezone(LONDON)


def to_local_iso(value: datetime) -> str:
    """ISO 8601 on the London clock with its offset (``2026-06-01T10:00:00+01:00``)."""
    return value.astimezone(LONDON).isoformat()


def local_date(value: datetime) -> date:
    return value.astimezone(LONDON).date()


def month_key(value: datetime) -> str:
    """``YYYY-MM`` of the London date."""
    return value.astimezone(LONDON).strftime("%Y-%m")


def hours_between(start: datetime, end: datetime) -> float:
    """Elapsed hours (a booking across a clock change lasts what the real clock says)."""
    return (end - start) / timedelta(hours=1)


def utcnow() -> datetime:
    return datetime.now(UTC)


__all__ = [
    "LONDON",
    "Ambiguity",
    "hours_between",
    "local_date",
    "local_kind",
    "local_midnight",
    "localise",
    "month_key",
    "parse_day_or_time",
    "parse_when",
    "to_local",
    "to_local_iso",
    "utcnow",
]
