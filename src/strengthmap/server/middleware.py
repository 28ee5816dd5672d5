"""The middleware in front of every request: who is asking, a CSRF nonce, security headers.

``AuthMiddleware`` resolves the caller once per request (session cookie or API token) into
``request.state.user``, gives a browser without one a CSRF nonce cookie, and adds a strict
Content-Security-Policy (scripts only from this site) and the other security headers a response
lacks. Handlers read the caller through ``strengthmap.server.deps.current_user``.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strengthmap import accounts
from strengthmap.accounts import ANONYMOUS, User
from strengthmap.server.deps import API_TOKEN_USER, CSRF_COOKIE, SESSION_COOKIE, is_https
from strengthmap.settings import Settings
from strengthmap.storage import Store


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    if value.lower().startswith("bearer "):
        return value[7:].strip() or None
    return None


@lru_cache(maxsize=16)
def security_headers(tile_url: str | None) -> tuple[tuple[bytes, bytes], ...]:
    """The security headers for a site whose map tiles come from ``tile_url`` (computed once).

    >>> dict(security_headers(None))[b"x-frame-options"]
    b'DENY'
    """
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
        extra = security_headers(settings.tile_url)
        cookie = _csrf_cookie_header(new_nonce, is_https(request)) if new_nonce else None

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


__all__ = ["AuthMiddleware", "security_headers"]
