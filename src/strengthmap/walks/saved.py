"""Saved walks: a walk kept with its plan, date, leader, how many took part and what was seen ("what's strong").

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> list_walks(store, area_code="E01011363")
    []

Who sees what is decided here, from the viewer's role (``None`` for the public):
editors and admins see everything; everyone else sees the walk, its route and the notes marked
public, never the leader's name, a note's author, or a private note. A walk is listed under every
area its path crosses (LSOA of its IMD release, MSOA 2011), so an area's page can link its walks.
Nothing is deleted: walks and notes are retired, with an audit entry for each change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy import select

from strengthmap.errors import Forbidden, InputError, NotFound
from strengthmap.geography import OUTSIDE
from strengthmap.storage import Store, schema
from strengthmap.walks.facts import area_facts
from strengthmap.walks.places import parse_at
from strengthmap.walks.planner import densify

#: Roles that see private notes and the leader's name.
EDITOR_ROLES = frozenset({"editor", "admin"})


def sees_private(role: str | None) -> bool:
    """Whether a viewer of ``role`` sees private notes, leaders and authors.

    >>> sees_private("editor"), sees_private("viewer"), sees_private(None)
    (True, False, False)
    """
    return role in EDITOR_ROLES


@dataclass
class WalkNote:
    """A note of what was seen; ``author`` is shown to editors only."""

    id: str
    text: str
    theme: str | None
    public: bool
    created_at: datetime
    author: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id, "text": self.text, "theme": self.theme, "public": self.public,
            "created_at": self.created_at.isoformat(),
        }  # fmt: skip
        if self.author is not None:
            d["author"] = self.author
        return d


@dataclass
class SavedWalk:
    """A saved walk as one viewer may see it (``leader`` is ``None`` unless they may see it)."""

    id: str
    name: str
    starts_at: datetime | None
    participants: int | None
    source: str
    length_m: float
    duration_min: float | None
    created_at: datetime
    areas: list[str]
    notes: list[WalkNote] = field(default_factory=list)
    leader: str | None = None
    plan: dict[str, Any] | None = None
    private_view: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "participants": self.participants,
            "source": self.source,
            "length_m": round(self.length_m, 1),
            "duration_min": None if self.duration_min is None else round(self.duration_min, 1),
            "created_at": self.created_at.isoformat(),
            "areas": self.areas,
            "notes": [n.to_dict() for n in self.notes],
        }
        if self.private_view:
            d["leader"] = self.leader
        if self.plan is not None:
            d["plan"] = self.plan
        return d


def _aware(t: datetime | None) -> datetime | None:
    if t is None:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def check_plan(plan: Any, *, file: str | None = None) -> dict[str, Any]:
    """A plan dict as ``plan_walk(...).to_dict()`` makes it, checked; ``InputError`` names the field."""
    d = plan if isinstance(plan, dict) else getattr(plan, "to_dict", lambda: None)()
    if not isinstance(d, dict):
        raise InputError("not a walk plan (a JSON object from `walk plan --json`)", file=file)
    path = d.get("path")
    if not isinstance(path, dict) or path.get("type") != "LineString":
        raise InputError("path must be a GeoJSON LineString", file=file, field="path")
    coords = path.get("coordinates")
    try:
        xy = np.asarray(coords, dtype=float)
    except (TypeError, ValueError):
        raise InputError("path coordinates are not numbers", file=file, field="path") from None
    if xy.ndim != 2 or xy.shape[0] < 2 or xy.shape[1] < 2:
        raise InputError("path needs at least two [lon, lat] points", file=file, field="path")
    if not (
        np.isfinite(xy).all() and (np.abs(xy[:, 0]) <= 180).all() and (np.abs(xy[:, 1]) <= 90).all()
    ):
        raise InputError("path coordinates are not lon/lat degrees", file=file, field="path")
    if not isinstance(d.get("stops"), list):
        raise InputError("stops must be a list", file=file, field="stops")
    for i, s in enumerate(d["stops"], start=1):
        if not isinstance(s, dict) or not {"name", "lon", "lat"} <= set(s):
            raise InputError(f"stop {i} needs name, lon and lat", file=file, field="stops")
    length = d.get("length_m")
    if not isinstance(length, int | float) or not length > 0:
        raise InputError("length_m must be a positive number", file=file, field="length_m")
    return d


def read_plan(path: str | Path) -> dict[str, Any]:
    """A plan saved by ``walk plan --json > plan.json``."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not JSON: {exc}", file=str(path)) from None
    return check_plan(doc, file=str(path))


