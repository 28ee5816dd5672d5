"""The JSON API and the Open Referral UK feed: one router per noun, thin over the library.

Routers: ``system`` (``/api/health``, ``/api/datasets``), ``openreferral`` (``/openreferral``,
the ORUK feed), ``directory`` (``/api/directory``), ``geography`` (``/api/areas/contrasts``,
``/api/locate``), ``areas`` (``/api/areas/{code}``, ``/api/postcodes``), ``routes``
(``/api/routes/profile``), ``maps`` (``/api/areas.geojson``, ``/api/assets.geojson``) and
``auth`` (``/api/me``). They are assembled with the web pages in ``strengthmap.server.app``;
``create_app`` and ``app_from_environment`` are re-exported here for callers of
``strengthmap.api.create_app``.

Example:
    >>> from strengthmap.api import create_app
    >>> from strengthmap.settings import Settings
    >>> create_app(Settings(database_url="sqlite://")).title
    'Strengthmap'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strengthmap.server.app import app_from_environment, create_app

_REEXPORTED = {"create_app", "app_from_environment"}


def __getattr__(name: str) -> Any:
    # loaded on first use: the assembly imports every router, this package among them
    if name not in _REEXPORTED:
        raise AttributeError(f"module 'strengthmap.api' has no attribute {name!r}")
    return getattr(importlib.import_module("strengthmap.server.app"), name)


__all__ = ["app_from_environment", "create_app"]
