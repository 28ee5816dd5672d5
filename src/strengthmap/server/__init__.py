"""The application server: assembly, dependencies, middleware, the error handler, workers.

- ``app``: ``create_app(settings)``, the one place routers, middleware, static files and the
  error handler are put together; ``app_from_environment()`` for worker processes.
- ``deps``: the FastAPI dependencies every handler uses (``get_store``, ``get_settings``,
  ``current_user``, ``require_role``, ``csrf_protect``) and the cookie names.
- ``middleware``: ``AuthMiddleware`` (the caller, the CSRF nonce, security headers).
- ``errors``: the one ``StrengthmapError`` handler (an HTML page or JSON, by what the client
  accepts).
- ``workers``: ``serve --workers N``'s supervisor (a listening socket per worker).

``api/`` and ``web/`` import ``strengthmap.server.deps`` only; this package imports them. The
two names below are loaded on first use, so that importing ``strengthmap.server.deps`` from a
router does not load every other router.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strengthmap.server.app import app_from_environment, create_app

_LAZY = {"create_app", "app_from_environment"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'strengthmap.server' has no attribute {name!r}")
    return getattr(importlib.import_module("strengthmap.server.app"), name)


__all__ = ["app_from_environment", "create_app"]
