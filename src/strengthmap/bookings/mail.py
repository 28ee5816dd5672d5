"""Messages to hirers in plain text and HTML: written to the outbox, sent by SMTP when configured.

Example:
    >>> cfg = MailConfig.of(smtp_url=None, mail_from="bookings@example.org")
    >>> cfg.sends
    False

Every message is written to ``booking_message`` in the same transaction as the change it
reports (an outbox: a message is never lost to a mail server that is down). With ``smtp_url``
set, :func:`deliver` sends the unsent ones after the commit and stamps ``sent_at``; a failure is
recorded in ``error`` and the message stays in the outbox to retry (``bookings send``).
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from strengthmap.bookings.ics import booking_calendar
from strengthmap.bookings.prices import pounds
from strengthmap.bookings.times import to_local, utcnow
from strengthmap.bookings.views import BookingView
from strengthmap.errors import ConfigError
from strengthmap.storage import Store, schema

KINDS = ("received", "confirmed", "declined", "cancelled")


@dataclass(frozen=True)
class MailConfig:
    """Where messages go: ``smtp_url`` (``smtp://user:pass@host:port?starttls=1`` or
    ``smtps://host:465``) or, when it is unset, only the outbox."""

    smtp_url: str | None
    mail_from: str
    timeout_s: float = 10.0

    @classmethod
    def of(cls, *, smtp_url: str | None, mail_from: str) -> MailConfig:
        if smtp_url:
            parts = urlsplit(smtp_url)
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ConfigError(
                    f"smtp_url must look like smtp://host:587 or smtps://host:465, not {smtp_url!r}"
                )
        return cls(smtp_url or None, mail_from)

    @classmethod
    def from_settings(cls, settings: Any) -> MailConfig:
        return cls.of(smtp_url=settings.smtp_url, mail_from=settings.mail_from)

    @property
    def sends(self) -> bool:
        return self.smtp_url is not None


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    ics: str | None = None


@dataclass(frozen=True)
class OutboxItem:
    """A message in the outbox (staff only: it holds the hirer's address)."""

    id: int
    booking_id: str
    kind: str
    to: str | None
    subject: str
    created_at: datetime
    sent_at: datetime | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "booking_id": self.booking_id,
            "kind": self.kind,
            "to": self.to,
            "subject": self.subject,
            "created_at": self.created_at.isoformat(),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "error": self.error,
        }


def _when(b: BookingView) -> str:
    s, e = to_local(b.start), to_local(b.end)
    day = s.strftime("%A %-d %B %Y")
    end = e.strftime("%H:%M") if e.date() == s.date() else e.strftime("%A %-d %B %Y %H:%M")
    return f"{day}, {s.strftime('%H:%M')} to {end} (UK time)"


def compose(
    kind: str,
    bookings: Sequence[BookingView],
    *,
    location: str | None = None,
    token: str | None = None,
) -> Message:
    """The message of ``kind`` about ``bookings`` (one, or the occurrences of one series)."""
    b = bookings[0]
    room = b.room_name or "the room"
    heads = {
        "received": f"We have your request for {room}",
        "confirmed": f"Your booking of {room} is confirmed",
        "declined": f"Your request for {room} was declined",
        "cancelled": f"Your booking of {room} is cancelled",
    }
    subject = heads[kind]
    lines = [f"Dear {b.hirer.name},", ""]
    intro = {
        "received": "Thank you. Your request is pending: the time is held for you until "
        + (to_local(b.hold_until).strftime("%A %-d %B %H:%M") if b.hold_until else "staff decide")
        + ", and staff will confirm or decline it before then.",
        "confirmed": "Your booking is confirmed. A calendar entry is attached.",
        "declined": "We are sorry: your request was declined."
        + (f" Reason: {b.decision_note}" if b.decision_note else ""),
        "cancelled": "Your booking is cancelled."
        + (f" {b.cancel_rule}" if b.cancel_rule else "")
        + (f" Cancellation fee: {pounds(b.cancel_fee_pence)}." if b.cancel_fee_pence else ""),
    }[kind]
    lines += [intro, "", f"Room: {room}" + (f", {location}" if location else "")]
    if len(bookings) == 1:
        lines.append(f"When: {_when(b)}")
    else:
        lines.append(f"When ({len(bookings)} dates):")
        lines += [f"  - {_when(x)}" for x in bookings]
    if b.purpose:
        lines.append(f"Purpose: {b.purpose}")
    if b.people:
        lines.append(f"People: {b.people}")
    quote_rows: list[tuple[str, str, str, str]] = []
    total = 0
    for x in bookings:
        q = x.quote or {}
        for line in q.get("lines", []):
            quote_rows.append((
                line["description"] + (f" ({_when(x)})" if len(bookings) > 1 else ""),
                pounds(line["list_pence"]),
                pounds(line["concession_pence"]) if line["concession_pence"] else "",
                pounds(line["charge_pence"]),
            ))  # fmt: skip
        total += int(q.get("total_pence", 0))
    if quote_rows and kind in ("received", "confirmed"):
        lines += ["", "Price (list price, concession, charge):"]
        lines += [
            f"  {d}: {lp}" + (f" - {c}" if c else "") + f" = {ch}" for d, lp, c, ch in quote_rows
        ]
        lines.append(f"  Total: {pounds(total)}")
    lines += [
        "",
        f"Booking reference: {b.id}" + (f" (series {b.series_id})" if b.series_id else ""),
    ]
    if token and kind in ("received", "confirmed"):
        lines.append(f"Your cancellation code: {token} (keep it: you need it to cancel online)")
    lines += ["", "Strengthmap room bookings"]
    text = "\n".join(lines) + "\n"
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(d)}</td><td>{esc(lp)}</td><td>{esc(c)}</td><td>{esc(ch)}</td></tr>"
        for d, lp, c, ch in quote_rows
    )
    when_html = "".join(f"<li>{esc(_when(x))}</li>" for x in bookings)
    body = [
        f"<p>Dear {esc(b.hirer.name)},</p>",
        f"<p>{esc(intro)}</p>",
        f"<p><strong>Room:</strong> {esc(room)}{(', ' + esc(location)) if location else ''}</p>",
        f"<p><strong>When:</strong></p><ul>{when_html}</ul>",
    ]
    if b.purpose:
        body.append(f"<p><strong>Purpose:</strong> {esc(b.purpose)}</p>")
    if rows and kind in ("received", "confirmed"):
        body.append(
            "<table><thead><tr><th>Item</th><th>List price</th><th>Concession</th>"
            f"<th>Charge</th></tr></thead><tbody>{rows}</tbody>"
            f"<tfoot><tr><th colspan='3'>Total</th><th>{esc(pounds(total))}</th></tr></tfoot></table>"
        )
    body.append(f"<p>Booking reference: <code>{esc(b.id)}</code></p>")
    if token and kind in ("received", "confirmed"):
        body.append(f"<p>Your cancellation code: <code>{esc(token)}</code></p>")
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(subject)}</title></head><body>{''.join(body)}</body></html>"
    )
    ics = (
        booking_calendar(b, location=location)
        if kind == "confirmed" and len(bookings) == 1
        else None
    )
    return Message(subject, text, page, ics)


