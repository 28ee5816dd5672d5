"""The CLI reference (docs/cli.md), generated from the commands themselves so it is never stale.

Example:
    >>> text = cli_reference_markdown()
    >>> text.startswith("# CLI reference")
    True
"""

from __future__ import annotations

from typing import Any

import typer

from strengthmap.settings import Settings

HEADER = """# CLI reference

Generated from the code by `make docs` (`scripts/gen_cli_docs.py`); a test fails when this file
and the commands disagree. Every command takes the global options `--database URL` and
`--data DIR` before the command name (`strengthmap --data ../shared/data data load`);
`strengthmap --version` prints the installed version.

Exit codes: 0 success; 1 unexpected error; 2 bad input or configuration (the message names the
file, row and field); 4 not found; 5 conflict; 6 forbidden; 7 a download failed its checks.

## Settings

| environment variable | what it sets |
|---|---|
"""


def _params_table(command: Any) -> list[str]:
    rows = []
    for param in command.params:
        if param.param_type_name == "option":
            if param.hidden:
                continue
            names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
            default = ""
            if param.default not in (None, False, (), []) and not param.is_flag:
                default = f" (default: `{param.default}`)"
            rows.append(f"| {names} | {(param.help or '').strip()}{default} |")
        elif param.param_type_name == "argument":
            rows.append(
                f"| `{(param.metavar or param.name or '').upper()}` | argument{'' if param.required else ' (optional)'} |"
            )
    if not rows:
        return []
    return ["| option | meaning |", "|---|---|", *rows, ""]


def _walk(command: Any, path: list[str], out: list[str]) -> None:
    # typer's click objects (typer vendors click since 0.29): duck-typed on purpose
    if getattr(command, "commands", None):
        for name in sorted(command.commands):
            _walk(command.commands[name], [*path, name], out)
        return
    out.append(f"## `{' '.join(path)}`")
    out.append("")
    help_text = (command.help or "").strip()
    if help_text:
        out.append(help_text)
        out.append("")
    out.extend(_params_table(command))


def cli_reference_markdown() -> str:
    """Markdown for every command, its help and its options, in a stable order."""
    from strengthmap.cli import app

    root = typer.main.get_command(app)
    out = [HEADER.rstrip("\n")]
    for env, help_text in Settings.help().items():
        out.append(f"| `{env}` | {help_text} |")
    out.append("")
    _walk(root, ["strengthmap"], out)
    return "\n".join(out).rstrip() + "\n"
