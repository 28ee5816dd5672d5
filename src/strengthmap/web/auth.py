"""Logging in and out: ``GET /login`` (the form), ``POST /login`` and ``POST /logout``.

``POST /login`` checks the email and password (``accounts.authenticate``, at most 5 failures in
15 minutes per account and address, counted in the store), starts a session and sets it as an
HTTP-only cookie; a wrong password shows the form again with the error. ``next`` only ever
leads to a path on this site (``safe_next``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from strengthmap import accounts
from strengthmap.accounts import User
from strengthmap.errors import StrengthmapError
from strengthmap.server.deps import (
    SESSION_COOKIE,
    csrf_protect,
    current_user,
    get_store,
    is_https,
    login_limiter,
    require_role,
)
from strengthmap.storage import Store
from strengthmap.web.render import render

router = APIRouter(tags=["accounts"])


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or ``https://...``): no open redirect.

    >>> safe_next("/edit"), safe_next("//evil.example"), safe_next("https://evil.example")
    ('/edit', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request, next: str = "/") -> Response:
    """The login form."""
    if current_user(request).id:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next)}, data_page=False)


@router.post("/login", dependencies=[Depends(csrf_protect)], response_model=None)
def login(
    request: Request,
    email: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
    store: Store = Depends(get_store),
    limiter: accounts.StoreLoginLimiter = Depends(login_limiter),
) -> Response:
    """Log in with email and password: sets an HTTP-only session cookie and redirects to ``next``.
    Wrong details give 401; 5 failures in 15 minutes per account and address give 429."""
    client = request.client.host if request.client else ""
    try:
        user = accounts.authenticate(store, email, password, client=client, limiter=limiter)
    except StrengthmapError as exc:
        return render(
            request,
            "login.html",
            {"error": str(exc), "email": email, "next": safe_next(next)},
            status_code=exc.http_status,
        )
    token = accounts.start_session(store, user)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(accounts.SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    return response


@router.post("/logout", response_model=None)
def logout(
    request: Request,
    user: User = Depends(require_role("viewer")),
    store: Store = Depends(get_store),
) -> Response:
    """End this session and clear its cookie."""
    accounts.end_session(store, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


__all__ = ["router", "safe_next"]