def queue(
    session: Session,
    kind: str,
    bookings: Sequence[BookingView],
    *,
    location: str | None = None,
    token: str | None = None,
) -> schema.BookingMessage:
    """Write the message into the outbox inside the caller's transaction."""
    msg = compose(kind, bookings, location=location, token=token)
    row = schema.BookingMessage(
        booking_id=bookings[0].id,
        kind=kind,
        to_addr=bookings[0].hirer.email,
        subject=msg.subject,
        text_body=msg.text,
        html_body=msg.html,
        ics=msg.ics,
    )
    session.add(row)
    return row


def _smtp_send(
    cfg: MailConfig, to: str, subject: str, text: str, body_html: str, ics: str | None
) -> None:
    assert cfg.smtp_url is not None
    parts = urlsplit(cfg.smtp_url)
    query = parse_qs(parts.query)
    msg = EmailMessage()
    msg["From"] = cfg.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(text)
    msg.add_alternative(body_html, subtype="html")
    if ics:
        msg.add_attachment(
            ics.encode("utf-8"), maintype="text", subtype="calendar", filename="booking.ics"
        )
    host = parts.hostname or "localhost"
    client: smtplib.SMTP
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=cfg.timeout_s, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=cfg.timeout_s)
    with client:
        if parts.scheme == "smtp" and query.get("starttls", ["0"])[0] in ("1", "true", "yes"):
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(msg)


def deliver(
    store: Store, cfg: MailConfig | None, *, booking_ids: Sequence[str] | None = None
) -> int:
    """Send the outbox's unsent messages (of ``booking_ids``, or all) when SMTP is configured.

    Returns how many were sent. Each send is recorded in its own short transaction; a failure
    keeps the message unsent with its error.
    """
    if cfg is None or not cfg.sends:
        return 0
    with store.session() as session:
        stmt = select(schema.BookingMessage).where(
            schema.BookingMessage.sent_at.is_(None), schema.BookingMessage.to_addr.is_not(None)
        )
        if booking_ids is not None:
            stmt = stmt.where(schema.BookingMessage.booking_id.in_(list(booking_ids)))
        pending = [
            (m.id, m.to_addr, m.subject, m.text_body, m.html_body, m.ics)
            for m in session.scalars(stmt.order_by(schema.BookingMessage.id))
        ]
    sent = 0
    for mid, to, subject, text, body, ics in pending:
        assert to is not None
        error: str | None = None
        try:
            _smtp_send(cfg, to, subject, text, body, ics)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        with store.transaction() as session:
            row = session.get(schema.BookingMessage, mid)
            assert row is not None
            if error is None:
                row.sent_at = utcnow()
                row.error = None
                sent += 1
            else:
                row.error = error
    return sent


def outbox(store: Store, *, unsent_only: bool = False, limit: int = 200) -> list[OutboxItem]:
    """The newest messages first (staff: the addresses are personal data)."""
    with store.session() as session:
        stmt = select(schema.BookingMessage)
        if unsent_only:
            stmt = stmt.where(schema.BookingMessage.sent_at.is_(None))
        rows = session.scalars(stmt.order_by(schema.BookingMessage.id.desc()).limit(limit)).all()
        return [
            OutboxItem(
                r.id, r.booking_id, r.kind, r.to_addr, r.subject, r.created_at, r.sent_at, r.error
            )
            for r in rows
        ]


__all__ = ["KINDS", "MailConfig", "Message", "OutboxItem", "compose", "deliver", "outbox", "queue"]
