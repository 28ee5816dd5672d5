"""The one place the directory search picks its backend adapter: ``SearchBackend`` is what an
adapter does, ``backend_for`` the adapter of a store's dialect.

Example:
    >>> from strengthmap.storage import open_store
    >>> type(backend_for(open_store("sqlite://"))).__name__
    'SQLiteSearch'
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from strengthmap.directory.search.plan import SearchPlan
from strengthmap.directory.search.postgresql import PostgreSQLSearch
from strengthmap.directory.search.query import SearchPage
from strengthmap.directory.search.sqlite import SQLiteSearch
from strengthmap.errors import ConfigError
from strengthmap.storage import Store


class SearchBackend(Protocol):
    """Answers a planned search on one backend.

    ``search`` returns the page of ``plan.query`` read in ``session`` (one read transaction),
    ordered as ``hits.order_page`` orders. ``prefilter=False`` asks every filter in SQL alone,
    with nothing kept between searches; its answers must equal the default's.
    """

    dialect: str

    def search(self, session: Session, plan: SearchPlan, *, prefilter: bool) -> SearchPage: ...


#: The adapters by SQLAlchemy dialect name (``Store.dialect``); stateless, so one each.
_BACKENDS: dict[str, SearchBackend] = {
    backend.dialect: backend for backend in (SQLiteSearch(), PostgreSQLSearch())
}


def backend_for(store: Store) -> SearchBackend:
    """The search adapter of ``store``'s backend."""
    try:
        return _BACKENDS[store.dialect]
    except KeyError:
        raise ConfigError(
            f"directory search does not support the {store.dialect} backend"
        ) from None


__all__ = ["SearchBackend", "backend_for"]
