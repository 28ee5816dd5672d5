"""``python -m strengthmap``: the ``strengthmap`` command, for when the console script is not on PATH.

Example:
    $ python -m strengthmap serve --port 8080
"""

from __future__ import annotations

import sys

from strengthmap.cli import main

if __name__ == "__main__":
    sys.exit(main())
