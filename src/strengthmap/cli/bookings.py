"""``strengthmap bookings``: request, confirm, decline, cancel, list, show; report, anonymise, outbox."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from strengthmap.bookings import core, mail, report
from strengthmap.bookings.ics import booking_calendar
from strengthmap.bookings.prices import pounds
from strengthmap.bookings.privacy import anonymise_bookings
from strengthmap.bookings.times import to_local
from strengthmap.bookings.views import BookingConflict, BookingView
from strengthmap.cli.common import State, console, print_json, state
from strengthmap.cli.rooms import emit, print_quote
from strengthmap.errors import InputError

app = typer.Typer(
    help="Room bookings: requests, decisions, the equity report.", no_args_is_help=True
)


def _mail(st: State) -> mail.MailConfig:
    return mail.MailConfig.from_settings(st.settings)


def _conflict_json(exc: BookingConflict) -> None:
    print_json(exc.to_dict())
    raise typer.Exit(exc.exit_code)


def _ambiguous(value: str | None) -> Any:
    if value is not None and value not in ("earlier", "later"):
        raise InputError(f"--ambiguous must be earlier or later, not {value!r}", field="ambiguous")
    return value


def _table(rows: list[BookingView], title: str) -> None:
    table = Table(title=title)
    for col in ("start", "end", "status", "hirer", "category", "charge", "id"):
        table.add_column(col, style="dim" if col == "id" else None)
    for b in rows:
        s, e = to_local(b.start), to_local(b.end)
        table.add_row(
            s.strftime("%a %d %b %Y %H:%M"), e.strftime("%H:%M"), b.status,
            b.hirer.name + (f" ({b.hirer.organisation})" if b.hirer.organisation else ""),
            b.category, pounds(b.charge_pence or 0), b.id,
        )  # fmt: skip
    console.print(table)


@app.command("request")
def request(
    ctx: typer.Context,
    room: str = typer.Option(..., "--room", help="The room's id."),
    start: str = typer.Option(
        ..., "--start", help="ISO date and time (London time unless an offset)."
    ),
    end: str = typer.Option(..., "--end", help="ISO date and time."),
    hirer: str = typer.Option(..., "--hirer", help="The hirer's name."),
    email: str = typer.Option(..., "--email", help="The hirer's email."),
    category: str = typer.Option(
        ..., "--category", help="resident, voluntary, charity, statutory or commercial."
    ),
    postcode: str | None = typer.Option(
        None, "--postcode", help="The hirer's home postcode (area and IMD decile)."
    ),
    organisation: str | None = typer.Option(
        None, "--organisation", help="The group or organisation."
    ),
    purpose: str | None = typer.Option(None, "--purpose", help="What the room is for."),
    people: int | None = typer.Option(None, "--people", help="How many people."),
    layout: str | None = typer.Option(None, "--layout", help="One of the room's layouts."),
    extra: list[str] = typer.Option([], "--extra", help="An extra's code or name (repeatable)."),
    repeat: str | None = typer.Option(
        None,
        "--repeat",
        help="RFC 5545 RRULE with COUNT or UNTIL, at most 2 years: FREQ=WEEKLY;COUNT=10, "
        "FREQ=WEEKLY;INTERVAL=2;UNTIL=20270301, FREQ=MONTHLY;BYDAY=1MO;COUNT=12.",
    ),
    except_: list[str] = typer.Option(
        [], "--except", help="A date to leave out of the series (repeatable)."
    ),
    accept_free: bool = typer.Option(
        False, "--accept-free", help="Series: book the free dates, list the others."
    ),
    ambiguous: str | None = typer.Option(
        None, "--ambiguous", help="earlier|later: which 01:xx on the night the clocks go back."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Request a booking or a series (``request_booking``); it is pending until staff decide.

    A clash exits 5 naming the booking it clashes with (with --json:
    {"error": "conflict", "clashes": [...]}).
    """
    st = state(ctx)
    req = core.BookingRequest(
        room_id=room, start=start, end=end, hirer_name=hirer, email=email, category=category,
        organisation=organisation, postcode=postcode, purpose=purpose, people=people,
        layout=layout, extras=extra, repeat=repeat, exceptions=except_, accept_free=accept_free,
        ambiguous=_ambiguous(ambiguous),
    )  # fmt: skip
    try:
        result = core.request_booking(
            st.store(),
            req,
            hold=timedelta(hours=st.settings.booking_hold_hours),
            actor="cli",
            mail=_mail(st),
        )
    except BookingConflict as exc:
        if as_json:
            _conflict_json(exc)
        raise
    if as_json:
        print_json(result.to_dict())
        return
    console.print(f"[bold]{result.status}[/]: {result.id} ({len(result.bookings)} booking(s)), "
                  f"total {pounds(result.quote['total_pence'])}")  # fmt: skip
    for c in result.skipped:
        console.print(f"  not booked: {c}")


