"""Who may read what: viewers and their roles, the audience rule, and the typed results of every
stories function (each ``to_dict()`` is the JSON the CLI and the API print).

Example:
    >>> audience_of("public", "approved", withdrawn=False)
    'public'
    >>> audience_of("public", "pending", withdrawn=False), audience_of("internal", "approved", withdrawn=True)
    ('team', 'none')
    >>> can_read(ANONYMOUS, "public"), can_read(ANONYMOUS, "internal"), can_read(Viewer("viewer", "a@b.org"), "internal")
    (True, False, True)
    >>> can_read(Viewer("admin", "root@b.org"), "none")
    False

The one rule (``audience_of`` then ``can_read``), used by every read:

=========================  =========================================================
story                      who reads its text
=========================  =========================================================
withdrawn                  nobody (a tombstone: id, date, "withdrawn by the teller")
pending / needs_changes /  editors and admins (the team)
rejected
approved, consent private  editors and admins
approved, consent internal signed-in staff (viewer, editor, admin)
approved, consent public   anyone, signed in or not
=========================  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from strengthmap.stories.text import excerpt, paragraphs

if TYPE_CHECKING:
    from strengthmap.accounts import User
    from strengthmap.stories.personal_data import PersonalDataMatch

Role = Literal["anonymous", "viewer", "editor", "admin"]
Audience = Literal["public", "internal", "team", "none"]

#: Roles in rising order of power; "anonymous" is anyone not signed in.
ROLES: tuple[Role, ...] = ("anonymous", "viewer", "editor", "admin")
#: Consent levels, from most to least private.
CONSENT_LEVELS = ("private", "internal", "public")
#: What each consent level means, in the words shown on the form.
CONSENT_MEANING = {
    "private": "only the Strengthmap team (editors) may read it",
    "internal": "signed-in staff may read it (commissioners, link workers); never the public",
    "public": "anyone may read it once an editor has approved it",
}
#: Moderation states (``withdrawn`` is a state of its own, above them all).
MODERATION_STATES = ("pending", "approved", "rejected", "needs_changes")
STATUSES = (*MODERATION_STATES, "withdrawn")
#: How exactly a story's place is kept and shown (the teller chooses).
PRECISIONS = ("exact", "street", "area")
PRECISION_MEANING = {
    "exact": "the point as given",
    "street": "the centre of a 150 m square around it (the street, not the house)",
    "area": "only the neighbourhood (LSOA) and ward, no point",
}
#: The teller's age band (optional).
AGE_BANDS = ("under-16", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75-plus")
#: The teller's relation to the place (optional).
RELATIONS = (
    "lives-here", "works-here", "volunteers-here", "studies-here", "visits", "used-to-live-here",
    "other",
)  # fmt: skip
#: How the teller's consent was given: the form themselves, or told to a community builder.
CONSENT_METHODS = ("form", "verbal", "written")
#: The tombstone's reason: the teller decided, whether by their link or by asking staff.
WITHDRAWN_REASON = "withdrawn by the teller"
#: Longest story and title accepted, in characters (code points).
MAX_TEXT_CHARS = 20_000
MAX_TITLE_CHARS = 300
MAX_NOTE_CHARS = 2_000

_READABLE: dict[Role, frozenset[Audience]] = {
    "anonymous": frozenset({"public"}),
    "viewer": frozenset({"public", "internal"}),
    "editor": frozenset({"public", "internal", "team"}),
    "admin": frozenset({"public", "internal", "team"}),
}


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a role and the name written in the audit trail (an email, "cli", ...).

    >>> Viewer.of(None).role
    'anonymous'
    """

    role: Role = "anonymous"
    actor: str = "anonymous"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; roles are {', '.join(ROLES)}")

    @classmethod
    def of(cls, user: User | None) -> Viewer:
        """The viewer for a signed-in account (``None``, id 0 or disabled: anonymous)."""
        if user is None or user.id == 0 or user.disabled:
            return ANONYMOUS
        role: Role = user.role if user.role in ROLES else "viewer"
        return cls(role, user.email)

    def at_least(self, role: Role) -> bool:
        """True when this viewer holds ``role`` or a more powerful one."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def is_staff(self) -> bool:
        """Signed in (viewer, editor or admin)."""
        return self.at_least("viewer")

    @property
    def is_team(self) -> bool:
        """An editor or admin: moderates, sees private and unmoderated stories."""
        return self.at_least("editor")


#: Anyone not signed in.
ANONYMOUS = Viewer()
#: The command line's operator (whoever can open the database), acting as an admin.
OPERATOR = Viewer("admin", "cli")


def audience_of(consent: str, moderation: str, *, withdrawn: bool) -> Audience:
    """Who may read a story's text, from its consent, moderation state and withdrawal."""
    if withdrawn:
        return "none"
    if moderation != "approved":
        return "team"
    if consent == "public":
        return "public"
    if consent == "internal":
        return "internal"
    return "team"


