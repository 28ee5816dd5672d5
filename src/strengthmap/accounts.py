"""Users, roles (viewer; editor or commissioner; admin), Argon2 passwords, login sessions, CSRF tokens, login rate limits.

Example:
    >>> store = open_store("sqlite://")                                   # doctest: +SKIP
    >>> create_user(store, "ana@example.org", role="editor", password="correct horse 1")  # doctest: +SKIP
    User(id=1, email='ana@example.org', role='editor', ...)
    >>> user = authenticate(store, "ana@example.org", "correct horse 1")  # doctest: +SKIP
    >>> token = start_session(store, user)                               # doctest: +SKIP
    >>> session_user(store, token).email                                 # doctest: +SKIP
    'ana@example.org'

Security choices, so that they can be checked:

* Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile) and
  rehashed on login when those parameters change. ``use_password_hasher`` swaps the hasher for
  the process; only the test suite calls it (a cheap one), the app never does.
* A session cookie carries only a random 256-bit token; the store keeps its SHA-256, so a leaked
  database does not leak live sessions. Sessions expire after ``SESSION_TTL``.
* CSRF tokens are bound to a per-browser random nonce (kept in an HTTP-only cookie) with an HMAC
  keyed by ``Settings.secret_key``: a page on another site can neither read the cookie nor forge
  the HMAC, so it cannot produce a valid token.
* Logins are rate limited per (account, client address): ``max_failures`` failed attempts in
  a sliding ``window_s``, then refused (even a correct password) until the oldest failure
  leaves the window or a login succeeds. The app counts in the store (``StoreLoginLimiter``,
  table ``login_attempt``), so every worker process and app server shares one count;
  ``LoginLimiter`` is the same rule in memory, for one process.

This module is a domain module: it takes the store and plain values; the server's dependencies
(``strengthmap.server.deps``) and the login pages (``strengthmap.web.auth``) turn its results
into cookies and HTTP statuses.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select

from strengthmap.errors import Conflict, Forbidden, InputError, NotFound, Unauthorized
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.accounts import ROLES

#: How long a login session lasts.
SESSION_TTL = timedelta(days=14)
#: Shortest password accepted (NIST SP 800-63B asks for at least 8).
MIN_PASSWORD_LENGTH = 10

_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


@dataclass
class _Hashing:
    """The process's password hasher, and a hash made with it of a password nobody has."""

    hasher: PasswordHasher
    dummy: str | None = None  # made on first use

    def dummy_hash(self) -> str:
        if self.dummy is None:
            self.dummy = self.hasher.hash("not a real password, used to even out timing")
        return self.dummy


_HASHING = _Hashing(PasswordHasher())


def use_password_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash and verify passwords with ``hasher`` in this process; returns the one it replaces.

    The app keeps argon2-cffi's default cost (RFC 9106 low-memory profile: 3 passes over 64 MiB,
    4 lanes). The test suite sets a cheap one once per session (``tests/conftest.py``), since it
    creates users and logs in hundreds of times; a hash carries its own parameters, so hashes of
    either cost verify under the other, and a login rehashes at the current cost.
    """
    previous = _HASHING.hasher
    _HASHING.hasher = hasher
    _HASHING.dummy = None
    return previous


@dataclass(frozen=True)
class User:
    """A user account as the rest of the app sees it (never the password hash)."""

    id: int
    email: str
    role: str
    display_name: str | None = None
    created_at: datetime | None = None
    disabled: bool = False

    @property
    def label(self) -> str:
        return self.display_name or self.email


#: What each role may do: the roles it holds. ``editor`` (the directory) and ``commissioner``
#: (commissions, allocations, the co-production log) are side by side, neither above the other:
#: a commissioner does not edit the directory, an editor does not run commissions. ``admin``
#: holds every role. A role is granted only through this table, never by its position in ROLES.
ROLE_GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"viewer"}),
    "editor": frozenset({"viewer", "editor"}),
    "commissioner": frozenset({"viewer", "commissioner"}),
    "admin": frozenset(ROLES),
}

#: The public: no account, may read public data only.
ANONYMOUS = User(id=0, email="", role="viewer", display_name="visitor")


def has_role(user: User | None, role: str) -> bool:
    """True when ``user``'s role grants ``role`` (``ROLE_GRANTS``): admin grants every role,
    editor and commissioner each grant themselves and viewer, viewer grants viewer.

    >>> has_role(User(1, "a@b.org", "admin"), "editor"), has_role(None, "editor")
    (True, False)
    >>> has_role(User(2, "c@b.org", "commissioner"), "editor")
    False
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if user is None or user.disabled:
        return False
    return role in ROLE_GRANTS.get(user.role, frozenset())


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (a PHC string such as ``$argon2id$v=19$...``)."""
    return _HASHING.hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash`` (constant time inside argon2)."""
    try:
        return _HASHING.hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _normalise_email(email: str) -> str:
    value = email.strip().lower()
    if not _EMAIL.match(value) or len(value) > 300:
        raise InputError(f"not an email address: {email!r}", field="email")
    return value


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; roles are {', '.join(ROLES)}", field="role")
    return role


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            f"password too short: at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything is stored in UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _user(row: schema.UserAccount) -> User:
    return User(
        id=row.id,
        email=row.email,
        role=row.role,
        display_name=row.display_name,
        created_at=_aware(row.created_at),
        disabled=row.disabled_at is not None,
    )


