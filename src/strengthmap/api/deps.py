"""Dependencies shared by the routers: the store and the settings of the running app."""

from __future__ import annotations

from fastapi import Request

from strengthmap.settings import Settings
from strengthmap.storage import Store


def get_store(request: Request) -> Store:
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


def get_settings(request: Request) -> Settings:
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings
