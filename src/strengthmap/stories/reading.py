"""Reading stories: the list and the map (filtered by words, theme, area, asset and date), one
story's page, and counts per area and theme, each showing one viewer only what they may read.

Example:
    >>> from strengthmap.storage import open_store
    >>> from strengthmap.stories import StoryDraft, add_story, approve_story, OPERATOR
    >>> store = open_store("sqlite://")
    >>> n = add_story(store, StoryDraft("The library's warm space saved our winter.",
    ...                                 themes=("place-that-matters",), consent="public")).number
    >>> list_stories(store, StoryQuery(text="winter")).total                    # pending: not yet
    0
    >>> _ = approve_story(store, n, viewer=OPERATOR)
    >>> [s.number for s in list_stories(store, StoryQuery(text="library", themes=("place-that-matters",))).items] == [n]
    True

Every query filters on ``story.audience`` with the viewer's readable audiences
(``model.readable_audiences``), so no caller can forget the rule. Asking for what the viewer
may never see (pending stories as a viewer, private ones as anyone but the team) is
``Forbidden`` rather than an empty answer. Only editors and admins can list withdrawn stories,
and then only as tombstones.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from strengthmap.errors import Fault, Forbidden, InputError, NotFound
from strengthmap.storage import Store, schema
from strengthmap.stories.core import raise_faults, story_row, views, visible_or_tombstone
from strengthmap.stories.model import (
    ANONYMOUS,
    CONSENT_LEVELS,
    STATUSES,
    StoryPage,
    StoryView,
    Tombstone,
    Viewer,
    readable_audiences,
)
from strengthmap.stories.ranking import search_numbers
from strengthmap.stories.search import backend_for
from strengthmap.stories.themes import resolve_theme_names, themes_in

S = schema.Story
L = schema.StoryLink
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class StoryQuery:
    """Filters for ``list_stories`` and ``story_map``; every filter given must hold."""

    text: str | None = None
    themes: tuple[str, ...] = ()  # slugs: a story with any of them
    area: str | None = None  # an ONS code of any level (LSOA, MSOA, ward, local authority)
    asset: str | None = None  # a service or location id
    since: date | None = None  # told on or after (UTC day)
    until: date | None = None  # told on or before
    status: str | None = None  # editors and admins: pending, rejected, ..., withdrawn
    consent: str | None = None
    with_place: bool = False  # only stories with a point (the map)
    order: Literal["relevance", "newest", "oldest"] | None = None
    page: int = 1
    per_page: int = 20

    def faults(self) -> list[Fault]:
        out = []
        if self.status is not None and self.status not in STATUSES:
            out.append(
                Fault("status", f"unknown status {self.status!r}; one of {', '.join(STATUSES)}")
            )
        if self.consent is not None and self.consent not in CONSENT_LEVELS:
            out.append(
                Fault(
                    "consent",
                    f"unknown consent {self.consent!r}; one of {', '.join(CONSENT_LEVELS)}",
                )
            )
        if self.since and self.until and self.since > self.until:
            out.append(Fault("since", f"{self.since} is after {self.until}"))
        if self.page < 1:
            out.append(Fault("page", "pages are numbered from 1"))
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            out.append(Fault("per_page", f"between 1 and {MAX_PER_PAGE} stories a page"))
        if self.order not in (None, "relevance", "newest", "oldest"):
            out.append(Fault("order", "relevance, newest or oldest"))
        if self.order == "relevance" and not self.text:
            out.append(Fault("order", "relevance needs words to search for"))
        if self.text is not None and not self.text.strip():
            out.append(Fault("text", "give words to search for"))
        return out


def check_rights(query: StoryQuery, viewer: Viewer) -> None:
    if query.status not in (None, "approved") and not viewer.is_team:
        raise Forbidden(f"only editors and admins can list {query.status} stories")
    if query.consent == "private" and not viewer.is_team:
        raise Forbidden("only editors and admins can list private stories")
    if query.consent == "internal" and not viewer.is_staff:
        raise Forbidden("sign in to list internal stories")


def _linked(kind: str | tuple[str, ...], targets: tuple[str, ...] | str) -> Any:
    kinds = (kind,) if isinstance(kind, str) else kind
    wanted = (targets,) if isinstance(targets, str) else targets
    return S.id.in_(sa.select(L.story_id).where(L.target_kind.in_(kinds), L.target_id.in_(wanted)))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(query: StoryQuery, viewer: Viewer) -> tuple[frozenset[str], list[Any]]:
    """The audiences ``viewer`` may read (or the tombstones' for ``status="withdrawn"``) and the
    query's other conditions on ``story`` (not its words)."""
    audiences: frozenset[str] = frozenset(readable_audiences(viewer))
    conds: list[Any] = []
    if query.status == "withdrawn":
        audiences = frozenset({"none"})
    elif query.status is not None:
        conds.append(S.moderation == query.status)
    if query.consent is not None:
        conds.append(S.consent == query.consent)
    if query.themes:
        conds.append(_linked("theme", query.themes))
    if query.area:
        conds.append(_linked("area", query.area.strip().upper()))
    if query.asset:
        conds.append(_linked(("service", "location"), query.asset.strip()))
    if query.since:
        conds.append(S.created_at >= _day_start(query.since))
    if query.until:
        conds.append(S.created_at < _day_start(query.until + timedelta(days=1)))
    if query.with_place:
        conds.extend([S.lon.is_not(None), S.lat.is_not(None)])
    return audiences, conds


def _filter_key(query: StoryQuery) -> tuple[Any, ...]:
    """The query's filters other than its words and page (a cache key)."""
    return (
        query.status, query.consent, tuple(sorted(query.themes)), query.area, query.asset,
        query.since, query.until, query.with_place,
    )  # fmt: skip


def query_statement(store: Store, query: StoryQuery, viewer: Viewer) -> sa.Select[Any]:
    """The stories ``viewer`` may read that match ``query`` (unordered)."""
    audiences, conds = _conditions(query, viewer)
    stmt = sa.select(S).where(S.audience.in_(sorted(audiences)), *conds)
    if query.text:
        stmt = backend_for(store).match(stmt, query.text)
    return stmt


def ordered(stmt: sa.Select[Any], query: StoryQuery) -> sa.Select[Any]:
    """``stmt`` oldest or newest first (relevance is ``_page``'s, through the backend)."""
    if query.order == "oldest":
        return stmt.order_by(S.created_at, S.number)
    return stmt.order_by(S.created_at.desc(), S.number.desc())


def with_theme_slugs(session: Session, query: StoryQuery) -> StoryQuery:
    """``query`` with its themes as slugs (a filter may name a theme by its label too);
    ``InputError`` for a theme that does not exist."""
    if not query.themes:
        return query
    slugs = resolve_theme_names(themes_in(session), query.themes, allow_retired=True)
    return replace(query, themes=tuple(slugs))


def _page(session: Session, store: Store, query: StoryQuery, viewer: Viewer) -> StoryPage:
    raise_faults(query.faults())
    check_rights(query, viewer)
    query = with_theme_slugs(session, query)
    offset = (query.page - 1) * query.per_page
    themes = themes_in(session)
    if query.text and query.order in (None, "relevance"):
        audiences, conds = _conditions(query, viewer)
        total, ranked = search_numbers(
            session, store, query.text, audiences, conds, _filter_key(query), offset,
            query.per_page,
        )  # fmt: skip
        # the rows are read again and the audience rule applied to them: a page never rests on
        # the cache alone (by number only, in SQL: an audience condition there makes SQLite
        # walk the audience index instead of fetching 20 rows)
        by_number = {
            r.number: r
            for r in session.scalars(sa.select(S).where(S.number.in_([n for n, _ in ranked])))
            if r.audience in audiences
        }
        kept = [(by_number[n], score) for n, score in ranked if n in by_number]
        items = views(session, [r for r, _ in kept], viewer, themes, scores=[s for _, s in kept])
        return StoryPage(items, total, query.page, query.per_page)
    stmt = query_statement(store, query, viewer)
    total = int(session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0)
    rows = list(session.scalars(ordered(stmt, query).limit(query.per_page).offset(offset)).all())
    return StoryPage(views(session, rows, viewer, themes), total, query.page, query.per_page)


def list_stories(
    store: Store, query: StoryQuery | None = None, *, viewer: Viewer = ANONYMOUS
) -> StoryPage:
    """One page of the stories ``viewer`` may read that match ``query``: newest first, or best
    match first when searching words. Stories on an area page or a service page ("what people
    say") are ``StoryQuery(area=code)`` / ``StoryQuery(asset=service_id)``."""
    with store.session() as session:
        return _page(session, store, query or StoryQuery(), viewer)


def search_stories(
    store: Store, text: str, query: StoryQuery | None = None, *, viewer: Viewer = ANONYMOUS
) -> StoryPage:
    """Full-text search: ``list_stories`` with ``text`` (every word must occur), best first."""
    return list_stories(store, replace(query or StoryQuery(), text=text), viewer=viewer)


def get_story(
    store: Store, story: str | int, *, viewer: Viewer = ANONYMOUS
) -> StoryView | Tombstone:
    """A story's page: its view, or its tombstone once withdrawn (shown to the team, and to
    anyone when it had been published, so old links say what happened). ``NotFound`` for
    anything else ``viewer`` may not read, so its existence is not revealed either."""
    with store.session() as session:
        try:
            row = story_row(session, story)
        except (NotFound, ValueError):
            raise NotFound(f"no story {story}") from None
        if not visible_or_tombstone(row, viewer):
            raise NotFound(f"no story {story}")
        return views(session, [row], viewer, themes_in(session))[0]


@dataclass(frozen=True)
class StoryMap:
    """Stories with a point, as GeoJSON: only their public-facing fields, to their precision."""

    features: list[dict[str, Any]]
    total: int
    truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "FeatureCollection",
            "features": self.features,
            "total": self.total,
            "truncated": self.truncated,
        }