def create_user(
    store: Store,
    email: str,
    *,
    password: str,
    role: str = "viewer",
    display_name: str | None = None,
) -> User:
    """Create an account (``strengthmap users create``); a second account for one email is a Conflict."""
    email = _normalise_email(email)
    _check_role(role)
    _check_password(password)
    with store.transaction() as session:
        if session.scalar(select(schema.UserAccount).where(schema.UserAccount.email == email)):
            raise Conflict(f"a user {email} already exists")
        row = schema.UserAccount(
            email=email,
            display_name=display_name or None,
            password_hash=hash_password(password),
            role=role,
        )
        session.add(row)
        session.flush()
        return _user(row)


def list_users(store: Store) -> list[User]:
    """Every account, oldest first."""
    with store.session() as session:
        rows = session.scalars(select(schema.UserAccount).order_by(schema.UserAccount.id)).all()
        return [_user(r) for r in rows]


def get_user(store: Store, email: str) -> User:
    """The account for ``email`` or NotFound."""
    with store.session() as session:
        row = session.scalar(
            select(schema.UserAccount).where(schema.UserAccount.email == email.strip().lower())
        )
        if row is None:
            raise NotFound(f"no user {email}")
        return _user(row)


def disable_user(store: Store, email: str) -> User:
    """Disable an account and end its sessions (the row stays, for the audit trail)."""
    with store.transaction() as session:
        row = session.scalar(
            select(schema.UserAccount).where(schema.UserAccount.email == email.strip().lower())
        )
        if row is None:
            raise NotFound(f"no user {email}")
        if row.disabled_at is None:
            row.disabled_at = datetime.now(UTC)
        session.execute(delete(schema.UserSession).where(schema.UserSession.user_id == row.id))
        session.flush()
        return _user(row)


def set_role(store: Store, email: str, role: str) -> User:
    """Change an account's role."""
    _check_role(role)
    with store.transaction() as session:
        row = session.scalar(
            select(schema.UserAccount).where(schema.UserAccount.email == email.strip().lower())
        )
        if row is None:
            raise NotFound(f"no user {email}")
        row.role = role
        session.flush()
        return _user(row)


