"""Prices: a room's rate card per hirer category, concessions, extras, and itemised quotes in pence.

Example:
    >>> from datetime import datetime, UTC
    >>> card = RateCard(rates={"charity": Rate("charity", 1200, 4000, 7000)},
    ...                 concessions=(Concession("Free for the most deprived areas",
    ...                                         percent_off=100, imd_decile_max=1),))
    >>> q = compute_quote(card, datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 6, 1, 12, tzinfo=UTC),
    ...                   Hirer("charity", imd_decile=3))
    >>> [(l.item, l.list_pence, l.concession_pence, l.charge_pence) for l in q.lines]
    [('hire', 3600, 0, 3600)]
    >>> compute_quote(card, datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 6, 1, 14, tzinfo=UTC),
    ...               Hirer("charity", imd_decile=1)).total_pence
    0

The hire is priced at the cheapest mix of whole days (up to 8 hours each), half days (up to 4
hours) and hours (each started half hour at half the hourly rate) that covers the booking's
elapsed time. One concession applies (the one worth most to the hirer; they do not stack), on the
hire or, when it says so, on the extras too. Every line shows the list price, the concession
and the charge.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from strengthmap.errors import InputError, NotFound
from strengthmap.storage import Store, schema

#: Hirer categories: code -> label.
CATEGORIES: dict[str, str] = {
    "resident": "Resident or informal group",
    "voluntary": "Voluntary or community group",
    "charity": "Charity",
    "statutory": "Statutory body (NHS, council)",
    "commercial": "Commercial",
}
_ALIASES = {
    "informal": "resident", "individual": "resident", "residents": "resident",
    "community": "voluntary", "vcs": "voluntary", "vcse": "voluntary", "voluntary-community": "voluntary",
    "charities": "charity", "nhs": "statutory", "council": "statutory", "public": "statutory",
    "business": "commercial", "private": "commercial",
}  # fmt: skip
HALF_DAY_MINUTES = 4 * 60
DAY_MINUTES = 8 * 60
#: Columns a rate card CSV must have (see docs/guide-centre-manager.md).
RATE_CARD_COLUMNS = (
    "type", "name", "category", "per_hour", "per_half_day", "per_day", "percent_off",
    "amount_off", "imd_decile_max", "based_in", "price", "per",
)  # fmt: skip
_ROW_TYPES = ("rate", "concession", "extra")


def parse_category(text: str, *, field: str = "category") -> str:
    """A hirer category code from its code, label or a common alias.

    >>> parse_category("Charity"), parse_category("NHS"), parse_category("community")
    ('charity', 'statutory', 'voluntary')
    """
    key = (text or "").strip().lower()
    if key in CATEGORIES:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    for code, label in CATEGORIES.items():
        if key == label.lower():
            return code
    raise InputError(
        f"unknown hirer category {text!r} (one of {', '.join(CATEGORIES)})", field=field
    )


def money_pence(text: str, *, field: str, file: str | None = None, row: int | None = None) -> int:
    """``"12.50"``, ``"£12.50"`` or ``"12"`` (pounds) -> 1250 pence; negative or malformed refused.

    >>> money_pence("£12.50", field="per_hour")
    1250
    """
    raw = (text or "").strip().replace("£", "").replace(",", "")
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d{1,2}))?", raw)
    if not m:
        raise InputError(
            f"not an amount in pounds (like 12.50): {text!r}", file=file, row=row, field=field
        )
    if m[1]:
        raise InputError(f"a price cannot be negative: {text!r}", file=file, row=row, field=field)
    return int(m[2]) * 100 + int((m[3] or "0").ljust(2, "0"))


def pounds(pence: int) -> str:
    """1250 -> ``"£12.50"``."""
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


@dataclass(frozen=True)
class Rate:
    """A hirer category's prices (pence); half day and day are optional."""

    category: str
    per_hour_pence: int
    per_half_day_pence: int | None = None
    per_day_pence: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "label": CATEGORIES[self.category],
            "per_hour_pence": self.per_hour_pence,
            "per_half_day_pence": self.per_half_day_pence,
            "per_day_pence": self.per_day_pence,
        }