def story_map(
    store: Store, query: StoryQuery | None = None, *, viewer: Viewer = ANONYMOUS, limit: int = 5000
) -> StoryMap:
    """GeoJSON points of the stories ``viewer`` may read that match ``query`` (newest first, at
    most ``limit``): id, number, title, excerpt, themes, precision and the area label."""
    base = replace(query or StoryQuery(), with_place=True, page=1, per_page=1)
    raise_faults(base.faults())
    check_rights(base, viewer)
    with store.session() as session:
        base = with_theme_slugs(session, base)
        stmt = query_statement(store, base, viewer)
        total = int(session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0)
        rows = session.scalars(ordered(stmt, replace(base, order=None)).limit(limit)).all()
        items = views(session, rows, viewer, themes_in(session))
    features = []
    for v in items:
        if not isinstance(v, StoryView) or v.place is None or v.place.lon is None:
            continue
        features.append(
            {
                "type": "Feature",
                "id": v.id,
                "geometry": {"type": "Point", "coordinates": [v.place.lon, v.place.lat]},
                "properties": {
                    "number": v.number,
                    "title": v.display_title,
                    "excerpt": v.excerpt,
                    "themes": [t.slug for t in v.themes],
                    "precision": v.place.precision,
                    "label": v.place.label,
                    "created_at": v.created_at.isoformat(),
                },
            }
        )
    return StoryMap(features, total, total > len(features))


