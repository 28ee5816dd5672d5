"""Commissions and the co-production log: stages, resident involvement, "you said, we did".

Example:
    >>> from strengthmap.storage import open_store
    >>> from strengthmap.accounts import User
    >>> store = open_store("sqlite://")
    >>> ana = User(1, "ana@example.org", "commissioner")
    >>> c = create_commission(store, ana, title="Social prescribing in Harehills",
    ...                       budget_pence=100_000_000, started_on=date(2026, 1, 5))
    >>> c.stage, c.flags
    ('analyse_need', [])
    >>> c = move_stage(store, ana, c.id, "plan", on=date(2026, 2, 1))
    >>> c.flags
    ['left analyse need without resident involvement']
    >>> _ = record_involvement(store, ana, c.id, held_on=date(2026, 1, 20), stage="analyse_need",
    ...                        method="walk", residents=14, said="The lunch club closed",
    ...                        changed="Lunch clubs are in the plan", public=True)
    >>> get_commission(store, c.id, ana).flags
    []

A commission moves through the stages analyse need -> plan -> design and procure -> deliver ->
review, and from review back to analyse need (the next cycle). It moves forward one stage at a
time, or back to any earlier stage; each stay is kept (``stages``). Involvement events record
who took part (residents, groups, the areas and IMD deciles they came from), what they said and
what changed because of it.

**The flag.** A commission that left "analyse need" without any resident involvement in that
stay (an involvement event at stage analyse need with at least one resident, held on or before
the day it left and, after the first cycle, not before that stay began) carries the flag
``FLAG_NO_RESIDENTS`` wherever it appears: in lists, records, the public page.

**Who sees what.** Changing anything needs the ``commissioner`` role (or ``admin``; see
``strengthmap.accounts.ROLE_GRANTS``). Anyone may read a published commission, but only its
public face: the involvement events marked public, no account emails (owner, who recorded
what). A commission not published is not found for them at all. Every change is written to the
audit trail; nothing is deleted (``retire_*``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from strengthmap.accounts import User, has_role
from strengthmap.errors import Conflict, Forbidden, InputError, NotFound
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.commissioning import COMMISSION_STAGES, INVOLVEMENT_METHODS

#: The stages, in order, with what they are called.
STAGES = COMMISSION_STAGES
STAGE_LABELS = {
    "analyse_need": "analyse need",
    "plan": "plan",
    "design_procure": "design and procure",
    "deliver": "deliver",
    "review": "review",
}
METHODS = INVOLVEMENT_METHODS
METHOD_LABELS = {
    "walk": "walk",
    "story_circle": "story circle",
    "workshop": "workshop",
    "survey": "survey",
    "co_design_session": "co-design session",
}
#: The flag of a commission that left analyse need with no resident in the room.
FLAG_NO_RESIDENTS = "left analyse need without resident involvement"
#: The account the command line acts as (a local administrator).
CLI_USER = User(id=0, email="cli", role="admin", display_name="command line")
#: Longest text kept in one field (what residents said, what changed, a description).
MAX_TEXT = 20_000


def _today() -> date:
    return datetime.now(UTC).date()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def can_edit(user: User | None) -> bool:
    """May ``user`` change commissions? (the commissioner role, or admin)."""
    return has_role(user, "commissioner")


def _require_editor(user: User | None) -> User:
    if user is None or not can_edit(user):
        raise Forbidden("changing a commission needs the commissioner role")
    return user


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageStay:
    """One stay in one stage."""

    stage: str
    cycle: int
    started_on: date
    ended_on: date | None
    note: str | None
    actor: str | None  # None on the public face

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "label": STAGE_LABELS[self.stage],
            "cycle": self.cycle,
            "started_on": self.started_on.isoformat(),
            "ended_on": self.ended_on.isoformat() if self.ended_on else None,
            "note": self.note,
            "actor": self.actor,
        }


@dataclass(frozen=True)
class Involvement:
    """One involvement event."""

    id: str
    held_on: date
    stage: str
    method: str
    residents: int
    groups: tuple[str, ...]
    areas: tuple[str, ...]
    imd_deciles: tuple[int, ...]
    said: str | None
    changed: str | None
    public: bool
    recorded_by: str | None  # None on the public face
    retired: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "held_on": self.held_on.isoformat(),
            "stage": self.stage,
            "stage_label": STAGE_LABELS[self.stage],
            "method": self.method,
            "method_label": METHOD_LABELS.get(self.method, self.method),
            "residents": self.residents,
            "groups": list(self.groups),
            "areas": list(self.areas),
            "imd_deciles": list(self.imd_deciles),
            "said": self.said,
            "changed": self.changed,
            "public": self.public,
            "recorded_by": self.recorded_by,
            "retired": self.retired,
        }


@dataclass(frozen=True)
class CommissionRecord:
    """A commission as the viewer may see it. ``view`` is ``"full"`` (a commissioner or admin)
    or ``"public"`` (owner and recorders hidden, only public involvement)."""

    id: str
    title: str
    description: str | None
    budget_pence: int | None
    place: str | None
    areas: tuple[str, ...]
    owner: str | None
    stage: str
    cycle: int
    public: bool
    created_at: datetime | None
    updated_at: datetime | None
    retired: bool
    stages: tuple[StageStay, ...]
    involvement: tuple[Involvement, ...]
    flags: list[str]
    allocation: dict[str, Any] | None
    view: str

    @property
    def residents_involved(self) -> int:
        return sum(e.residents for e in self.involvement if not e.retired)

    def to_dict(self) -> dict[str, Any]:
        live = [e for e in self.involvement if not e.retired]
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "budget_pence": self.budget_pence,
            "place": self.place,
            "areas": list(self.areas),
            "owner": self.owner,
            "stage": self.stage,
            "stage_label": STAGE_LABELS[self.stage],
            "cycle": self.cycle,
            "public": self.public,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "retired": self.retired,
            "flags": list(self.flags),
            "stages": [s.to_dict() for s in self.stages],
            "involvement": [e.to_dict() for e in self.involvement],
            "involvement_summary": {
                "events": len(live),
                "residents": sum(e.residents for e in live),
                "by_stage": {s: sum(e.residents for e in live if e.stage == s) for s in STAGES},
                "imd_deciles_reached": sorted({d for e in live for d in e.imd_deciles}),
            },
            "allocation": self.allocation,
            "view": self.view,
        }


@dataclass(frozen=True)
class CommissionSummary:
    """A line of the list of commissions."""

    id: str
    title: str
    stage: str
    cycle: int
    budget_pence: int | None
    public: bool
    residents: int
    flags: list[str]
    retired: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "stage": self.stage,
            "stage_label": STAGE_LABELS[self.stage],
            "cycle": self.cycle,
            "budget_pence": self.budget_pence,
            "public": self.public,
            "residents_involved": self.residents,
            "flags": list(self.flags),
            "retired": self.retired,
        }


@dataclass(frozen=True)
class YouSaidWeDid:
    """The public "you said, we did" of one commission: only what is marked public."""

    commission_id: str
    title: str
    stage: str
    flags: list[str]
    items: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "commission_id": self.commission_id,
            "title": self.title,
            "stage": self.stage,
            "stage_label": STAGE_LABELS[self.stage],
            "flags": list(self.flags),
            "items": list(self.items),
        }


# --- reading ------------------------------------------------------------------------------------


def _flags(
    stays: Sequence[schema.CommissionStage], events: Sequence[schema.InvolvementEvent]
) -> list[str]:
    """``FLAG_NO_RESIDENTS`` when some stay in analyse need ended with no resident involved."""
    ordered = sorted(stays, key=lambda s: (s.started_on, s.id))
    live = [
        e for e in events if e.retired_at is None and e.stage == "analyse_need" and e.residents > 0
    ]
    for i, stay in enumerate(ordered):
        if stay.stage != "analyse_need" or stay.ended_on is None:
            continue
        first = not any(s.stage == "analyse_need" for s in ordered[:i])
        ok = any(
            e.held_on <= stay.ended_on and (first or e.held_on >= stay.started_on) for e in live
        )
        if not ok:
            return [FLAG_NO_RESIDENTS]
    return []


def _involvement(row: schema.InvolvementEvent, full: bool) -> Involvement:
    return Involvement(
        id=row.id,
        held_on=row.held_on,
        stage=row.stage,
        method=row.method,
        residents=int(row.residents),
        groups=tuple(row.groups or ()),
        areas=tuple(row.areas or ()),
        imd_deciles=tuple(int(d) for d in row.imd_deciles or ()),
        said=row.said,
        changed=row.changed,
        public=bool(row.public),
        recorded_by=row.created_by if full else None,
        retired=row.retired_at is not None,
    )


def _load(session: Session, commission_id: str) -> schema.Commission:
    row = session.get(schema.Commission, commission_id)
    if row is None:
        raise NotFound(f"no commission {commission_id}")
    return row


def _children(
    session: Session, commission_id: str
) -> tuple[list[schema.CommissionStage], list[schema.InvolvementEvent]]:
    stays = list(
        session.scalars(
            sa.select(schema.CommissionStage)
            .where(schema.CommissionStage.commission_id == commission_id)
            .order_by(schema.CommissionStage.started_on, schema.CommissionStage.id)
        ).all()
    )
    events = list(
        session.scalars(
            sa.select(schema.InvolvementEvent)
            .where(schema.InvolvementEvent.commission_id == commission_id)
            .order_by(schema.InvolvementEvent.held_on, schema.InvolvementEvent.created_at)
        ).all()
    )
    return stays, events


def _record(session: Session, row: schema.Commission, viewer: User | None) -> CommissionRecord:
    full = can_edit(viewer)
    stays, events = _children(session, row.id)
    shown = [e for e in events if full or (e.public and e.retired_at is None)]
    return CommissionRecord(
        id=row.id,
        title=row.title,
        description=row.description,
        budget_pence=row.budget_pence,
        place=row.place,
        areas=tuple(row.areas or ()),
        owner=row.owner if full else None,
        stage=row.stage,
        cycle=int(row.cycle),
        public=bool(row.public),
        created_at=_aware(row.created_at),
        updated_at=_aware(row.updated_at),
        retired=row.retired_at is not None,
        stages=tuple(
            StageStay(
                s.stage, int(s.cycle), s.started_on, s.ended_on, s.note, s.actor if full else None
            )
            for s in stays
        ),
        involvement=tuple(_involvement(e, full) for e in shown),
        flags=_flags(stays, events),
        allocation={"method": row.method, "areas": row.allocation} if row.allocation else None,
        view="full" if full else "public",
    )


def _visible(row: schema.Commission, viewer: User | None) -> bool:
    return can_edit(viewer) or (bool(row.public) and row.retired_at is None)


def get_commission(
    store: Store, commission_id: str, viewer: User | None = None
) -> CommissionRecord:
    """One commission as ``viewer`` may see it; ``NotFound`` for a commission they may not see."""
    with store.session() as session:
        row = _load(session, commission_id)
        if not _visible(row, viewer):
            raise NotFound(f"no commission {commission_id}")
        return _record(session, row, viewer)


def list_commissions(
    store: Store, viewer: User | None = None, *, include_retired: bool = False
) -> list[CommissionSummary]:
    """The commissions ``viewer`` may see, newest first (published ones for the public)."""
    out: list[CommissionSummary] = []
    with store.session() as session:
        rows = session.scalars(
            sa.select(schema.Commission).order_by(
                schema.Commission.created_at.desc(), schema.Commission.id
            )
        ).all()
        for row in rows:
            if not _visible(row, viewer) or (row.retired_at is not None and not include_retired):
                continue
            stays, events = _children(session, row.id)
            full = can_edit(viewer)
            out.append(
                CommissionSummary(
                    id=row.id,
                    title=row.title,
                    stage=row.stage,
                    cycle=int(row.cycle),
                    budget_pence=row.budget_pence,
                    public=bool(row.public),
                    residents=sum(
                        e.residents for e in events if e.retired_at is None and (full or e.public)
                    ),
                    flags=_flags(stays, events),
                    retired=row.retired_at is not None,
                )
            )
    return out


def you_said_we_did(store: Store, commission_id: str, viewer: User | None = None) -> YouSaidWeDid:
    """The public "you said, we did" of a commission: the live involvement events marked public
    that say what residents said or what changed. Even for a commissioner (a preview) nothing
    not marked public is included."""
    with store.session() as session:
        row = _load(session, commission_id)
        if not _visible(row, viewer):
            raise NotFound(f"no commission {commission_id}")
        stays, events = _children(session, row.id)
        items = [
            {
                "held_on": e.held_on.isoformat(),
                "stage": e.stage,
                "stage_label": STAGE_LABELS[e.stage],
                "method": e.method,
                "method_label": METHOD_LABELS.get(e.method, e.method),
                "residents": int(e.residents),
                "groups": list(e.groups or ()),
                "you_said": e.said,
                "we_did": e.changed,
            }
            for e in events
            if e.public and e.retired_at is None and (e.said or e.changed)
        ]
        return YouSaidWeDid(row.id, row.title, row.stage, _flags(stays, events), items)


# --- checks -------------------------------------------------------------------------------------


def _text(
    value: str | None, name: str, *, required: bool = False, limit: int = MAX_TEXT
) -> str | None:
    if value is None or not str(value).strip():
        if required:
            raise InputError("required", field=name)
        return None
    text = str(value).strip()
    if len(text) > limit:
        raise InputError(f"at most {limit:,} characters", field=name)
    return text


def _date(value: date | str | None, name: str) -> date:
    if value is None:
        return _today()
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"not a date (YYYY-MM-DD): {value!r}", field=name) from None
    if value > _today():
        raise InputError(f"{value.isoformat()} is in the future", field=name)
    return value


def _budget(value: int | None) -> int | None:
    if value is None:
        return None
    from strengthmap.commissioning.allocate import check_budget

    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"a budget in whole pence, not {value!r}", field="budget")
    return check_budget(value)


def _area_codes(session: Session, codes: Sequence[str] | None) -> list[str]:
    cleaned = sorted({c.strip().upper() for c in codes or () if c and c.strip()})
    if not cleaned:
        return []
    known = set(
        session.scalars(sa.select(schema.Area.code).where(schema.Area.code.in_(cleaned))).all()
    )
    known |= {
        str(c)
        for c in session.scalars(
            sa.select(schema.Area.lad_code).where(schema.Area.lad_code.in_(cleaned)).distinct()
        ).all()
        if c is not None
    }
    unknown = [c for c in cleaned if c not in known]
    if unknown:
        raise InputError(f"not loaded area codes: {', '.join(unknown)}", field="areas")
    return cleaned


def _deciles_of(session: Session, codes: Sequence[str]) -> list[int]:
    """The published IMD deciles of LSOAs among ``codes`` (each on its own vintage's release)."""
    if not codes:
        return []
    rows = session.execute(
        sa.select(schema.Area.vintage, schema.Deprivation.release, schema.Deprivation.imd_decile)
        .join(schema.Deprivation, schema.Deprivation.area_id == schema.Area.id)
        .where(schema.Area.code.in_(list(codes)), schema.Area.level == "lsoa")
    ).all()
    own = {2011: 2019, 2021: 2025}
    return sorted({int(d) for v, r, d in rows if own.get(int(v)) == int(r)})


def _deciles(values: Sequence[int] | None) -> list[int] | None:
    if values is None:
        return None
    out = set()
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 10:
            raise InputError(f"IMD deciles run from 1 to 10, not {v!r}", field="imd_deciles")
        out.add(v)
    return sorted(out)


def _audit(
    session: Session, actor: User, action: str, entity: str, entity_id: str, changes: dict[str, Any]
) -> None:
    session.add(
        schema.AuditEntry(
            actor=actor.email or "anonymous",
            action=action,
            entity=entity,
            entity_id=entity_id,
            changes=changes,
        )
    )


def _only(changes: dict[str, Any], allowed: Sequence[str], what: str) -> None:
    for key in changes:
        if key not in allowed:
            raise InputError(
                f"not an editable field of {what}; one of {', '.join(allowed)}", field=key
            )


def _set(row: Any, key: str, new: Any, diff: dict[str, Any]) -> None:
    """Set ``row.key`` to ``new`` and note ``[old, new]`` in ``diff`` when it changes."""
    old = getattr(row, key)
    if old != new:
        diff[key] = [_jsonable(old), _jsonable(new)]
        setattr(row, key, new)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


# --- changes ------------------------------------------------------------------------------------


def create_commission(
    store: Store,
    actor: User,
    *,
    title: str,
    budget_pence: int | None = None,
    areas: Sequence[str] | None = None,
    owner: str | None = None,
    description: str | None = None,
    place: str | None = None,
    started_on: date | str | None = None,
) -> CommissionRecord:
    """A new commission, at stage analyse need from ``started_on`` (default today)."""
    _require_editor(actor)
    clean_title = _text(title, "title", required=True, limit=300)
    budget = _budget(budget_pence)
    start = _date(started_on, "started_on")
    with store.transaction() as session:
        codes = _area_codes(session, areas)
        row = schema.Commission(
            title=clean_title,
            description=_text(description, "description"),
            budget_pence=budget,
            place=_text(place, "place", limit=100),
            areas=codes,
            owner=_text(owner, "owner", limit=300) or actor.email,
            stage="analyse_need",
            cycle=1,
            public=False,
            created_by=actor.email,
        )
        session.add(row)
        session.flush()
        session.add(
            schema.CommissionStage(
                commission_id=row.id, stage="analyse_need", cycle=1, started_on=start,
                actor=actor.email,
            )
        )  # fmt: skip
        _audit(session, actor, "create", "commission", row.id, {
            "title": [None, clean_title], "budget_pence": [None, budget], "areas": [None, codes],
            "started_on": [None, start.isoformat()],
        })  # fmt: skip
        session.flush()
        return _record(session, row, actor)


#: Fields ``update_commission`` may change.
EDITABLE_FIELDS = ("title", "description", "budget_pence", "areas", "owner", "place")


def update_commission(
    store: Store, actor: User, commission_id: str, changes: dict[str, Any]
) -> CommissionRecord:
    """Change fields of a commission (``EDITABLE_FIELDS``); the audit entry holds old and new."""
    _require_editor(actor)
    _only(changes, EDITABLE_FIELDS, "a commission")
    with store.transaction() as session:
        row = _load(session, commission_id)
        diff: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "title":
                new: Any = _text(value, "title", required=True, limit=300)
            elif key == "budget_pence":
                new = _budget(value)
            elif key == "areas":
                new = _area_codes(session, value)
            elif key in ("owner", "place"):
                new = _text(value, key, limit=300 if key == "owner" else 100)
            else:
                new = _text(value, key)
            _set(row, key, new, diff)
        if diff:
            row.updated_at = datetime.now(UTC)
            _audit(session, actor, "update", "commission", row.id, diff)
        session.flush()
        return _record(session, row, actor)


def move_stage(
    store: Store,
    actor: User,
    commission_id: str,
    stage: str,
    *,
    on: date | str | None = None,
    note: str | None = None,
) -> CommissionRecord:
    """Move a commission to ``stage`` on day ``on`` (default today): forward one stage, back to
    any earlier one, or from review to analyse need (the next cycle). Skipping ahead is a
    ``Conflict``; leaving analyse need with no resident involved is allowed and flagged."""
    _require_editor(actor)
    if stage not in STAGES:
        raise InputError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}", field="stage")
    day = _date(on, "on")
    clean_note = _text(note, "note")
    with store.transaction() as session:
        row = _load(session, commission_id)
        if row.retired_at is not None:
            raise Conflict(f"commission {commission_id} is retired")
        current = STAGES.index(row.stage)
        target = STAGES.index(stage)
        new_cycle = int(row.cycle)
        if target == current:
            raise Conflict(f"the commission is already at {STAGE_LABELS[stage]}")
        if row.stage == "review" and stage == "analyse_need":
            new_cycle += 1
        elif target > current + 1:
            nxt = STAGES[current + 1]
            raise Conflict(
                f"the commission is at {STAGE_LABELS[row.stage]}: it moves on to "
                f"{STAGE_LABELS[nxt]} first (stages are not skipped)"
            )
        stay = session.scalars(
            sa.select(schema.CommissionStage)
            .where(
                schema.CommissionStage.commission_id == row.id,
                schema.CommissionStage.ended_on.is_(None),
            )
            .order_by(schema.CommissionStage.id.desc())
        ).first()
        if stay is not None:
            if day < stay.started_on:
                raise InputError(
                    f"the commission entered {STAGE_LABELS[stay.stage]} on "
                    f"{stay.started_on.isoformat()}: it cannot leave before",
                    field="on",
                )
            stay.ended_on = day
        session.add(
            schema.CommissionStage(
                commission_id=row.id, stage=stage, cycle=new_cycle, started_on=day,
                note=clean_note, actor=actor.email,
            )
        )  # fmt: skip
        _audit(session, actor, "stage", "commission", row.id, {
            "stage": [row.stage, stage], "cycle": [int(row.cycle), new_cycle], "on": day.isoformat(),
        })  # fmt: skip
        row.stage = stage
        row.cycle = new_cycle
        row.updated_at = datetime.now(UTC)
        session.flush()
        return _record(session, row, actor)