@dataclass(frozen=True)
class Hirer:
    """What a concession may depend on: the category and the home area (never a name)."""

    category: str
    imd_decile: int | None = None
    postcode: str | None = None
    area_code: str | None = None


@dataclass(frozen=True)
class Concession:
    """Percent or fixed amount off, for hirers it holds for (every condition given must hold)."""

    name: str
    categories: tuple[str, ...] | None = None
    percent_off: int | None = None
    amount_off_pence: int | None = None
    imd_decile_max: int | None = None
    based_in: tuple[str, ...] = ()
    applies_to: str = "hire"

    def holds_for(self, hirer: Hirer) -> bool:
        if self.categories is not None and hirer.category not in self.categories:
            return False
        if self.imd_decile_max is not None and (
            hirer.imd_decile is None or hirer.imd_decile > self.imd_decile_max
        ):
            return False
        if self.based_in:
            return any(_based_in(hirer, place) for place in self.based_in)
        return True

    def describe(self) -> str:
        off = (
            f"{self.percent_off}% off"
            if self.percent_off is not None
            else f"{pounds(self.amount_off_pence or 0)} off"
        )
        if self.percent_off == 100:
            off = "free"
        who = []
        if self.categories is not None:
            who.append(" or ".join(CATEGORIES[c].lower() for c in self.categories))
        if self.imd_decile_max is not None:
            who.append(
                "home in the most deprived 10% of areas (IMD decile 1)"
                if self.imd_decile_max == 1
                else f"home in IMD deciles 1-{self.imd_decile_max}"
            )
        if self.based_in:
            who.append("based in " + ", ".join(self.based_in))
        scope = " (hire and extras)" if self.applies_to == "all" else ""
        return f"{off}{scope}" + (f" for {'; '.join(who)}" if who else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "categories": list(self.categories) if self.categories is not None else None,
            "percent_off": self.percent_off,
            "amount_off_pence": self.amount_off_pence,
            "imd_decile_max": self.imd_decile_max,
            "based_in": list(self.based_in),
            "applies_to": self.applies_to,
            "rule": self.describe(),
        }


def _based_in(hirer: Hirer, place: str) -> bool:
    p = place.strip().upper()
    if re.fullmatch(r"[EWSN]\d{8}", p):
        return hirer.area_code == p
    if not hirer.postcode:
        return False
    pc = hirer.postcode.upper()
    outward = pc.split(" ")[0]
    if " " in p:  # a sector, like "LS12 1"
        return pc.startswith(p)
    return outward == p


@dataclass(frozen=True)
class Extra:
    """An extra (kitchen, projector): a price per booking or per hour (each started half hour)."""

    code: str
    name: str
    price_pence: int
    per: str = "booking"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "price_pence": self.price_pence,
            "per": self.per,
        }


@dataclass(frozen=True)
class RateCard:
    """A room's current prices. A room with no rates at all is free to hire."""

    rates: dict[str, Rate] = field(default_factory=dict)
    concessions: tuple[Concession, ...] = ()
    extras: tuple[Extra, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rates": [self.rates[c].to_dict() for c in CATEGORIES if c in self.rates],
            "concessions": [c.to_dict() for c in self.concessions],
            "extras": [e.to_dict() for e in self.extras],
        }

    def extra(self, code: str) -> Extra:
        key = code.strip().lower()
        for e in self.extras:
            if key in (e.code, e.name.lower()):
                return e
        names = ", ".join(e.code for e in self.extras) or "none"
        raise InputError(f"the room has no extra {code!r} (extras: {names})", field="extras")


@dataclass(frozen=True)
class QuoteLine:
    """One line of a quote, in pence: list price, concession taken off, charge."""

    item: str
    description: str
    list_pence: int
    concession_pence: int = 0
    concession: str | None = None

    @property
    def charge_pence(self) -> int:
        return self.list_pence - self.concession_pence

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "description": self.description,
            "list_pence": self.list_pence,
            "concession": self.concession,
            "concession_pence": self.concession_pence,
            "charge_pence": self.charge_pence,
        }


