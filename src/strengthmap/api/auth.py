"""Who is asking, and may they: session cookies, roles, CSRF checks, ``POST /login`` and ``POST /logout``.

Every state-changing route depends on ``require_role(...)`` (or ``csrf_protect`` alone for
``/login``), which refuses anonymous callers (401), callers without the role (403) and, for
cookie sessions, requests without the form's CSRF token (403). Scripts may send
``Authorization: Bearer <STRENGTHMAP_API_TOKEN>`` instead (editor rights; no cookie, so no CSRF).

Example (a route for editors only)::

    @router.post("/api/things", dependencies=[Depends(require_role("editor"))])
    def create_thing(...): ...
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strengthmap import accounts
from strengthmap.accounts import ANONYMOUS, User
from strengthmap.api.deps import get_settings, get_store
from strengthmap.errors import Forbidden, StrengthmapError, Unauthorized
from strengthmap.settings import Settings
from strengthmap.storage import Store

SESSION_COOKIE = "sm_session"
CSRF_COOKIE = "sm_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: The API token's identity: an editor that is not a person.
API_TOKEN_USER = User(id=0, email="api-token", role="editor", display_name="API token")

router = APIRouter(tags=["accounts"])


def _is_https(request: Request) -> bool:
    return (
        request.scope.get("scheme") == "https"
        or request.headers.get("x-forwarded-proto") == "https"
    )


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    if value.lower().startswith("bearer "):
        return value[7:].strip() or None
    return None


def install(app: FastAPI) -> None:
    """Add the middleware that resolves the user, gives every browser a CSRF nonce and sets
    security headers (a strict Content-Security-Policy: scripts only from this site)."""
    app.add_middleware(AuthMiddleware)


@lru_cache(maxsize=16)
def _security_headers(tile_url: str | None) -> tuple[tuple[bytes, bytes], ...]:
    """The security headers for a site whose map tiles come from ``tile_url`` (computed once)."""
    img_src = "'self' data: blob:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        if parts.scheme and parts.netloc:
            host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
            img_src += f" {parts.scheme}://{host}"
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {img_src}; connect-src 'self'; font-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    return (
        (b"content-security-policy", csp.encode("latin-1")),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
        (b"x-frame-options", b"DENY"),
    )


def _csrf_cookie_header(nonce: str, secure: bool) -> tuple[bytes, bytes]:
    """The ``Set-Cookie`` header giving a browser its CSRF nonce (as ``Response.set_cookie``)."""
    holder = Response()
    holder.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="strict", secure=secure, path="/")
    return next((k, v) for k, v in holder.raw_headers if k == b"set-cookie")


class AuthMiddleware:
    """Pure ASGI middleware (no ``BaseHTTPMiddleware`` task and stream per request): sets
    ``request.state.user`` / ``via_token`` / ``csrf_nonce`` / ``csrf_token``, gives a browser
    without one a CSRF nonce cookie and adds the security headers the response lacks. The
    session store is only read when the request carries a session cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        settings: Settings = request.app.state.settings
        store: Store = request.app.state.store
        cookies = request.cookies
        nonce = cookies.get(CSRF_COOKIE)
        new_nonce = None
        if not nonce or len(nonce) > 100:
            nonce = new_nonce = accounts.new_csrf_nonce()
        state = request.state
        state.csrf_nonce = nonce
        state.csrf_token = accounts.csrf_token(settings.secret_key, nonce)
        user: User = ANONYMOUS
        bearer = _bearer(request)
        state.via_token = False
        if bearer and settings.api_token and hmac.compare_digest(bearer, settings.api_token):
            user = API_TOKEN_USER
            state.via_token = True
        elif not scope["path"].startswith("/static/"):
            token = cookies.get(SESSION_COOKIE)
            if token:  # no cookie, no session: skip the store (and the thread it needs)
                found = await run_in_threadpool(accounts.session_user, store, token)
                if found is not None:
                    user = found
        state.user = user
        extra = _security_headers(settings.tile_url)
        cookie = _csrf_cookie_header(new_nonce, _is_https(request)) if new_nonce else None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                if cookie is not None:
                    headers.append(cookie)
                headers.extend((k, v) for k, v in extra if k not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def current_user(request: Request) -> User:
    """The caller: a logged-in user, the API token's editor, or ``ANONYMOUS`` (a viewer)."""
    user = getattr(request.state, "user", None)
    return user if isinstance(user, User) else ANONYMOUS


async def csrf_protect(request: Request) -> None:
    """Refuse (403) an unsafe request whose CSRF token (form field ``csrf_token`` or header
    ``X-CSRF-Token``) does not match this browser's nonce. API-token calls carry no cookie and
    are exempt."""
    if request.method not in UNSAFE_METHODS or getattr(request.state, "via_token", False):
        return
    token = request.headers.get(CSRF_HEADER)
    if not token:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # Starlette caches it for the endpoint's Form() fields
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    settings: Settings = request.app.state.settings
    if not accounts.check_csrf(settings.secret_key, request.cookies.get(CSRF_COOKIE), token):
        raise Forbidden("missing or wrong CSRF token: reload the page and try again")


def require_role(role: str) -> Callable[..., Awaitable[User]]:
    """A dependency: the caller must hold ``role`` (401 when anonymous, 403 when too weak), and
    an unsafe request must carry the CSRF token."""
    if role not in accounts.ROLES:
        raise ValueError(f"unknown role {role!r}")

    async def dependency(request: Request) -> User:
        user = current_user(request)
        if user is ANONYMOUS:
            raise Unauthorized("log in first")
        if not accounts.has_role(user, role):
            raise Forbidden(f"this needs the {role} role")
        await csrf_protect(request)
        return user

    dependency.__name__ = f"require_{role}"
    return dependency


def login_limiter(request: Request) -> accounts.StoreLoginLimiter:
    """The login limit, counted in the store so that every worker process shares it."""
    limiter = getattr(request.app.state, "login_limiter", None)
    if limiter is None:
        limiter = request.app.state.login_limiter = accounts.StoreLoginLimiter(
            request.app.state.store
        )
    assert isinstance(limiter, accounts.StoreLoginLimiter)
    return limiter


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or ``https://...``): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.post("/login", dependencies=[Depends(csrf_protect)], response_model=None)
def login(
    request: Request,
    email: str = Form(...),
    password: str = Form(...),
    next: str = Form("/"),
    store: Store = Depends(get_store),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Log in with email and password: sets an HTTP-only session cookie and redirects to ``next``.
    Wrong details give 401; 5 failures in 15 minutes per account and address give 429."""
    from strengthmap.web.render import render

    client = request.client.host if request.client else ""
    try:
        user = accounts.authenticate(
            store, email, password, client=client, limiter=login_limiter(request)
        )
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
        secure=_is_https(request),
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


@router.get("/api/me")
def me(user: User = Depends(current_user)) -> dict[str, Any]:
    """Who the caller is (role ``viewer`` and no email when not logged in)."""
    return {"email": user.email or None, "role": user.role, "logged_in": user is not ANONYMOUS}


__all__ = [
    "API_TOKEN_USER",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "AuthMiddleware",
    "csrf_protect",
    "current_user",
    "install",
    "require_role",
    "router",
    "safe_next",
]
