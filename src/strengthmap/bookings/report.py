"""The equity report: who uses our space, and who is missing?

Example:
    >>> report = equity_report(store, room_id=room.id)          # doctest: +SKIP
    >>> [(r.group, r.bookings) for r in report.who_by_decile][:2]   # doctest: +SKIP
    [('1', 4), ('2', 1)]
    >>> csv_text = report_csv(report)                            # doctest: +SKIP

Per room and month: hours booked, bookings, list price, income and the value of concessions,
by hirer category and by the IMD decile of the hirer's home area (bookings that were held and
used: ``confirmed`` and ``completed``; cancellation fees count as income of the month of the
booking). "Who is missing" sets each decile's share of booked hours beside its share of the
residents of the area served (the loaded LSOAs, or those of one local authority), using the
population denominators published with the same IoD release (IoD2019 File 6: mid-2015), so
hirers and residents are counted on the same release (by default the latest release whose
denominators are loaded): a representation ratio under
1 means that decile uses the room less than its share of the population. Hirers' deciles are
those of their home LSOA in the chosen release (recomputed from the kept area code, never
re-ranked). See docs/methods/bookings.md.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select

from strengthmap.bookings.core import refresh_statuses
from strengthmap.bookings.prices import CATEGORIES
from strengthmap.bookings.times import hours_between, month_key, parse_day_or_time
from strengthmap.errors import InputError, NotFound
from strengthmap.storage import Store, schema

B = schema.Booking
USED = ("confirmed", "completed")
_FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class UseRow:
    """One room, month and group (``dimension`` ``all``, ``category`` or ``imd_decile``)."""

    room_id: str
    room_name: str
    month: str
    dimension: str
    group: str
    bookings: int
    hours: float
    list_pence: int
    concession_pence: int
    income_pence: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "room_id": self.room_id,
            "room_name": self.room_name,
            "month": self.month,
            "dimension": self.dimension,
            "group": self.group,
            "bookings": self.bookings,
            "hours": round(self.hours, 2),
            "list_pence": self.list_pence,
            "concession_pence": self.concession_pence,
            "income_pence": self.income_pence,
        }


@dataclass(frozen=True)
class WhoRow:
    """One decile (or category): its use of the space beside its share of residents."""

    group: str
    label: str
    bookings: int
    hours: float
    hours_share: float | None
    population: int | None
    population_share: float | None
    ratio: float | None
    missing: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "label": self.label,
            "bookings": self.bookings,
            "hours": round(self.hours, 2),
            "hours_share": None if self.hours_share is None else round(self.hours_share, 4),
            "population": self.population,
            "population_share": None
            if self.population_share is None
            else round(self.population_share, 4),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "missing": self.missing,
        }


@dataclass(frozen=True)
class EquityReport:
    """The report's tables, chart data and the method in words."""

    release: int | None
    start: datetime | None
    end: datetime | None
    room_ids: tuple[str, ...]
    rows: tuple[UseRow, ...]
    who_by_decile: tuple[WhoRow, ...]
    who_by_category: tuple[WhoRow, ...]
    population_base: str
    notes: tuple[str, ...] = field(default=())

    def chart_data(self) -> dict[str, Any]:
        deciles = [r for r in self.who_by_decile if r.group.isdigit()]
        return {
            "deciles": [int(r.group) for r in deciles],
            "hours_share": [r.hours_share or 0.0 for r in deciles],
            "population_share": [r.population_share for r in deciles],
            "release": self.release,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "rooms": list(self.room_ids),
            "rows": [r.to_dict() for r in self.rows],
            "who_by_decile": [r.to_dict() for r in self.who_by_decile],
            "who_by_category": [r.to_dict() for r in self.who_by_category],
            "population_base": self.population_base,
            "chart": self.chart_data(),
            "notes": list(self.notes),
            "method": "Booked hours of confirmed and completed bookings by the IMD decile of the "
            "hirer's home LSOA, beside the residents' share per decile from the same IoD "
            "release's population denominators; ratio = hours share / population share.",
        }


def _decile_lookup(store: Store, release: int) -> dict[str, int | None]:
    """LSOA 2011 code -> decile of ``release`` (direct for 2019; via the ONS lookup for 2025)."""
    out: dict[str, int | None] = {}
    with store.session() as session:
        if release == 2019:
            rows = session.execute(
                select(schema.Area.code, schema.Deprivation.imd_decile)
                .join(schema.Deprivation, schema.Deprivation.area_id == schema.Area.id)
                .where(schema.Deprivation.release == 2019, schema.Area.level == "lsoa")
            ).all()
            out.update({c: d for c, d in rows})
    return out


def _decile_of(store: Store, code: str, release: int, cache: dict[str, int | None]) -> int | None:
    if code in cache:
        return cache[code]
    from strengthmap.areas import area_profile

    try:
        rec = area_profile(store, code, vintage=2011)["imd_releases"].get(str(release))
    except (NotFound, InputError):
        rec = None
    cache[code] = rec.get("decile") if rec else None
    return cache[code]


