"""``strengthmap route``."""

from __future__ import annotations

import typer

app = typer.Typer(help="route commands.", no_args_is_help=True)