def set_public(
    store: Store, actor: User, commission_id: str, public: bool = True
) -> CommissionRecord:
    """Publish a commission (its public face: see the module docstring) or take it down."""
    _require_editor(actor)
    with store.transaction() as session:
        row = _load(session, commission_id)
        if bool(row.public) != public:
            _audit(session, actor, "publish" if public else "unpublish", "commission", row.id,
                   {"public": [bool(row.public), public]})  # fmt: skip
            row.public = public
            row.updated_at = datetime.now(UTC)
        session.flush()
        return _record(session, row, actor)


def retire_commission(store: Store, actor: User, commission_id: str) -> CommissionRecord:
    """Retire a commission: hidden from lists and the public, kept with its log."""
    _require_editor(actor)
    with store.transaction() as session:
        row = _load(session, commission_id)
        if row.retired_at is None:
            row.retired_at = datetime.now(UTC)
            _audit(session, actor, "retire", "commission", row.id, {})
        session.flush()
        return _record(session, row, actor)


def record_involvement(
    store: Store,
    actor: User,
    commission_id: str,
    *,
    held_on: date | str,
    stage: str,
    method: str,
    residents: int,
    groups: Sequence[str] = (),
    areas: Sequence[str] = (),
    imd_deciles: Sequence[int] | None = None,
    said: str | None = None,
    changed: str | None = None,
    public: bool = False,
) -> Involvement:
    """Log residents' involvement at a stage. Without ``imd_deciles``, the deciles are those
    published for the LSOAs among ``areas`` (IMD 2019 for LSOA 2011, 2025 for LSOA 2021)."""
    _require_editor(actor)
    if held_on is None:
        raise InputError("required", field="held_on")
    day = _date(held_on, "held_on")
    if stage not in STAGES:
        raise InputError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}", field="stage")
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; one of {', '.join(METHODS)}", field="method")
    if isinstance(residents, bool) or not isinstance(residents, int) or residents < 0:
        raise InputError(f"a number of residents, 0 or more, not {residents!r}", field="residents")
    group_names = [g for g in (_text(g, "groups", limit=300) for g in groups) if g]
    deciles = _deciles(imd_deciles)
    with store.transaction() as session:
        row = _load(session, commission_id)
        if row.retired_at is not None:
            raise Conflict(f"commission {commission_id} is retired")
        codes = _area_codes(session, areas)
        if deciles is None:
            deciles = _deciles_of(session, codes)
        event = schema.InvolvementEvent(
            commission_id=row.id,
            held_on=day,
            stage=stage,
            method=method,
            residents=residents,
            groups=group_names,
            areas=codes,
            imd_deciles=deciles,
            said=_text(said, "said"),
            changed=_text(changed, "changed"),
            public=bool(public),
            created_by=actor.email,
        )
        session.add(event)
        session.flush()
        _audit(session, actor, "create", "involvement_event", event.id, {
            "commission_id": [None, row.id], "held_on": [None, day.isoformat()],
            "stage": [None, stage], "method": [None, method], "residents": [None, residents],
            "public": [None, bool(public)],
        })  # fmt: skip
        return _involvement(event, True)


