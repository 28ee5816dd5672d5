"""Strengthmap: asset-based community development for health and care, on open data.

"What's strong, not what's wrong": community assets, need (IMD, life expectancy) beside them,
the inequality along a journey, and where to go and look.

Example:
    >>> import strengthmap as sm
    >>> store = sm.open_store("sqlite://")
    >>> sm.search_services(store, sm.ServiceQuery(text="lunch")).total
    0

The domain functions are imported on first use, so ``import strengthmap`` stays quick for the
CLI (pandas, matplotlib and shapely load only when a function that needs them is called).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any

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

#: The installed distribution's version: pyproject.toml is the one place it is written.
__version__ = importlib.metadata.version("strengthmap")

#: public name -> the module that defines it (imported lazily)
_LAZY = {
    "AreaIndex": "strengthmap.geography",
    "ServiceQuery": "strengthmap.directory.search",
    "access_to_assets": "strengthmap.commissioning.access",
    "allocate_budget": "strengthmap.commissioning.allocate",
    "area_profile": "strengthmap.areas",
    "contrasts": "strengthmap.geography",
    "create_app": "strengthmap.server.app",
    "export": "strengthmap.directory.export",
    "health_gap": "strengthmap.commissioning.gap",
    "import_file": "strengthmap.directory.imports",
    "import_oruk": "strengthmap.directory.oruk",
    "life_table": "strengthmap.indicators",
    "load_data_dir": "strengthmap.sources",
    "need_strength": "strengthmap.commissioning.need",
    "neighbours": "strengthmap.geography",
    "profile_route": "strengthmap.routes",
    "resolve_postcode": "strengthmap.areas",
    "route_chart": "strengthmap.charts",
    "search_services": "strengthmap.directory.search",
    "validate_oruk": "strengthmap.directory.oruk",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'strengthmap' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AreaIndex",
    "ConfigError",
    "Conflict",
    "Forbidden",
    "InputError",
    "NotFound",
    "ServiceQuery",
    "Settings",
    "Store",
    "StrengthmapError",
    "__version__",
    "access_to_assets",
    "allocate_budget",
    "area_profile",
    "contrasts",
    "create_app",
    "export",
    "health_gap",
    "import_file",
    "import_oruk",
    "life_table",
    "load_data_dir",
    "need_strength",
    "neighbours",
    "open_store",
    "profile_route",
    "resolve_postcode",
    "route_chart",
    "search_services",
    "validate_oruk",
]
