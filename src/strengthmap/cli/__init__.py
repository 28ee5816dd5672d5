"""The ``strengthmap`` command: one sub-command per library function, named after it.

Every command takes ``--database`` and ``--data`` (overriding ``STRENGTHMAP_DATABASE_URL`` and
``STRENGTHMAP_DATA_DIR``). Errors print one clear line and exit with the error's code
(2 for bad input; see ``strengthmap.errors``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from strengthmap import __version__
from strengthmap.cli import (
    areas,
    bookings,
    commission,
    data,
    db,
    directory,
    geography,
    network,
    rooms,
    route,
    serve,
    stories,
    users,
    walk,
)
from strengthmap.cli.common import State
from strengthmap.errors import StrengthmapError
from strengthmap.settings import Settings

app = typer.Typer(
    name="strengthmap",
    help="Strengthmap: what's strong, not what's wrong. Community assets, need and inequality.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"strengthmap {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    database: str | None = typer.Option(
        None, "--database", help="Database URL (overrides STRENGTHMAP_DATABASE_URL)."
    ),
    data_dir: Path | None = typer.Option(
        None, "--data", help="Data directory (overrides STRENGTHMAP_DATA_DIR)."
    ),
    _version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version."
    ),
) -> None:
    ctx.obj = State(Settings.from_env(database_url=database, data_dir=data_dir))
    ctx.call_on_close(ctx.obj.close)


app.add_typer(data.app, name="data")
app.add_typer(db.app, name="db")
app.add_typer(areas.app, name="areas")
areas.app.command("contrasts")(geography.contrasts)
app.add_typer(route.app, name="route")
app.add_typer(directory.app, name="directory")
app.add_typer(users.app, name="users")
app.add_typer(walk.app, name="walk")
app.add_typer(rooms.app, name="rooms")
app.add_typer(bookings.app, name="bookings")
app.add_typer(commission.app, name="commission")
app.add_typer(network.app, name="network")
app.add_typer(stories.app, name="stories")
app.command("serve")(serve.serve)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning StrengthmapError into one message and its exit code."""
    try:
        # in non-standalone mode click returns a typer.Exit's code instead of raising it
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            return code
    except StrengthmapError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        Console(stderr=True).print("aborted")
        return 1
    except Exception as exc:
        # usage errors (typer's vendored click.ClickException) arrive here in non-standalone mode
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            return int(exc.exit_code)  # type: ignore[attr-defined]  # checked just above
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
