"""``strengthmap areas``."""

from __future__ import annotations

import typer

app = typer.Typer(help="areas commands.", no_args_is_help=True)
