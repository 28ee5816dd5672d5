"""The public story form's defences that live outside the text: a per-address rate limit counted
in the store, and the honeypot check.

Example:
    >>> from strengthmap.storage import open_store
    >>> limiter = StoreSubmissionLimiter(open_store("sqlite://"), max_posts=2, window_s=3600)
    >>> limiter.record("203.0.113.9"); limiter.record("203.0.113.9")
    >>> limiter.blocked("203.0.113.9"), limiter.blocked("198.51.100.7")
    (True, False)
    >>> honeypot_tripped(""), honeypot_tripped(None), honeypot_tripped("http://spam.example")
    (False, False, True)

The limit is counted in the store (table ``story_submission``), like ``accounts.StoreLoginLimiter``,
so every worker of ``serve --workers N`` and every app server of a PostgreSQL deployment shares
one count. Addresses are not stored: the key is HMAC-SHA256 of the address under the instance's
secret key (SHA-256 without one). ``add_story`` checks and records inside its own transaction
(under SQLite's write lock), so two posts at once cannot both slip under the limit. Signed-in
editors and admins (writing down stories told to them at an event) are not limited.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from strengthmap.errors import Forbidden
from strengthmap.storage import Store, schema

#: The name of the hidden form field that people never see and bots fill in.
HONEYPOT_FIELD = "website"


class TooManyStories(Forbidden):
    """Too many stories from this address in the window; try again later."""

    http_status = 429


def honeypot_tripped(value: str | None) -> bool:
    """True when the hidden field was filled in: a bot, not a person (the web layer then
    answers as if the story was received, and saves nothing)."""
    return bool(value and value.strip())


class StoreSubmissionLimiter:
    """At most ``max_posts`` stories per client address in a sliding ``window_s`` seconds."""

    def __init__(
        self,
        store: Store,
        *,
        max_posts: int = 10,
        window_s: float = 3600,
        secret_key: str | None = None,
    ) -> None:
        self.store = store
        self.max_posts = max_posts
        self.window_s = window_s
        self._key = secret_key.encode() if secret_key else None

    def key_hash(self, address: str) -> str:
        raw = address.strip().lower().encode()
        if self._key is not None:
            return hmac.new(self._key, b"story-form|" + raw, hashlib.sha256).hexdigest()
        return hashlib.sha256(b"story-form|" + raw).hexdigest()

    def count(self, session: Session, address: str, now: datetime | None = None) -> int:
        """Stories from ``address`` in the window ending ``now``."""
        now = now or datetime.now(UTC)
        tab = schema.StorySubmission
        n = session.scalar(
            select(func.count()).where(
                tab.key_hash == self.key_hash(address),
                tab.at > now - timedelta(seconds=self.window_s),
            )
        )
        return int(n or 0)

    def check(self, session: Session, address: str, now: datetime | None = None) -> None:
        """``TooManyStories`` when ``address`` has used up the window."""
        if self.count(session, address, now) >= self.max_posts:
            minutes = max(1, round(self.window_s / 60))
            raise TooManyStories(
                f"too many stories from this address: at most {self.max_posts} in {minutes} "
                "minutes; please try again later"
            )

    def add(self, session: Session, address: str, now: datetime | None = None) -> None:
        """Count one story from ``address`` (in the caller's transaction)."""
        session.add(
            schema.StorySubmission(key_hash=self.key_hash(address), at=now or datetime.now(UTC))
        )

    def blocked(self, address: str, *, now: datetime | None = None) -> bool:
        with self.store.session() as session:
            return self.count(session, address, now) >= self.max_posts

    def record(self, address: str, *, now: datetime | None = None) -> None:
        with self.store.transaction() as session:
            self.add(session, address, now)


__all__ = ["HONEYPOT_FIELD", "StoreSubmissionLimiter", "TooManyStories", "honeypot_tripped"]
