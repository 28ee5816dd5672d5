"""Helpers shared by the bench scripts: timing and the record format of bench/run.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_of(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs of ``fn`` (seconds) and the last result."""
    best = float("inf")
    result: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def record(name: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "value": round(value, 6), "unit": unit}
    out.update(extra)
    return out


def versus(
    name: str, ours_s: float, peer: str, peer_s: float, unit: str = "s", **extra: Any
) -> dict[str, Any]:
    """A duration record with its peer: ratio = peer time / our time (above 1: we are faster)."""
    return record(
        name,
        ours_s,
        unit,
        peer=peer,
        peer_value=round(peer_s, 6),
        ratio=round(peer_s / ours_s, 3),
        **extra,
    )
