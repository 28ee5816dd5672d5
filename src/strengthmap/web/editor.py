"""Editor pages: edit the asset register through the directory's editing functions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from strengthmap.accounts import User
from strengthmap.api.auth import require_role
from strengthmap.storage import Store, schema
from strengthmap.web.render import render

router = APIRouter(prefix="/edit", tags=["edit"])


def _store(request: Request) -> Store:
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def edit_home(request: Request, user: User = Depends(require_role("editor"))) -> HTMLResponse:
    """The services an editor can change."""
    with _store(request).session() as session:
        services = session.execute(
            select(schema.Service.id, schema.Service.name, schema.Service.status)
            .where(schema.Service.retired_at.is_(None))
            .order_by(schema.Service.name)
        ).all()
    return render(request, "edit_home.html", {"services": services}, data_page=False)


__all__ = ["router"]
