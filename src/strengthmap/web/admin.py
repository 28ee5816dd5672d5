"""Admin pages: users (create, change role, disable) and the running settings (secrets hidden)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from strengthmap import accounts
from strengthmap.accounts import User
from strengthmap.errors import StrengthmapError
from strengthmap.server.deps import get_settings, get_store, require_role
from strengthmap.settings import Settings, shown_settings
from strengthmap.storage import Store
from strengthmap.web.render import render

router = APIRouter(prefix="/admin", tags=["admin"])


def _page(
    request: Request,
    store: Store,
    settings: Settings,
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "admin.html",
        {
            "users": accounts.list_users(store),
            "roles": accounts.ROLES,
            "settings_rows": shown_settings(settings),
            "error": error,
            "notice": notice,
        },
        status_code=status,
        data_page=False,
    )


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def admin_home(
    request: Request,
    user: User = Depends(require_role("admin")),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> HTMLResponse:
    """Users and settings."""
    return _page(request, store, settings)


@router.post("/users", response_model=None)
def admin_create_user(
    request: Request,
    email: str = Form(...),
    password: str = Form(...),
    role: str = Form("editor"),
    display_name: str = Form(""),
    user: User = Depends(require_role("admin")),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Create an account (admin only)."""
    try:
        created = accounts.create_user(
            store, email, password=password, role=role, display_name=display_name or None
        )
    except StrengthmapError as exc:
        return _page(request, store, settings, error=str(exc), status=exc.http_status)
    return RedirectResponse(f"/admin?created={created.id}", status_code=303)


@router.post("/users/role", response_model=None)
def admin_set_role(
    email: str = Form(...),
    role: str = Form(...),
    user: User = Depends(require_role("admin")),
    store: Store = Depends(get_store),
) -> Response:
    """Change an account's role (admin only)."""
    accounts.set_role(store, email, role)
    return RedirectResponse("/admin", status_code=303)


@router.post("/users/disable", response_model=None)
def admin_disable_user(
    email: str = Form(...),
    user: User = Depends(require_role("admin")),
    store: Store = Depends(get_store),
) -> Response:
    """Disable an account and end its sessions (admin only)."""
    accounts.disable_user(store, email)
    return RedirectResponse("/admin", status_code=303)


__all__ = ["router"]