def plan_from_gpx(
    store: Store, path: str | Path, *, imd_release: int | None = None
) -> dict[str, Any]:
    """A walk as walked (a GPX track, e.g. from a phone) in the plan's shape: its path, its
    way-points as stops, its length, profile and contrast. ``InputError`` if it is not GPX."""
    from strengthmap.routes import profile_route, route_from_gpx
    from strengthmap.walks.planner import ATTRIBUTION_OGL, contrast_of

    route = route_from_gpx(path)
    coords = np.asarray(route.line.coords, dtype=float)
    facts = area_facts(store, imd_release)
    try:
        profile: dict[str, Any] | None = profile_route(store, route, every_m=50,
                                                       imd_release=imd_release).to_dict()  # fmt: skip
    except NotFound:
        profile = None
    length = float(route.length_m())
    return {
        "title": route.name or Path(path).stem,
        "length_m": round(length, 1),
        "duration_min": None,
        "path": {"type": "LineString", "coordinates": coords.round(7).tolist()},
        "stops": [
            {
                "name": s.name,
                "lon": s.lon,
                "lat": s.lat,
                "kind": "via",
                "service_id": None,
                "arrive": None,
                "open": None,
            }
            for s in route.stops
        ],
        "profile": profile,
        "contrast": contrast_of(facts, coords).to_dict(),
        "network": None,
        "source_file": Path(path).name,
        "attribution": [ATTRIBUTION_OGL],
    }


def _areas_crossed(store: Store, plan: dict[str, Any]) -> list[tuple[str, int, str, float]]:
    """(level, vintage, code, first metres) of every LSOA and MSOA the path crosses."""
    imd_release = (plan.get("contrast") or {}).get("imd_release")
    try:
        facts = area_facts(store, imd_release)
    except InputError:
        facts = area_facts(store, None)
    coords = np.asarray(plan["path"]["coordinates"], dtype=float)
    pts, dist = densify(coords, 20.0)
    out: list[tuple[str, int, str, float]] = []
    for level, index in (("lsoa", facts.lsoa), ("msoa", facts.msoa)):
        if index is None:
            continue
        codes = index.locate(pts[:, 0], pts[:, 1])
        seen: dict[str, float] = {}
        for c, dm in zip(codes, dist, strict=True):
            if str(c) != OUTSIDE and str(c) not in seen:
                seen[str(c)] = float(dm)
        out += [(level, index.vintage, c, m) for c, m in seen.items()]
    return out


def _audit(session: Any, actor: str, action: str, entity: str, entity_id: str,
           changes: dict[str, Any] | None = None) -> None:  # fmt: skip
    session.add(schema.AuditEntry(actor=actor, action=action, entity=entity, entity_id=entity_id,
                                  changes=changes))  # fmt: skip


def save_walk(
    store: Store,
    plan: Any,
    *,
    name: str,
    starts_at: datetime | str | None = None,
    leader: str | None = None,
    participants: int | None = None,
    source: str = "plan",
    actor: str = "cli",
) -> SavedWalk:
    """Keep a walk (a ``WalkPlan``, its dict, or ``plan_from_gpx``); one transaction."""
    d = check_plan(plan)
    name = (name or "").strip()
    if not name:
        raise InputError("a saved walk needs a name", field="name")
    if len(name) > 200:
        raise InputError("the name is longer than 200 characters", field="name")
    if participants is not None and not 0 <= participants <= 100_000:
        raise InputError("participants must be a count from 0", field="participants")
    if leader is not None and len(leader) > 200:
        raise InputError("the leader's name is longer than 200 characters", field="leader")
    if source not in ("plan", "gpx"):
        raise InputError("source must be plan or gpx", field="source")
    when = parse_at(starts_at) if isinstance(starts_at, str) else starts_at
    if when is None and d.get("start"):
        when = datetime.fromisoformat(str(d["start"]))
    areas = _areas_crossed(store, d)
    line = shapely.LineString(np.asarray(d["path"]["coordinates"], dtype=float)[:, :2])
    with store.transaction() as session:
        walk = schema.Walk(
            name=name, starts_at=when, leader=(leader or None), participants=participants,
            source=source, plan=d, path=line, length_m=float(d["length_m"]),
            duration_min=d.get("duration_min"), created_by=actor,
        )  # fmt: skip
        session.add(walk)
        session.flush()
        for level, vintage, code, first in areas:
            session.add(schema.WalkArea(walk_id=walk.id, level=level, vintage=vintage,
                                        area_code=code, first_m=round(first, 1)))  # fmt: skip
        _audit(session, actor, "create", "walk", walk.id, {"name": [None, name]})
        walk_id = walk.id
    return get_walk(store, walk_id, viewer_role="editor")


