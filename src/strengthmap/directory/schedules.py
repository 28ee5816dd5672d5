"""When services run: RFC 5545 recurrence in Europe/London, "open at" answers, OSM ``opening_hours``.

Example:
    >>> from datetime import date
    >>> lunch = Recurrence(freq="WEEKLY", byday="WE", dtstart=date(2025, 1, 1),
    ...                    opens_at="12:00", closes_at="14:00")
    >>> [o.start.isoformat() for o in occurrences(lunch, date(2025, 3, 24), date(2025, 4, 3))]
    ['2025-03-26T12:00:00+00:00', '2025-04-02T12:00:00+01:00']
    >>> open_at([lunch], "wed", "13:00", "16:00")
    True

Occurrences are generated on the local wall clock (``dateutil.rrule`` over naive local datetimes)
and only then given the zone (``zoneinfo``), so "12:00 every Wednesday" stays 12:00 in BST and GMT
(RFC 5545 section 3.3.10: recurrence is expanded in the zone of DTSTART). Durations are wall-clock
durations: a session that spans a clock change lasts an hour more or less on the real clock.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule as _rrule

from strengthmap.errors import InputError

LONDON = "Europe/London"
#: ``day`` names accepted everywhere (CLI, API, ORUK ``day`` filter), Monday first.
WEEKDAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
_DAY_NAMES = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    **{n: i for i, n in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{
        n: i
        for i, n in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_FREQS: dict[str, Any] = {
    "YEARLY": _rrule.YEARLY,
    "MONTHLY": _rrule.MONTHLY,
    "WEEKLY": _rrule.WEEKLY,
    "DAILY": _rrule.DAILY,
}
_RRULE_DAYS = (_rrule.MO, _rrule.TU, _rrule.WE, _rrule.TH, _rrule.FR, _rrule.SA, _rrule.SU)
_BYDAY_RE = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
#: How far ahead a weekday question ("open on Wednesdays?") looks for positional rules.
WEEKDAY_HORIZON_DAYS = 35


@dataclass(frozen=True)
class Recurrence:
    """The recurrence fields of an ORUK ``schedule`` (also readable from a ``schema.Schedule`` row).

    ``byday`` is RFC 5545 BYDAY text: ``"WE"``, ``"MO,TU"`` or ``"1MO"`` (first Monday). Times are
    local ``"HH:MM"`` (seconds allowed) in ``timezone``; ``closes_at`` before ``opens_at`` runs past
    midnight; no ``opens_at`` means all day. ``exdates`` are dates with no session (term breaks).
    """

    freq: str | None = None
    interval: int | None = None
    byday: str | None = None
    bymonthday: str | None = None
    dtstart: date | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    until: datetime | date | None = None
    count: int | None = None
    wkst: str | None = None
    rrule: str | None = None
    exdates: tuple[date, ...] = ()
    opens_at: str | None = None
    closes_at: str | None = None
    timezone: str = LONDON
    description: str | None = None
    notes: str | None = None

    @classmethod
    def of(cls, obj: Any) -> Recurrence:
        """A Recurrence from a dict, an ORM ``Schedule`` row or any object with those attributes."""
        if isinstance(obj, Recurrence):
            return obj
        get = obj.get if isinstance(obj, dict) else lambda k: getattr(obj, k, None)
        values: dict[str, Any] = {}
        for f in fields(cls):
            v = get(f.name)
            if v is None:
                continue
            if f.name == "exdates":
                v = tuple(_as_date(x) for x in v)
            elif f.name in {"dtstart", "valid_from", "valid_to"}:
                v = _as_date(v)
            elif f.name == "until" and isinstance(v, str):
                v = _as_date(v[:10])
            values[f.name] = v
        return cls(**values)

    def validate(self) -> list[str]:
        """Faults as ``(field: message)`` text; empty when the recurrence can be expanded."""
        faults: list[str] = []
        if self.freq is not None and self.freq.upper() not in _FREQS:
            faults.append(f"freq: {self.freq!r} is not one of {', '.join(_FREQS)}")
        if self.byday:
            for part in self.byday.upper().split(","):
                if not _BYDAY_RE.match(part.strip()):
                    faults.append(f"byday: {part!r} is not an RFC 5545 weekday (e.g. WE or 1MO)")
        for name in ("opens_at", "closes_at"):
            value = getattr(self, name)
            if value is not None:
                try:
                    parse_time(value)
                except InputError as exc:
                    faults.append(f"{name}: {exc.message}")
        if self.rrule:
            try:
                _rrule.rrulestr(_strip_rrule_prefix(self.rrule), dtstart=datetime(2000, 1, 1))
            except (ValueError, TypeError) as exc:
                faults.append(f"rrule: {exc}")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            faults.append("valid_to: before valid_from")
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            faults.append(f"timezone: unknown zone {self.timezone!r}")
        return faults


@dataclass(frozen=True, order=True)
class Occurrence:
    """One session: aware start and end datetimes in the schedule's zone."""

    start: datetime
    end: datetime
    description: str | None = field(default=None, compare=False)


