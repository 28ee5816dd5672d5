"""What every command shares: the settings, the store opened on demand, JSON output."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import typer
from rich.console import Console

from strengthmap.settings import Settings
from strengthmap.storage import Store, open_store

console = Console()
err_console = Console(stderr=True)


@dataclass
class State:
    settings: Settings
    _store: Store | None = field(default=None, repr=False)

    def store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.settings.database_url)
        return self._store

    def close(self) -> None:
        """Close the store if a command opened it (the root command calls this on exit)."""
        if self._store is not None:
            self._store.close()
            self._store = None


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def print_json(value: Any) -> None:
    """Plain JSON on stdout (no colour codes), for other tools to read."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))
