"""Users, their roles and sessions, and the audit trail of every change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from strengthmap.storage.schema.base import Base, utcnow

#: The roles an account can hold. Not a single ladder: an editor edits the directory, a
#: commissioner runs commissions, an admin does both and manages users
#: (``strengthmap.accounts.ROLE_GRANTS``).
ROLES = ("viewer", "editor", "commissioner", "admin")


class UserAccount(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(300), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)  # Argon2id
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column()


class UserSession(Base):
    """A login session; the cookie carries only a random token whose hash is stored here."""

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class LoginAttempt(Base):
    """One login attempt, kept so that every server process (and every app server of a
    PostgreSQL deployment) counts the same failures. ``key_hash``: SHA-256 of the lower-cased
    email and the client address (neither is stored as such)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ok: Mapped[bool] = mapped_column(Boolean)


class AuditEntry(Base):
    """Who changed what, when: one row per create / update / retire of any record."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(300))  # user email, "api-token" or "cli"
    action: Mapped[str] = mapped_column(String(16))  # create | update | retire | restore
    entity: Mapped[str] = mapped_column(String(32))  # table name
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    changes: Mapped[dict[str, Any] | None] = mapped_column()  # {"field": [old, new]}


__all__ = ["ROLES", "AuditEntry", "LoginAttempt", "UserAccount", "UserSession"]
