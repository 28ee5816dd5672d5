"""``strengthmap directory``: import, export, search, template, taxonomy, retire, restore, history."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from strengthmap.cli.common import console, err_console, print_json, state
from strengthmap.directory import editing
from strengthmap.directory.export import EXPORT_FORMATS, export
from strengthmap.directory.formats.template import blank_template
from strengthmap.directory.imports import FORMATS, import_file
from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.directory.taxonomy import import_taxonomy, install_default_taxonomy
from strengthmap.errors import InputError

app = typer.Typer(
    help="The asset directory (Open Referral UK): import, search, export, edit.",
    no_args_is_help=True,
)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A file, or a folder of ORUK CSV files."),
    format: str | None = typer.Option(
        None, "--format", help=f"One of {', '.join(FORMATS)} (detected when not given)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    keep_vanished: bool = typer.Option(
        False,
        "--keep-vanished",
        help="osm, ods: keep the records of the same source that this file no longer holds "
        "(by default a newer extract retires them; nothing is ever deleted).",
    ),
) -> None:
    """Import a directory file, all or nothing, upserting by id (``import_file``)."""
    st = state(ctx)
    store = st.store()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=as_json,
    ) as bar:
        task = bar.add_task(f"importing {file.name}", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = import_file(
            store, file, format, actor="cli", progress=progress, keep_vanished=keep_vanished,
            place=st.settings.place,
        )  # fmt: skip
    if as_json:
        print_json(summary.to_dict())
        return
    table = Table(title=f"{summary.file} ({summary.format}, licence {summary.licence or '-'})")
    table.add_column("table")
    table.add_column("rows written", justify="right")
    table.add_column("retired", justify="right")
    for name in dict.fromkeys([*summary.written, *summary.retired]):
        table.add_row(
            name, f"{summary.written.get(name, 0):,}", f"{summary.retired.get(name, 0):,}"
        )
    console.print(table)
    for note in summary.notes:
        console.print(note)


@app.command("export")
def export_(
    ctx: typer.Context,
    out: Path = typer.Argument(..., help="The file (or folder, for oruk-csv) to write."),
    format: str = typer.Option(..., "--format", help=f"One of {', '.join(EXPORT_FORMATS)}."),
    service: str | None = typer.Option(
        None, "--service", help="Only this service (oruk-json, ical)."
    ),
    location: str | None = typer.Option(None, "--location", help="Only this location (ical)."),
) -> None:
    """Export the directory (``export``)."""
    n = export(state(ctx).store(), format, out, service_id=service, location_id=location)
    console.print(f"wrote {n:,} record(s) to {out} ({format})")


@app.command("search")
def search(
    ctx: typer.Context,
    text: str | None = typer.Option(None, "--text", help="Free text, e.g. lunch."),
    taxonomy: list[str] = typer.Option(
        [], "--taxonomy", help="Term code, name or id (repeatable)."
    ),
    kind: str | None = typer.Option(None, "--kind", help="ABCD kind, e.g. association."),
    near: str | None = typer.Option(None, "--near", help='LON,LAT or a postcode, e.g. "LS12 1BE".'),
    radius_m: float | None = typer.Option(
        None, "--radius-m", help="Within this many metres of --near."
    ),
    day: str | None = typer.Option(None, "--day", help="mon..sun or YYYY-MM-DD."),
    start_time: str | None = typer.Option(None, "--from", help="Open at some time after HH:MM."),
    end_time: str | None = typer.Option(None, "--to", help="... and before HH:MM."),
    free: bool = typer.Option(False, "--free", help="Only services that cost nothing."),
    age: int | None = typer.Option(None, "--age", help="Open to someone of this age."),
    area: str | None = typer.Option(None, "--area", help="Inside this area (ONS code)."),
    include_retired: bool = typer.Option(
        False, "--include-retired", help="Show retired services too."
    ),
    page: int = typer.Option(1, "--page", help="Page number (from 1)."),
    per_page: int = typer.Option(20, "--per-page", help="Results per page."),
    as_json: bool = typer.Option(False, "--json", help="Print the page as JSON."),
) -> None:
    """Search services; every filter given must hold (``search_services``)."""
    store = state(ctx).store()
    if radius_m is not None and near is None:
        raise InputError("--radius-m needs --near", field="--radius-m")
    query = ServiceQuery.from_params(
        store,
        text=text,
        taxonomy=taxonomy,
        kind=kind,
        near=near,
        radius_m=radius_m,
        day=day,
        start_time=start_time,
        end_time=end_time,
        free=True if free else None,
        age=age,
        area=area,
        include_retired=include_retired,
        page=page,
        per_page=per_page,
    )
    result = search_services(store, query)
    if as_json:
        print_json(result.to_dict())
        return
    table = Table(title=f"{result.total:,} service(s), page {result.page} of {result.total_pages}")
    table.add_column("name")
    table.add_column("kind")
    table.add_column("distance m", justify="right")
    table.add_column("id", style="dim")
    for h in result.items:
        d = "" if h.distance_m is None else f"{h.distance_m:,.0f}"
        table.add_row(h.name, h.abcd_kind or "", d, h.service_id)
    console.print(table)


@app.command("template")
def template(
    out: Path | None = typer.Argument(None, help="Write the empty template here (default: print)."),
) -> None:
    """The empty community-builder CSV template (``blank_template``)."""
    if out is None:
        typer.echo(blank_template(), nl=False)
    else:
        out.write_text(blank_template(), encoding="utf-8")
        console.print(f"wrote {out}")


@app.command("taxonomy")
def taxonomy(
    ctx: typer.Context,
    file: Path | None = typer.Argument(
        None, help="A custom taxonomy (CSV or ORUK JSON); none: the default."
    ),
) -> None:
    """Install the default taxonomy, or import a custom one (``import_taxonomy``)."""
    store = state(ctx).store()
    n = import_taxonomy(store, file) if file else install_default_taxonomy(store)
    console.print(f"{n} taxonomy term(s) written")


@app.command("retire")
def retire(
    ctx: typer.Context,
    entity: str = typer.Argument(..., help="service, organization or location."),
    record_id: str = typer.Argument(..., help="Its id."),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the audit trail)."),
) -> None:
    """Retire a record: hidden, never deleted (``retire_record``)."""
    editing.retire_record(state(ctx).store(), entity, record_id, actor="cli", reason=reason)
    console.print(f"retired {entity} {record_id}")


@app.command("restore")
def restore(
    ctx: typer.Context,
    entity: str = typer.Argument(..., help="service, organization or location."),
    record_id: str = typer.Argument(..., help="Its id."),
) -> None:
    """Bring a retired record back (``restore_record``)."""
    editing.restore_record(state(ctx).store(), entity, record_id, actor="cli")
    console.print(f"restored {entity} {record_id}")


@app.command("history")
def history(ctx: typer.Context, record_id: str = typer.Argument(..., help="A record id.")) -> None:
    """The audit trail of one record (``history``)."""
    print_json(editing.history(state(ctx).store(), record_id))
