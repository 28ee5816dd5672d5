"""``strengthmap data``: load a data directory into the store, download the official files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from strengthmap.cli.common import console, err_console, print_json, state
from strengthmap.sources import LoadReport, load_data_dir
from strengthmap.storage import Store

app = typer.Typer(
    help="Official open data: load a data directory, download the files.", no_args_is_help=True
)


def load_with_progress(store: Store, data_dir: Path, place: str | None) -> list[LoadReport]:
    """``load_data_dir`` with rich progress bars (read, then write) and a summary table."""
    with Progress(
        TextColumn("[bold]{task.description:<6}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[dataset]}"), TimeElapsedColumn(), console=console, transient=False,
    ) as bars:  # fmt: skip
        tasks: dict[str, int] = {}

        def progress(stage: str, dataset: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = int(bars.add_task(stage, total=total, dataset=""))
            bars.update(tasks[stage], completed=done, total=total, dataset=dataset)  # type: ignore[arg-type]  # rich takes int task ids

        reports = load_data_dir(store, data_dir, place=place, progress=progress)
    table = Table(title=f"Loaded {data_dir} ({place or 'all of England'})")
    for col in ("dataset", "rows read", "written", "skipped (unchanged)"):
        table.add_column(col, justify="left" if col == "dataset" else "right")
    for r in reports:
        table.add_row(
            r.dataset,
            f"{r.rows_read:,}",
            f"{r.rows_written:,}",
            "yes" if r.skipped_unchanged else "",
        )
    console.print(table)
    return reports


@app.command("load")
def load(
    ctx: typer.Context,
    data: Path | None = typer.Option(
        None, "--data", help="Data directory (default: the global --data / STRENGTHMAP_DATA_DIR)."
    ),
    place: str | None = typer.Option(
        None,
        "--place",
        help="Local authority to load (name or code), e.g. Leeds (default: the place setting, "
        "STRENGTHMAP_PLACE, Leeds unless set).",
    ),
    all_england: bool = typer.Option(
        False, "--all-england", help="Load the England-wide files whole (no place filter)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the load reports as JSON instead of a table."
    ),
) -> None:
    """Load a data directory (validated first; nothing written if any file is bad; unchanged files skipped)."""
    st = state(ctx)
    data_dir = data or st.settings.data_dir
    chosen = None if all_england else (place or st.settings.place)
    if as_json:
        print_json([r.as_dict() for r in load_data_dir(st.store(), data_dir, place=chosen)])
    else:
        load_with_progress(st.store(), data_dir, place=chosen)


@app.command("download")
def download(
    ctx: typer.Context,
    place: str | None = typer.Option(
        None,
        "--place",
        help="Place whose files to fetch (the England-wide files are always included; default: "
        "the place setting, STRENGTHMAP_PLACE, Leeds unless set).",
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        envvar="STRENGTHMAP_DATA_BASE_URL",
        help="Mirror of the data directory to fetch every file from (the manifest's paths are "
        "appended). Without one, files published byte for byte at a pinned upstream URL come "
        "from there, and the files made for this project are listed as needing a mirror.",
    ),
    dest: Path | None = typer.Option(
        None, "--dest", help="Folder to write into (default: the data directory)."
    ),
) -> None:
    """Fetch the data files listed in the manifest (resumable; sizes and SHA-256 verified)."""
    from strengthmap.sources.download import MIRROR_HELP, NEEDS_MIRROR, download_data

    st = state(ctx)
    target = dest or st.settings.data_dir
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console
    ) as bars:
        task = bars.add_task("download", total=None)

        def progress(name: str, done: int, total: int) -> None:
            bars.update(task, description=name, completed=done, total=total)

        results = download_data(
            target, base_url=base_url, place=place or st.settings.place, progress=progress
        )
    table = Table(title=f"Downloaded into {target}")
    for col in ("file", "bytes", "status", "from"):
        table.add_column(col, justify="right" if col == "bytes" else "left")
    for r in results:
        table.add_row(r.path, f"{r.size:,}", r.status, r.source or "")
    console.print(table)
    missing = [r.path for r in results if r.status == NEEDS_MIRROR]
    if missing:
        err_console.print(
            f"{len(missing)} of {len(results)} files were not downloaded (no mirror given):\n"
            + "".join(f"  {path}\n" for path in missing)
            + MIRROR_HELP,
            markup=False,
            highlight=False,
        )