@dataclass(frozen=True)
class Quote:
    """An itemised quote; ``total_pence`` is what the hirer pays."""

    category: str
    minutes: int
    lines: tuple[QuoteLine, ...]
    concession: str | None = None
    concession_rule: str | None = None

    @property
    def list_pence(self) -> int:
        return sum(x.list_pence for x in self.lines)

    @property
    def concession_pence(self) -> int:
        return sum(x.concession_pence for x in self.lines)

    @property
    def total_pence(self) -> int:
        return sum(x.charge_pence for x in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "minutes": self.minutes,
            "lines": [x.to_dict() for x in self.lines],
            "list_pence": self.list_pence,
            "concession": self.concession,
            "concession_rule": self.concession_rule,
            "concession_pence": self.concession_pence,
            "total_pence": self.total_pence,
        }

    @classmethod
    def combine(cls, quotes: Sequence[tuple[str, Quote]]) -> dict[str, Any]:
        """A series' quote as JSON: every occurrence's lines (each with its date) and totals."""
        lines = []
        for day, q in quotes:
            for x in q.lines:
                lines.append({**x.to_dict(), "date": day})
        return {
            "category": quotes[0][1].category if quotes else None,
            "occurrences": len(quotes),
            "lines": lines,
            "list_pence": sum(q.list_pence for _, q in quotes),
            "concession_pence": sum(q.concession_pence for _, q in quotes),
            "total_pence": sum(q.total_pence for _, q in quotes),
        }


