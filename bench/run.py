"""Run every benchmark and print one JSON object per line.

Each ``bench/bench_*.py`` defines ``run(quick: bool, data_dir: Path | None) -> Iterator[dict]``
yielding records with ``name``, ``value``, ``unit`` and, where a peer was timed in the same
process on the same data, ``peer``, ``peer_value`` and ``ratio`` (peer time / our time for
durations, our rate / peer rate for throughputs: above 1 means Strengthmap is faster).

Usage: python bench/run.py [--quick] [--only NAME] [--data DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _data_dir(arg: str | None) -> Path | None:
    for candidate in (
        arg,
        os.environ.get("STRENGTHMAP_DATA_DIR"),
        str(HERE.parent.parent / "shared" / "data"),
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate).resolve()
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes, for CI and a first look"
    )
    parser.add_argument("--only", help="run only bench_<ONLY>.py")
    parser.add_argument("--data", help="data directory (default ../shared/data)")
    args = parser.parse_args(argv)
    data_dir = _data_dir(args.data)
    sys.path.insert(0, str(HERE))
    failures = 0
    for path in sorted(HERE.glob("bench_*.py")):
        if args.only and path.stem != f"bench_{args.only}":
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        try:
            for record in module.run(quick=args.quick, data_dir=data_dir):
                print(json.dumps(record), flush=True)
        except Exception:
            failures += 1
            print(
                json.dumps({"name": path.stem, "error": traceback.format_exc(limit=3)}), flush=True
            )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
