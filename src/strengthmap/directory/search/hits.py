"""Reading the services that pass a backend's conditions as hits, the same on every backend:
one row per service and live location, collapsed to one hit per service at its nearest place,
with the exact tests (geodesic distance, area, "open at") and the order of a page.

Distances are geodesic metres on the WGS84 ellipsoid (Karney 2013, via ``pyproj.Geod``),
measured to the nearest of a service's locations. "Open at" expands each service's schedules
(``strengthmap.directory.schedules.open_at``).

Example:
    >>> hits = [ServiceHit("b", "Choir"), ServiceHit("a", "art club")]
    >>> [h.name for h in order_page(hits, ServiceQuery()).items]
    ['art club', 'Choir']
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from pyproj import Geod
from shapely import points as _points
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep
from sqlalchemy.orm import Session

from strengthmap.directory.schedules import LONDON, open_at
from strengthmap.directory.search.plan import SearchPlan
from strengthmap.directory.search.query import SearchPage, ServiceHit, ServiceQuery
from strengthmap.storage import schema

_GEOD = Geod(ellps="WGS84")
_SVC = schema.Service.__table__
_SAL = schema.ServiceAtLocation.__table__
_LOC = schema.Location.__table__


def hit_statement(
    conds: Sequence[sa.ColumnElement[bool]],
    *,
    score: sa.ColumnElement[Any] | None = None,
    rowid: sa.ColumnElement[Any] | None = None,
) -> sa.Select[Any]:
    """Each service passing ``conds`` with each of its live locations (or none): one row each.

    ``score``: the backend's relevance of the service (``ts_rank`` on PostgreSQL), read into
    ``ServiceHit.score``; ``rowid``: the backend's integer key of the service (SQLite's
    ``service.rowid``), read as ``service_rowid``. Both are NULL when not given.
    """
    from_ = _SVC.outerjoin(
        _SAL, sa.and_(_SAL.c.service_id == _SVC.c.id, _SAL.c.retired_at.is_(None))
    ).outerjoin(_LOC, sa.and_(_LOC.c.id == _SAL.c.location_id, _LOC.c.retired_at.is_(None)))
    return (
        sa.select(
            _SVC.c.id,
            _SVC.c.name,
            _SVC.c.description,
            _SVC.c.abcd_kind,
            _SVC.c.organization_id,
            _SVC.c.status,
            _SVC.c.last_verified,
            (sa.null() if score is None else score).label("score"),
            _LOC.c.id.label("location_id"),
            _LOC.c.longitude,
            _LOC.c.latitude,
            (sa.null() if rowid is None else rowid).label("service_rowid"),
        )
        .select_from(from_)
        .where(*conds)
    )


def read_hits(
    session: Session,
    plan: SearchPlan,
    conds: Sequence[sa.ColumnElement[bool]],
    *,
    score: sa.ColumnElement[Any] | None = None,
    rowid: sa.ColumnElement[Any] | None = None,
) -> tuple[list[ServiceHit], Sequence[sa.Row[Any]]]:
    """Every service passing ``conds`` and the plan's area, distance and "open at" tests, read
    with its places; and the rows read (``hit_statement``'s columns), for the caller's scores."""
    query = plan.query
    where = list(conds)
    if plan.area_geom is not None:
        minx, miny, maxx, maxy = plan.area_geom.bounds
        in_box = sa.and_(_LOC.c.longitude.between(minx, maxx), _LOC.c.latitude.between(miny, maxy))
        served = schema.ServiceArea.__table__
        where.append(
            sa.or_(
                in_box,
                sa.exists().where(
                    served.c.service_id == _SVC.c.id, served.c.area_code == query.area_code
                ),
            )
        )
    rows = session.execute(hit_statement(where, score=score, rowid=rowid)).all()
    hits = collapse(rows, query, plan.area_geom, session)
    if query.day is not None and hits:
        hits = open_filter(session, hits, query)
    return hits, rows


def order_page(hits: list[ServiceHit], query: ServiceQuery) -> SearchPage:
    """``query``'s page of ``hits`` (all the matches): by score when ``text`` is given, else by
    distance when ``near`` is given, else by name; ties by name, then id."""
    if query.text:
        hits.sort(key=lambda h: (-(h.score or 0.0), h.name, h.service_id))
    elif query.near is not None:
        hits.sort(key=lambda h: (h.distance_m is None, h.distance_m or 0.0, h.name, h.service_id))
    else:
        hits.sort(key=lambda h: (h.name.lower(), h.service_id))
    first = (query.page - 1) * query.per_page
    return SearchPage(hits[first : first + query.per_page], len(hits), query.page, query.per_page)


def collapse(
    rows: Sequence[sa.Row[Any]],
    query: ServiceQuery,
    area_geom: BaseGeometry | None,
    session: Session,
) -> list[ServiceHit]:
    """One hit per service, at its nearest matching location (else its lowest location id);
    exact distance and area tests."""
    if not rows:
        return []
    lons = np.array([r.longitude if r.longitude is not None else np.nan for r in rows], float)
    lats = np.array([r.latitude if r.latitude is not None else np.nan for r in rows], float)
    has_point = ~(np.isnan(lons) | np.isnan(lats))
    dist = np.full(len(rows), np.nan)
    if query.near is not None and has_point.any():
        lon0, lat0 = query.near
        _, _, d = _GEOD.inv(
            np.full(int(has_point.sum()), lon0),
            np.full(int(has_point.sum()), lat0),
            lons[has_point],
            lats[has_point],
        )
        dist[has_point] = d
    keep = np.ones(len(rows), bool)
    if query.radius_m is not None:
        keep &= has_point & (dist <= query.radius_m)
    if area_geom is not None:
        covered = prep(area_geom)
        in_area = np.zeros(len(rows), bool)
        idx = np.flatnonzero(has_point)
        if len(idx):
            pts = _points(lons[idx], lats[idx])
            in_area[idx] = [covered.covers(p) for p in pts]
        served = _services_serving_area(session, query.area_code or "")
        keep &= in_area | np.array([r.id in served for r in rows])
    best: dict[str, ServiceHit] = {}
    rank: dict[str, tuple[bool, float, bool, str]] = {}
    for i, r in enumerate(rows):
        if not keep[i]:
            continue
        d = None if np.isnan(dist[i]) else float(dist[i])
        # the nearest place; without distances (or at equal ones) the lowest location id, so
        # the place shown never depends on the order the database returns rows in
        key = (d is None, d or 0.0, r.location_id is None, r.location_id or "")
        if r.id in rank and rank[r.id] <= key:
            continue
        rank[r.id] = key
        best[r.id] = ServiceHit(
            service_id=r.id,
            name=r.name,
            distance_m=None if d is None else round(d, 1),
            score=None if r.score is None else float(r.score),
            description=r.description,
            abcd_kind=r.abcd_kind,
            organization_id=r.organization_id,
            location_id=r.location_id,
            latitude=r.latitude,
            longitude=r.longitude,
            status=r.status,
            last_verified=r.last_verified,
        )
    return list(best.values())


def _services_serving_area(session: Session, code: str) -> set[str]:
    tab = schema.ServiceArea.__table__
    return {
        r[0]
        for r in session.execute(
            sa.select(tab.c.service_id).where(
                tab.c.area_code == code, tab.c.service_id.is_not(None)
            )
        )
    }


_SCHEDULE_COLUMNS = (
    "freq", "interval", "byday", "bymonthday", "dtstart", "valid_from", "valid_to", "until",
    "count", "wkst", "rrule", "exdates", "opens_at", "closes_at", "timezone",
)  # fmt: skip


@lru_cache(maxsize=1)
def _schedules_statement() -> sa.CompoundSelect[Any]:
    """The live schedules of the services ``:ids`` (their own and their locations'), built once:
    one expanding parameter, so SQLAlchemy compiles it once for every chunk size."""
    sched = schema.Schedule.__table__
    ids: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
    cols = [sched.c[name] for name in _SCHEDULE_COLUMNS]
    direct = sa.select(sched.c.service_id.label("sid"), *cols).where(
        sched.c.service_id.in_(ids), sched.c.retired_at.is_(None)
    )
    via = (
        sa.select(_SAL.c.service_id.label("sid"), *cols)
        .select_from(sched.join(_SAL, _SAL.c.id == sched.c.service_at_location_id))
        .where(_SAL.c.service_id.in_(ids), sched.c.retired_at.is_(None))
    )
    return sa.union_all(direct, via)


#: One schedule row's ``_SCHEDULE_COLUMNS`` values (lists made tuples, so that it hashes).
_ScheduleRow = tuple[Any, ...]
#: The question asked of a schedule: (day, start time, end time, today).
_Window = tuple[str | date, str | None, str | None, date]


def open_filter(session: Session, hits: list[ServiceHit], query: ServiceQuery) -> list[ServiceHit]:
    """Keep the hits with a schedule session overlapping the day and time window.

    Services often share a timetable (every Wednesday 12:00-14:00), so each distinct schedule
    is expanded once for a question, and the answer kept for the next search (``_schedule_open``).
    """
    day = query.day
    assert day is not None
    by_service: dict[str, list[_ScheduleRow]] = {}
    ids = [h.service_id for h in hits]
    stmt = _schedules_statement()
    for start in range(0, len(ids), 500):
        for sid, *values in session.execute(stmt, {"ids": ids[start : start + 500]}):
            by_service.setdefault(sid, []).append(
                tuple(tuple(v) if isinstance(v, list) else v for v in values)
            )
    # the same schedule asked the same question gives the same answer: kept across searches
    today = query.today or datetime.now(ZoneInfo(LONDON)).date()
    window: _Window = (day, query.start_time, query.end_time, today)
    # open_at(schedules) is "any of the schedules is open", so each row is asked on its own
    return [
        h
        for h in hits
        if any(_schedule_open(row, window) for row in by_service.get(h.service_id, ()))
    ]


@lru_cache(maxsize=16_384)
def _schedule_open(row: _ScheduleRow, window: _Window) -> bool:
    """``open_at`` of one schedule row for (day, start, end, today): a pure function of its
    arguments, so its answers are kept (bounded LRU)."""
    day, start_time, end_time, today = window
    return open_at(
        [dict(zip(_SCHEDULE_COLUMNS, row, strict=True))], day, start_time, end_time, today=today
    )


__all__ = ["collapse", "hit_statement", "open_filter", "order_page", "read_hits"]