# --- counts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoryCount:
    area_code: str | None
    area_name: str | None
    theme: str | None
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "area_code": self.area_code,
            "area_name": self.area_name,
            "theme": self.theme,
            "n": self.n,
        }


@dataclass(frozen=True)
class StoryCounts:
    """Approved stories the viewer may read, per area (of one level and vintage) and theme.
    A story with two themes counts once under each theme; area totals count stories."""

    level: str
    vintage: int | None
    total: int
    by_area: list[StoryCount]
    by_theme: list[StoryCount]
    by_area_and_theme: list[StoryCount] = field(default_factory=list)
    without_area: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "vintage": self.vintage,
            "total": self.total,
            "without_area": self.without_area,
            "by_area": [c.to_dict() for c in self.by_area],
            "by_theme": [c.to_dict() for c in self.by_theme],
            "by_area_and_theme": [c.to_dict() for c in self.by_area_and_theme],
        }


def story_counts(
    store: Store, *, viewer: Viewer = ANONYMOUS, level: str = "ward", vintage: int | None = None
) -> StoryCounts:
    """Counts for commissioners: approved stories per area of ``level`` (the newest loaded
    vintage unless given) and per theme, over the stories ``viewer`` may read."""
    if level not in ("lsoa", "msoa", "ward", "lad"):
        raise InputError(f"unknown area level {level!r}; lsoa, msoa, ward or lad", field="level")
    A = schema.Area
    with store.session() as session:
        if vintage is None:
            vintage = session.scalar(sa.select(sa.func.max(A.vintage)).where(A.level == level))
        approved = sa.and_(
            S.audience.in_(sorted(readable_audiences(viewer))), S.moderation == "approved"
        )
        total = int(session.scalar(sa.select(sa.func.count()).where(approved)) or 0)
        la = aliased(L)
        lt = aliased(L)
        area_join = sa.and_(A.code == la.target_id, A.level == level, A.vintage == vintage)
        by_area_rows = session.execute(
            sa.select(A.code, A.name, sa.func.count(sa.distinct(S.id)))
            .join(la, sa.and_(la.story_id == S.id, la.target_kind == "area"))
            .join(A, area_join)
            .where(approved)
            .group_by(A.code, A.name)
            .order_by(sa.func.count(sa.distinct(S.id)).desc(), A.code)
        ).all()
        in_area = sum(int(r[2]) for r in by_area_rows)
        cross = session.execute(
            sa.select(A.code, A.name, lt.target_id, sa.func.count(sa.distinct(S.id)))
            .join(la, sa.and_(la.story_id == S.id, la.target_kind == "area"))
            .join(A, area_join)
            .join(lt, sa.and_(lt.story_id == S.id, lt.target_kind == "theme"))
            .where(approved)
            .group_by(A.code, A.name, lt.target_id)
            .order_by(A.code, lt.target_id)
        ).all()
        by_theme_rows = session.execute(
            sa.select(lt.target_id, sa.func.count(sa.distinct(S.id)))
            .join(lt, sa.and_(lt.story_id == S.id, lt.target_kind == "theme"))
            .where(approved)
            .group_by(lt.target_id)
            .order_by(sa.func.count(sa.distinct(S.id)).desc(), lt.target_id)
        ).all()
    return StoryCounts(
        level=level,
        vintage=vintage,
        total=total,
        by_area=[StoryCount(c, n, None, int(k)) for c, n, k in by_area_rows],
        by_theme=[StoryCount(None, None, t, int(k)) for t, k in by_theme_rows],
        by_area_and_theme=[StoryCount(c, n, t, int(k)) for c, n, t, k in cross],
        without_area=total - in_area,
    )


__all__ = [
    "MAX_PER_PAGE",
    "StoryCount",
    "StoryCounts",
    "StoryMap",
    "StoryQuery",
    "get_story",
    "list_stories",
    "search_stories",
    "story_counts",
    "story_map",
]
