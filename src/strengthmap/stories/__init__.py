"""Stories linked to places and assets: consent, moderation, withdrawal, search, counts and feeds.

"The power of hearing stories": numbers say where need is; stories say what is strong and what
it is like to live there. This package keeps them with the care tellers are promised.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> added = add_story(store, StoryDraft("Our choir sings at the care home on Fridays.",
    ...                                     themes=("whats-strong",), consent="public"))
    >>> added.status                                           # waits for an editor
    'pending'
    >>> list_stories(store).total                              # the public sees nothing yet
    0
    >>> _ = approve_story(store, added.id, viewer=Viewer("editor", "ed@example.org"))
    >>> [s.title or s.text[:9] for s in list_stories(store).items]
    ['Our choir']
    >>> withdraw_with_token(store, added.withdraw_token).status
    'withdrawn'
    >>> list_stories(store).total, search_stories(store, "choir").total
    (0, 0)

Every function that reads or acts takes ``viewer`` (``Viewer(role, actor)``: role anonymous,
viewer, editor or admin; ``Viewer.of(user)`` for a signed-in account), and applies the one rule
of ``model.audience_of`` / ``model.can_read`` itself, so the CLI, the API and the pages cannot get
visibility wrong. Results are typed; each ``to_dict()`` is the JSON the CLI and API print.

Modules: ``model`` (viewers, the rule, results), ``telling`` (drafts, checks, ``add_story``),
``personal_data`` (emails, phones, postcodes, names, NHS numbers), ``places`` (postcode / point
/ area / asset to areas and a point at the teller's precision), ``themes`` (themes and the
moderation policy), ``moderation`` (queue, decisions, redaction), ``withdrawal`` (the teller's
link, erasure), ``reading`` (lists, search, map, counts), ``export`` (CSV/JSON, Atom), ``safety``
(rate limit, honeypot), ``text`` (plain text in and out), ``search`` (backend adapters).
"""

from __future__ import annotations

from strengthmap.stories.export import EXPORT_FORMATS, atom_feed, export_stories
from strengthmap.stories.model import (
    AGE_BANDS,
    ANONYMOUS,
    CONSENT_LEVELS,
    CONSENT_MEANING,
    CONSENT_METHODS,
    MAX_TEXT_CHARS,
    OPERATOR,
    PRECISION_MEANING,
    PRECISIONS,
    RELATIONS,
    STATUSES,
    WITHDRAWN_REASON,
    AddedStory,
    Policy,
    RedactionRecord,
    StoryPage,
    StoryView,
    TellerView,
    Theme,
    Tombstone,
    Viewer,
    audience_of,
    can_read,
)
from strengthmap.stories.moderation import (
    REDACTED,
    approve_story,
    moderation_queue,
    redact_story,
    redaction_history,
    reject_story,
    request_changes,
    story_history,
)
from strengthmap.stories.personal_data import (
    PersonalDataMatch,
    find_personal_data,
    remove_personal_data,
)
from strengthmap.stories.places import PlaceInput, snap_to_street
from strengthmap.stories.reading import (
    StoryCounts,
    StoryMap,
    StoryQuery,
    get_story,
    list_stories,
    search_stories,
    story_counts,
    story_map,
)
from strengthmap.stories.safety import (
    HONEYPOT_FIELD,
    StoreSubmissionLimiter,
    TooManyStories,
    honeypot_tripped,
)
from strengthmap.stories.telling import (
    DraftCheck,
    PersonalDataFound,
    StoryDraft,
    add_story,
    check_story,
)
from strengthmap.stories.text import paragraphs, render_paragraphs
from strengthmap.stories.themes import (
    DEFAULT_THEMES,
    add_theme,
    list_themes,
    moderation_policy,
    retire_theme,
    set_moderation_policy,
)
from strengthmap.stories.withdrawal import (
    TokenNotValid,
    TokenUsed,
    revise_with_token,
    story_for_token,
    withdraw_story,
    withdraw_with_token,
)

__all__ = [
    "AGE_BANDS",
    "ANONYMOUS",
    "CONSENT_LEVELS",
    "CONSENT_MEANING",
    "CONSENT_METHODS",
    "DEFAULT_THEMES",
    "EXPORT_FORMATS",
    "HONEYPOT_FIELD",
    "MAX_TEXT_CHARS",
    "OPERATOR",
    "PRECISIONS",
    "PRECISION_MEANING",
    "REDACTED",
    "RELATIONS",
    "STATUSES",
    "WITHDRAWN_REASON",
    "AddedStory",
    "DraftCheck",
    "PersonalDataFound",
    "PersonalDataMatch",
    "PlaceInput",
    "Policy",
    "RedactionRecord",
    "StoreSubmissionLimiter",
    "StoryCounts",
    "StoryDraft",
    "StoryMap",
    "StoryPage",
    "StoryQuery",
    "StoryView",
    "TellerView",
    "Theme",
    "TokenNotValid",
    "TokenUsed",
    "Tombstone",
    "TooManyStories",
    "Viewer",
    "add_story",
    "add_theme",
    "approve_story",
    "atom_feed",
    "audience_of",
    "can_read",
    "check_story",
    "export_stories",
    "find_personal_data",
    "get_story",
    "honeypot_tripped",
    "list_stories",
    "list_themes",
    "moderation_policy",
    "moderation_queue",
    "paragraphs",
    "redact_story",
    "redaction_history",
    "reject_story",
    "remove_personal_data",
    "render_paragraphs",
    "request_changes",
    "retire_theme",
    "revise_with_token",
    "search_stories",
    "set_moderation_policy",
    "snap_to_street",
    "story_counts",
    "story_for_token",
    "story_history",
    "story_map",
    "withdraw_story",
    "withdraw_with_token",
]
