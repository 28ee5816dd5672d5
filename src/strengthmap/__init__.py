"""Strengthmap: asset-based community development for health and care, on open data.

"What's strong, not what's wrong": community assets, need (IMD, life expectancy) beside them,
the inequality along a journey, and where to go and look.
"""

from strengthmap.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    InputError,
    NotFound,
    StrengthmapError,
)
from strengthmap.settings import Settings
from strengthmap.storage import Store, open_store

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "Conflict",
    "Forbidden",
    "InputError",
    "NotFound",
    "Settings",
    "Store",
    "StrengthmapError",
    "__version__",
    "open_store",
]
