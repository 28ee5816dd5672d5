"""``strengthmap directory``."""

from __future__ import annotations

import typer

app = typer.Typer(help="directory commands.", no_args_is_help=True)
