"""Write docs/cli.md from the commands (run after adding or changing a command)."""

from __future__ import annotations

from pathlib import Path

from strengthmap.cli.reference import cli_reference_markdown

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    target.write_text(cli_reference_markdown())
    print(f"wrote {target}")
