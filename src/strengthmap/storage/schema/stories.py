"""Stories: what people say about their place, with consent, moderation, redaction and withdrawal.

The rules that use these tables live in ``strengthmap.stories``; the full-text index (SQLite
FTS5 ``story_fts``, PostgreSQL ``story.story_fts_vector`` with a GIN index) and PostgreSQL's
``story_number_seq`` are made by migration 0010 and are not models.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from strengthmap.storage.schema.base import Base, utcnow, uuid_pk


class Story(Base):
    """One story: the teller's words, where it is about, the consent they gave and its state.

    ``audience`` is derived (``strengthmap.stories.model.audience_of``) from the consent, the
    moderation state and withdrawal, and every read filters on it: ``public`` (anyone),
    ``internal`` (signed-in staff), ``team`` (editors and admins: private, pending, rejected),
    ``none`` (withdrawn: a tombstone, no text). ``lon``/``lat`` are stored only to the precision
    the teller chose (``exact``, ``street``: the centre of a ~150 m grid cell, ``area``: the
    area's representative point). ``author_name`` and ``author_person_id`` are not collected by
    the story forms (the teller stays anonymous; the withdrawal token is their way back).
    """

    __tablename__ = "story"
    __table_args__ = (
        # lists read one audience newest first
        Index("ix_story_audience_created", "audience", "created_at"),
        # search reads every story's audience by number (stories.ranking), not the rows
        Index("ix_story_number_audience", "number", "audience"),
    )

    id: Mapped[str] = uuid_pk()
    #: A short public number (``#123``); also the FTS5 rowid, which VACUUM never renumbers.
    number: Mapped[int] = mapped_column(Integer, index=True, unique=True)
    title: Mapped[str] = mapped_column(String(300))  # "" when the teller gave none
    text: Mapped[str] = mapped_column(Text)  # "" once withdrawn
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_person_id: Mapped[str | None] = mapped_column(ForeignKey("person.id"))
    consent: Mapped[str] = mapped_column(String(16), default="private")  # private|internal|public
    moderation: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending | approved | rejected | needs_changes
    audience: Mapped[str] = mapped_column(String(8), default="team")
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawn_reason: Mapped[str | None] = mapped_column(String(64))
    withdrawn_via: Mapped[str | None] = mapped_column(String(8))  # token | staff
    themes: Mapped[list[Any] | None] = mapped_column()  # theme slugs, in the teller's order
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    place_precision: Mapped[str | None] = mapped_column(String(8))  # exact | street | area
    place_kind: Mapped[str | None] = mapped_column(
        String(16)
    )  # postcode|point|area|service|location
    age_band: Mapped[str | None] = mapped_column(String(16))
    relation: Mapped[str | None] = mapped_column(String(32))
    consent_method: Mapped[str | None] = mapped_column(String(16))  # form | verbal | written
    recorded_by: Mapped[str | None] = mapped_column(String(300))  # staff who wrote it down
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column()
    moderated_at: Mapped[datetime | None] = mapped_column()
    moderated_by: Mapped[str | None] = mapped_column(String(300))
    moderation_note: Mapped[str | None] = mapped_column(Text)  # reason / changes asked for
    policy_version: Mapped[int | None] = mapped_column(Integer)  # the policy of the last decision
    #: SHA-256 of the teller's withdrawal token (the token itself is shown once, never stored)
    withdraw_token_hash: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)


class StoryLink(Base):
    """A story's link to an area (ONS code, every level holding its place), an asset (service or
    location), a walk, or a theme (slug)."""

    __tablename__ = "story_link"
    __table_args__ = (
        UniqueConstraint("story_id", "target_kind", "target_id"),
        Index("ix_story_link_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[str] = mapped_column(ForeignKey("story.id", ondelete="CASCADE"), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # area | service | location | walk | theme
    target_id: Mapped[str] = mapped_column(String(36))


class StoryTheme(Base):
    """A custom theme, or a staff change to a default one (its label, or its retirement)."""

    __tablename__ = "story_theme"

    slug: Mapped[str] = mapped_column(String(36), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=100)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column()


class StoryRedaction(Base):
    """A passage an editor removed (``[start_pos, end_pos)`` in code points of the text as it
    was), kept for admins only. ``removed_text`` and ``reason`` are emptied when the story is
    withdrawn, so that nothing of a withdrawn story stays readable."""

    __tablename__ = "story_redaction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[str] = mapped_column(ForeignKey("story.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(300))
    field: Mapped[str] = mapped_column(String(8), default="text")  # text | title
    start_pos: Mapped[int] = mapped_column(Integer)
    end_pos: Mapped[int] = mapped_column(Integer)
    removed_text: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)


class StoryPolicy(Base):
    """One version of the moderation policy shown on the story form (the newest applies)."""

    __tablename__ = "story_policy"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    set_by: Mapped[str] = mapped_column(String(300))


class StorySubmission(Base):
    """One story accepted from the public form, counted for the per-address rate limit.
    ``key_hash``: HMAC-SHA256 (or SHA-256) of the client address; the address is not stored."""

    __tablename__ = "story_submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


__all__ = [
    "Story",
    "StoryLink",
    "StoryPolicy",
    "StoryRedaction",
    "StorySubmission",
    "StoryTheme",
]
