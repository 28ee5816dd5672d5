"""Turn bench/run.py's JSON lines into the Markdown table of docs/benchmarks.md.

Usage: python bench/run.py --quick | tee /tmp/bench.jsonl | python bench/to_markdown.py
"""

from __future__ import annotations

import json
import sys
from typing import Any

KEYS = ("name", "value", "unit", "peer", "peer_value", "ratio")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value).replace("|", "\\|")


def to_markdown(lines: list[str]) -> str:
    out = [
        "| benchmark | value | unit | peer | peer value | ratio | details |",
        "|---|---|---|---|---|---|---|",
    ]
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        if "error" in rec:
            out.append(f"| {rec['name']} | error | | | | | |")
            continue
        details = ", ".join(f"{k}={_fmt(v)}" for k, v in rec.items() if k not in KEYS)
        out.append("| " + " | ".join([*(_fmt(rec.get(k)) for k in KEYS), details]) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(to_markdown(sys.stdin.readlines()))