#: Fields ``update_involvement`` may change.
INVOLVEMENT_FIELDS = (
    "held_on",
    "stage",
    "method",
    "residents",
    "groups",
    "areas",
    "imd_deciles",
    "said",
    "changed",
    "public",
)


def update_involvement(
    store: Store, actor: User, event_id: str, changes: dict[str, Any]
) -> Involvement:
    """Correct an involvement event, or fill in later what changed because of it."""
    _require_editor(actor)
    _only(changes, INVOLVEMENT_FIELDS, "an involvement event")
    with store.transaction() as session:
        event = session.get(schema.InvolvementEvent, event_id)
        if event is None:
            raise NotFound(f"no involvement event {event_id}")
        diff: dict[str, Any] = {}
        for key, value in changes.items():
            new: Any
            if key == "held_on":
                new = _date(value, "held_on")
            elif key == "stage":
                if value not in STAGES:
                    raise InputError(f"unknown stage {value!r}", field="stage")
                new = value
            elif key == "method":
                if value not in METHODS:
                    raise InputError(f"unknown method {value!r}", field="method")
                new = value
            elif key == "residents":
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise InputError(
                        f"a number of residents, 0 or more, not {value!r}", field="residents"
                    )
                new = value
            elif key == "groups":
                new = [g for g in (_text(g, "groups", limit=300) for g in value or ()) if g]
            elif key == "areas":
                new = _area_codes(session, value)
            elif key == "imd_deciles":
                new = _deciles(value) or []
            elif key == "public":
                new = bool(value)
            else:
                new = _text(value, key)
            _set(event, key, new, diff)
        if diff:
            event.updated_at = datetime.now(UTC)
            _audit(session, actor, "update", "involvement_event", event.id, diff)
        session.flush()
        return _involvement(event, True)


