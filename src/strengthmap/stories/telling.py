"""Telling a story: the draft, its checks (personal data included) and saving it with its place,
themes and consent.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> added = add_story(store, StoryDraft("The lunch club got me through the winter.",
    ...                                     themes=("service-that-helped",), consent="public"))
    >>> added.status, len(added.withdraw_token) >= 43
    ('pending', True)
    >>> check_story(store, StoryDraft("Call Dr Patel on 07700 900123")).personal_data[1].kind
    'phone'

Who may tell: anyone. A story from someone not signed in (or a viewer) waits for an editor
(``pending``) whatever its consent. A story an editor or admin writes down for a teller (the
"editor form", consent recorded by them) is ``approved`` at once when it stays private or
internal (the team is its audience already); a public one still waits for an explicit approval,
so publishing is always a decision of its own.

Before anything is saved the text is checked for personal data (``personal_data``); by default
a story holding any is refused with the matches and their positions (``PersonalDataFound``), so
the form can show them and the teller can remove them or confirm they mean to keep them
(``allow_personal_data=True``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from strengthmap.errors import Fault, InputError
from strengthmap.storage import Store, schema
from strengthmap.stories.core import audit, raise_faults, refresh_audience
from strengthmap.stories.model import (
    AGE_BANDS,
    ANONYMOUS,
    CONSENT_LEVELS,
    CONSENT_METHODS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    RELATIONS,
    AddedStory,
    Viewer,
)
from strengthmap.stories.personal_data import PersonalDataMatch, find_personal_data
from strengthmap.stories.places import PlaceInput, ResolvedPlace, resolve_place
from strengthmap.stories.safety import StoreSubmissionLimiter
from strengthmap.stories.search import backend_for
from strengthmap.stories.text import text_faults
from strengthmap.stories.themes import resolve_theme_names, themes_in


class PersonalDataFound(InputError):
    """The story holds what looks like personal data; ``matches`` says what and where."""

    def __init__(self, matches: list[PersonalDataMatch]) -> None:
        listed = "; ".join(str(m) for m in matches)
        super().__init__(
            f"the story holds what looks like personal data: {listed}. Remove it, or confirm "
            "that the teller wants to keep it",
            field="text",
        )
        self.matches = matches

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["personal_data"] = [m.to_dict() for m in self.matches]
        return body


@dataclass(frozen=True)
class StoryDraft:
    """A story as typed into a form or given to the CLI, before any check."""

    text: str
    title: str | None = None
    place: PlaceInput = field(default_factory=PlaceInput)
    themes: tuple[str, ...] = ()
    consent: str = "private"
    age_band: str | None = None
    relation: str | None = None
    consent_method: str | None = None

    def faults(self) -> list[Fault]:
        """Everything wrong that can be seen without the store."""
        out = text_faults(self.text, field="text", max_chars=MAX_TEXT_CHARS, required=True)
        out += text_faults(self.title, field="title", max_chars=MAX_TITLE_CHARS, required=False)
        for name, value, allowed in (
            ("consent", self.consent, CONSENT_LEVELS),
            ("age_band", self.age_band, AGE_BANDS),
            ("relation", self.relation, RELATIONS),
            ("consent_method", self.consent_method, CONSENT_METHODS),
        ):
            if value is not None and value not in allowed:
                out.append(Fault(name, f"unknown {name} {value!r}; one of {', '.join(allowed)}"))
        return out + self.place.faults()

    def personal_data(self) -> list[PersonalDataMatch]:
        return find_personal_data(self.text) + find_personal_data(self.title or "", field="title")


@dataclass(frozen=True)
class DraftCheck:
    """A form's preview: every fault, and the personal data found (the teller may remove it)."""

    faults: list[Fault]
    personal_data: list[PersonalDataMatch]

    @property
    def ok(self) -> bool:
        return not self.faults

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "faults": [{"path": f.path, "message": f.message} for f in self.faults],
            "personal_data": [m.to_dict() for m in self.personal_data],
        }


def _resolve(session: Session, draft: StoryDraft) -> tuple[list[str], ResolvedPlace]:
    themes = resolve_theme_names(themes_in(session), draft.themes)
    return themes, resolve_place(session, draft.place)


def check_story(store: Store, draft: StoryDraft) -> DraftCheck:
    """Check a draft completely (themes and place looked up too), writing nothing."""
    faults = draft.faults()
    if not faults:
        with store.session() as session:
            try:
                _resolve(session, draft)
            except InputError as exc:
                faults.append(Fault(exc.field or "place", exc.message))
    return DraftCheck(faults, draft.personal_data())


def token_hash(token: str) -> str:
    """SHA-256 of a withdrawal token (a 256-bit random token needs no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def add_story(
    store: Store,
    draft: StoryDraft,
    *,
    viewer: Viewer = ANONYMOUS,
    allow_personal_data: bool = False,
    limiter: StoreSubmissionLimiter | None = None,
    address: str | None = None,
) -> AddedStory:
    """Save a story told by ``viewer`` (or written down by staff for a teller).

    Bad input (empty or over-long text, an unknown theme, consent, age band or relation, a place
    that is unknown or outside the loaded areas) raises ``InputError`` naming the field and
    writes nothing; personal data raises ``PersonalDataFound`` unless ``allow_personal_data``.
    With ``limiter`` and ``address`` (the public form) the address's rate limit is checked and
    counted in the same transaction (``TooManyStories``); editors and admins are not limited.
    The returned ``withdraw_token`` is the only copy: the store keeps its hash.
    """
    raise_faults(draft.faults())
    matches = draft.personal_data()
    if matches and not allow_personal_data:
        raise PersonalDataFound(matches)
    token = secrets.token_urlsafe(32)
    backend = backend_for(store)
    with store.transaction() as session:
        limited = limiter is not None and address is not None and not viewer.is_team
        now = datetime.now(UTC)
        if limited:
            assert limiter is not None and address is not None
            limiter.check(session, address, now)
        themes, place = _resolve(session, draft)
        at_once = viewer.is_team and draft.consent != "public"
        row = schema.Story(
            number=backend.next_number(session),
            title=draft.title or "",
            text=draft.text,
            consent=draft.consent,
            moderation="approved" if at_once else "pending",
            themes=themes,
            lon=place.lon,
            lat=place.lat,
            place_precision=place.precision,
            place_kind=place.kind,
            age_band=draft.age_band,
            relation=draft.relation,
            consent_method=draft.consent_method or ("verbal" if viewer.is_team else "form"),
            recorded_by=viewer.actor if viewer.is_staff else None,
            created_at=now,
            moderated_at=now if at_once else None,
            moderated_by=viewer.actor if at_once else None,
            withdraw_token_hash=token_hash(token),
        )
        refresh_audience(row)
        session.add(row)
        session.flush()
        links = [("area", c) for c in place.area_codes] + list(place.assets)
        links += [("theme", t) for t in themes]
        session.add_all(
            schema.StoryLink(story_id=row.id, target_kind=k, target_id=t) for k, t in links
        )
        audit(
            session, viewer, "create", row.id,
            {"consent": [None, row.consent], "status": [None, row.moderation]},
        )  # fmt: skip
        if limited:
            assert limiter is not None and address is not None
            limiter.add(session, address, now)
        return AddedStory(row.id, row.number, row.moderation, row.consent, token, tuple(matches))


__all__ = [
    "DraftCheck",
    "PersonalDataFound",
    "StoryDraft",
    "add_story",
    "check_story",
    "token_hash",
]