def _half_hours(minutes: int) -> int:
    return -(-minutes // 30)


def hire_price(rate: Rate, minutes: int) -> tuple[int, str]:
    """The cheapest mix of days, half days and hours covering ``minutes``, and its words.

    >>> hire_price(Rate("charity", 1200, 4000, 7000), 180)
    (3600, '3 h × £12.00')
    >>> hire_price(Rate("charity", 1200, 4000, 7000), 240)
    (4000, '1 half day × £40.00')
    >>> hire_price(Rate("charity", 1200, 4000, 7000), 600)
    (9400, '1 day × £70.00 + 2 h × £12.00')
    """
    best: tuple[int, int, int, int] | None = None  # (price, days, halves, half_hours)
    max_days = -(-minutes // DAY_MINUTES) if rate.per_day_pence is not None else 0
    for days in range(max_days + 1):
        rest_after_days = max(0, minutes - days * DAY_MINUTES)
        max_halves = (
            -(-rest_after_days // HALF_DAY_MINUTES) if rate.per_half_day_pence is not None else 0
        )
        for halves in range(max_halves + 1):
            rest = max(0, rest_after_days - halves * HALF_DAY_MINUTES)
            hh = _half_hours(rest)
            price = (
                days * (rate.per_day_pence or 0)
                + halves * (rate.per_half_day_pence or 0)
                + (hh * rate.per_hour_pence + 1) // 2
            )
            key = (price, days, halves, hh)
            if best is None or (price, days + halves + hh) < (best[0], best[1] + best[2] + best[3]):
                best = key
    assert best is not None
    price, days, halves, hh = best
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days > 1 else ''} × {pounds(rate.per_day_pence or 0)}")
    if halves:
        parts.append(
            f"{halves} half day{'s' if halves > 1 else ''} × {pounds(rate.per_half_day_pence or 0)}"
        )
    if hh:
        hours = f"{hh // 2}" + (".5" if hh % 2 else "")
        parts.append(f"{hours} h × {pounds(rate.per_hour_pence)}")
    return price, " + ".join(parts) or "no time"


def compute_quote(
    card: RateCard,
    start: datetime,
    end: datetime,
    hirer: Hirer,
    extras: Sequence[str] = (),
) -> Quote:
    """Quote a booking from ``start`` to ``end`` (aware) for ``hirer`` with ``extras`` (codes)."""
    minutes = int((end - start).total_seconds() // 60)
    chosen = [card.extra(x) for x in dict.fromkeys(extras)]
    lines: list[QuoteLine] = []
    if not card.rates:
        lines.append(QuoteLine("hire", "Hire (no charge: the room has no rate card)", 0))
    else:
        rate = card.rates.get(hirer.category)
        if rate is None:
            offered = ", ".join(c for c in CATEGORIES if c in card.rates)
            raise InputError(
                f"the room has no rate for {CATEGORIES[hirer.category].lower()} hirers "
                f"(rates for: {offered})",
                field="category",
            )
        price, words = hire_price(rate, minutes)
        lines.append(
            QuoteLine("hire", f"Hire, {words} ({CATEGORIES[rate.category].lower()} rate)", price)
        )
    for e in chosen:
        if e.per == "hour":
            hh = _half_hours(minutes)
            price = (hh * e.price_pence + 1) // 2
            words = f"{hh / 2:g} h × {pounds(e.price_pence)}"
        else:
            price, words = e.price_pence, "per booking"
        lines.append(QuoteLine(f"extra:{e.code}", f"{e.name}, {words}", price))
    best: tuple[int, Concession, list[QuoteLine]] | None = None
    for c in card.concessions:
        if not c.holds_for(hirer):
            continue
        applied = _apply(c, lines)
        saving = sum(x.concession_pence for x in applied)
        if saving > 0 and (best is None or saving > best[0]):
            best = (saving, c, applied)
    if best is None:
        return Quote(hirer.category, minutes, tuple(lines))
    return Quote(hirer.category, minutes, tuple(best[2]), best[1].name, best[1].describe())


def _apply(c: Concession, lines: list[QuoteLine]) -> list[QuoteLine]:
    out = []
    budget = c.amount_off_pence
    for x in lines:
        if c.applies_to != "all" and x.item != "hire":
            out.append(x)
            continue
        if c.percent_off is not None:
            off = (x.list_pence * c.percent_off + 50) // 100
        else:
            off = min(x.list_pence, budget or 0)
            budget = (budget or 0) - off
        out.append(QuoteLine(x.item, x.description, x.list_pence, off, c.name if off else None))
    return out


# --- rate card CSV ----------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def read_rate_card(source: str | Path, *, text: str | None = None) -> RateCard:
    """Read a rate card CSV (columns :data:`RATE_CARD_COLUMNS`; prices in pounds).

    Every fault names the file, the row (the header is row 1) and the field. Rows are of three
    ``type``\\ s: ``rate`` (a category's ``per_hour``, optional ``per_half_day`` and
    ``per_day``), ``concession`` (``percent_off`` or ``amount_off``, for the ``category``
    list, ``imd_decile_max`` and ``based_in`` given) and ``extra`` (``price`` per ``booking``
    or ``hour``). Lists are separated by ``;``.
    """
    name = str(source)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError("no such file", file=name) from None
        except UnicodeDecodeError:
            raise InputError("not a UTF-8 text file", file=name) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if not header:
        raise InputError("empty rate card: no header row", file=name, row=1)
    for col in RATE_CARD_COLUMNS:
        if col not in header:
            raise InputError(
                f"missing column {col!r} (a rate card has the columns {', '.join(RATE_CARD_COLUMNS)})",
                file=name,
                row=1,
                field=col,
            )
    rates: dict[str, Rate] = {}
    concessions: list[Concession] = []
    extras: list[Extra] = []
    for i, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        kind = row["type"].lower()
        if kind not in _ROW_TYPES:
            raise InputError(
                f"type must be one of {', '.join(_ROW_TYPES)}, not {row['type']!r}",
                file=name,
                row=i,
                field="type",
            )

        def money(
            col: str, *, required: bool, row: dict[str, str] = row, i: int = i, kind: str = kind
        ) -> int | None:
            if not row[col]:
                if required:
                    raise InputError(f"a {kind} row needs {col}", file=name, row=i, field=col)
                return None
            return money_pence(row[col], field=col, file=name, row=i)

        def cats(*, row: dict[str, str] = row, i: int = i) -> list[str]:
            try:
                return [parse_category(c) for c in row["category"].split(";") if c.strip()]
            except InputError as exc:
                raise InputError(exc.message, file=name, row=i, field="category") from None

        if kind == "rate":
            codes = cats()
            if not codes:
                raise InputError("a rate row needs a category", file=name, row=i, field="category")
            hour = money("per_hour", required=True)
            assert hour is not None
            for code in codes:
                if code in rates:
                    raise InputError(
                        f"a second rate for {code}", file=name, row=i, field="category"
                    )
                rates[code] = Rate(
                    code,
                    hour,
                    money("per_half_day", required=False),
                    money("per_day", required=False),
                )
        elif kind == "concession":
            if not row["name"]:
                raise InputError("a concession needs a name", file=name, row=i, field="name")
            pct: int | None = None
            if row["percent_off"]:
                try:
                    pct = int(row["percent_off"].rstrip("%"))
                except ValueError:
                    raise InputError(
                        f"not a whole percentage: {row['percent_off']!r}",
                        file=name,
                        row=i,
                        field="percent_off",
                    ) from None
                if not 0 < pct <= 100:
                    raise InputError(
                        f"percent_off must be 1-100, not {pct}",
                        file=name,
                        row=i,
                        field="percent_off",
                    )
            amount = money("amount_off", required=False)
            if (pct is None) == (amount is None):
                raise InputError(
                    "give one of percent_off or amount_off", file=name, row=i, field="percent_off"
                )
            decile: int | None = None
            if row["imd_decile_max"]:
                try:
                    decile = int(row["imd_decile_max"])
                except ValueError:
                    decile = 0
                if not 1 <= decile <= 10:
                    raise InputError(
                        f"imd_decile_max must be 1-10, not {row['imd_decile_max']!r}",
                        file=name,
                        row=i,
                        field="imd_decile_max",
                    )
            places = tuple(p.strip().upper() for p in row["based_in"].split(";") if p.strip())
            for p in places:
                if not re.fullmatch(r"[EWSN]\d{8}|[A-Z]{1,2}\d[A-Z\d]?( \d)?", p):
                    raise InputError(
                        f"based_in {p!r} is not a postcode district (LS12), sector (LS12 1) or ONS area code",
                        file=name,
                        row=i,
                        field="based_in",
                    )
            codes = cats()
            applies = (row.get("per") or "hire").lower()
            if applies not in ("hire", "all"):
                raise InputError(
                    f"for a concession, per is 'hire' (default) or 'all', not {applies!r}",
                    file=name,
                    row=i,
                    field="per",
                )
            concessions.append(
                Concession(row["name"], tuple(codes) or None, pct, amount, decile, places, applies)
            )
        else:
            if not row["name"]:
                raise InputError("an extra needs a name", file=name, row=i, field="name")
            price = money("price", required=True)
            assert price is not None
            per = (row["per"] or "booking").lower()
            if per not in ("booking", "hour"):
                raise InputError(
                    f"per must be 'booking' or 'hour', not {per!r}", file=name, row=i, field="per"
                )
            code = _slug(row["name"])
            if any(e.code == code for e in extras):
                raise InputError(
                    f"a second extra named {row['name']!r}", file=name, row=i, field="name"
                )
            extras.append(Extra(code, row["name"], price, per))
    return RateCard(rates, tuple(concessions), tuple(extras))


def rate_card_csv(card: RateCard) -> str:
    """A rate card back as CSV (the columns :func:`read_rate_card` reads)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(RATE_CARD_COLUMNS)

    def p(v: int | None) -> str:
        return "" if v is None else f"{v / 100:.2f}"

    for c in CATEGORIES:
        if c in card.rates:
            r = card.rates[c]
            w.writerow(
                [
                    "rate",
                    CATEGORIES[c],
                    c,
                    p(r.per_hour_pence),
                    p(r.per_half_day_pence),
                    p(r.per_day_pence),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
    for k in card.concessions:
        w.writerow(["concession", k.name, ";".join(k.categories or ()), "", "", "", "" if k.percent_off is None else k.percent_off,
                    p(k.amount_off_pence), "" if k.imd_decile_max is None else k.imd_decile_max, ";".join(k.based_in), "", k.applies_to])  # fmt: skip
    for e in card.extras:
        w.writerow(["extra", e.name, "", "", "", "", "", "", "", "", p(e.price_pence), e.per])
    return out.getvalue()


# --- the store ----------------------------------------------------------------------------------


def read_card(session: Session, room_id: str) -> RateCard:
    """The room's current (unretired) rate card."""
    rates = session.scalars(
        select(schema.RoomRate).where(
            schema.RoomRate.room_id == room_id, schema.RoomRate.retired_at.is_(None)
        )
    ).all()
    cons = session.scalars(
        select(schema.RoomConcession)
        .where(schema.RoomConcession.room_id == room_id, schema.RoomConcession.retired_at.is_(None))
        .order_by(schema.RoomConcession.id)
    ).all()
    extras = session.scalars(
        select(schema.RoomExtra)
        .where(schema.RoomExtra.room_id == room_id, schema.RoomExtra.retired_at.is_(None))
        .order_by(schema.RoomExtra.id)
    ).all()
    return RateCard(
        {
            r.category: Rate(r.category, r.per_hour_pence, r.per_half_day_pence, r.per_day_pence)
            for r in rates
        },
        tuple(
            Concession(
                c.name,
                tuple(c.categories) if c.categories is not None else None,
                c.percent_off,
                c.amount_off_pence,
                c.imd_decile_max,
                tuple(c.based_in or ()),
                c.applies_to,
            )
            for c in cons
        ),
        tuple(Extra(e.code, e.name, e.price_pence, e.per) for e in extras),
    )


def rate_card(store: Store, room_id: str) -> RateCard:
    """The room's current rate card."""
    with store.session() as session:
        if session.get(schema.Room, room_id) is None:
            raise NotFound(f"no room with id {room_id!r}")
        return read_card(session, room_id)


def write_card(session: Session, room_id: str, card: RateCard, *, actor: str) -> None:
    """Replace the room's rate card inside the caller's transaction (old lines are retired)."""
    from strengthmap.bookings.times import utcnow

    now = utcnow()
    for model in (schema.RoomRate, schema.RoomConcession, schema.RoomExtra):
        session.execute(
            update(model)
            .where(model.room_id == room_id, model.retired_at.is_(None))
            .values(retired_at=now)
        )
    for r in card.rates.values():
        session.add(schema.RoomRate(room_id=room_id, category=r.category, per_hour_pence=r.per_hour_pence,
                                    per_half_day_pence=r.per_half_day_pence, per_day_pence=r.per_day_pence))  # fmt: skip
    for c in card.concessions:
        session.add(schema.RoomConcession(
            room_id=room_id, name=c.name, categories=list(c.categories) if c.categories is not None else None,
            percent_off=c.percent_off, amount_off_pence=c.amount_off_pence, imd_decile_max=c.imd_decile_max,
            based_in=list(c.based_in) or None, applies_to=c.applies_to))  # fmt: skip
    for e in card.extras:
        session.add(
            schema.RoomExtra(
                room_id=room_id, code=e.code, name=e.name, price_pence=e.price_pence, per=e.per
            )
        )
    session.add(schema.AuditEntry(actor=actor, action="update", entity="room_rate", entity_id=room_id,
                                  changes={"rate_card": [None, card.to_dict()]}))  # fmt: skip


def load_rate_card(
    store: Store, room_id: str, source: str | Path | RateCard, *, actor: str = "cli"
) -> RateCard:
    """Read (if a path) and install a room's rate card, all or nothing; the old one is retired."""
    card = source if isinstance(source, RateCard) else read_rate_card(source)
    with store.transaction() as session:
        if session.get(schema.Room, room_id) is None:
            raise NotFound(f"no room with id {room_id!r}")
        write_card(session, room_id, card, actor=actor)
    return card


__all__ = [
    "CATEGORIES",
    "DAY_MINUTES",
    "HALF_DAY_MINUTES",
    "RATE_CARD_COLUMNS",
    "Concession",
    "Extra",
    "Hirer",
    "Quote",
    "QuoteLine",
    "Rate",
    "RateCard",
    "compute_quote",
    "hire_price",
    "load_rate_card",
    "money_pence",
    "parse_category",
    "pounds",
    "rate_card",
    "rate_card_csv",
    "read_card",
    "read_rate_card",
    "write_card",
]