def retire_involvement(store: Store, actor: User, event_id: str) -> Involvement:
    """Retire an involvement event (kept, no longer counted or shown)."""
    _require_editor(actor)
    with store.transaction() as session:
        event = session.get(schema.InvolvementEvent, event_id)
        if event is None:
            raise NotFound(f"no involvement event {event_id}")
        if event.retired_at is None:
            event.retired_at = datetime.now(UTC)
            _audit(session, actor, "retire", "involvement_event", event.id, {})
        session.flush()
        return _involvement(event, True)


def save_allocation(
    store: Store, actor: User, commission_id: str, allocation: Any
) -> CommissionRecord:
    """Keep an allocation (``strengthmap.commissioning.allocate.Allocation``) with the
    commission: its options and formula in ``method``, per area code and pence in
    ``allocation``. The budget must be the commission's, when it has one."""
    from strengthmap.commissioning.allocate import Allocation

    _require_editor(actor)
    if not isinstance(allocation, Allocation):
        raise InputError("not an allocation", field="allocation")
    with store.transaction() as session:
        row = _load(session, commission_id)
        if row.budget_pence is not None and row.budget_pence != allocation.options.budget_pence:
            raise Conflict(
                f"the allocation splits £{allocation.options.budget_pence / 100:,.2f}, the "
                f"commission's budget is £{row.budget_pence / 100:,.2f}"
            )
        row.method = {
            **allocation.options.to_dict(),
            "formula": allocation.formula,
            "summary": allocation.summary.to_dict(),
        }
        row.allocation = [
            {"code": a.code, "allocation_pence": a.allocation_pence} for a in allocation.areas
        ]
        row.updated_at = datetime.now(UTC)
        _audit(session, actor, "update", "commission", row.id,
               {"allocation": [None, allocation.options.label]})  # fmt: skip
        session.flush()
        return _record(session, row, actor)


__all__ = [
    "CLI_USER",
    "EDITABLE_FIELDS",
    "FLAG_NO_RESIDENTS",
    "INVOLVEMENT_FIELDS",
    "METHODS",
    "METHOD_LABELS",
    "STAGES",
    "STAGE_LABELS",
    "CommissionRecord",
    "CommissionSummary",
    "Involvement",
    "StageStay",
    "YouSaidWeDid",
    "can_edit",
    "create_commission",
    "get_commission",
    "list_commissions",
    "move_stage",
    "record_involvement",
    "retire_commission",
    "retire_involvement",
    "save_allocation",
    "set_public",
    "update_commission",
    "update_involvement",
]