def readable_audiences(viewer: Viewer) -> frozenset[Audience]:
    """The audiences whose stories ``viewer`` may read (never ``none``)."""
    return _READABLE[viewer.role]


def can_read(viewer: Viewer, audience: str) -> bool:
    """True when ``viewer`` may read a story of ``audience``."""
    return audience in _READABLE[viewer.role]


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    """A theme a story can carry: a default one or a custom one added by staff."""

    slug: str
    label: str
    description: str | None = None
    builtin: bool = False
    retired: bool = False
    position: int = 100

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "label": self.label,
            "description": self.description,
            "builtin": self.builtin,
            "retired": self.retired,
        }


@dataclass(frozen=True)
class AreaRef:
    """An area a story's place lies in (every loaded level: LSOA, MSOA, ward, local authority)."""

    code: str
    name: str | None
    level: str | None
    vintage: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "level": self.level, "vintage": self.vintage}


@dataclass(frozen=True)
class AssetRef:
    """A directory asset a story is about."""

    kind: str  # service | location
    id: str
    name: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name}


@dataclass(frozen=True)
class Place:
    """Where a story is, only to the teller's precision (``lon``/``lat`` already snapped)."""

    precision: str | None
    kind: str | None
    lon: float | None
    lat: float | None
    areas: tuple[AreaRef, ...] = ()

    @property
    def label(self) -> str | None:
        """The name to show: the ward if known, else the largest other area."""
        order = {"ward": 0, "msoa": 1, "lsoa": 2}
        named = sorted(
            (a for a in self.areas if a.name and a.level in order),
            key=lambda a: (order[a.level or ""], -(a.vintage or 0)),
        )
        return named[0].name if named else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "kind": self.kind,
            "lon": self.lon,
            "lat": self.lat,
            "label": self.label,
            "areas": [a.to_dict() for a in self.areas],
        }


@dataclass(frozen=True)
class TellerDetails:
    """What the teller said about themselves (editors and admins, and the teller; never in an
    export, a list for other staff or anything public)."""

    age_band: str | None
    relation: str | None
    consent_method: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "age_band": self.age_band,
            "relation": self.relation,
            "consent_method": self.consent_method,
        }


@dataclass(frozen=True)
class ModerationDetails:
    """The moderation record (editors and admins only)."""

    moderated_at: datetime | None
    moderated_by: str | None
    note: str | None
    policy_version: int | None
    recorded_by: str | None
    personal_data: tuple[PersonalDataMatch, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "moderated_at": _iso(self.moderated_at),
            "moderated_by": self.moderated_by,
            "note": self.note,
            "policy_version": self.policy_version,
            "recorded_by": self.recorded_by,
            "personal_data": [m.to_dict() for m in self.personal_data],
        }


@dataclass(frozen=True)
class StoryView:
    """A story as one viewer may see it: ``teller`` and ``moderation`` are None unless that
    viewer may see them, and ``to_dict`` leaves them out then."""

    id: str
    number: int
    title: str | None
    text: str
    themes: tuple[Theme, ...]
    consent: str
    status: str
    created_at: datetime
    updated_at: datetime | None
    published_at: datetime | None
    place: Place | None
    assets: tuple[AssetRef, ...] = ()
    teller: TellerDetails | None = None
    moderation: ModerationDetails | None = None
    score: float | None = None

    @property
    def paragraphs(self) -> list[str]:
        """The text as plain paragraphs (for templates: one ``<p>`` each, autoescaped)."""
        return paragraphs(self.text)

    @property
    def excerpt(self) -> str:
        return excerpt(self.text)

    @property
    def display_title(self) -> str:
        """The title, or "Story #N" when the teller gave none."""
        return self.title or f"Story #{self.number}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "number": self.number,
            "title": self.title,
            "text": self.text,
            "excerpt": self.excerpt,
            "themes": [{"slug": t.slug, "label": t.label} for t in self.themes],
            "consent": self.consent,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "published_at": _iso(self.published_at),
            "place": self.place.to_dict() if self.place else None,
            "assets": [a.to_dict() for a in self.assets],
        }
        if self.score is not None:
            out["score"] = round(self.score, 6)
        if self.teller is not None:
            out["teller"] = self.teller.to_dict()
        if self.moderation is not None:
            out["moderation"] = self.moderation.to_dict()
        return out