def _decision(
    ctx: typer.Context, ident: str, action: str, note: str | None, as_json: bool, by: str = "staff"
) -> None:
    st = state(ctx)
    kwargs: dict[str, Any] = {"actor": "cli", "note": note, "mail": _mail(st)}
    try:
        if action == "confirm":
            views = core.confirm_booking(st.store(), ident, **kwargs)
        elif action == "decline":
            views = core.decline_booking(st.store(), ident, **kwargs)
        else:
            views = core.cancel_booking(st.store(), ident, by=by, **kwargs)  # type: ignore[arg-type]
    except BookingConflict as exc:
        if as_json:
            _conflict_json(exc)
        raise
    if as_json:
        print_json(views[0].to_dict() if len(views) == 1 else [v.to_dict() for v in views])
        return
    for v in views:
        fee = f", fee {pounds(v.cancel_fee_pence)}" if v.cancel_fee_pence else ""
        console.print(f"{v.id}: {v.status}{fee}")


@app.command("confirm")
def confirm(
    ctx: typer.Context,
    ident: str = typer.Argument(..., help="A booking id, or a series id (all its pending dates)."),
    note: str | None = typer.Option(None, "--note", help="A note to the hirer."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Confirm a pending request (``confirm_booking``)."""
    _decision(ctx, ident, "confirm", note, as_json)


@app.command("decline")
def decline(
    ctx: typer.Context,
    ident: str = typer.Argument(..., help="A booking id or a series id."),
    note: str | None = typer.Option(None, "--note", help="The reason, for the hirer."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Decline a pending request (``decline_booking``)."""
    _decision(ctx, ident, "decline", note, as_json)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    ident: str = typer.Argument(..., help="A booking id or a series id."),
    by: str = typer.Option(
        "staff", "--by", help="staff (no fee) or hirer (the room's cancellation rule)."
    ),
    note: str | None = typer.Option(None, "--note", help="The reason."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Cancel a booking (``cancel_booking``), showing the rule and any fee."""
    _decision(ctx, ident, "cancel", note, as_json, by=by)


@app.command("list")
def list_(
    ctx: typer.Context,
    room: str | None = typer.Option(None, "--room", help="The room's id."),
    status: list[str] = typer.Option([], "--status", help="Only this status (repeatable)."),
    start: str | None = typer.Option(None, "--from", help="YYYY-MM-DD or ISO date and time."),
    end: str | None = typer.Option(
        None, "--to", help="YYYY-MM-DD or ISO date and time (exclusive)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (staff view: includes hirers)."),
) -> None:
    """Bookings by start time (``list_bookings``); times carry their London offset."""
    rows = core.list_bookings(
        state(ctx).store(), room_id=room, status=status or None, start=start, end=end
    )
    if as_json:
        print_json([b.to_dict() for b in rows])
        return
    _table(rows, f"{len(rows)} booking(s)")


@app.command("show")
def show(
    ctx: typer.Context,
    booking_id: str = typer.Argument(..., help="The booking's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One booking, staff view (``get_booking``)."""
    b = core.get_booking(state(ctx).store(), booking_id)
    if as_json:
        print_json(b.to_dict())
        return
    _table([b], f"booking {b.id} ({b.room_name})")
    if b.quote:
        print_quote(b.quote)


@app.command("ics")
def ics(
    ctx: typer.Context,
    booking_id: str = typer.Argument(..., help="The booking's id."),
    out: Path | None = typer.Option(None, "--out", help="Write the .ics here (default: print)."),
) -> None:
    """One booking as iCalendar, for its hirer (``booking_calendar``)."""
    emit(booking_calendar(core.get_booking(state(ctx).store(), booking_id)), out)


@app.command("report")
def report_(
    ctx: typer.Context,
    room: str | None = typer.Option(None, "--room", help="Only this room."),
    start: str | None = typer.Option(None, "--from", help="Bookings starting from YYYY-MM-DD."),
    end: str | None = typer.Option(None, "--to", help="... and before YYYY-MM-DD."),
    release: int | None = typer.Option(
        None, "--release", help="IoD release, 2019 or 2025 (default: latest loaded)."
    ),
    lad: str | None = typer.Option(
        None, "--lad", help="Residents of this local authority (code) as the base."
    ),
    csv_out: Path | None = typer.Option(None, "--csv", help="Write the report as CSV here."),
    chart: Path | None = typer.Option(
        None, "--chart", help="Write the chart to out.svg or out.png."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The equity report: hours, income and concessions by category and IMD decile; who is missing."""
    rep = report.equity_report(
        state(ctx).store(), room_id=room, start=start, end=end, release=release, lad_code=lad
    )
    if csv_out is not None:
        csv_out.write_text(report.report_csv(rep), encoding="utf-8")
    if chart is not None:
        report.report_chart(rep, chart)
    if as_json:
        print_json(rep.to_dict())
        return
    table = Table(title=f"Who uses our space, and who is missing? (IoD{rep.release or ''})")
    for col in ("home area", "bookings", "hours", "share of hours", "share of residents", "ratio"):
        table.add_column(col, justify="left" if col == "home area" else "right")
    for w in rep.who_by_decile:
        d = w.to_dict()
        table.add_row(
            w.label + (" [red]missing[/]" if w.missing else ""), str(w.bookings), f"{w.hours:.1f}",
            "-" if d["hours_share"] is None else f"{100 * d['hours_share']:.0f}%",
            "-" if d["population_share"] is None else f"{100 * d['population_share']:.0f}%",
            "-" if d["ratio"] is None else f"{d['ratio']:.2f}",
        )  # fmt: skip
    console.print(table)
    cats = Table(title="By hirer category")
    for col in ("category", "bookings", "hours"):
        cats.add_column(col)
    for w in rep.who_by_category:
        cats.add_row(
            w.label + (" [red]none[/]" if w.missing else ""), str(w.bookings), f"{w.hours:.1f}"
        )
    console.print(cats)
    months = Table(title="Per room and month")
    for col in ("room", "month", "bookings", "hours", "list price", "concessions", "income"):
        months.add_column(col)
    for r in rep.rows:
        if r.dimension == "all":
            months.add_row(r.room_name, r.month, str(r.bookings), f"{r.hours:.1f}", pounds(r.list_pence),
                           pounds(r.concession_pence), pounds(r.income_pence))  # fmt: skip
    console.print(months)
    console.print(f"population base: {rep.population_base}")
    if csv_out is not None:
        console.print(f"wrote {csv_out}")
    if chart is not None:
        console.print(f"wrote {chart}")


@app.command("anonymise")
def anonymise(
    ctx: typer.Context,
    months: int | None = typer.Option(
        None,
        "--months",
        help="Retention in months (default: the booking_retention_months setting, 12).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Remove hirers' names, emails and postcodes from bookings that ended over the retention
    period ago, keeping their area code and IMD decile for the report (``anonymise_bookings``)."""
    st = state(ctx)
    result = anonymise_bookings(
        st.store(),
        retention_months=months if months is not None else st.settings.booking_retention_months,
    )
    if as_json:
        print_json(result.to_dict())
        return
    console.print(
        f"anonymised {result.count} booking(s) that ended before {result.before:%Y-%m-%d}"
    )


@app.command("outbox")
def outbox_(
    ctx: typer.Context,
    unsent: bool = typer.Option(False, "--unsent", help="Only messages not yet sent."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Messages to hirers, newest first (``outbox``)."""
    items = mail.outbox(state(ctx).store(), unsent_only=unsent)
    if as_json:
        print_json([m.to_dict() for m in items])
        return
    table = Table(title=f"{len(items)} message(s)")
    for col in ("created", "kind", "to", "subject", "sent", "booking"):
        table.add_column(col)
    for m in items:
        table.add_row(f"{to_local(m.created_at):%Y-%m-%d %H:%M}", m.kind, m.to or "", m.subject,
                      f"{to_local(m.sent_at):%Y-%m-%d %H:%M}" if m.sent_at else ("error" if m.error else "no"), m.booking_id)  # fmt: skip
    console.print(table)


@app.command("send")
def send(ctx: typer.Context) -> None:
    """Send the outbox's unsent messages through SMTP (``deliver``; needs smtp_url)."""
    st = state(ctx)
    cfg = _mail(st)
    if not cfg.sends:
        raise InputError("no mail server: set STRENGTHMAP_SMTP_URL", field="smtp_url")
    n = mail.deliver(st.store(), cfg)
    console.print(f"sent {n} message(s)")


@app.command("refresh")
def refresh(ctx: typer.Context) -> None:
    """Expire requests whose hold lapsed and complete bookings that ended (``refresh_statuses``)."""
    counts = core.refresh_statuses(state(ctx).store())
    console.print(f"expired {counts['expired']}, completed {counts['completed']}")
