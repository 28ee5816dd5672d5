"""``strengthmap serve``: the web app and API; on first run it creates the database and loads the data."""

from __future__ import annotations

import typer

from strengthmap.cli.common import console, err_console, state


def serve(
    ctx: typer.Context,
    host: str | None = typer.Option(None, help="Address to listen on (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port to listen on (default 8000)."),
    load: bool = typer.Option(
        True, "--load/--no-load", help="Load the data directory first if the store is empty."
    ),
) -> None:
    """Start the web server (creating the database and loading the data on first run)."""
    import uvicorn

    from strengthmap.api import create_app

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
                "or point STRENGTHMAP_DATA_DIR (or --data) at a folder laid out like it.\n"
                "Starting with an empty store."
            )
        else:
            console.print(f"First run: loading {settings.data_dir} into {store!r}")
            load_with_progress(store, settings.data_dir, place=settings.place)
    app = create_app(settings, store=store)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")
