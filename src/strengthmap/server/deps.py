"""What a handler may ask FastAPI for: the store, the settings, the caller, a role check.

Every router (``api/`` and ``web/``) takes these as dependencies instead of reading
``request.app.state`` itself::

    @router.post("/api/things", status_code=201)
    def create_thing(
        values: dict[str, Any] = Body(...),
        store: Store = Depends(get_store),
        user: User = Depends(require_role("editor")),
    ) -> dict[str, Any]: ...

``require_role(...)`` refuses anonymous callers (401), callers without the role (403) and, for
cookie sessions, unsafe requests without the form's CSRF token (403). Scripts may send
``Authorization: Bearer <STRENGTHMAP_API_TOKEN>`` instead (editor rights; no cookie, so no
CSRF). ``csrf_protect`` alone guards a form that needs no login (``POST /login``). The cookie
and header names below are shared with the middleware (``strengthmap.server.middleware``), which
sets ``request.state.user`` / ``via_token`` / ``csrf_token`` before any handler runs.

``get_store`` and ``get_settings`` are ``async``: they only read ``app.state``, so FastAPI calls
them on the event loop instead of handing each one to a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from strengthmap import accounts
from strengthmap.accounts import ANONYMOUS, User
from strengthmap.errors import Forbidden, Unauthorized
from strengthmap.settings import Settings
from strengthmap.storage import Store

SESSION_COOKIE = "sm_session"
CSRF_COOKIE = "sm_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: The API token's identity: an editor that is not a person.
API_TOKEN_USER = User(id=0, email="api-token", role="editor", display_name="API token")


async def get_store(request: Request) -> Store:
    """The store the app was built over."""
    store = request.app.state.store
    assert isinstance(store, Store)
    return store


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings = request.app.state.settings
    assert isinstance(settings, Settings)
    return settings


def current_user(request: Request) -> User:
    """The caller: a logged-in user, the API token's editor, or ``ANONYMOUS`` (a viewer)."""
    user = getattr(request.state, "user", None)
    return user if isinstance(user, User) else ANONYMOUS


def is_https(request: Request) -> bool:
    """The request came over HTTPS (directly or through a proxy that says so)."""
    return (
        request.scope.get("scheme") == "https"
        or request.headers.get("x-forwarded-proto") == "https"
    )


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


def require_role(role: str) -> Callable[[Request], Awaitable[User]]:
    """A dependency: the caller must hold ``role`` (401 when anonymous, 403 when too weak), and
    an unsafe request must carry the CSRF token. Answers the caller."""
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


__all__ = [
    "API_TOKEN_USER",
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "UNSAFE_METHODS",
    "csrf_protect",
    "current_user",
    "get_settings",
    "get_store",
    "is_https",
    "login_limiter",
    "require_role",
]