@dataclass(frozen=True)
class Tombstone:
    """All that is left of a withdrawn story: its id, number, date and the reason."""

    id: str
    number: int
    withdrawn_at: datetime
    reason: str = WITHDRAWN_REASON
    status: str = "withdrawn"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "status": self.status,
            "withdrawn_at": _iso(self.withdrawn_at),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class AddedStory:
    """A story just saved. ``withdraw_token`` exists only here: give it to the teller once."""

    id: str
    number: int
    status: str
    consent: str
    withdraw_token: str
    personal_data: tuple[PersonalDataMatch, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "withdraw_token": self.withdraw_token,
            "number": self.number,
            "consent": self.consent,
            "personal_data": [m.to_dict() for m in self.personal_data],
        }


@dataclass(frozen=True)
class TellerView:
    """What the teller sees through their private link: the state of their story, their own
    words (whatever its moderation state) and what they can do next."""

    story: StoryView | Tombstone
    note: str | None = None

    @property
    def status(self) -> str:
        return self.story.status

    @property
    def can_withdraw(self) -> bool:
        return not isinstance(self.story, Tombstone)

    @property
    def can_revise(self) -> bool:
        return self.story.status in {"needs_changes", "pending"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "story": self.story.to_dict(),
            "note": self.note,
            "can_withdraw": self.can_withdraw,
            "can_revise": self.can_revise,
        }


@dataclass
class StoryPage:
    """One page of stories (tombstones only for editors asking for withdrawn ones)."""

    items: list[StoryView | Tombstone]
    total: int
    page: int
    per_page: int
    notes: list[str] = field(default_factory=list)

    @property
    def total_pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_items": self.total,
            "total_pages": self.total_pages,
            "page_number": self.page,
            "size": len(self.items),
            "items": [s.to_dict() for s in self.items],
        }


@dataclass(frozen=True)
class RedactionRecord:
    """One redaction, for admins: the passage removed, or None once the story was withdrawn."""

    at: datetime
    actor: str
    field: str
    start: int
    end: int
    removed_text: str | None
    reason: str | None

    @property
    def purged(self) -> bool:
        return self.removed_text is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": _iso(self.at),
            "actor": self.actor,
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "removed_text": self.removed_text,
            "reason": self.reason,
            "purged": self.purged,
        }


@dataclass(frozen=True)
class Policy:
    """The moderation policy shown on the story form; version 0 is the packaged default."""

    version: int
    text: str
    set_at: datetime | None
    set_by: str | None

    @property
    def paragraphs(self) -> list[str]:
        return paragraphs(self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "text": self.text,
            "set_at": _iso(self.set_at),
            "set_by": self.set_by,
        }


__all__ = [
    "AGE_BANDS",
    "ANONYMOUS",
    "CONSENT_LEVELS",
    "CONSENT_MEANING",
    "CONSENT_METHODS",
    "MAX_NOTE_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
    "MODERATION_STATES",
    "OPERATOR",
    "PRECISIONS",
    "PRECISION_MEANING",
    "RELATIONS",
    "ROLES",
    "STATUSES",
    "WITHDRAWN_REASON",
    "AddedStory",
    "AreaRef",
    "AssetRef",
    "Audience",
    "ModerationDetails",
    "Place",
    "Policy",
    "RedactionRecord",
    "Role",
    "StoryPage",
    "StoryView",
    "TellerDetails",
    "TellerView",
    "Theme",
    "Tombstone",
    "Viewer",
    "audience_of",
    "can_read",
    "readable_audiences",
]
