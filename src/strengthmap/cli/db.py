"""``strengthmap db``: the store's schema."""

from __future__ import annotations

import typer

from strengthmap.cli.common import console, state
from strengthmap.storage import open_store

app = typer.Typer(help="The database: create it and apply migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context, revision: str = typer.Argument("head")) -> None:
    """Create the database if needed and apply migrations up to REVISION (default: head)."""
    settings = state(ctx).settings
    store = open_store(settings.database_url, upgrade=False)
    store.upgrade(revision)
    console.print(f"database at revision {store.current_revision()} ({store.dialect})")
