"""Dependencies shared by the routers: the store and the settings of the running app.

Both are ``async``: they only read ``app.state``, so FastAPI calls them on the event loop
instead of handing each one to a worker thread."""

from __future__ import annotations

from fastapi import Request

from strengthmap.settings import Settings
from strengthmap.storage import Store


async def get_store(request: Request) -> Store:
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


async def get_settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings
