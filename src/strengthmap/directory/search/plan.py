"""A validated ``ServiceQuery`` made ready for a backend adapter: the conditions on the service row
(the same SQL on every backend), the taxonomy terms resolved, the bounding box of a radius and
the geometry of an area.

Example:
    >>> [round(v, 4) for v in bounding_box(-1.5754, 53.7902, 1000)]  # min lon, lat, max lon, lat
    [-1.5908, 53.7811, -1.56, 53.7993]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from strengthmap.directory.search.query import SearchPage, ServiceQuery
from strengthmap.directory.search.terms import resolve_terms
from strengthmap.errors import NotFound
from strengthmap.storage import schema

#: (min lon, min lat, max lon, max lat) in WGS84 degrees.
Box = tuple[float, float, float, float]
#: Metres per degree of latitude, a little under the true minimum so that bounding boxes only widen.
_M_PER_DEG_LAT = 110_500.0
_SVC = schema.Service.__table__


@dataclass(frozen=True)
class SearchPlan:
    """What every backend needs to answer ``query``.

    ``conditions``: the filters on the service row itself (retirement, kind, ages, cost);
    ``term_sets``: per term asked for, the ids it and its narrower terms have (a service must
    carry one id of each set); ``box``: the bounding box of ``near`` and ``radius_m``;
    ``area_geom``: the geometry of ``area_code``.
    """

    query: ServiceQuery
    conditions: tuple[sa.ColumnElement[bool], ...]
    term_sets: tuple[frozenset[str], ...]
    box: Box | None
    area_geom: BaseGeometry | None

    @property
    def by_text_alone(self) -> bool:
        """Ranked by text with no place or time filter: only the page's services need their
        places read."""
        q = self.query
        return bool(q.text) and q.near is None and self.area_geom is None and q.day is None

    def empty_page(self, total: int = 0) -> SearchPage:
        """A page with no hits (of ``total`` matches)."""
        return SearchPage([], total, self.query.page, self.query.per_page)


def plan_search(session: Session, query: ServiceQuery) -> SearchPlan:
    """The plan of a validated ``query``; unknown terms and areas raise ``NotFound``."""
    term_sets = (
        tuple(frozenset(ids) for ids in resolve_terms(session, query.taxonomy_term_ids))
        if query.taxonomy_term_ids
        else ()
    )
    box = (
        bounding_box(query.near[0], query.near[1], query.radius_m)
        if query.near is not None and query.radius_m is not None
        else None
    )
    area_geom = area_geometry(session, query.area_code) if query.area_code else None
    return SearchPlan(query, tuple(service_conditions(query)), term_sets, box, area_geom)


def service_conditions(query: ServiceQuery) -> list[sa.ColumnElement[bool]]:
    """The filters on the service row itself: retirement, kind, ages, cost."""
    svc = _SVC
    conds: list[sa.ColumnElement[bool]] = []
    if not query.include_retired:
        conds.append(svc.c.retired_at.is_(None))
    if query.kind:
        conds.append(svc.c.abcd_kind == query.kind)
    if query.age is not None:
        conds.append(sa.or_(svc.c.minimum_age.is_(None), svc.c.minimum_age <= query.age))
        conds.append(sa.or_(svc.c.maximum_age.is_(None), svc.c.maximum_age >= query.age))
    if query.minimum_age is not None:
        conds.append(sa.or_(svc.c.minimum_age.is_(None), svc.c.minimum_age <= query.minimum_age))
    if query.maximum_age is not None:
        conds.append(sa.or_(svc.c.maximum_age.is_(None), svc.c.maximum_age >= query.maximum_age))
    if query.free is not None:
        conds.append(_free_clause() if query.free else sa.not_(_free_clause()))
    return conds


def _free_clause() -> sa.ColumnElement[bool]:
    """Free: marked free, or has a zero-cost option and no option that costs money."""
    svc = _SVC
    co = schema.CostOption.__table__
    return sa.or_(
        svc.c.free.is_(True),
        sa.and_(
            svc.c.free.is_(None),
            sa.exists().where(co.c.service_id == svc.c.id, co.c.amount == 0),
            ~sa.exists().where(co.c.service_id == svc.c.id, co.c.amount > 0),
        ),
    )


def bounding_box(lon: float, lat: float, radius_m: float) -> Box:
    """(min lon, min lat, max lon, max lat) surely holding every point within ``radius_m``.

    Widened by 1e-4 degrees (about 10 m) because the SQLite R*Tree stores 32-bit floats; the
    exact geodesic test follows (``hits.collapse``).
    """
    dlat = radius_m / _M_PER_DEG_LAT + 1e-4
    coslat = max(np.cos(np.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    dlon = radius_m / (_M_PER_DEG_LAT * coslat) + 1e-4
    return (float(lon - dlon), float(lat - dlat), float(lon + dlon), float(lat + dlat))


def area_geometry(session: Session, code: str) -> BaseGeometry:
    """The geometry of the area ``code`` (its latest vintage); ``NotFound`` when there is none."""
    row = session.execute(
        sa.select(schema.Area.geometry)
        .where(schema.Area.code == code)
        .order_by(schema.Area.vintage.desc())
        .limit(1)
    ).first()
    if row is None or row.geometry is None:
        raise NotFound(f"no area with code {code!r}")
    geometry: BaseGeometry = row.geometry
    return geometry


__all__ = [
    "Box",
    "SearchPlan",
    "area_geometry",
    "bounding_box",
    "plan_search",
    "service_conditions",
]
