"""Moderation: the queue, approve / ask for changes / reject with a reason, redaction of a passage
(kept for admins only), and the audit trail of it all.

Example:
    >>> from strengthmap.storage import open_store
    >>> from strengthmap.stories import StoryDraft, add_story
    >>> store = open_store("sqlite://")
    >>> editor = Viewer("editor", "ed@example.org")
    >>> n = add_story(store, StoryDraft("The park is lovely but the lights are out.", consent="public")).number
    >>> [s.number for s in moderation_queue(store, viewer=editor)] == [n]
    True
    >>> redact_story(store, n, 27, 41, viewer=editor).text
    'The park is lovely but the [redacted].'
    >>> approve_story(store, n, viewer=editor).status
    'approved'
    >>> approve_story(store, n, viewer=Viewer("viewer", "v@example.org"))
    Traceback (most recent call last):
    ...
    strengthmap.errors.Forbidden: only editors and admins can moderate stories (you are viewer)

Every action needs an editor or admin (``Forbidden`` otherwise, nothing written) and writes one
``AuditEntry`` (entity ``story``; actions ``approve``, ``reject``, ``request_changes``,
``redact``), which records states, positions and counts but never the story's words. The
reason for a rejection or the changes asked for are kept on the story (``moderation_note``, for
the team and the teller) and erased with the story if it is withdrawn. Each decision records
the version of the moderation policy (``themes.moderation_policy``) it was made under.
A withdrawn story cannot be moderated (``Conflict``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from strengthmap.errors import Conflict, Fault, Forbidden, InputError
from strengthmap.storage import Store, schema
from strengthmap.stories.core import (
    audit,
    aware,
    refresh_audience,
    require_team,
    story_row,
    views,
)
from strengthmap.stories.model import (
    MAX_NOTE_CHARS,
    RedactionRecord,
    StoryView,
    Viewer,
)
from strengthmap.stories.text import text_faults
from strengthmap.stories.themes import policy_in, themes_in

#: What a redacted passage becomes.
REDACTED = "[redacted]"


def _moderated_row(session: Session, ref: str | int, viewer: Viewer) -> schema.Story:
    require_team(viewer, "moderate stories")
    row = story_row(session, ref, for_update=True)
    if row.withdrawn_at is not None:
        raise Conflict(f"story #{row.number} was withdrawn by the teller; nothing to moderate")
    return row


def _view(session: Session, row: schema.Story, viewer: Viewer) -> StoryView:
    session.flush()
    view = views(session, [row], viewer, themes_in(session))[0]
    assert isinstance(view, StoryView)
    return view


def _decide(
    store: Store,
    ref: str | int,
    state: Literal["approved", "rejected", "needs_changes"],
    action: str,
    note: str | None,
    viewer: Viewer,
) -> StoryView:
    require_team(viewer, "moderate stories")
    if note is not None or state != "approved":
        faults = text_faults(note, field="reason", max_chars=MAX_NOTE_CHARS, required=True)
        if faults:
            message = faults[0].message.replace("the story is empty", "give a reason")
            raise InputError(message, field="reason")
    with store.transaction() as session:
        row = _moderated_row(session, ref, viewer)
        if row.moderation == state and state == "approved":
            return _view(session, row, viewer)  # approving twice changes nothing
        before = row.moderation
        policy = policy_in(session)
        row.moderation = state
        row.moderation_note = note
        row.moderated_at = datetime.now(UTC)
        row.moderated_by = viewer.actor
        row.policy_version = policy.version
        refresh_audience(row)
        changes: dict[str, list[Any]] = {
            "status": [before, state],
            "policy_version": [None, policy.version],
        }
        if note:
            changes["note_chars"] = [None, len(note)]
        audit(session, viewer, action, row.id, changes)
        return _view(session, row, viewer)


def approve_story(store: Store, story: str | int, *, viewer: Viewer) -> StoryView:
    """Approve: a public story becomes readable by anyone, an internal one by staff."""
    return _decide(store, story, "approved", "approve", None, viewer)


def reject_story(store: Store, story: str | int, reason: str, *, viewer: Viewer) -> StoryView:
    """Reject with a reason (shown to the teller through their link); the team keeps it."""
    return _decide(store, story, "rejected", "reject", reason, viewer)


def request_changes(store: Store, story: str | int, note: str, *, viewer: Viewer) -> StoryView:
    """Ask the teller for changes (they see ``note`` and can revise through their link)."""
    return _decide(store, story, "needs_changes", "request_changes", note, viewer)


def redact_story(
    store: Store,
    story: str | int,
    start: int,
    end: int,
    *,
    viewer: Viewer,
    field: Literal["text", "title"] = "text",
    reason: str | None = None,
) -> StoryView:
    """Replace ``[start, end)`` (characters of the current text or title) with ``[redacted]``.
    The passage is kept in the redaction history, which only admins can read."""
    require_team(viewer, "moderate stories")
    if field not in ("text", "title"):
        raise InputError(f"redact the text or the title, not {field!r}", field="field")
    faults: list[Fault] = text_faults(
        reason, field="reason", max_chars=MAX_NOTE_CHARS, required=False
    )
    if faults:
        raise InputError(faults[0].message, field="reason")
    with store.transaction() as session:
        row = _moderated_row(session, story, viewer)
        value: str = getattr(row, field)
        if not (0 <= start < end <= len(value)):
            raise InputError(
                f"{start}:{end} is not a passage of the {field} (it has {len(value)} characters; "
                "give START:END with 0 <= START < END)",
                field="redact",
            )
        if value[start:end] == REDACTED:
            raise InputError(f"{start}:{end} is already redacted", field="redact")
        now = datetime.now(UTC)
        session.add(
            schema.StoryRedaction(
                story_id=row.id, at=now, actor=viewer.actor, field=field, start_pos=start,
                end_pos=end, removed_text=value[start:end], reason=reason,
            )
        )  # fmt: skip
        setattr(row, field, value[:start] + REDACTED + value[end:])
        row.updated_at = now
        audit(
            session, viewer, "redact", row.id,
            {field: [f"{start}:{end} ({end - start} characters)", REDACTED]},
        )  # fmt: skip
        return _view(session, row, viewer)


def moderation_queue(
    store: Store, *, viewer: Viewer, status: str = "pending", limit: int = 200
) -> list[StoryView]:
    """Stories waiting for a decision (``status``: pending, needs_changes or rejected), oldest
    first, each with the personal data found in it (``moderation.personal_data``)."""
    require_team(viewer, "see the moderation queue")
    if status not in ("pending", "needs_changes", "rejected"):
        raise InputError(
            f"the queue holds pending, needs_changes or rejected stories, not {status!r}",
            field="status",
        )
    with store.session() as session:
        rows = session.scalars(
            select(schema.Story)
            .where(schema.Story.moderation == status, schema.Story.withdrawn_at.is_(None))
            .order_by(schema.Story.created_at, schema.Story.number)
            .limit(limit)
        ).all()
        out = views(session, rows, viewer, themes_in(session))
    return [v for v in out if isinstance(v, StoryView)]


def redaction_history(store: Store, story: str | int, *, viewer: Viewer) -> list[RedactionRecord]:
    """Every redaction of a story, oldest first (admins only). After a withdrawal the records
    remain (when, who, where) but the passages are gone (``removed_text`` None)."""
    if not viewer.at_least("admin"):
        raise Forbidden("only admins can read the redaction history")
    with store.session() as session:
        row = story_row(session, story)
        rows = session.scalars(
            select(schema.StoryRedaction)
            .where(schema.StoryRedaction.story_id == row.id)
            .order_by(schema.StoryRedaction.at, schema.StoryRedaction.id)
        ).all()
    return [
        RedactionRecord(
            aware(r.at) or r.at, r.actor, r.field, r.start_pos, r.end_pos, r.removed_text, r.reason
        )
        for r in rows
    ]


def story_history(store: Store, story: str | int, *, viewer: Viewer) -> list[dict[str, Any]]:
    """The audit trail of a story, oldest first (editors and admins)."""
    require_team(viewer, "read a story's history")
    with store.session() as session:
        row = story_row(session, story)
        entries = session.scalars(
            select(schema.AuditEntry)
            .where(schema.AuditEntry.entity == "story", schema.AuditEntry.entity_id == row.id)
            .order_by(schema.AuditEntry.at, schema.AuditEntry.id)
        ).all()
    return [
        {
            "at": (aware(e.at) or e.at).isoformat(),
            "actor": e.actor,
            "action": e.action,
            "changes": e.changes,
        }
        for e in entries
    ]


__all__ = [
    "REDACTED",
    "approve_story",
    "moderation_queue",
    "redact_story",
    "redaction_history",
    "reject_story",
    "request_changes",
    "story_history",
]
