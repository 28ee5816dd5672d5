"""Story themes (the default five and the custom ones staff add) and the moderation policy setting.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> [t.slug for t in list_themes(store)]
    ['whats-strong', 'whats-hard', 'service-that-helped', 'place-that-matters', 'idea']
    >>> add_theme(store, "food", "Food and growing", viewer=OPERATOR).label
    'Food and growing'
    >>> resolve_theme_names(list_themes(store), ["What’s strong here", "FOOD"])
    ['whats-strong', 'food']
    >>> moderation_policy(store).version
    0

Default themes live in the code, so every store has them; the ``story_theme`` table holds the
custom ones and staff changes to the defaults (a new label, or retirement). A retired theme is
kept (stories keep showing it) but is no longer offered on the form or accepted for new stories.
The policy is versioned: each ``set_moderation_policy`` adds a version (admins only, audited),
and each moderation decision records the version it was made under.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from strengthmap.errors import Conflict, Forbidden, InputError, NotFound
from strengthmap.storage import Store, schema
from strengthmap.stories.model import OPERATOR, Policy, Theme, Viewer
from strengthmap.stories.text import text_faults

#: The default themes, in the order the form offers them.
DEFAULT_THEMES: tuple[Theme, ...] = (
    Theme("whats-strong", "What's strong here", "People, groups and places that make it work.", True, False, 10),
    Theme("whats-hard", "What's hard", "What gets in the way of living well here.", True, False, 20),
    Theme("service-that-helped", "A service that helped", "A group, service or person that made a difference.", True, False, 30),
    Theme("place-that-matters", "A place that matters", "A place people go to, meet in or care about.", True, False, 40),
    Theme("idea", "An idea", "Something that could make it better.", True, False, 50),
)  # fmt: skip
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,35}$")
_MAX_POLICY_CHARS = 20_000


def _label_key(value: str) -> str:
    return " ".join(value.replace("’", "'").replace("‘", "'").casefold().split())


def themes_in(session: Session) -> list[Theme]:
    rows = {r.slug: r for r in session.scalars(select(schema.StoryTheme))}
    out = []
    for default in DEFAULT_THEMES:
        row = rows.pop(default.slug, None)
        if row is None:
            out.append(default)
        else:
            out.append(
                Theme(
                    default.slug, row.label, row.description or default.description, True,
                    row.retired_at is not None, default.position,
                )
            )  # fmt: skip
    out.extend(
        Theme(r.slug, r.label, r.description, False, r.retired_at is not None, r.position)
        for r in rows.values()
    )
    return sorted(out, key=lambda t: (t.position, t.label.casefold()))


def list_themes(store: Store, *, include_retired: bool = False) -> list[Theme]:
    """The themes offered for new stories (and the retired ones too when asked)."""
    with store.session() as session:
        themes = themes_in(session)
    return [t for t in themes if include_retired or not t.retired]


def resolve_theme_names(
    themes: Sequence[Theme], values: Iterable[str], *, allow_retired: bool = False
) -> list[str]:
    """Slugs for ``values`` given as slugs or labels (any case, either apostrophe); unknown
    ones (and retired ones, unless ``allow_retired``: filters may name them) raise
    ``InputError`` naming the themes there are."""
    by_key: dict[str, Theme] = {}
    for t in themes:
        by_key[t.slug] = t
        by_key[_label_key(t.label)] = t
    out: list[str] = []
    for value in values:
        theme = by_key.get(value.strip().lower()) or by_key.get(_label_key(value))
        if theme is None or (theme.retired and not allow_retired):
            offered = ", ".join(t.slug for t in themes if not t.retired)
            what = "a retired theme" if theme is not None else "an unknown theme"
            raise InputError(f"{value!r} is {what}; themes are {offered}", field="theme")
        if theme.slug not in out:
            out.append(theme.slug)
    return out


def _require_team(viewer: Viewer, what: str) -> None:
    if not viewer.is_team:
        raise Forbidden(f"only editors and admins can {what}")


def _audit(session: Session, viewer: Viewer, action: str, entity: str, rid: str, changes: dict[str, list[object]]) -> None:  # fmt: skip
    session.add(
        schema.AuditEntry(
            actor=viewer.actor, action=action, entity=entity, entity_id=rid, changes=changes
        )
    )


def add_theme(
    store: Store,
    slug: str,
    label: str,
    *,
    viewer: Viewer,
    description: str | None = None,
    position: int = 100,
) -> Theme:
    """Add a custom theme (editors and admins); a slug in use is a ``Conflict``."""
    _require_team(viewer, "add themes")
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        raise InputError(
            f"{slug!r}: a slug is 1-36 lower-case letters, digits and hyphens", field="slug"
        )
    label = " ".join(label.split())
    if not label or len(label) > 100:
        raise InputError("a label of 1 to 100 characters", field="label")
    with store.transaction() as session:
        existing = themes_in(session)
        if any(t.slug == slug for t in existing):
            raise Conflict(f"a theme {slug!r} already exists")
        if any(_label_key(t.label) == _label_key(label) for t in existing):
            raise Conflict(f"a theme labelled {label!r} already exists")
        session.add(
            schema.StoryTheme(
                slug=slug, label=label, description=description, position=position,
                created_by=viewer.actor,
            )
        )  # fmt: skip
        _audit(session, viewer, "create", "story_theme", slug, {"label": [None, label]})
    return Theme(slug, label, description, False, False, position)


def retire_theme(store: Store, slug: str, *, viewer: Viewer, retired: bool = True) -> Theme:
    """Stop offering a theme (``retired=False`` offers it again); stories keep it."""
    _require_team(viewer, "retire themes")
    with store.transaction() as session:
        theme = next((t for t in themes_in(session) if t.slug == slug), None)
        if theme is None:
            raise NotFound(f"no theme {slug!r}")
        row = session.get(schema.StoryTheme, slug)
        if row is None:  # a default theme changed for the first time
            row = schema.StoryTheme(
                slug=slug, label=theme.label, description=theme.description,
                position=theme.position, created_by=viewer.actor,
            )  # fmt: skip
            session.add(row)
        row.retired_at = datetime.now(UTC) if retired else None
        _audit(
            session, viewer, "retire" if retired else "restore", "story_theme", slug,
            {"retired": [theme.retired, retired]},
        )  # fmt: skip
    return Theme(theme.slug, theme.label, theme.description, theme.builtin, retired, theme.position)


# --- the moderation policy -----------------------------------------------------------------------


def default_policy_text() -> str:
    """The packaged policy (``stories/default_policy.txt``), used until an admin sets one."""
    return resources.files("strengthmap.stories").joinpath("default_policy.txt").read_text("utf-8")


def moderation_policy(store: Store) -> Policy:
    """The policy in force: the newest version set, or the packaged default (version 0)."""
    with store.session() as session:
        return policy_in(session)


def policy_in(session: Session) -> Policy:
    row = session.scalars(
        select(schema.StoryPolicy).order_by(schema.StoryPolicy.version.desc()).limit(1)
    ).first()
    if row is None:
        return Policy(0, default_policy_text(), None, None)
    set_at = row.set_at if row.set_at.tzinfo else row.set_at.replace(tzinfo=UTC)
    return Policy(row.version, row.text, set_at, row.set_by)


def set_moderation_policy(store: Store, text: str, *, viewer: Viewer = OPERATOR) -> Policy:
    """A new version of the policy (admins only); earlier versions are kept."""
    if not viewer.at_least("admin"):
        raise Forbidden("only admins can change the moderation policy")
    faults = text_faults(text, field="policy", max_chars=_MAX_POLICY_CHARS, required=True)
    if faults:
        raise InputError(faults[0].message, field=faults[0].path)
    with store.transaction() as session:
        version = int(session.scalar(select(func.coalesce(func.max(schema.StoryPolicy.version), 0))) or 0) + 1  # fmt: skip
        now = datetime.now(UTC)
        session.add(schema.StoryPolicy(version=version, text=text, set_at=now, set_by=viewer.actor))
        _audit(session, viewer, "update", "story_policy", str(version), {"version": [version - 1, version]})  # fmt: skip
    return Policy(version, text, now, viewer.actor)


__all__ = [
    "DEFAULT_THEMES",
    "add_theme",
    "default_policy_text",
    "list_themes",
    "moderation_policy",
    "resolve_theme_names",
    "retire_theme",
    "set_moderation_policy",
]