def add_note(
    store: Store,
    walk_id: str,
    text: str,
    *,
    public: bool = False,
    theme: str | None = None,
    author: str | None = None,
    actor: str = "cli",
    actor_role: str | None = "editor",
) -> WalkNote:
    """Add a note of what was seen; only editors write notes (``Forbidden`` otherwise)."""
    if not sees_private(actor_role):
        raise Forbidden("only editors can add notes to a walk")
    text = (text or "").strip()
    if not text:
        raise InputError("the note is empty", field="text")
    with store.transaction() as session:
        walk = session.get(schema.Walk, walk_id)
        if walk is None or walk.retired_at is not None:
            raise NotFound(f"no walk {walk_id}")
        note = schema.WalkNote(walk_id=walk_id, text=text, theme=theme, author=author or actor,
                               public=bool(public))  # fmt: skip
        session.add(note)
        session.flush()
        _audit(session, actor, "create", "walk_note", note.id, {"public": [None, bool(public)]})
        return WalkNote(note.id, note.text, note.theme, note.public,
                        _aware(note.created_at) or datetime.now(UTC), note.author)  # fmt: skip


def retire_walk(
    store: Store, walk_id: str, *, actor: str = "cli", actor_role: str | None = "editor"
) -> None:
    """Retire a walk (kept, no longer listed)."""
    if not sees_private(actor_role):
        raise Forbidden("only editors can retire a walk")
    with store.transaction() as session:
        walk = session.get(schema.Walk, walk_id)
        if walk is None or walk.retired_at is not None:
            raise NotFound(f"no walk {walk_id}")
        walk.retired_at = datetime.now(UTC)
        _audit(session, actor, "retire", "walk", walk_id)


def _view(row: schema.Walk, areas: list[str], notes: list[schema.WalkNote], role: str | None,
          with_plan: bool) -> SavedWalk:  # fmt: skip
    private = sees_private(role)
    shown = [
        WalkNote(n.id, n.text, n.theme, n.public, _aware(n.created_at) or datetime.now(UTC),
                 n.author if private else None)
        for n in notes
        if n.retired_at is None and (private or n.public)
    ]  # fmt: skip
    return SavedWalk(
        id=row.id, name=row.name, starts_at=_aware(row.starts_at), participants=row.participants,
        source=row.source, length_m=row.length_m, duration_min=row.duration_min,
        created_at=_aware(row.created_at) or datetime.now(UTC), areas=areas, notes=shown,
        leader=row.leader if private else None, plan=row.plan if with_plan else None,
        private_view=private,
    )  # fmt: skip


def get_walk(store: Store, walk_id: str, *, viewer_role: str | None = None) -> SavedWalk:
    """One saved walk with its plan, as ``viewer_role`` may see it."""
    with store.session() as session:
        row = session.get(schema.Walk, walk_id)
        if row is None or row.retired_at is not None:
            raise NotFound(f"no walk {walk_id}")
        areas = list(session.scalars(select(schema.WalkArea.area_code)
                                     .where(schema.WalkArea.walk_id == walk_id)
                                     .order_by(schema.WalkArea.first_m, schema.WalkArea.area_code)))  # fmt: skip
        notes = list(session.scalars(select(schema.WalkNote).where(schema.WalkNote.walk_id == walk_id)
                                     .order_by(schema.WalkNote.created_at, schema.WalkNote.id)))  # fmt: skip
        return _view(row, areas, notes, viewer_role, with_plan=True)


def list_walks(
    store: Store, *, area_code: str | None = None, viewer_role: str | None = None
) -> list[SavedWalk]:
    """Live saved walks, newest first; with ``area_code``, those whose path crosses that area."""
    W, A, N = schema.Walk, schema.WalkArea, schema.WalkNote
    with store.session() as session:
        stmt = select(W).where(W.retired_at.is_(None))
        if area_code:
            stmt = stmt.where(
                W.id.in_(select(A.walk_id).where(A.area_code == area_code.strip().upper()))
            )
        rows = list(session.scalars(stmt.order_by(W.starts_at.desc(), W.created_at.desc(), W.id)))
        ids = [r.id for r in rows]
        areas: dict[str, list[str]] = {}
        notes: dict[str, list[schema.WalkNote]] = {}
        if ids:
            for wid, code in session.execute(select(A.walk_id, A.area_code).where(A.walk_id.in_(ids))
                                             .order_by(A.first_m, A.area_code)):  # fmt: skip
                areas.setdefault(wid, []).append(code)
            for n in session.scalars(
                select(N).where(N.walk_id.in_(ids)).order_by(N.created_at, N.id)
            ):
                notes.setdefault(n.walk_id, []).append(n)
        return [_view(r, areas.get(r.id, []), notes.get(r.id, []), viewer_role, with_plan=False)
                for r in rows]  # fmt: skip


__all__ = [
    "EDITOR_ROLES",
    "SavedWalk",
    "WalkNote",
    "add_note",
    "check_plan",
    "get_walk",
    "list_walks",
    "plan_from_gpx",
    "read_plan",
    "retire_walk",
    "save_walk",
    "sees_private",
]