def _population(store: Store, release: int, lad_code: str | None) -> dict[int, int]:
    with store.session() as session:
        stmt = (
            select(schema.Deprivation.imd_decile, func.sum(schema.Deprivation.pop_total))
            .join(schema.Area, schema.Area.id == schema.Deprivation.area_id)
            .where(schema.Deprivation.release == release, schema.Deprivation.pop_total.is_not(None))
            .group_by(schema.Deprivation.imd_decile)
        )
        if lad_code:
            stmt = stmt.where(schema.Area.lad_code == lad_code)
        return {int(d): int(n) for d, n in session.execute(stmt).all() if n}


def equity_report(
    store: Store,
    *,
    room_id: str | None = None,
    start: str | date | datetime | None = None,
    end: str | date | datetime | None = None,
    release: int | None = None,
    lad_code: str | None = None,
    now: datetime | None = None,
) -> EquityReport:
    """The equity report over bookings starting in ``[start, end)`` (all rooms unless one)."""
    lo = parse_day_or_time(start, field="from") if start is not None else None
    hi = parse_day_or_time(end, field="to") if end is not None else None
    refresh_statuses(store, now=now)
    notes: list[str] = []
    with store.session() as session:
        if room_id is not None and session.get(schema.Room, room_id) is None:
            raise NotFound(f"no room with id {room_id!r}")
        if release is None:
            # the latest release with population denominators (so hirers and residents are
            # counted on one release), else the latest release loaded
            release = (
                session.execute(
                    select(func.max(schema.Deprivation.release)).where(
                        schema.Deprivation.pop_total.is_not(None)
                    )
                ).scalar()
                or session.execute(select(func.max(schema.Deprivation.release))).scalar()
            )
        stmt = (
            select(B, schema.Room.name)
            .join(schema.Room, schema.Room.id == B.room_id)
            .where(or_(B.status.in_(USED), B.cancel_fee_pence > 0))
        )
        if room_id is not None:
            stmt = stmt.where(B.room_id == room_id)
        if lo is not None:
            stmt = stmt.where(B.starts_at >= lo)
        if hi is not None:
            stmt = stmt.where(B.starts_at < hi)
        bookings = [(b, name) for b, name in session.execute(stmt.order_by(B.starts_at)).all()]
        room_ids = (room_id,) if room_id else tuple(sorted({b.room_id for b, _ in bookings}))
    if release is None:
        notes.append("no IMD release is loaded: deciles are unknown")
    cache = _decile_lookup(store, release) if release else {}
    agg: dict[tuple[str, str, str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0, 0, 0])
    names: dict[str, str] = {}
    decile_hours: dict[str, float] = defaultdict(float)
    decile_count: dict[str, int] = defaultdict(int)
    cat_hours: dict[str, float] = defaultdict(float)
    cat_count: dict[str, int] = defaultdict(int)
    for b, name in bookings:
        names[b.room_id] = name
        used = b.status in USED
        hours = hours_between(b.starts_at, b.ends_at) if used else 0.0
        income = (b.price_pence or 0) if used else (b.cancel_fee_pence or 0)
        lst = (b.list_pence or 0) if used else 0
        con = (b.concession_pence or 0) if used else 0
        if b.hirer_imd_release == release and b.hirer_imd_decile is not None:
            dec: int | None = b.hirer_imd_decile
        elif b.hirer_area_code and release:
            dec = _decile_of(store, b.hirer_area_code, release, cache)
        else:
            dec = None
        dgroup = str(dec) if dec is not None else "unknown"
        month = month_key(b.starts_at)
        for dim, group in (("all", "all"), ("category", b.hirer_category), ("imd_decile", dgroup)):
            cell = agg[(b.room_id, month, dim, group)]
            cell[0] += 1 if used else 0
            cell[1] += hours
            cell[2] += lst
            cell[3] += con
            cell[4] += income
        if used:
            decile_hours[dgroup] += hours
            decile_count[dgroup] += 1
            cat_hours[b.hirer_category] += hours
            cat_count[b.hirer_category] += 1
    order = {"all": 0, "category": 1, "imd_decile": 2}
    cat_order = {c: i for i, c in enumerate(CATEGORIES)}
    rows = [
        UseRow(
            rid,
            names[rid],
            month,
            dim,
            group,
            int(v[0]),
            float(v[1]),
            int(v[2]),
            int(v[3]),
            int(v[4]),
        )
        for (rid, month, dim, group), v in agg.items()
    ]
    rows.sort(key=lambda r: (r.room_name, r.room_id, r.month, order[r.dimension],
                             cat_order.get(r.group, 99) if r.dimension == "category" else (int(r.group) if r.group.isdigit() else 99)))  # fmt: skip
    pop = _population(store, release, lad_code) if release else {}
    pop_total = sum(pop.values())
    base = (
        f"residents of the {'local authority ' + lad_code if lad_code else 'loaded'} LSOAs by IoD{release} decile "
        "(the release's population denominators)"
        if pop_total
        else "no population denominators loaded: population shares are unknown"
    )
    total_hours = sum(decile_hours.values())
    who_dec: list[WhoRow] = []
    for d in range(1, 11):
        g = str(d)
        h = decile_hours.get(g, 0.0)
        hs = h / total_hours if total_hours else None
        ps = pop.get(d, 0) / pop_total if pop_total else None
        ratio = hs / ps if hs is not None and ps else None
        label = f"decile {d}" + (
            " (most deprived 10%)" if d == 1 else " (least deprived 10%)" if d == 10 else ""
        )
        missing = bool(ps and ps > 0 and (hs or 0) == 0) or (ratio is not None and ratio < 0.5)
        who_dec.append(
            WhoRow(
                g,
                label,
                decile_count.get(g, 0),
                h,
                hs,
                pop.get(d) if pop_total else None,
                ps,
                ratio,
                missing,
            )
        )
    if decile_count.get("unknown"):
        h = decile_hours["unknown"]
        who_dec.append(WhoRow("unknown", "home area unknown", decile_count["unknown"], h,
                              h / total_hours if total_hours else None, None, None, None, False))  # fmt: skip
    total_cat = sum(cat_hours.values())
    who_cat = [
        WhoRow(c, label, cat_count.get(c, 0), cat_hours.get(c, 0.0),
               cat_hours.get(c, 0.0) / total_cat if total_cat else None, None, None, None, cat_count.get(c, 0) == 0)
        for c, label in CATEGORIES.items()
    ]  # fmt: skip
    return EquityReport(
        release, lo, hi, room_ids, tuple(rows), tuple(who_dec), tuple(who_cat), base, tuple(notes)
    )


