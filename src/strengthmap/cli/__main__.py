"""``python -m strengthmap.cli``: the ``strengthmap`` command (same as ``python -m strengthmap``).

Example:
    $ python -m strengthmap.cli data load --place Leeds
"""

from __future__ import annotations

import sys

from strengthmap.cli import main

if __name__ == "__main__":
    sys.exit(main())
