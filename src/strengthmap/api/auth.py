"""``GET /api/me``: who the caller is. Logging in and out are pages (``strengthmap.web.auth``);
the session, the API token and role checks are the server's (``strengthmap.server.deps``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from strengthmap.accounts import ANONYMOUS, User
from strengthmap.server.deps import current_user

router = APIRouter(tags=["accounts"])


@router.get("/api/me")
def me(user: User = Depends(current_user)) -> dict[str, Any]:
    """Who the caller is (role ``viewer`` and no email when not logged in)."""
    return {"email": user.email or None, "role": user.role, "logged_in": user is not ANONYMOUS}


__all__ = ["router"]