def _safe(value: Any) -> Any:
    """A cell as a spreadsheet will not run it: text starting = + - @ (or tab, CR) gets a '."""
    if isinstance(value, str) and value.startswith(_FORMULA_LEAD):
        return "'" + value
    return value


def report_csv(report: EquityReport) -> str:
    """The report as CSV: the use table, then "who uses our space" (formula cells neutralised)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["table", "room_id", "room_name", "month", "dimension", "group", "bookings", "hours",
                "list_pence", "concession_pence", "income_pence", "hours_share", "population",
                "population_share", "ratio", "missing"])  # fmt: skip
    for r in report.rows:
        w.writerow([_safe(x) for x in ["use", r.room_id, r.room_name, r.month, r.dimension, r.group,
                                        r.bookings, round(r.hours, 2), r.list_pence, r.concession_pence,
                                        r.income_pence, "", "", "", "", ""]])  # fmt: skip
    for table, who in (
        ("who_by_decile", report.who_by_decile),
        ("who_by_category", report.who_by_category),
    ):
        for x in who:
            d = x.to_dict()
            w.writerow([_safe(v) for v in [table, "", "", "", table.removeprefix("who_by_"), x.group, x.bookings,
                                            d["hours"], "", "", "", d["hours_share"], d["population"],
                                            d["population_share"], d["ratio"], x.missing]])  # fmt: skip
    return out.getvalue()


def report_chart(report: EquityReport, path: str | Path) -> Path:
    """Bars of booked-hours share and residents' share per IMD decile (SVG or PNG by suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    path = Path(path)
    if path.suffix.lower() not in (".svg", ".png"):
        raise InputError(f"chart file must end in .svg or .png, not {path.suffix!r}", field="chart")
    data = report.chart_data()
    x = np.arange(1, 11)
    hours = np.array(data["hours_share"], dtype=float) * 100
    pop = (
        np.array([np.nan if v is None else v for v in data["population_share"]], dtype=float) * 100
    )
    with plt.rc_context({"svg.fonttype": "none", "font.size": 9, "hatch.linewidth": 0.6}):
        fig, ax = plt.subplots(figsize=(8, 4.2), dpi=150)
        ax.bar(x - 0.2, hours, width=0.4, color="#1f3b73", label="share of booked hours")
        if not np.all(np.isnan(pop)):
            ax.bar(x + 0.2, pop, width=0.4, color="white", edgecolor="#c4561d", hatch="////",
                   label="share of residents")  # fmt: skip
        ax.set_xticks(x, [f"{d}\n{'most' if d == 1 else 'least' if d == 10 else ''}" for d in x])
        ax.set_xlabel(f"IMD {report.release or ''} decile of the home area (1 = most deprived 10%)")
        ax.set_ylabel("%")
        ax.set_title("Who uses our space, and who is missing?")
        ax.legend(frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        fig.text(0.01, 0.01, "Contains OS data © Crown copyright and database right; English Indices of "
                 "Deprivation (MHCLG), Open Government Licence v3.0.", fontsize=6)  # fmt: skip
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        fig.savefig(path)
        plt.close(fig)
    return path


__all__ = ["EquityReport", "UseRow", "WhoRow", "equity_report", "report_chart", "report_csv"]
