"""What every stories module shares: finding a story row, the audit entry, raising faults, and
turning rows into the views one viewer may see (the only place a ``StoryView`` is built)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from strengthmap.errors import Fault, Forbidden, InputError, NotFound, ValidationFailed
from strengthmap.storage import schema
from strengthmap.stories.model import (
    WITHDRAWN_REASON,
    AreaRef,
    AssetRef,
    ModerationDetails,
    Place,
    StoryView,
    TellerDetails,
    Theme,
    Tombstone,
    Viewer,
    audience_of,
    can_read,
)
from strengthmap.stories.personal_data import find_personal_data

S = schema.Story
L = schema.StoryLink


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time is stored in UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def raise_faults(faults: Sequence[Fault]) -> None:
    """Nothing when ``faults`` is empty; one fault: ``InputError`` naming its field; more:
    ``ValidationFailed`` listing them all."""
    if len(faults) == 1:
        raise InputError(faults[0].message, field=faults[0].path)
    if faults:
        raise ValidationFailed(list(faults))


def audit(
    session: Session, viewer: Viewer, action: str, story_id: str, changes: dict[str, list[Any]]
) -> None:
    """One audit entry for a story. ``changes`` never holds the story's words (they could not
    be erased from the trail when the teller withdraws): states, positions and counts only."""
    session.add(
        schema.AuditEntry(
            actor=viewer.actor, action=action, entity="story", entity_id=story_id, changes=changes
        )
    )


def story_row(session: Session, ref: str | int, *, for_update: bool = False) -> schema.Story:
    """The story with id ``ref`` (a UUID) or number ``ref`` (``12``, ``"12"`` or ``"#12"``)."""
    text = str(ref).strip().lstrip("#")
    if text.isdigit() and len(text) > 18:  # no such number (and too big for an SQL integer)
        raise NotFound(f"no story {ref}")
    stmt = (
        select(S).where(S.number == int(text)) if text.isdigit() else select(S).where(S.id == text)
    )
    if for_update:
        stmt = stmt.with_for_update()
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound(f"no story {ref}")
    return row


def refresh_audience(row: schema.Story) -> None:
    row.audience = audience_of(row.consent, row.moderation, withdrawn=row.withdrawn_at is not None)


def status_of(row: schema.Story) -> str:
    return "withdrawn" if row.withdrawn_at is not None else row.moderation


def tombstone(row: schema.Story) -> Tombstone:
    withdrawn_at = aware(row.withdrawn_at)
    assert withdrawn_at is not None
    return Tombstone(row.id, row.number, withdrawn_at, row.withdrawn_reason or WITHDRAWN_REASON)


def require_team(viewer: Viewer, what: str) -> None:
    if not viewer.is_team:
        raise Forbidden(f"only editors and admins can {what} (you are {viewer.role})")


def was_published(row: schema.Story) -> bool:
    """True when a (now withdrawn) story had been readable by anyone: its tombstone is public."""
    return row.consent == "public" and row.moderation == "approved"


def visible_or_tombstone(row: schema.Story, viewer: Viewer) -> bool:
    """Whether ``viewer`` may be told anything about this story."""
    if row.withdrawn_at is not None:
        return viewer.is_team or was_published(row)
    return can_read(viewer, row.audience)


def views(
    session: Session,
    rows: Sequence[schema.Story],
    viewer: Viewer,
    themes: Sequence[Theme],
    *,
    scores: Sequence[float | None] | None = None,
    as_teller: bool = False,
) -> list[StoryView | Tombstone]:
    """Rows -> what ``viewer`` sees (the caller has filtered to what they may read).
    ``as_teller``: the teller's own view through their link (their teller details, no
    moderation record)."""
    ids = [r.id for r in rows if r.withdrawn_at is None]
    links: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
    if ids:
        for story_id, kind, target in session.execute(
            select(L.story_id, L.target_kind, L.target_id).where(L.story_id.in_(ids)).order_by(L.id)
        ):
            links[story_id].append((kind, target))
    area_codes = {t for ls in links.values() for k, t in ls if k == "area"}
    areas: dict[str, AreaRef] = {}
    if area_codes:
        for code, name, level, vintage in session.execute(
            select(schema.Area.code, schema.Area.name, schema.Area.level, schema.Area.vintage)
            .where(schema.Area.code.in_(area_codes))
            .order_by(schema.Area.vintage)
        ):
            areas[code] = AreaRef(code, name, level, vintage)  # the newest vintage wins
    names: dict[tuple[str, str], str | None] = {}
    for kind, model in (("service", schema.Service), ("location", schema.Location)):
        wanted = {t for ls in links.values() for k, t in ls if k == kind}
        if wanted:
            for rid, asset_name in session.execute(
                select(model.id, model.name).where(model.id.in_(wanted))
            ):
                names[(kind, rid)] = asset_name
    theme_by_slug = {t.slug: t for t in themes}
    out: list[StoryView | Tombstone] = []
    for i, row in enumerate(rows):
        if row.withdrawn_at is not None:
            out.append(tombstone(row))
            continue
        row_links = links.get(row.id, [])
        place = None
        if row.place_kind is not None or any(k == "area" for k, _ in row_links):
            place = Place(
                row.place_precision,
                row.place_kind,
                row.lon,
                row.lat,
                tuple(
                    areas.get(t, AreaRef(t, None, None, None)) for k, t in row_links if k == "area"
                ),
            )
        team = viewer.is_team and not as_teller
        created_at = aware(row.created_at)
        assert created_at is not None
        out.append(
            StoryView(
                id=row.id,
                number=row.number,
                title=row.title or None,
                text=row.text,
                themes=tuple(
                    theme_by_slug.get(s, Theme(s, s, retired=True)) for s in (row.themes or [])
                ),
                consent=row.consent,
                status=status_of(row),
                created_at=created_at,
                updated_at=aware(row.updated_at),
                published_at=aware(row.moderated_at) if row.moderation == "approved" else None,
                place=place,
                assets=tuple(
                    AssetRef(k, t, names.get((k, t)))
                    for k, t in row_links
                    if k in {"service", "location"}
                ),
                teller=TellerDetails(row.age_band, row.relation, row.consent_method)
                if team or as_teller
                else None,
                moderation=ModerationDetails(
                    aware(row.moderated_at),
                    row.moderated_by,
                    row.moderation_note,
                    row.policy_version,
                    row.recorded_by,
                    tuple(find_personal_data(row.text))
                    + tuple(find_personal_data(row.title, field="title")),
                )
                if team
                else None,
                score=scores[i] if scores is not None else None,
            )
        )
    return out


__all__ = [
    "audit",
    "aware",
    "raise_faults",
    "refresh_audience",
    "require_team",
    "status_of",
    "story_row",
    "tombstone",
    "views",
    "visible_or_tombstone",
    "was_published",
]
