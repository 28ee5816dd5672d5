"""Admin pages: users (create, change role, disable) and the running settings (secrets hidden)."""

from __future__ import annotations

from dataclasses import fields

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from strengthmap import accounts
from strengthmap.accounts import User
from strengthmap.api.auth import require_role
from strengthmap.errors import StrengthmapError
from strengthmap.settings import Settings
from strengthmap.storage import Store
from strengthmap.web.render import render

router = APIRouter(prefix="/admin", tags=["admin"])
#: Settings never shown, even to admins.
SECRET_SETTINGS = frozenset({"secret_key", "api_token"})


def _store(request: Request) -> Store:
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


def _page(
    request: Request, *, error: str | None = None, notice: str | None = None, status: int = 200
) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    shown = []
    help_ = Settings.help()
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if f.name in SECRET_SETTINGS:
            value = "(set)" if value else "(not set)"
        shown.append(
            (
                f.name,
                str(value) if value is not None else "",
                help_["STRENGTHMAP_" + f.name.upper()],
            )
        )
    return render(
        request,
        "admin.html",
        {
            "users": accounts.list_users(_store(request)),
            "roles": accounts.ROLES,
            "settings_rows": shown,
            "error": error,
            "notice": notice,
        },
        status_code=status,
        data_page=False,
    )


@router.get("", response_class=HTMLResponse, include_in_schema=False)
def admin_home(request: Request, user: User = Depends(require_role("admin"))) -> HTMLResponse:
    """Users and settings."""
    return _page(request)


@router.post("/users", response_model=None)
def admin_create_user(
    request: Request,
    email: str = Form(...),
    password: str = Form(...),
    role: str = Form("editor"),
    display_name: str = Form(""),
    user: User = Depends(require_role("admin")),
) -> Response:
    """Create an account (admin only)."""
    try:
        created = accounts.create_user(
            _store(request), email, password=password, role=role, display_name=display_name or None
        )
    except StrengthmapError as exc:
        return _page(request, error=str(exc), status=exc.http_status)
    return RedirectResponse(f"/admin?created={created.id}", status_code=303)


@router.post("/users/role", response_model=None)
def admin_set_role(
    request: Request,
    email: str = Form(...),
    role: str = Form(...),
    user: User = Depends(require_role("admin")),
) -> Response:
    """Change an account's role (admin only)."""
    accounts.set_role(_store(request), email, role)
    return RedirectResponse("/admin", status_code=303)


@router.post("/users/disable", response_model=None)
def admin_disable_user(
    request: Request,
    email: str = Form(...),
    user: User = Depends(require_role("admin")),
) -> Response:
    """Disable an account and end its sessions (admin only)."""
    accounts.disable_user(_store(request), email)
    return RedirectResponse("/admin", status_code=303)


__all__ = ["router"]
