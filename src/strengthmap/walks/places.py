"""Where and when a walk starts: a PLACE (``LON,LAT``, a postcode or a directory location's name) and a local start time.

Example:
    >>> from strengthmap.storage import open_store
    >>> resolve_place(open_store("sqlite://"), "Leeds station@-1.5477,53.7951")
    Place(name='Leeds station', lon=-1.5477, lat=53.7951, kind='point', location_id=None)
    >>> parse_at("2025-03-30T01:30")
    Traceback (most recent call last):
    ...
    strengthmap.errors.InputError: field at: 2025-03-30T01:30 does not exist in Europe/London: the clocks go forward from 01:00 to 02:00 that night (the clock-change gap); give a time before 01:00 or from 02:00, or an explicit offset such as 2025-03-30T01:30+00:00
    >>> parse_at("2026-12-02T11:00").isoformat()
    '2026-12-02T11:00:00+00:00'

Local times are Europe/London. A time given without an offset that the spring clock change
skips is refused (it names no moment); one that the autumn change repeats is read as the first
of the two (British Summer Time), and the plan says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from strengthmap.errors import InputError, NotFound
from strengthmap.geography import GEOD, check_lon_lat
from strengthmap.storage import Store, schema

LONDON = ZoneInfo("Europe/London")
_POINT = re.compile(r"^\s*(?:(?P<name>[^@]*)@)?\s*(?P<lon>[-+]?\d+(?:\.\d+)?)\s*,\s*(?P<lat>[-+]?\d+(?:\.\d+)?)\s*$")  # fmt: skip
_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$")
#: Locations of one name closer than this (metres) are one place (the same centre, entered twice).
SAME_PLACE_M = 100.0


@dataclass(frozen=True)
class Place:
    """A resolved PLACE: a name to show, lon/lat degrees, how it was given."""

    name: str
    lon: float
    lat: float
    kind: str  # point | postcode | location
    location_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "lon": self.lon, "lat": self.lat, "kind": self.kind,
                "location_id": self.location_id}  # fmt: skip


def resolve_place(
    store: Store, text: str | Place | tuple[float, float], *, field: str = "from"
) -> Place:
    """``LON,LAT`` (optionally ``NAME@LON,LAT``), a postcode, or a directory location's name.

    Unknown postcodes and names raise ``InputError`` naming the field.
    """
    if isinstance(text, Place):
        return text
    if isinstance(text, tuple):
        lon, lat = float(text[0]), float(text[1])
        _check(lon, lat, field)
        return Place(f"{lon:.5f},{lat:.5f}", lon, lat, "point")
    raw = str(text).strip()
    if not raw:
        raise InputError("empty place: give LON,LAT, a postcode or a location name", field=field)
    m = _POINT.match(raw)
    if m:
        lon, lat = float(m["lon"]), float(m["lat"])
        _check(lon, lat, field)
        name = (m["name"] or "").strip()
        if name:
            # a named point at a directory location of that name is that location
            location_id = _location_at(store, name, lon, lat)
            return Place(name, lon, lat, "point", location_id=location_id)
        return Place(f"{lon:.5f},{lat:.5f}", lon, lat, "point")
    compact = re.sub(r"\s+", "", raw).upper()
    if _POSTCODE.match(compact):
        from strengthmap.areas import resolve_postcode

        postcode = f"{compact[:-3]} {compact[-3:]}"
        try:
            lon, lat, _code = resolve_postcode(store, postcode)
        except NotFound as exc:
            raise InputError(f"unknown postcode {postcode}: {exc.message}", field=field) from None
        return Place(postcode, lon, lat, "postcode")
    return _location_by_name(store, raw, field)


def _check(lon: float, lat: float, field: str) -> None:
    try:
        check_lon_lat(lon, lat, what=f"--{field}")
    except InputError as exc:
        raise InputError(exc.message, field=field) from None


def _location_at(store: Store, name: str, lon: float, lat: float) -> str | None:
    """The live directory location called ``name`` within ``SAME_PLACE_M`` of the point."""
    L = schema.Location
    with store.session() as session:
        rows = session.execute(
            select(L.id, L.longitude, L.latitude).where(
                func.lower(L.name) == name.lower(), L.retired_at.is_(None),
                L.longitude.is_not(None), L.latitude.is_not(None),
            ).order_by(L.created_at, L.id)
        ).all()  # fmt: skip
    for r in rows:
        if GEOD.inv(lon, lat, r.longitude, r.latitude)[2] <= SAME_PLACE_M:
            return str(r.id)
    return None


def _location_by_name(store: Store, name: str, field: str) -> Place:
    L = schema.Location
    live = (L.retired_at.is_(None), L.longitude.is_not(None), L.latitude.is_not(None))
    with store.session() as session:
        rows = session.execute(
            select(L.id, L.name, L.longitude, L.latitude)
            .where(func.lower(L.name) == name.lower(), *live)
            .order_by(L.created_at, L.id)
        ).all()
        if not rows:
            pattern = "%" + name.lower().replace("%", r"\%").replace("_", r"\_") + "%"
            rows = session.execute(
                select(L.id, L.name, L.longitude, L.latitude)
                .where(func.lower(L.name).like(pattern, escape="\\"), *live)
                .order_by(L.name, L.created_at, L.id)
                .limit(50)
            ).all()
    if not rows:
        raise InputError(
            f"unknown place {name!r}: not LON,LAT, not a postcode, and no directory location "
            "has that name",
            field=field,
        )
    first = rows[0]
    names = {r.name for r in rows}
    far = [
        r
        for r in rows[1:]
        if GEOD.inv(first.longitude, first.latitude, r.longitude, r.latitude)[2] > SAME_PLACE_M
    ]
    if far or len(names) > 1:
        listed = "; ".join(f"{r.name} ({r.longitude:.5f},{r.latitude:.5f})" for r in rows[:6])
        raise InputError(
            f"{name!r} matches {len(rows)} directory locations ({listed}{'; ...' if len(rows) > 6 else ''}): "
            "give the full name or LON,LAT",
            field=field,
        )
    return Place(str(first.name), float(first.longitude), float(first.latitude), "location",
                 location_id=str(first.id))  # fmt: skip


@dataclass(frozen=True)
class StartTime:
    """The aware start time and a note when the wall time given was ambiguous."""

    at: datetime
    note: str | None = None


def parse_at(text: str | datetime | None, *, now: datetime | None = None) -> datetime:
    """``YYYY-MM-DDTHH:MM`` in Europe/London (or with an offset) -> an aware datetime."""
    return parse_start(text, now=now).at


def parse_start(text: str | datetime | None, *, now: datetime | None = None) -> StartTime:
    """Like ``parse_at``, with the note on an ambiguous autumn time."""
    if text is None:
        base = (now or datetime.now(UTC)).astimezone(LONDON)
        return StartTime(base.replace(second=0, microsecond=0))
    if isinstance(text, datetime):
        value = text
    else:
        raw = str(text).strip()
        if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}", raw):
            raise InputError(
                f"{raw!r} is not a date and time: expected YYYY-MM-DDTHH:MM (Europe/London)",
                field="at",
            )
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError(f"{raw!r}: {exc}", field="at") from None
    if value.tzinfo is not None:
        return StartTime(value.astimezone(LONDON))
    first = value.replace(tzinfo=LONDON, fold=0)
    second = value.replace(tzinfo=LONDON, fold=1)
    shown = value.strftime("%Y-%m-%dT%H:%M")
    if first.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != value:
        # the spring gap: no such wall time
        raise InputError(
            f"{shown} does not exist in Europe/London: the clocks go forward from 01:00 to 02:00 "
            "that night (the clock-change gap); give a time before 01:00 or from 02:00, or an "
            f"explicit offset such as {shown}+00:00",
            field="at",
        )
    if first.utcoffset() != second.utcoffset():
        return StartTime(
            first,
            f"{shown} happens twice in Europe/London (the clocks go back that night): read as "
            f"the first, British Summer Time ({first.isoformat()})",
        )
    return StartTime(first)


__all__ = ["LONDON", "Place", "StartTime", "parse_at", "parse_start", "resolve_place"]