@functools.lru_cache(maxsize=4096)  # "open at" parses the same few times for every schedule
def parse_time(value: str) -> time:
    """``"12:00"``, ``"12:00:00"`` or ``"9.30"`` -> ``time``; ``"24:00"`` means end of day.

    >>> parse_time("09:30"), parse_time("24:00")
    (datetime.time(9, 30), datetime.time(23, 59, 59, 999999))
    """
    text = str(value).strip().replace(".", ":")
    m = re.match(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:Z|[+-]\d{2}:?\d{2})?$", text)
    if not m:
        raise InputError(f"not a time of day (HH:MM): {value!r}")
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    if h == 24 and mi == 0 and s == 0:
        return time.max
    if h > 23 or mi > 59 or s > 59:
        raise InputError(f"not a time of day (HH:MM): {value!r}")
    return time(h, mi, s)


def parse_day(value: str | date) -> int | date:
    """A weekday name (``"wed"``, ``"WE"``, ``"Wednesday"``) -> 0..6 (Monday 0); a date stays a date.

    >>> parse_day("Wednesday"), parse_day("2025-06-04")
    (2, datetime.date(2025, 6, 4))
    """
    if isinstance(value, date):
        return value
    key = value.strip().lower()
    if key in _DAY_NAMES:
        return _DAY_NAMES[key]
    try:
        return date.fromisoformat(key)
    except ValueError:
        raise InputError(f"not a day (mon..sun or YYYY-MM-DD): {value!r}", field="day") from None


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _strip_rrule_prefix(text: str) -> str:
    text = text.strip()
    return text[6:] if text.upper().startswith("RRULE:") else text


def _byweekday(byday: str) -> list[Any]:
    out = []
    for part in byday.upper().split(","):
        m = _BYDAY_RE.match(part.strip())
        if not m:
            raise InputError(f"byday: {part!r} is not an RFC 5545 weekday", field="byday")
        day = _RRULE_DAYS[WEEKDAYS.index(m[2].lower())]
        out.append(day(int(m[1])) if m[1] else day)
    return out


def _rule(rec: Recurrence, dtstart: datetime) -> Any:
    """The dateutil rule of ``rec`` over naive local datetimes, or None for a one-off."""
    if rec.rrule:
        return _rrule.rrulestr(_strip_rrule_prefix(rec.rrule), dtstart=dtstart, ignoretz=True)
    if not rec.freq:
        return None
    kwargs: dict[str, Any] = {"dtstart": dtstart, "interval": rec.interval or 1}
    if rec.byday:
        kwargs["byweekday"] = _byweekday(rec.byday)
    if rec.bymonthday:
        kwargs["bymonthday"] = [int(x) for x in str(rec.bymonthday).split(",") if x.strip()]
    if rec.count:
        kwargs["count"] = rec.count
    if rec.until:
        u = rec.until
        kwargs["until"] = (
            datetime.combine(u, time.max) if not isinstance(u, datetime) else u.replace(tzinfo=None)
        )
    if rec.wkst:
        kwargs["wkst"] = _RRULE_DAYS[WEEKDAYS.index(rec.wkst.lower()[:2])]
    return _rrule.rrule(_FREQS[rec.freq.upper()], **kwargs)


def _times(rec: Recurrence) -> tuple[time, timedelta]:
    """Local opening time and wall-clock duration of each session (no times: all day)."""
    opens = parse_time(rec.opens_at) if rec.opens_at else time(0)
    closes = parse_time(rec.closes_at) if rec.closes_at else time.max
    if closes == time.max:
        return opens, timedelta(days=1) - _td(opens)
    span = _td(closes) - _td(opens)
    if span <= timedelta(0):  # runs past midnight
        span += timedelta(days=1)
    return opens, span


def _td(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second)


