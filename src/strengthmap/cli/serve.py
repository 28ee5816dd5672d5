"""``strengthmap serve``: the web app and API; on first run it creates the database and loads the data."""

from __future__ import annotations

import os
from typing import Any

import typer

from strengthmap.cli.common import console, err_console, state
from strengthmap.settings import settings_environment


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Address to listen on (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port to listen on (default 8000)."),
    load: bool = typer.Option(
        True, "--load/--no-load", help="Load the data directory first if the store is empty."
    ),
    workers: int = typer.Option(
        1, min=1, help="Worker processes (one per core suits a busy feed; default 1)."
    ),
) -> None:
    """Start the web server (creating the database and loading the data on first run)."""
    import uvicorn

    from strengthmap.server.app import create_app

    st = state(ctx)
    settings = st.settings
    store = st.store()
    if load and store.is_empty():
        from strengthmap.cli.data import load_with_progress
        from strengthmap.sources import find_data_files

        found = find_data_files(settings.data_dir)
        if not found:
            err_console.print(
                f"No data found in {settings.data_dir}.\n"
                "Get the Leeds open data with:  strengthmap data download --place Leeds\n"
                "(the Leeds extracts come from a mirror of the data folder: add --base-url URL;\n"
                "see docs/data-sources.md), or point STRENGTHMAP_DATA_DIR (or --data) at a\n"
                "folder laid out like it.\n"
                "Starting with an empty store."
            )
        else:
            console.print(f"First run: loading {settings.data_dir} into {store!r}")
            load_with_progress(store, settings.data_dir, place=settings.place)
    host, port = host or settings.host, port or settings.port
    if workers == 1:
        app = create_app(settings, store=store)
        uvicorn.run(app, host=host, port=port, log_level="info")
        return
    # each worker process builds its own app from the environment: hand the settings over
    # there, the secret key included, so a session or CSRF token made by one worker is valid
    # in every other
    store.close()
    os.environ.update(settings_environment(settings))
    config: dict[str, Any] = {
        "app": "strengthmap.server.app:app_from_environment",
        "factory": True,
        "host": host,
        "port": port,
        "log_level": "info",
    }
    from strengthmap.server.workers import balanced_workers_supported, run_workers

    if balanced_workers_supported():
        # one listening socket per worker: the kernel spreads connections across them
        console.print(f"Serving on http://{host}:{port} with {workers} worker processes")
        raise typer.Exit(run_workers(config, workers))
    uvicorn.run(**config, workers=workers)