@dataclass
class LoginLimiter:
    """Sliding-window count of failed logins per key (``"email|ip"``); thread-safe, in memory.

    >>> lim = LoginLimiter(max_failures=2, window_s=60)
    >>> lim.fail("a|1", now=0); lim.fail("a|1", now=1); lim.blocked("a|1", now=2)
    True
    >>> lim.blocked("a|1", now=61)
    False
    """

    max_failures: int = 5
    window_s: float = 15 * 60
    _failures: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _prune(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def blocked(self, key: str, *, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            return len(self._prune(key, now)) >= self.max_failures

    def fail(self, key: str, *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._prune(key, now).append(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class StoreLoginLimiter:
    """The same sliding-window limit, counted in the store (``login_attempt``), so that every
    server process shares it: with ``serve --workers N`` an in-memory count gave each worker
    its own ``max_failures`` tries. A success ends the count for its key; attempts are kept as
    a record of logins (keys hashed: SHA-256 of "email|address"), never deleted.

    >>> from strengthmap.storage import open_store
    >>> lim = StoreLoginLimiter(open_store("sqlite://"), max_failures=2)
    >>> lim.fail("a|1"); lim.fail("a|1"); lim.blocked("a|1"), lim.blocked("b|1")
    (True, False)
    >>> lim.reset("a|1"); lim.blocked("a|1")
    False
    """

    def __init__(self, store: Store, *, max_failures: int = 5, window_s: float = 15 * 60) -> None:
        self.store = store
        self.max_failures = max_failures
        self.window_s = window_s

    def blocked(self, key: str, *, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        since = now - timedelta(seconds=self.window_s)
        tab = schema.LoginAttempt
        hashed = _token_hash(key)
        with self.store.session() as session:
            last_ok = session.scalar(
                select(func.max(tab.at)).where(tab.key_hash == hashed, tab.ok.is_(True))
            )
            if last_ok is not None:
                last_ok = last_ok if last_ok.tzinfo else last_ok.replace(tzinfo=UTC)
                since = max(since, last_ok)
            failures = session.scalar(
                select(func.count()).where(
                    tab.key_hash == hashed, tab.ok.is_(False), tab.at > since
                )
            )
        return int(failures or 0) >= self.max_failures

    def _record(self, key: str, ok: bool, now: datetime | None) -> None:
        with self.store.transaction() as session:
            session.add(
                schema.LoginAttempt(key_hash=_token_hash(key), at=now or datetime.now(UTC), ok=ok)
            )

    def fail(self, key: str, *, now: datetime | None = None) -> None:
        self._record(key, False, now)

    def reset(self, key: str, *, now: datetime | None = None) -> None:
        self._record(key, True, now)


class TooManyAttempts(Forbidden):
    """Too many failed logins for this account from this address; try again later."""

    http_status = 429


def authenticate(
    store: Store,
    email: str,
    password: str,
    *,
    client: str = "",
    limiter: LoginLimiter | StoreLoginLimiter | None = None,
) -> User:
    """The user whose email and password match, or Unauthorized (one message for every failure,
    so that it does not reveal which accounts exist); TooManyAttempts when rate limited."""
    key = f"{email.strip().lower()}|{client}"
    if limiter is not None and limiter.blocked(key):
        raise TooManyAttempts("too many failed logins; wait 15 minutes and try again")
    user: User | None = None
    with store.transaction() as session:
        row = session.scalar(
            select(schema.UserAccount).where(schema.UserAccount.email == email.strip().lower())
        )
        ok = row is not None and row.disabled_at is None
        if row is None:
            # spend the same time as a real check, so timing does not reveal the account exists
            verify_password(_HASHING.dummy_hash(), password)
        elif not verify_password(row.password_hash, password):
            ok = False
        if ok and row is not None:
            if _HASHING.hasher.check_needs_rehash(row.password_hash):
                row.password_hash = hash_password(password)
            user = _user(row)
    # the attempt is recorded after the check's transaction (a store-backed limiter writes its
    # own, which on SQLite could not start while this one held the write lock)
    if user is None:
        if limiter is not None:
            limiter.fail(key)
        raise Unauthorized("wrong email or password")
    if limiter is not None:
        limiter.reset(key)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(store: Store, user: User, *, ttl: timedelta = SESSION_TTL) -> str:
    """A new session for ``user``; returns the secret token (store only its hash)."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.transaction() as session:
        # housekeeping: drop this user's expired sessions
        session.execute(
            delete(schema.UserSession).where(
                schema.UserSession.user_id == user.id, schema.UserSession.expires_at < now
            )
        )
        session.add(
            schema.UserSession(
                token_hash=_token_hash(token), user_id=user.id, created_at=now, expires_at=now + ttl
            )
        )
    return token


def session_user(store: Store, token: str | None) -> User | None:
    """The live, enabled user of session ``token``, or None (unknown, expired or disabled)."""
    if not token:
        return None
    with store.session() as session:
        row = session.execute(
            select(schema.UserSession, schema.UserAccount)
            .join(schema.UserAccount, schema.UserAccount.id == schema.UserSession.user_id)
            .where(schema.UserSession.token_hash == _token_hash(token))
        ).first()
    if row is None:
        return None
    sess, account = row
    expires = _aware(sess.expires_at)
    if expires is None or expires <= datetime.now(UTC) or account.disabled_at is not None:
        return None
    return _user(account)


def end_session(store: Store, token: str | None) -> None:
    """Log out: forget session ``token`` (no error when it is unknown)."""
    if not token:
        return
    with store.transaction() as session:
        session.execute(
            delete(schema.UserSession).where(schema.UserSession.token_hash == _token_hash(token))
        )


def new_csrf_nonce() -> str:
    """A fresh per-browser random value (kept in an HTTP-only cookie)."""
    return secrets.token_urlsafe(24)


def csrf_token(secret_key: str, nonce: str) -> str:
    """The CSRF token for forms of the browser holding ``nonce``: HMAC-SHA256(secret_key, nonce).

    >>> csrf_token("k", "n") == csrf_token("k", "n") != csrf_token("k", "m")
    True
    """
    return hmac.new(secret_key.encode(), b"csrf|" + nonce.encode(), hashlib.sha256).hexdigest()


def check_csrf(secret_key: str, nonce: str | None, token: str | None) -> bool:
    """True when ``token`` is the CSRF token for ``nonce`` (constant-time compare)."""
    if not nonce or not token:
        return False
    return hmac.compare_digest(csrf_token(secret_key, nonce), token)


__all__ = [
    "ANONYMOUS",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "ROLE_GRANTS",
    "SESSION_TTL",
    "LoginLimiter",
    "StoreLoginLimiter",
    "TooManyAttempts",
    "User",
    "authenticate",
    "check_csrf",
    "create_user",
    "csrf_token",
    "disable_user",
    "end_session",
    "get_user",
    "has_role",
    "hash_password",
    "list_users",
    "new_csrf_nonce",
    "session_user",
    "set_role",
    "start_session",
    "use_password_hasher",
    "verify_password",
]