def _localise(naive: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone``; a wall time skipped by the spring clock change moves forward an hour."""
    aware = naive.replace(tzinfo=zone)
    round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:  # nonexistent local time (e.g. 01:30 on the last Sunday of March)
        aware = (naive + timedelta(hours=1)).replace(tzinfo=zone)
    return aware


def occurrences(schedule: Any, start: date | datetime, end: date | datetime) -> list[Occurrence]:
    """Sessions of ``schedule`` that overlap ``[start, end)`` (dates mean local midnight).

    ``schedule`` is a :class:`Recurrence`, an ORUK schedule dict or a ``schema.Schedule`` row.
    Sessions on an ``exdates`` date, before ``valid_from`` / ``dtstart`` or after ``valid_to``
    are left out.
    """
    rec = Recurrence.of(schedule)
    zone = ZoneInfo(rec.timezone or LONDON)
    lo = _as_aware(start, zone)
    hi = _as_aware(end, zone)
    if hi <= lo:
        return []
    opens, span = _times(rec)
    first = rec.dtstart or rec.valid_from or (lo.astimezone(zone).date() - timedelta(days=400))
    dtstart = datetime.combine(first, opens)
    rule = _rule(rec, dtstart)
    # search window in naive local time, widened by a session length and a day for zone shifts
    win_lo = lo.astimezone(zone).replace(tzinfo=None) - span - timedelta(days=1)
    win_hi = hi.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    if rule is None:
        starts: Iterable[datetime] = [dtstart] if win_lo <= dtstart <= win_hi else []
    else:
        starts = rule.between(win_lo, win_hi, inc=True)
    excluded = set(rec.exdates)
    out: list[Occurrence] = []
    for naive in starts:
        day = naive.date()
        if day in excluded:
            continue
        if rec.valid_from and day < rec.valid_from:
            continue
        if rec.valid_to and day > rec.valid_to:
            continue
        s = _localise(naive, zone)
        e = _localise(naive + span, zone)
        if e > lo and s < hi:
            out.append(Occurrence(s, e, rec.description))
    return sorted(out)


def _as_aware(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else _localise(value, zone)
    return _localise(datetime.combine(value, time(0)), zone)


def _window(
    day: date, start_time: str | None, end_time: str | None, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    t0 = parse_time(start_time) if start_time else time(0)
    lo = _localise(datetime.combine(day, t0), zone)
    if end_time:
        t1 = parse_time(end_time)
        hi = (
            _localise(datetime.combine(day + timedelta(days=1), time(0)), zone)
            if t1 == time.max
            else _localise(datetime.combine(day, t1), zone)
        )
    else:
        hi = _localise(datetime.combine(day + timedelta(days=1), time(0)), zone)
    return lo, hi


def open_at(
    schedules: Iterable[Any],
    day: str | date,
    start_time: str | None = None,
    end_time: str | None = None,
    *,
    today: date | None = None,
) -> bool:
    """True when any schedule has a session overlapping ``day`` between the two local times.

    ``day`` is a date, or a weekday name: then the question is "on that weekday in the coming
    five weeks" (from ``today``), so "first Monday of the month" counts as open on Mondays,
    and a term-time group is shut on the Wednesdays of a half-term week only.

    >>> open_at([{"freq": "WEEKLY", "byday": "WE", "opens_at": "12:00", "closes_at": "14:00"}],
    ...         "wed", "13:00", "16:00")
    True
    """
    parsed = parse_day(day)
    recs = [Recurrence.of(s) for s in schedules]
    if not recs:
        return False
    if isinstance(parsed, date):
        days = [parsed]
    else:
        base = today or datetime.now(ZoneInfo(LONDON)).date()
        offset = (parsed - base.weekday()) % 7
        days = [base + timedelta(days=offset + 7 * k) for k in range(WEEKDAY_HORIZON_DAYS // 7)]
    for rec in recs:
        zone = ZoneInfo(rec.timezone or LONDON)
        if not isinstance(parsed, date) and _simple_weekly(rec):
            if _simple_weekly_open(rec, parsed, start_time, end_time, days):
                return True
            continue
        for d in days:
            lo, hi = _window(d, start_time, end_time, zone)
            if occurrences(rec, lo, hi):
                return True
    return False


def _simple_weekly(rec: Recurrence) -> bool:
    """Every-week rules on plain weekdays (or every day): answerable without expanding."""
    if rec.rrule is not None or rec.freq is None or (rec.interval or 1) != 1:
        return False
    if rec.bymonthday or rec.count or rec.exdates:
        return False
    freq = rec.freq.upper()
    if freq == "DAILY":
        return not rec.byday
    if freq == "WEEKLY":
        return bool(rec.byday) and all(p.strip().isalpha() for p in (rec.byday or "").split(","))
    return False


def _simple_weekly_open(
    rec: Recurrence, weekday: int, start_time: str | None, end_time: str | None, days: list[date]
) -> bool:
    # a session that started the day before and runs past midnight can also overlap
    opens, span = _times(rec)
    q0 = _td(parse_time(start_time)) if start_time else timedelta(0)
    q1 = (
        _td(parse_time(end_time))
        if end_time and parse_time(end_time) != time.max
        else timedelta(days=1)
    )
    runs = (
        {WEEKDAYS.index(p.strip().lower()) for p in rec.byday.split(",")}
        if rec.byday
        else set(range(7))
    )
    first = rec.dtstart or rec.valid_from
    until = rec.until.date() if isinstance(rec.until, datetime) else rec.until

    def in_range(d: date) -> bool:
        return (
            (first is None or d >= first)
            and (rec.valid_to is None or d <= rec.valid_to)
            and (until is None or d <= until)
        )

    for d in days:
        for shift, run_day in ((0, weekday), (-1, (weekday - 1) % 7)):
            if run_day not in runs or not in_range(d + timedelta(days=shift)):
                continue
            s = _td(opens) + timedelta(days=shift)
            e = s + span
            if e > q0 and s < q1:
                return True
    return False


# --- OpenStreetMap opening_hours -------------------------------------------------------------

_OSM_DAYS = {"mo": "MO", "tu": "TU", "we": "WE", "th": "TH", "fr": "FR", "sa": "SA", "su": "SU"}


@dataclass
class OpeningHours:
    """Schedules parsed from an OSM ``opening_hours`` value, and notes on what was left out."""

    schedules: list[Recurrence]
    notes: list[str]


def parse_opening_hours(value: str) -> OpeningHours:
    """OSM ``opening_hours`` -> weekly schedules (the common subset of the OSM syntax).

    >>> oh = parse_opening_hours("Mo-Fr 09:00-17:00; Sa 10:00-14:00; PH off")
    >>> [(s.byday, s.opens_at, s.closes_at) for s in oh.schedules]
    [('MO,TU,WE,TH,FR', '09:00', '17:00'), ('SA', '10:00', '14:00')]
    >>> oh.notes
    ['public-holiday rule ignored: PH off']

    Later rules override earlier ones for the days they name (``"Mo-Fr 09:00-18:00; Tu
    09:30-18:00"``), as in the OSM specification. ``24/7`` is every day all day; ``off`` /
    ``closed`` closes those days. Anything else (``"some events only"``) is kept as a note with
    no schedule.
    """
    text = (value or "").strip()
    notes: list[str] = []
    per_day: dict[str, list[tuple[str, str]]] = {}
    if not text:
        return OpeningHours([], [])
    if text == "24/7":
        return OpeningHours(
            [
                Recurrence(
                    freq="WEEKLY",
                    byday=",".join(_OSM_DAYS.values()),
                    opens_at="00:00",
                    closes_at="24:00",
                )
            ],
            [],
        )
    for raw_rule in text.split(";"):
        rule = raw_rule.strip()
        if not rule:
            continue
        if re.match(r"^(PH|SH)\b", rule):
            notes.append(f"public-holiday rule ignored: {rule}")
            continue
        m = re.match(r"^([A-Za-z,\- ]+?)\s+(.+)$", rule)
        days: list[str] | None = None
        spec = rule
        if m and re.fullmatch(
            r"(?:(?:Mo|Tu|We|Th|Fr|Sa|Su)(?:-(?:Mo|Tu|We|Th|Fr|Sa|Su))?,?)+", m[1].replace(" ", "")
        ):
            days = _expand_osm_days(m[1].replace(" ", ""))
            spec = m[2].strip()
        elif re.match(r"^\d", rule) or rule in {"off", "closed"}:
            days = list(_OSM_DAYS.values())
        if days is None:
            notes.append(f"not understood, left out: {rule}")
            continue
        if spec in {"off", "closed"}:
            for d in days:
                per_day[d] = []
            continue
        spans = []
        ok = True
        for part in spec.split(","):
            t = re.fullmatch(r"\s*(\d{1,2}[:.]\d{2})\s*-\s*(\d{1,2}[:.]\d{2})\s*", part)
            if not t:
                ok = False
                break
            spans.append((_hhmm(t[1]), _hhmm(t[2])))
        if not ok:
            notes.append(f"not understood, left out: {rule}")
            continue
        for d in days:
            per_day[d] = spans
    # group days with the same spans into one weekly schedule each (Monday first)
    groups: dict[tuple[str, str], list[str]] = {}
    for d in _OSM_DAYS.values():
        for span in per_day.get(d, []):
            groups.setdefault(span, []).append(d)
    schedules = [
        Recurrence(freq="WEEKLY", byday=",".join(ds), opens_at=o, closes_at=c)
        for (o, c), ds in groups.items()
    ]
    return OpeningHours(schedules, notes)


def _hhmm(text: str) -> str:
    t = parse_time(text)
    return "24:00" if t == time.max else f"{t.hour:02d}:{t.minute:02d}"


def _expand_osm_days(text: str) -> list[str]:
    order = list(_OSM_DAYS.values())
    out: list[str] = []
    for part in text.split(","):
        if not part:
            continue
        if "-" in part:
            a, b = (order.index(x.upper()) for x in part.split("-"))
            idx = list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
            out.extend(order[i] for i in idx)
        else:
            out.append(part.upper())
    return list(dict.fromkeys(out))


def to_rrule(schedule: Any) -> str:
    """The RFC 5545 RRULE text of a schedule (for iCalendar export).

    >>> to_rrule(Recurrence(freq="MONTHLY", byday="1MO"))
    'FREQ=MONTHLY;BYDAY=1MO'
    """
    rec = Recurrence.of(schedule)
    if rec.rrule:
        return _strip_rrule_prefix(rec.rrule)
    if not rec.freq:
        return ""
    parts = [f"FREQ={rec.freq.upper()}"]
    if rec.interval and rec.interval != 1:
        parts.append(f"INTERVAL={rec.interval}")
    if rec.byday:
        parts.append(f"BYDAY={rec.byday.upper().replace(' ', '')}")
    if rec.bymonthday:
        parts.append(f"BYMONTHDAY={rec.bymonthday}")
    if rec.count:
        parts.append(f"COUNT={rec.count}")
    if rec.until:
        u = (
            rec.until
            if isinstance(rec.until, datetime)
            else datetime.combine(rec.until, time(23, 59, 59))
        )
        parts.append(f"UNTIL={u.strftime('%Y%m%dT%H%M%S')}")
    if rec.wkst:
        parts.append(f"WKST={rec.wkst.upper()}")
    return ";".join(parts)


def iter_days(start: date, end: date) -> Iterator[date]:
    """Each date in ``[start, end)``."""
    d = start
    while d < end:
        yield d
        d += timedelta(days=1)


_BYDAY_NAMES = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday",
                "FR": "Friday", "SA": "Saturday", "SU": "Sunday"}  # fmt: skip
_ORDINALS = {"1": "first", "2": "second", "3": "third", "4": "fourth", "-1": "last"}


def describe_schedule(s: Mapping[str, Any]) -> str:
    """A schedule (ORUK fields) in plain English, e.g. "Every Wednesday, 12:00 to 14:00".

    >>> describe_schedule({"freq": "WEEKLY", "byday": "WE", "opens_at": "12:00", "closes_at": "14:00"})
    'Every Wednesday, 12:00 to 14:00'
    >>> describe_schedule({"freq": "MONTHLY", "byday": "1MO", "opens_at": "10:00"})
    'The first Monday of each month, from 10:00'
    """
    days = []
    monthly = s.get("freq") == "MONTHLY"
    for part in (s.get("byday") or "").split(","):
        part = part.strip().upper()
        if not part:
            continue
        ordinal, name = part[:-2], _BYDAY_NAMES.get(part[-2:], part[-2:])
        days.append(f"the {_ORDINALS.get(ordinal, ordinal)} {name}" if ordinal else name)
    interval = s.get("interval") or 1
    if days and monthly:
        when = f"{' and '.join(days)} of each month"
        when = when[0].upper() + when[1:]
    elif days:
        when = ("Every " if interval == 1 else f"Every {interval} weeks on ") + " and ".join(days)
    elif s.get("description"):
        when = str(s["description"])
    else:
        when = {"DAILY": "Every day", "WEEKLY": "Every week", "MONTHLY": "Every month"}.get(
            s.get("freq") or "", "See details"
        )
    opens, closes = s.get("opens_at"), s.get("closes_at")
    if opens and closes:
        when += f", {opens[:5]} to {closes[:5]}"
    elif opens:
        when += f", from {opens[:5]}"
    return when


__all__ = [
    "LONDON",
    "WEEKDAYS",
    "Occurrence",
    "OpeningHours",
    "Recurrence",
    "describe_schedule",
    "iter_days",
    "occurrences",
    "open_at",
    "parse_day",
    "parse_opening_hours",
    "parse_time",
    "to_rrule",
]
