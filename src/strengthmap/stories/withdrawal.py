"""The teller's private link: see the story's state, revise it when asked, withdraw it at any time;
and staff withdrawal on the teller's request.

Example:
    >>> from strengthmap.storage import open_store
    >>> from strengthmap.stories import StoryDraft, add_story
    >>> store = open_store("sqlite://")
    >>> added = add_story(store, StoryDraft("Our allotment feeds ten families.", consent="public"))
    >>> story_for_token(store, added.withdraw_token).status
    'pending'
    >>> withdraw_with_token(store, added.withdraw_token).reason
    'withdrawn by the teller'
    >>> withdraw_with_token(store, added.withdraw_token)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    strengthmap.stories.withdrawal.TokenUsed: field token: this link was used to withdraw story #1 on ...

What withdrawal does, in one transaction (``erase``), whoever asks:

* the title, text, themes, place (point, precision, area and asset links), the teller's age band
  and relation, and the moderation note are emptied; the row stays as a tombstone: id, number,
  the date and the reason "withdrawn by the teller" (plus the consent level and moderation state,
  which hold none of the teller's words);
* the full-text index drops the story in the same transaction (its triggers index only stories
  that are not withdrawn), so search, lists, maps, counts, exports and the Atom feed, which all
  read the same rows, lose it at the same moment;
* the redaction history keeps when, who and where of each redaction, but the removed passages
  and reasons are emptied: an admin can see nothing of the text;
* the audit trail never held the words (``core.audit``), and gains a ``withdraw`` entry.

The token is 256 random bits (``secrets.token_urlsafe(32)``) shown once when the story is saved;
the store keeps only its SHA-256. A wrong token is ``TokenNotValid`` (HTTP 404), a token whose
story is already withdrawn is ``TokenUsed`` (HTTP 410) when used to withdraw or revise; both are
bad input (exit code 2) and write nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from strengthmap.errors import Conflict, InputError
from strengthmap.storage import Store, schema
from strengthmap.stories.core import (
    audit,
    raise_faults,
    refresh_audience,
    require_team,
    status_of,
    story_row,
    tombstone,
    views,
)
from strengthmap.stories.model import (
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    WITHDRAWN_REASON,
    TellerView,
    Tombstone,
    Viewer,
)
from strengthmap.stories.personal_data import find_personal_data
from strengthmap.stories.search import backend_for
from strengthmap.stories.telling import PersonalDataFound, token_hash
from strengthmap.stories.text import text_faults
from strengthmap.stories.themes import themes_in

#: Who acts when the teller uses their link (the audit trail's actor).
TELLER = Viewer("anonymous", "teller (withdrawal link)")


class TokenNotValid(InputError):
    """No story has this withdrawal link (mistyped, cut short, or never issued)."""

    http_status = 404


class TokenUsed(InputError):
    """The link's story is already withdrawn."""

    http_status = 410


def _token_row(session: Session, token: str, *, for_update: bool = False) -> schema.Story:
    token = (token or "").strip()
    if not token or len(token) > 200:
        raise TokenNotValid("this withdrawal link is not valid", field="token")
    stmt = select(schema.Story).where(schema.Story.withdraw_token_hash == token_hash(token))
    row = session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if row is None:
        raise TokenNotValid("this withdrawal link is not valid", field="token")
    return row


def _used(row: schema.Story) -> TokenUsed:
    when = row.withdrawn_at.date().isoformat() if row.withdrawn_at else "an earlier date"
    return TokenUsed(f"this link was used to withdraw story #{row.number} on {when}", field="token")


def erase(session: Session, row: schema.Story, *, via: str, viewer: Viewer) -> Tombstone:
    """Withdraw ``row`` in the caller's transaction (see the module docstring)."""
    now = datetime.now(UTC)
    before = status_of(row)
    row.title = ""
    row.text = ""
    row.themes = None
    row.lon = row.lat = None
    row.place_precision = row.place_kind = None
    row.age_band = row.relation = None
    row.moderation_note = None
    row.withdrawn_at = now
    row.withdrawn_reason = WITHDRAWN_REASON
    row.withdrawn_via = via
    row.updated_at = now
    refresh_audience(row)
    session.execute(delete(schema.StoryLink).where(schema.StoryLink.story_id == row.id))
    session.execute(
        update(schema.StoryRedaction)
        .where(schema.StoryRedaction.story_id == row.id)
        .values(removed_text=None, reason=None)
    )
    audit(
        session, viewer, "withdraw", row.id, {"status": [before, "withdrawn"], "via": [None, via]}
    )
    return tombstone(row)


def withdraw_with_token(store: Store, token: str) -> Tombstone:
    """The teller withdraws their story through their link."""
    backend = backend_for(store)
    with store.transaction() as session:
        row = _token_row(session, token, for_update=True)
        if row.withdrawn_at is not None:
            raise _used(row)
        backend.before_erase(session)
        return erase(session, row, via="token", viewer=TELLER)


def withdraw_story(store: Store, story: str | int, *, viewer: Viewer) -> Tombstone:
    """Staff (editors, admins) withdraw a story at the teller's request: the same erasure."""
    require_team(viewer, "withdraw stories")
    backend = backend_for(store)
    with store.transaction() as session:
        row = story_row(session, story, for_update=True)
        if row.withdrawn_at is not None:
            raise Conflict(f"story #{row.number} is already withdrawn")
        backend.before_erase(session)
        return erase(session, row, via="staff", viewer=viewer)


def story_for_token(store: Store, token: str) -> TellerView:
    """What the teller sees through their link: the state, their own words (whatever the
    moderation state), the editor's note, or the tombstone once withdrawn."""
    with store.session() as session:
        row = _token_row(session, token)
        if row.withdrawn_at is not None:
            return TellerView(tombstone(row))
        view = views(session, [row], TELLER, themes_in(session), as_teller=True)[0]
        return TellerView(view, row.moderation_note)


def revise_with_token(
    store: Store,
    token: str,
    *,
    text: str,
    title: str | None = None,
    allow_personal_data: bool = False,
) -> TellerView:
    """The teller changes their words (when the editor asked for changes, or before a decision):
    the story goes back to the queue as ``pending``."""
    faults = text_faults(text, field="text", max_chars=MAX_TEXT_CHARS, required=True)
    faults += text_faults(title, field="title", max_chars=MAX_TITLE_CHARS, required=False)
    raise_faults(faults)
    matches = find_personal_data(text) + find_personal_data(title or "", field="title")
    if matches and not allow_personal_data:
        raise PersonalDataFound(matches)
    with store.transaction() as session:
        row = _token_row(session, token, for_update=True)
        if row.withdrawn_at is not None:
            raise _used(row)
        if row.moderation not in ("pending", "needs_changes"):
            raise Conflict(
                f"story #{row.number} is {row.moderation}; it can be changed only while it "
                "waits for an editor or when one asked for changes"
            )
        before = row.moderation
        row.text = text
        row.title = title or ""
        row.moderation = "pending"
        row.updated_at = datetime.now(UTC)
        refresh_audience(row)
        audit(session, TELLER, "revise", row.id, {"status": [before, "pending"]})
        session.flush()
        view = views(session, [row], TELLER, themes_in(session), as_teller=True)[0]
        return TellerView(view, row.moderation_note)


__all__ = [
    "TELLER",
    "TokenNotValid",
    "TokenUsed",
    "erase",
    "revise_with_token",
    "story_for_token",
    "withdraw_story",
    "withdraw_with_token",
]
