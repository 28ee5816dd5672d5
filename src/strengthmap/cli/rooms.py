"""``strengthmap rooms``: add, list, show, set, retire; rate cards, quotes, availability, calendar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from strengthmap.bookings import prices, rooms
from strengthmap.bookings.availability import free_slots, room_ics
from strengthmap.bookings.core import home_area
from strengthmap.bookings.examples import add_new_wortley_room
from strengthmap.bookings.times import parse_when, to_local
from strengthmap.cli.common import console, print_json, state
from strengthmap.errors import InputError

app = typer.Typer(
    help="Bookable rooms: hours, facilities, rate cards, availability.", no_args_is_help=True
)


def _photo(text: str) -> dict[str, str]:
    url, _, alt = text.partition("|")
    if not url.strip():
        raise InputError(f"photo {text!r}: give URL or URL|alt text", field="photos")
    return {"url": url.strip(), "alt": alt.strip()}


def _show_room(room: rooms.Room, as_json: bool) -> None:
    if as_json:
        print_json(room.to_dict())
        return
    d = room.to_dict()
    table = Table(
        title=f"{room.name} ({room.location_name or room.location_id})", show_header=False
    )
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("id", room.id)
    table.add_row("capacity", str(room.capacity))
    table.add_row(
        "layouts", ", ".join(f"{x.name} {x.capacity or ''}".strip() for x in room.layouts) or "-"
    )
    table.add_row("facilities", ", ".join(f["label"] for f in d["facilities"]) or "-")
    table.add_row("bookable hours", room.hours.text)
    table.add_row("closed", ", ".join(f"{c['from']}..{c['to']}" for c in d["closed"]) or "-")
    length = (
        f"{room.min_minutes}-{room.max_minutes or '...'} min, on {room.step_minutes}-minute steps"
    )
    table.add_row("length", length)
    table.add_row("set-up / clean-up", f"{room.setup_minutes} / {room.cleanup_minutes} min")
    table.add_row("booked up to", f"{room.horizon_days} days ahead")
    table.add_row("cancellation", d["cancellation"]["rule"])
    table.add_row("bookable", "yes" if d["bookable"] else "no")
    console.print(table)


@app.command("add")
def add(
    ctx: typer.Context,
    location: str = typer.Option(..., "--location", help="The directory location's id."),
    name: str = typer.Option(..., "--name", help="The room's name, e.g. 'Large meeting room'."),
    capacity: int = typer.Option(..., "--capacity", help="Most people the room holds."),
    hours: list[str] = typer.Option(
        [],
        "--hours",
        help="Bookable hours: OSM opening_hours ('Mo-Fr 09:00-21:00; Sa 10:00-16:00') or an RFC "
        "5545 rule with a time span ('FREQ=WEEKLY;BYDAY=MO,WE 09:00-17:00'); repeatable. "
        "Default: 08:00-22:00 every day.",
    ),
    rates: Path | None = typer.Option(None, "--rates", help="A rate card CSV (see rooms rates)."),
    description: str | None = typer.Option(
        None, "--description", help="A sentence about the room."
    ),
    layout: list[str] = typer.Option(
        [], "--layout", help="NAME[:CAPACITY], e.g. theatre:60 (repeatable)."
    ),
    facility: list[str] = typer.Option(
        [], "--facility", help=f"One of {', '.join(rooms.FACILITIES)} (repeatable)."
    ),
    photo: list[str] = typer.Option([], "--photo", help="URL or URL|alt text (repeatable)."),
    closed: list[str] = typer.Option(
        [], "--closed", help="YYYY-MM-DD or FROM..TO, optionally =reason (repeatable)."
    ),
    accessibility: str | None = typer.Option(
        None, "--accessibility", help="Access notes (shown with the facilities)."
    ),
    min_minutes: int = typer.Option(30, "--min-minutes", help="Shortest booking."),
    max_minutes: int | None = typer.Option(None, "--max-minutes", help="Longest booking."),
    step_minutes: int = typer.Option(
        15, "--step-minutes", help="Bookings start and end on these steps."
    ),
    setup_minutes: int = typer.Option(
        0, "--setup-minutes", help="Set-up time kept free before each booking."
    ),
    cleanup_minutes: int = typer.Option(
        0, "--cleanup-minutes", help="Clean-up time kept free after each booking."
    ),
    horizon_days: int = typer.Option(
        365, "--horizon-days", help="How far ahead the room can be booked."
    ),
    cancel_free_days: int = typer.Option(
        7, "--cancel-free-days", help="Free cancellation until this many days before."
    ),
    cancel_fee_percent: int = typer.Option(
        50, "--cancel-fee-percent", help="Fee after that, % of the charge."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the room as JSON."),
) -> None:
    """Add a room to a directory location (``add_room``); with --rates, its rate card too."""
    card = prices.read_rate_card(rates) if rates is not None else None
    spec = rooms.RoomSpec(
        location_id=location,
        name=name,
        capacity=capacity,
        description=description,
        hours=hours,
        layouts=[rooms.parse_layout(x) for x in layout],
        facilities=facility,
        photos=[_photo(p) for p in photo],
        closed=[rooms.parse_closure(c) for c in closed],
        accessibility=accessibility,
        min_minutes=min_minutes,
        max_minutes=max_minutes,
        step_minutes=step_minutes,
        setup_minutes=setup_minutes,
        cleanup_minutes=cleanup_minutes,
        horizon_days=horizon_days,
        cancel_free_days=cancel_free_days,
        cancel_fee_percent=cancel_fee_percent,
    )
    room = rooms.add_room(state(ctx).store(), spec, rates=card)
    _show_room(room, as_json)


@app.command("set")
def set_(
    ctx: typer.Context,
    room_id: str = typer.Argument(..., help="The room's id."),
    name: str | None = typer.Option(None, "--name"),
    capacity: int | None = typer.Option(None, "--capacity"),
    hours: list[str] = typer.Option([], "--hours", help="New bookable hours (as rooms add)."),
    description: str | None = typer.Option(None, "--description"),
    layout: list[str] = typer.Option([], "--layout", help="Replace the layouts (NAME[:CAPACITY])."),
    facility: list[str] = typer.Option([], "--facility", help="Replace the facilities."),
    closed: list[str] = typer.Option([], "--closed", help="Add closed dates (as rooms add)."),
    reopen: bool = typer.Option(False, "--clear-closed", help="Remove every closed date first."),
    accessibility: str | None = typer.Option(None, "--accessibility"),
    min_minutes: int | None = typer.Option(None, "--min-minutes"),
    max_minutes: int | None = typer.Option(None, "--max-minutes"),
    step_minutes: int | None = typer.Option(None, "--step-minutes"),
    setup_minutes: int | None = typer.Option(None, "--setup-minutes"),
    cleanup_minutes: int | None = typer.Option(None, "--cleanup-minutes"),
    horizon_days: int | None = typer.Option(None, "--horizon-days"),
    cancel_free_days: int | None = typer.Option(None, "--cancel-free-days"),
    cancel_fee_percent: int | None = typer.Option(None, "--cancel-fee-percent"),
    bookable: bool | None = typer.Option(
        None, "--bookable/--not-bookable", help="Take (or stop taking) bookings."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the room as JSON."),
) -> None:
    """Change a room (``update_room``); new rules apply to bookings made from now on."""
    store = state(ctx).store()
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "name": name, "capacity": capacity, "description": description,
            "accessibility": accessibility, "min_minutes": min_minutes, "max_minutes": max_minutes,
            "step_minutes": step_minutes, "setup_minutes": setup_minutes,
            "cleanup_minutes": cleanup_minutes, "horizon_days": horizon_days,
            "cancel_free_days": cancel_free_days, "cancel_fee_percent": cancel_fee_percent,
            "bookable": bookable,
        }.items()
        if v is not None
    }  # fmt: skip
    if hours:
        changes["hours"] = hours
    if layout:
        changes["layouts"] = [rooms.parse_layout(x) for x in layout]
    if facility:
        changes["facilities"] = facility
    if closed or reopen:
        current = () if reopen else rooms.get_room(store, room_id).closed
        changes["closed"] = [*current, *(rooms.parse_closure(c) for c in closed)]
    if not changes:
        raise InputError("nothing to change: give at least one option", field="options")
    _show_room(rooms.update_room(store, room_id, changes), as_json)


@app.command("list")
def list_(
    ctx: typer.Context,
    location: str | None = typer.Option(None, "--location", help="Only this location's rooms."),
    include_retired: bool = typer.Option(
        False, "--include-retired", help="Show retired rooms too."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (a list of rooms)."),
) -> None:
    """Rooms (``list_rooms``)."""
    found = rooms.list_rooms(
        state(ctx).store(), location_id=location, include_retired=include_retired
    )
    if as_json:
        print_json([r.to_dict() for r in found])
        return
    table = Table(title=f"{len(found)} room(s)")
    for col in ("location", "room", "capacity", "hours", "id"):
        table.add_column(col, style="dim" if col == "id" else None)
    for r in found:
        table.add_row(r.location_name or "", r.name, str(r.capacity), r.hours.text, r.id)
    console.print(table)


@app.command("show")
def show(
    ctx: typer.Context,
    room_id: str = typer.Argument(..., help="The room's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One room (``get_room``)."""
    _show_room(rooms.get_room(state(ctx).store(), room_id), as_json)


