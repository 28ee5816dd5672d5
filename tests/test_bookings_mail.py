"""Booking messages: sent through a real (local aiosmtpd) SMTP server when configured, kept in the
outbox when not, and kept with the error when the server is down."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bookings_helpers import NOW, make_room
from strengthmap.bookings import (
    BookingRequest,
    MailConfig,
    confirm_booking,
    deliver,
    outbox,
    request_booking,
)
from strengthmap.errors import ConfigError
from strengthmap.storage import Store


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        msg = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _request(room_id: str) -> BookingRequest:
    return BookingRequest(room_id=room_id, start="2026-12-01T10:00", end="2026-12-01T12:00",
                          hirer_name="Dee <script>", email="dee@example.org", category="charity",
                          purpose="Choir & friends")  # fmt: skip


def test_messages_go_through_smtp(sqlite_store: Store, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    cfg = MailConfig.of(smtp_url=f"smtp://127.0.0.1:{port}", mail_from="bookings@centre.example")
    room = make_room(sqlite_store)
    r = request_booking(sqlite_store, _request(room.id), now=NOW, mail=cfg)
    confirm_booking(sqlite_store, r.id, now=NOW, mail=cfg)
    assert [e[1] for e in inbox.envelopes] == [["dee@example.org"], ["dee@example.org"]]
    received, confirmed = inbox.messages
    assert received["From"] == "bookings@centre.example"
    assert received["Subject"] == "We have your request for Hall"
    text = received.get_body(preferencelist=("plain",))
    html = received.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    assert r.id in text.get_content() and (r.token or "?") in text.get_content()
    assert "Dee &lt;script&gt;" in html.get_content() and "<script>" not in html.get_content()
    assert "Choir &amp; friends" in html.get_content()
    attachments = [
        p for p in confirmed.iter_attachments() if p.get_content_type() == "text/calendar"
    ]
    assert len(attachments) == 1 and "BEGIN:VEVENT" in attachments[0].get_content()
    assert all(m.sent_at is not None and m.error is None for m in outbox(sqlite_store))


def test_without_smtp_messages_wait_in_the_outbox(sqlite_store: Store) -> None:
    room = make_room(sqlite_store)
    r = request_booking(sqlite_store, _request(room.id), now=NOW)
    [m] = outbox(sqlite_store)
    assert (m.kind, m.to, m.sent_at, m.booking_id) == ("received", "dee@example.org", None, r.id)


def test_a_server_that_is_down_keeps_the_message_to_retry(
    sqlite_store: Store, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    down = MailConfig.of(smtp_url=f"smtp://127.0.0.1:{_free_port()}", mail_from="b@centre.example")
    room = make_room(sqlite_store)
    r = request_booking(sqlite_store, _request(room.id), now=NOW, mail=down)
    assert r.status == "pending"  # the booking stands
    [m] = outbox(sqlite_store)
    assert m.sent_at is None and m.error and "Connection" in m.error
    up = MailConfig.of(smtp_url=f"smtp://127.0.0.1:{port}", mail_from="b@centre.example")
    assert deliver(sqlite_store, up) == 1
    assert len(inbox.messages) == 1 and outbox(sqlite_store, unsent_only=True) == []


def test_bad_smtp_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        MailConfig.of(smtp_url="http://mail.example", mail_from="x@example.org")


def test_booking_settings_from_the_environment() -> None:
    from strengthmap.settings import Settings

    s = Settings.from_env({"STRENGTHMAP_SMTP_URL": "smtp://mail.example:587?starttls=1",
                           "STRENGTHMAP_BOOKING_HOLD_HOURS": "24", "STRENGTHMAP_BOOKING_RETENTION_MONTHS": "6"})  # fmt: skip
    assert (s.smtp_url, s.booking_hold_hours, s.booking_retention_months) == (
        "smtp://mail.example:587?starttls=1",
        24,
        6,
    )
    assert MailConfig.from_settings(s).sends
    with pytest.raises(ConfigError):
        Settings.from_env({"STRENGTHMAP_BOOKING_HOLD_HOURS": "a day"})
