"""Accounts: Argon2 hashing, roles, sessions as hashed tokens, CSRF tokens, login rate limiting."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from strengthmap import accounts
from strengthmap.errors import Conflict, InputError, NotFound, Unauthorized
from strengthmap.storage import Store, schema

PASSWORD = "a long enough password"


def test_password_hash_is_argon2id_and_verifies() -> None:
    h = accounts.hash_password(PASSWORD)
    assert h.startswith("$argon2id$")
    assert accounts.verify_password(h, PASSWORD)
    assert not accounts.verify_password(h, PASSWORD + "x")
    assert not accounts.verify_password("not a hash", PASSWORD)
    # salted: the same password hashes differently each time
    assert accounts.hash_password(PASSWORD) != h


def test_production_hashes_at_argon2_default_cost_and_tests_cheaply() -> None:
    """The app (a fresh process: no test fixture) hashes at argon2-cffi's default cost; the suite
    at the lowest (``tests/conftest.py``)."""
    code = "from strengthmap import accounts; print(accounts.hash_password('a long password!'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    production = out.stdout.strip()
    assert production.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), production
    cheap = accounts.hash_password("a long password!")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$"), cheap
    # a hash carries its parameters: each verifies whatever the current cost
    assert accounts.verify_password(production, "a long password!")
    assert accounts.verify_password(cheap, "a long password!")


def test_login_rehashes_at_the_current_cost(store: Store) -> None:
    accounts.create_user(store, "ana@example.org", password=PASSWORD)
    previous = accounts.use_password_hasher(
        PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    )
    try:
        accounts.authenticate(store, "ana@example.org", PASSWORD)
        with store.session() as session:
            stored = session.scalar(select(schema.UserAccount.password_hash))
        assert stored is not None and "$m=16,t=2,p=1$" in stored
        with pytest.raises(Unauthorized):  # an unknown account: checked against the dummy hash
            accounts.authenticate(store, "bo@example.org", PASSWORD)
    finally:
        accounts.use_password_hasher(previous)


def test_create_list_authenticate_disable(store: Store) -> None:
    user = accounts.create_user(store, " Ana@Example.org ", password=PASSWORD, role="editor")
    assert user.email == "ana@example.org" and user.role == "editor" and not user.disabled
    with store.session() as session:
        stored = session.scalar(select(schema.UserAccount.password_hash))
    assert stored is not None and PASSWORD not in stored
    with pytest.raises(Conflict):
        accounts.create_user(store, "ana@example.org", password=PASSWORD)
    assert [u.email for u in accounts.list_users(store)] == ["ana@example.org"]
    assert accounts.authenticate(store, "ANA@example.org", PASSWORD).id == user.id
    with pytest.raises(Unauthorized):
        accounts.authenticate(store, "ana@example.org", "wrong password!")
    with pytest.raises(Unauthorized):
        accounts.authenticate(store, "nobody@example.org", PASSWORD)
    token = accounts.start_session(store, user)
    assert accounts.session_user(store, token) == user
    disabled = accounts.disable_user(store, "ana@example.org")
    assert disabled.disabled
    assert accounts.session_user(store, token) is None  # sessions ended
    with pytest.raises(Unauthorized):
        accounts.authenticate(store, "ana@example.org", PASSWORD)
    with pytest.raises(NotFound):
        accounts.disable_user(store, "nobody@example.org")


@pytest.mark.parametrize(
    ("email", "role", "password", "field"),
    [
        ("not-an-email", "viewer", PASSWORD, "email"),
        ("a@b.org", "superuser", PASSWORD, "role"),
        ("a@b.org", "viewer", "short", "password"),
    ],
)
def test_bad_input_names_the_field(
    sqlite_store: Store, email: str, role: str, password: str, field: str
) -> None:
    with pytest.raises(InputError) as info:
        accounts.create_user(sqlite_store, email, password=password, role=role)
    assert info.value.field == field
    assert accounts.list_users(sqlite_store) == []  # nothing written


def test_session_token_is_stored_only_as_its_hash_and_expires(store: Store) -> None:
    user = accounts.create_user(store, "b@example.org", password=PASSWORD, role="admin")
    token = accounts.start_session(store, user)
    with store.session() as session:
        hashes = session.scalars(select(schema.UserSession.token_hash)).all()
    assert hashes == [hashlib.sha256(token.encode()).hexdigest()]
    assert accounts.session_user(store, "made-up-token") is None
    with store.transaction() as session:
        session.execute(
            update(schema.UserSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert accounts.session_user(store, token) is None
    accounts.end_session(store, token)
    with store.session() as session:
        assert session.scalars(select(schema.UserSession)).all() == []


def test_roles_grant_what_the_table_says() -> None:
    viewer, editor, commissioner, admin = (
        accounts.User(i, f"{r}@x.org", r) for i, r in enumerate(accounts.ROLES, 1)
    )
    users = (viewer, editor, commissioner, admin)
    assert [accounts.has_role(u, "viewer") for u in users] == [True, True, True, True]
    assert [accounts.has_role(u, "editor") for u in users] == [False, True, False, True]
    # a commissioner is not a directory editor, and an editor does not run commissions
    assert [accounts.has_role(u, "commissioner") for u in users] == [False, False, True, True]
    assert [accounts.has_role(u, "admin") for u in users] == [False, False, False, True]
    assert not accounts.has_role(
        accounts.User(8, "c@x.org", "commissioner", disabled=True), "viewer"
    )
    # a role name the table does not know grants nothing (an account row edited by hand)
    assert not accounts.has_role(accounts.User(7, "o@x.org", "owner"), "viewer")
    assert not accounts.has_role(accounts.User(9, "d@x.org", "admin", disabled=True), "viewer")
    with pytest.raises(ValueError):
        accounts.has_role(admin, "owner")


def test_csrf_token_is_bound_to_nonce_and_key() -> None:
    token = accounts.csrf_token("key", "nonce-1")
    assert accounts.check_csrf("key", "nonce-1", token)
    assert not accounts.check_csrf("key", "nonce-2", token)
    assert not accounts.check_csrf("other-key", "nonce-1", token)
    assert not accounts.check_csrf("key", "nonce-1", None)
    assert not accounts.check_csrf("key", None, token)


def test_login_rate_limit_blocks_even_the_right_password(sqlite_store: Store) -> None:
    accounts.create_user(sqlite_store, "c@example.org", password=PASSWORD)
    limiter = accounts.LoginLimiter(max_failures=5, window_s=900)
    for _ in range(5):
        with pytest.raises(Unauthorized):
            accounts.authenticate(
                sqlite_store, "c@example.org", "wrong", client="1.2.3.4", limiter=limiter
            )
    with pytest.raises(accounts.TooManyAttempts) as info:
        accounts.authenticate(
            sqlite_store, "c@example.org", PASSWORD, client="1.2.3.4", limiter=limiter
        )
    assert info.value.http_status == 429
    # another address is not blocked, and a success resets its count
    assert accounts.authenticate(
        sqlite_store, "c@example.org", PASSWORD, client="5.6.7.8", limiter=limiter
    )


def test_store_limiter_is_shared_by_every_process_and_slides(store: Store) -> None:
    """Counted in the store: two limiters on two connections to one database (two workers)
    see the same failures; the window slides; a success ends the count; keys are hashed."""
    from datetime import UTC, datetime, timedelta

    from strengthmap.storage import open_store

    other = open_store(store.url.render_as_string(hide_password=False), upgrade=False)
    try:
        a = accounts.StoreLoginLimiter(store, max_failures=3, window_s=60)
        b = accounts.StoreLoginLimiter(other, max_failures=3, window_s=60)
        t0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
        a.fail("c@example.org|1.2.3.4", now=t0)
        b.fail("c@example.org|1.2.3.4", now=t0 + timedelta(seconds=10))
        assert not a.blocked("c@example.org|1.2.3.4", now=t0 + timedelta(seconds=11))
        a.fail("c@example.org|1.2.3.4", now=t0 + timedelta(seconds=20))
        for lim in (a, b):
            assert lim.blocked("c@example.org|1.2.3.4", now=t0 + timedelta(seconds=59))
            # the first failure has left the window
            assert not lim.blocked("c@example.org|1.2.3.4", now=t0 + timedelta(seconds=60.5))
            assert not lim.blocked("c@example.org|5.6.7.8", now=t0 + timedelta(seconds=30))
        b.fail("c@example.org|1.2.3.4", now=t0 + timedelta(seconds=30))
        assert a.blocked("c@example.org|1.2.3.4", now=t0 + timedelta(seconds=31))
        b.reset("c@example.org|1.2.3.4", now=t0 + timedelta(seconds=32))
        assert not a.blocked("c@example.org|1.2.3.4", now=t0 + timedelta(seconds=33))
        with store.session() as s:
            rows = s.query(schema.LoginAttempt).all()
        assert len(rows) == 5 and [r.ok for r in rows].count(True) == 1  # nothing deleted
        assert all("example" not in r.key_hash and len(r.key_hash) == 64 for r in rows)
    finally:
        other.close()


def test_limiter_window_slides() -> None:
    lim = accounts.LoginLimiter(max_failures=3, window_s=60)
    for t in (0, 10, 20):
        lim.fail("k", now=t)
    assert lim.blocked("k", now=59)
    assert not lim.blocked("k", now=60.5)  # the failure at t=0 has left the window
    assert lim.blocked("k", now=60.5) is False
    lim.fail("k", now=61)
    assert lim.blocked("k", now=62)