@app.command("retire")
def retire(ctx: typer.Context, room_id: str = typer.Argument(..., help="The room's id.")) -> None:
    """Retire a room: no new bookings; kept with its bookings (``retire_room``)."""
    room = rooms.retire_room(state(ctx).store(), room_id)
    console.print(f"retired room {room.name} ({room.id})")


@app.command("rates")
def rates_(
    ctx: typer.Context,
    room_id: str = typer.Argument(..., help="The room's id."),
    file: Path | None = typer.Argument(
        None, help="A rate card CSV to install (else: show the current one)."
    ),
    as_csv: bool = typer.Option(False, "--csv", help="Print the current card as CSV."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a room's rate card, or install one from CSV, all or nothing (``load_rate_card``).

    Columns: type (rate|concession|extra), name, category, per_hour, per_half_day, per_day,
    percent_off, amount_off, imd_decile_max, based_in, price, per. Prices in pounds.
    """
    store = state(ctx).store()
    card = prices.load_rate_card(store, room_id, file) if file else prices.rate_card(store, room_id)
    if as_csv:
        typer.echo(prices.rate_card_csv(card), nl=False)
        return
    if as_json:
        print_json(card.to_dict())
        return
    table = Table(title="Rates" + (" (installed)" if file else ""))
    for col in ("category", "per hour", "half day", "day"):
        table.add_column(col)
    for r in card.to_dict()["rates"]:
        table.add_row(
            r["label"],
            prices.pounds(r["per_hour_pence"]),
            prices.pounds(r["per_half_day_pence"]) if r["per_half_day_pence"] is not None else "-",
            prices.pounds(r["per_day_pence"]) if r["per_day_pence"] is not None else "-",
        )
    console.print(table)
    for c in card.concessions:
        console.print(f"concession: {c.name}: {c.describe()}")
    for e in card.extras:
        console.print(f"extra: {e.name} {prices.pounds(e.price_pence)} per {e.per}")


@app.command("quote")
def quote(
    ctx: typer.Context,
    room_id: str = typer.Argument(..., help="The room's id."),
    start: str = typer.Option(
        ..., "--start", help="ISO date and time (London time unless an offset)."
    ),
    end: str = typer.Option(..., "--end", help="ISO date and time."),
    category: str = typer.Option(..., "--category", help=f"One of {', '.join(prices.CATEGORIES)}."),
    postcode: str | None = typer.Option(None, "--postcode", help="The hirer's home postcode."),
    extra: list[str] = typer.Option([], "--extra", help="An extra's code or name (repeatable)."),
    ambiguous: str | None = typer.Option(
        None, "--ambiguous", help="earlier|later: which 01:xx when the clocks go back."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Quote a booking without making it (``compute_quote``)."""
    store = state(ctx).store()
    s = parse_when(start, field="start", ambiguous=ambiguous)  # type: ignore[arg-type]
    e = parse_when(end, field="end", ambiguous=ambiguous)  # type: ignore[arg-type]
    if e <= s:
        raise InputError("the end must be after the start", field="end")
    home = home_area(store, postcode)
    q = prices.compute_quote(
        prices.rate_card(store, room_id), s, e,
        prices.Hirer(prices.parse_category(category), home.imd_decile, home.postcode, home.area_code),
        extra,
    )  # fmt: skip
    if as_json:
        print_json(q.to_dict())
        return
    print_quote(q.to_dict())


def print_quote(q: dict[str, Any]) -> None:
    table = Table(title="Quote")
    for col in ("item", "list price", "concession", "charge"):
        table.add_column(col, justify="left" if col == "item" else "right")
    for line in q["lines"]:
        table.add_row(
            line["description"] + (f" ({line['date']})" if "date" in line else ""),
            prices.pounds(line["list_pence"]),
            prices.pounds(line["concession_pence"]) if line["concession_pence"] else "",
            prices.pounds(line["charge_pence"]),
        )
    table.add_row("[bold]total[/]", prices.pounds(q["list_pence"]),
                  prices.pounds(q["concession_pence"]), f"[bold]{prices.pounds(q['total_pence'])}[/]")  # fmt: skip
    console.print(table)
    if q.get("concession"):
        console.print(f"concession: {q['concession']}")


@app.command("availability")
def availability(
    ctx: typer.Context,
    room_id: str = typer.Argument(..., help="The room's id."),
    start: str = typer.Option(
        ..., "--from", help="YYYY-MM-DD (local midnight) or ISO date and time."
    ),
    end: str = typer.Option(..., "--to", help="YYYY-MM-DD or ISO date and time (exclusive)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (busy and free times only)."),
) -> None:
    """Free slots and busy times of a room (``free_slots``): what the public may see."""
    a = free_slots(state(ctx).store(), room_id, start, end)
    if as_json:
        print_json(a.to_dict())
        return
    table = Table(title=f"{a.room_name}: free to book (hours {a.hours})")
    table.add_column("day")
    table.add_column("free")
    for s in a.free:
        ls, le = to_local(s.start), to_local(s.end)
        table.add_row(
            ls.strftime("%a %d %b %Y"),
            f"{ls:%H:%M}-{le:%H:%M}" + ("" if ls.date() == le.date() else f" (to {le:%a %d %b})"),
        )
    console.print(table)
    console.print(f"{len(a.busy)} busy stretch(es) in the range")


@app.command("calendar")
def calendar(
    ctx: typer.Context,
    room_id: str = typer.Argument(..., help="The room's id."),
    out: Path | None = typer.Option(None, "--out", help="Write the .ics here (default: print)."),
) -> None:
    """The room's busy times as iCalendar (``room_ics``): no names, no purposes."""
    emit(room_ics(state(ctx).store(), room_id), out)


def emit(text: str, out: Path | None) -> None:
    """Print ``text``, or write it to ``out`` and say so."""
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


@app.command("facilities")
def facilities(
    ctx: typer.Context,
    location: str = typer.Argument(..., help="A directory location's id."),
) -> None:
    """What the location's rooms add to its ORUK record (``location_facilities``), as JSON."""
    print_json(rooms.location_facilities(state(ctx).store(), location).to_dict())


@app.command("example")
def example(
    ctx: typer.Context,
    location: str | None = typer.Option(
        None, "--location", help="Default: the location named New Wortley Community Centre."
    ),
    rates: Path | None = typer.Option(
        None, "--rates", help="Default: docs/examples/new-wortley-rates.csv (shipped)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the room as JSON."),
) -> None:
    """Add the New Wortley Community Centre's large meeting room with its illustrative rate card."""
    room = add_new_wortley_room(state(ctx).store(), location_id=location, rates=rates)
    _show_room(room, as_json)
