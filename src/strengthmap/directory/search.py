"""Search the directory: free text (ranked), taxonomy, ABCD kind, age, cost, distance, area, "open at".

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> page = search_services(store, ServiceQuery(text="lunch", near=(-1.5754, 53.7902),
    ...                                             radius_m=1000, day="wed",
    ...                                             start_time="13:00", end_time="16:00"))
    >>> page.total, page.items
    (0, [])

Every filter given must hold (AND). Free text uses SQLite FTS5 ranked by BM25 (Robertson &
Zaragoza 2009) or PostgreSQL full-text search ranked by ``ts_rank``; both stem English words
(Porter), so "lunches" finds "lunch". Distances are geodesic metres on the WGS84 ellipsoid
(Karney 2013, via ``pyproj.Geod``), measured to the nearest of a service's locations. "Open at"
expands each service's schedules (``strengthmap.directory.schedules.open_at``).
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from pyproj import Geod
from shapely import points as _points
from shapely.prepared import prep

from strengthmap.directory import candidates
from strengthmap.directory.schedules import LONDON, open_at, parse_day, parse_time
from strengthmap.errors import InputError, NotFound
from strengthmap.storage import Store, schema

#: Must stay the same expression as the GIN index of migration 0002 (qualified for joins).
PG_TSVECTOR = (
    "to_tsvector('english', coalesce(service.name, '') || ' ' || coalesce(service.description, ''))"
)
_GEOD = Geod(ellps="WGS84")
#: Metres per degree of latitude, a little under the true minimum so that bounding boxes only widen.
_M_PER_DEG_LAT = 110_500.0


@dataclass
class ServiceQuery:
    """What to look for; every field given must hold. ``near`` is ``(lon, lat)`` in WGS84.

    ``taxonomy_term_ids`` takes term ids, codes or names; a term also matches its narrower terms.
    ``age`` keeps services whose age range includes it; ``minimum_age`` / ``maximum_age`` (the
    ORUK filters) keep services open to people of at least that age range: a service with
    ``minimum_age`` 18 fails ``minimum_age=16``. ``day`` is ``mon``..``sun`` or a date;
    ``start_time`` / ``end_time`` are local ``HH:MM`` in Europe/London.
    """

    text: str | None = None
    taxonomy_term_ids: Sequence[str] = ()
    kind: str | None = None
    age: int | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None
    free: bool | None = None
    near: tuple[float, float] | None = None
    radius_m: float | None = None
    area_code: str | None = None
    day: str | date | None = None
    start_time: str | None = None
    end_time: str | None = None
    include_retired: bool = False
    page: int = 1
    per_page: int = 50
    today: date | None = None  # the reference date for weekday questions (default: today)

    #: Named parts of the day (``from_params(time=...)``): local start and end, Europe/London.
    TIMES_OF_DAY: ClassVar[dict[str, tuple[str, str]]] = {
        "morning": ("09:00", "12:00"),
        "afternoon": ("12:00", "17:00"),
        "evening": ("17:00", "21:00"),
    }

    @classmethod
    def from_params(
        cls,
        store: Store,
        *,
        text: str | None = None,
        taxonomy: Sequence[str] | str | None = None,
        taxonomy_sep: str | None = None,
        kind: str | None = None,
        age: int | float | str | None = None,
        minimum_age: int | float | str | None = None,
        maximum_age: int | float | str | None = None,
        free: bool | None = None,
        near: str | None = None,
        lon: float | None = None,
        lat: float | None = None,
        postcode: str | None = None,
        radius_m: float | str | None = None,
        default_radius_m: float | None = None,
        area: str | None = None,
        day: str | None = None,
        time: str | None = None,
        start_time: str | None = None,
        end_time: str | None = None,
        open_at: str | None = None,
        include_retired: bool = False,
        page: int = 1,
        per_page: int = 50,
    ) -> ServiceQuery:
        """The query that request, form or command-line parameters describe: the one place the
        CLI, the JSON API, the map and the Open Referral feed turn their parameters into a query.

        Blank strings (forms send them for fields left empty) mean "not given". Numbers may come
        as text (``age="7"``); one that is not a number is an ``InputError`` naming it. The point
        is ``near`` (``"LON,LAT"`` or a postcode, ``parse_near``), else ``lon`` with ``lat``
        (both or neither), else ``postcode``. A radius without a point is an error when the query
        is run, unless ``default_radius_m`` is given: that marks a form whose radius field is
        always sent, so the radius is used only with a point, and a blank or 0 radius means
        ``default_radius_m``. ``taxonomy`` is one term or several (ids, codes or names), each split
        on ``taxonomy_sep`` when given. ``time`` is a named part of the day (``TIMES_OF_DAY``) and
        ``open_at`` the map's shorthand ``"wed 13:00"`` or ``"wed 13:00-16:00"``; an explicit
        ``start_time`` / ``end_time`` wins over ``time``. The query is checked when it is run
        (``search_services`` calls ``validate``).

        >>> from strengthmap.storage import open_store
        >>> q = ServiceQuery.from_params(open_store("sqlite://"), text=" ", near="-1.57,53.79",
        ...                              default_radius_m=1500, time="afternoon", day="wed")
        >>> q.text, q.near, q.radius_m, q.start_time, q.end_time
        (None, (-1.57, 53.79), 1500.0, '12:00', '17:00')
        """
        from strengthmap.directory.search import parse_near

        def given(value: str | None) -> str | None:
            return value.strip() if value is not None and value.strip() else None

        def number(value: int | float | str | None, name: str) -> float | None:
            if value is None or isinstance(value, int | float):
                return value
            if not value.strip():
                return None
            try:
                return float(value)
            except ValueError:
                raise InputError(f"{name} must be a number, not {value!r}", field=name) from None

        def whole(value: int | float | str | None, name: str) -> int | None:
            if isinstance(value, str) and value.strip():
                try:
                    return int(value)
                except ValueError:
                    raise InputError(
                        f"{name} must be a number, not {value!r}", field=name
                    ) from None
            found = number(value, name)
            return None if found is None else int(found)

        day, start_time, end_time = given(day), given(start_time), given(end_time)
        ages = [whole(v, n) for v, n in ((age, "age"), (minimum_age, "minimum_age"),
                                         (maximum_age, "maximum_age"))]  # fmt: skip
        radius = number(radius_m, "radius_m")
        part = given(time)
        if part:
            if part not in cls.TIMES_OF_DAY:
                raise InputError(
                    f"time of day is one of {', '.join(cls.TIMES_OF_DAY)}", field="time"
                )
            start_time = start_time or cls.TIMES_OF_DAY[part][0]
            end_time = end_time or cls.TIMES_OF_DAY[part][1]
        shorthand = given(open_at)
        if shorthand:
            words = shorthand.split()
            day = words[0]
            if len(words) > 1:
                start_time, _, end = words[1].partition("-")
                end_time = end or start_time
        point: tuple[float, float] | None = None
        if given(near):
            point = parse_near(store, str(given(near)))
        elif lat is not None or lon is not None:
            if lat is None or lon is None:
                raise InputError("lat and lon come together", field="lat" if lat is None else "lon")
            point = (lon, lat)
        elif given(postcode):
            point = parse_near(store, str(given(postcode)))
        if default_radius_m is not None:  # a form's radius field: always sent, used with a point
            radius = (radius or default_radius_m) if point is not None else None
        items = [taxonomy] if isinstance(taxonomy, str) else list(taxonomy or ())
        if taxonomy_sep:
            items = [piece for item in items for piece in item.split(taxonomy_sep)]
        return cls(
            text=given(text),
            taxonomy_term_ids=tuple(t.strip() for t in items if t.strip()),
            kind=given(kind),
            age=ages[0],
            minimum_age=ages[1],
            maximum_age=ages[2],
            free=free,
            near=point,
            radius_m=None if radius is None else float(radius),
            area_code=given(area),
            day=day,
            start_time=start_time,
            end_time=end_time,
            include_retired=include_retired,
            page=page,
            per_page=per_page,
        )

    def validate(self) -> None:
        """Raise ``InputError`` naming the first unusable field."""
        if self.page < 1:
            raise InputError("page must be 1 or more", field="page")
        if self.text and not re.findall(r"\w+", self.text):
            raise InputError("the text has no words to search for", field="text")
        if not 1 <= self.per_page <= 1000:
            raise InputError("per_page must be between 1 and 1000", field="per_page")
        if self.kind is not None and self.kind not in schema.ABCD_KINDS:
            raise InputError(
                f"unknown ABCD kind {self.kind!r}; one of {', '.join(schema.ABCD_KINDS)}",
                field="kind",
            )
        if self.near is not None:
            lon, lat = self.near
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InputError(f"not a lon,lat point: {self.near!r}", field="near")
        if self.radius_m is not None:
            if self.radius_m <= 0:
                raise InputError("radius_m must be above 0", field="radius_m")
            if self.near is None:
                raise InputError("radius_m needs near (a point or postcode)", field="radius_m")
        if self.day is not None:
            parse_day(self.day)
        for name in ("start_time", "end_time"):
            value = getattr(self, name)
            if value is not None:
                try:
                    parse_time(value)
                except InputError as exc:
                    raise InputError(exc.message, field=name) from None
        if (self.start_time or self.end_time) and self.day is None:
            raise InputError("a time window needs a day", field="day")
        for name in ("age", "minimum_age", "maximum_age"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 150:
                raise InputError(f"{name} must be between 0 and 150", field=name)


@dataclass
class ServiceHit:
    """One service found: ``distance_m`` to its nearest location when ``near`` was given."""

    service_id: str
    name: str
    distance_m: float | None = None
    score: float | None = None
    description: str | None = None
    abcd_kind: str | None = None
    organization_id: str | None = None
    location_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    status: str | None = None
    last_verified: date | None = None


@dataclass
class SearchPage:
    """One page of hits and the total number of matches."""

    items: list[ServiceHit]
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
            "items": [
                {k: (v.isoformat() if isinstance(v, date) else v) for k, v in vars(h).items()}
                for h in self.items
            ],
        }


def _fts5_query(text: str) -> str:
    """User text -> an FTS5 query of quoted words (all must occur); no FTS syntax gets through."""
    words = re.findall(r"\w+", text.lower())
    if not words:
        raise InputError("the text has no words to search for", field="text")
    return " ".join(f'"{w}"' for w in words)


class _TermIndex:
    """The taxonomy terms of one store, indexed for ``resolve_terms``: each lower-cased id,
    code and name -> the ids it names, and each term -> its narrower terms."""

    def __init__(self, rows: Sequence[Any]) -> None:
        self.by_key: dict[str, set[str]] = {}
        self.children: dict[str, list[str]] = {}
        for term_id, code, name, parent_id in rows:
            for key in {term_id.lower(), (code or "").lower(), name.lower()} - {""}:
                self.by_key.setdefault(key, set()).add(term_id)
            if parent_id:
                self.children.setdefault(parent_id, []).append(term_id)
        self.closures: dict[str, frozenset[str]] = {}

    def closure(self, term: str) -> frozenset[str] | None:
        """The ids ``term`` names and their narrower terms' ids (None when it names none)."""
        key = term.strip().lower()
        done = self.closures.get(key)
        if done is not None:
            return done
        found = set(self.by_key.get(key, ()))
        if not found:
            return None
        stack = list(found)
        while stack:
            for child in self.children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        done = self.closures[key] = frozenset(found)
        return done


#: Per store: (fingerprint of the taxonomy_term table, its index). The fingerprint (row count
#: and latest ``updated_at``; every write path stamps ``updated_at``) is read on each search, so
#: a term written by any process (another worker, the CLI) is seen by the next search.
_TERM_INDEXES: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], _TermIndex]] = (
    weakref.WeakKeyDictionary()
)
_TERM_FINGERPRINT = sa.select(
    sa.func.count(), sa.func.max(schema.TaxonomyTerm.updated_at)
).select_from(schema.TaxonomyTerm)
_TERM_ROWS = sa.select(
    schema.TaxonomyTerm.id,
    schema.TaxonomyTerm.code,
    schema.TaxonomyTerm.name,
    schema.TaxonomyTerm.parent_id,
)


def _term_index(session: Any) -> _TermIndex:
    """The store's term index, rebuilt only when the ``taxonomy_term`` table has changed."""
    bind = session.get_bind()
    owner = bind.engine if hasattr(bind, "engine") else bind
    fingerprint = tuple(session.execute(_TERM_FINGERPRINT).one())
    cached = _TERM_INDEXES.get(owner)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    index = _TermIndex(session.execute(_TERM_ROWS).all())
    _TERM_INDEXES[owner] = (fingerprint, index)
    return index


def resolve_terms(session: Any, terms: Sequence[str]) -> list[set[str]]:
    """Each given term (id, code or name) -> the set of its id and its narrower terms' ids."""
    index = _term_index(session)
    out: list[set[str]] = []
    for term in terms:
        found = index.closure(term)
        if found is None:
            raise NotFound(f"no taxonomy term with id, code or name {term!r}")
        out.append(set(found))
    return out


def search_services(store: Store, query: ServiceQuery, *, prefilter: bool = True) -> SearchPage:
    """The services matching every filter of ``query``, best first, one page of them.

    Order: by text relevance when ``text`` is given, else by distance when ``near`` is given,
    else by name. On SQLite the box, text and term filters come from in-memory candidate sets
    and text scores are kept per directory version (``strengthmap.directory.candidates``);
    ``prefilter=False`` asks the same questions in SQL alone and scores afresh (the answers are
    the same; tests and benchmarks compare the two).
    """
    query.validate()
    svc = schema.Service.__table__
    with store.session() as session:
        conds = _service_conditions(svc, query)
        term_sets = (
            [frozenset(ids) for ids in resolve_terms(session, query.taxonomy_term_ids)]
            if query.taxonomy_term_ids
            else []
        )
        box = (
            _box(query.near[0], query.near[1], query.radius_m)
            if query.near is not None and query.radius_m is not None
            else None
        )
        area_geom = _area_geometry(session, query.area_code) if query.area_code else None
        sets = candidates.current(session) if prefilter and not store.is_postgis else None
        scores: TextScores | None = None
        if query.text and not store.is_postgis:
            text = query.text
            scores = (
                sets.get(("scores", _fts5_query(text)), lambda: text_scores(session, text))
                if sets is not None
                else text_scores(session, text)
            )
        # ranked by text alone: only the page's services need their places read
        by_text_alone = (
            bool(query.text) and query.near is None and area_geom is None and query.day is None
        )
        if sets is not None and (box is not None or scores is not None or term_sets):
            found = sets.narrow(
                session,
                box=box,
                text=scores.rowids if scores is not None else None,
                term_ids=term_sets,
            )
            if not len(found):
                return SearchPage([], 0, query.page, query.per_page)
            conds.append(_rowid_in(found))
            if scores is not None and by_text_alone:
                live = (
                    np.intersect1d(found, sets.live(session), assume_unique=True)
                    if _only_live(query)
                    else None  # other conditions on the service row: asked in SQL
                )
                return _ranked_page(session, query, conds, scores, live)
        else:
            conds.extend(_sql_prefilters(store, query, term_sets, box))
            if store.is_postgis and prefilter and by_text_alone:
                # PostgreSQL orders by ts_rank and pages
                return _ranked_page_sql(session, query, conds)
        return _filtered_page(session, store, query, conds, area_geom, scores)


def _service_conditions(svc: Any, query: ServiceQuery) -> list[Any]:
    """The filters on the service row itself: retirement, kind, ages, cost."""
    conds: list[Any] = []
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
        conds.append(_free_clause(svc) if query.free else sa.not_(_free_clause(svc)))
    return conds


def _sql_prefilters(
    store: Store,
    query: ServiceQuery,
    term_sets: Sequence[frozenset[str]],
    box: tuple[float, float, float, float] | None,
) -> list[Any]:
    """The term, box and text filters in SQL (PostgreSQL; SQLite without candidate sets)."""
    svc = schema.Service.__table__
    loc = schema.Location.__table__
    attr = schema.Attribute.__table__
    conds: list[Any] = []
    for ids in term_sets:
        # "+" keeps SQLite on the link_id index (a common term has thousands of rows)
        term_col: Any = (
            attr.c.taxonomy_term_id
            if store.is_postgis
            else sa.literal_column("+attribute.taxonomy_term_id")
        )
        conds.append(
            sa.exists().where(
                attr.c.link_id == svc.c.id,
                attr.c.retired_at.is_(None),
                term_col.in_(sorted(ids)),
            )
        )
    if box is not None and not store.is_postgis:
        # SQLite: the R*Tree (migration 0003) finds the services with a location in the box
        rtree = (
            sa.text(
                "SELECT sal.service_id FROM location_rtree r "
                "JOIN location l ON l.rowid = r.id "
                "JOIN service_at_location sal ON sal.location_id = l.id "
                "WHERE l.retired_at IS NULL AND sal.retired_at IS NULL "
                "AND r.min_lon <= :maxx AND r.max_lon >= :minx "
                "AND r.min_lat <= :maxy AND r.max_lat >= :miny"
            )
            .bindparams(minx=box[0], miny=box[1], maxx=box[2], maxy=box[3])
            .columns(service_id=sa.String)
        )
        conds.append(svc.c.id.in_(rtree))
    elif box is not None:
        # PostgreSQL: the b-tree indexes on latitude and longitude (a location written
        # without a geometry is still found)
        conds.append(loc.c.longitude.between(box[0], box[2]))
        conds.append(loc.c.latitude.between(box[1], box[3]))
    if query.text:
        if store.is_postgis:
            tsv: Any = sa.literal_column(PG_TSVECTOR)
            conds.append(tsv.op("@@")(sa.func.plainto_tsquery("english", query.text)))
        else:
            matches = sa.text(
                "SELECT rowid FROM service_fts WHERE service_fts MATCH :fts_query"
            ).bindparams(fts_query=_fts5_query(query.text))
            # with a box, the box drives the join ("+" keeps SQLite from starting at FTS)
            rowid: Any = sa.literal_column("+service.rowid" if box is not None else "service.rowid")
            conds.append(rowid.in_(matches))
    return conds


def _hit_statement(is_postgis: bool, text: str | None, conds: Sequence[Any]) -> Any:
    """Each service passing ``conds`` with each of its live locations (or none): one row each,
    with ``ts_rank`` of ``text`` on PostgreSQL and the service's rowid on SQLite."""
    svc = schema.Service.__table__
    sal = schema.ServiceAtLocation.__table__
    loc = schema.Location.__table__
    score_col: Any = sa.null()
    if text and is_postgis:
        score_col = sa.func.ts_rank(
            sa.literal_column(PG_TSVECTOR), sa.func.plainto_tsquery("english", text)
        )
    rowid_col: Any = sa.null() if is_postgis else sa.literal_column("service.rowid")
    from_ = svc.outerjoin(
        sal, sa.and_(sal.c.service_id == svc.c.id, sal.c.retired_at.is_(None))
    ).outerjoin(loc, sa.and_(loc.c.id == sal.c.location_id, loc.c.retired_at.is_(None)))
    return (
        sa.select(
            svc.c.id,
            svc.c.name,
            svc.c.description,
            svc.c.abcd_kind,
            svc.c.organization_id,
            svc.c.status,
            svc.c.last_verified,
            score_col.label("score"),
            loc.c.id.label("location_id"),
            loc.c.longitude,
            loc.c.latitude,
            rowid_col.label("service_rowid"),
        )
        .select_from(from_)
        .where(*conds)
    )


def _filtered_page(
    session: Any,
    store: Store,
    query: ServiceQuery,
    conds: list[Any],
    area_geom: Any,
    scores: TextScores | None,
) -> SearchPage:
    """Every matching service read with its places (distance, area and "open at" need them)."""
    if area_geom is not None:
        loc = schema.Location.__table__
        svc = schema.Service.__table__
        minx, miny, maxx, maxy = area_geom.bounds
        in_box = sa.and_(loc.c.longitude.between(minx, maxx), loc.c.latitude.between(miny, maxy))
        sa_tab = schema.ServiceArea.__table__
        conds.append(
            sa.or_(
                in_box,
                sa.exists().where(
                    sa_tab.c.service_id == svc.c.id, sa_tab.c.area_code == query.area_code
                ),
            )
        )
    rows = session.execute(_hit_statement(store.is_postgis, query.text, conds)).all()
    hits = _collapse(rows, query, area_geom, session)
    if query.day is not None and hits:
        hits = _open_filter(session, hits, query)
    if scores is not None and hits:
        rowid_of = {r.id: r.service_rowid for r in rows}
        for h, score in zip(hits, scores.of([rowid_of[h.service_id] for h in hits]), strict=True):
            h.score = score
    if query.text:
        hits.sort(key=lambda h: (-(h.score or 0.0), h.name, h.service_id))
    elif query.near is not None:
        hits.sort(key=lambda h: (h.distance_m is None, h.distance_m or 0.0, h.name, h.service_id))
    else:
        hits.sort(key=lambda h: (h.name.lower(), h.service_id))
    first = (query.page - 1) * query.per_page
    return SearchPage(hits[first : first + query.per_page], len(hits), query.page, query.per_page)


def _rowid_in(rowids: np.ndarray) -> Any:
    """``service.rowid IN (...)`` of a sorted array of rowids, as one JSON parameter (SQLite)."""
    return sa.literal_column("service.rowid").in_(
        sa.text("SELECT value FROM json_each(:rowids)").bindparams(
            rowids=json.dumps(rowids.tolist())
        )
    )


def _only_live(query: ServiceQuery) -> bool:
    """The query's only condition on the service row itself is "not retired"."""
    return not query.include_retired and all(
        getattr(query, name) is None
        for name in ("kind", "age", "minimum_age", "maximum_age", "free")
    )


def _ranked_page(
    session: Any,
    query: ServiceQuery,
    conds: list[Any],
    scores: TextScores,
    live: np.ndarray | None = None,
) -> SearchPage:
    """A text search with no place or time filter: rank the matching services by their kept
    scores, ties by name then id, then read the places of the page's services only.

    Only the services that can reach the page are ordered: those scoring above the
    (first + per_page)-th best score (in Python), then as many of those scoring exactly it as
    are needed (SQLite orders them by name and id, with a LIMIT). ``live``: the services already
    known to pass ``conds`` (sorted rowids), else they are read."""
    svc = schema.Service.__table__
    rowid: Any = sa.literal_column("service.rowid")
    if live is None:  # the candidates passing ``conds``
        live = np.array(
            session.execute(sa.select(rowid).select_from(svc).where(*conds)).scalars().all(),
            np.int64,
        )
    total = len(live)
    first = (query.page - 1) * query.per_page
    if first >= total:
        return SearchPage([], total, query.page, query.per_page)
    score = np.nan_to_num(scores.array(live))
    needed = min(total, first + query.per_page)
    threshold = -np.partition(-score, needed - 1)[needed - 1]
    above = live[score > threshold]
    named = session.execute(sa.select(rowid, svc.c.name, svc.c.id).where(_rowid_in(above))).all()
    score_of = dict(zip(above.tolist(), score[score > threshold].tolist(), strict=True))
    named.sort(key=lambda r: (-score_of[r[0]], r[1], r[2]))
    tied = session.execute(
        sa.select(rowid)
        .select_from(svc)
        .where(_rowid_in(live[score == threshold]))
        .order_by(svc.c.name, svc.c.id)
        .limit(needed - len(named))
    ).scalars()
    ordered = [r[0] for r in named] + list(tied)
    page_rowids = np.array(ordered[first:needed], np.int64)
    rows = session.execute(_hit_statement(False, None, [_rowid_in(page_rowids)])).all()
    position = {r: k for k, r in enumerate(page_rowids.tolist())}
    rowid_of = {r.id: r.service_rowid for r in rows}
    hits = sorted(
        _collapse(rows, query, None, session), key=lambda h: position[rowid_of[h.service_id]]
    )
    for h, value in zip(hits, scores.of([rowid_of[h.service_id] for h in hits]), strict=True):
        h.score = value
    return SearchPage(hits, total, query.page, query.per_page)


def _ranked_page_sql(session: Any, query: ServiceQuery, conds: list[Any]) -> SearchPage:
    """A text search with no place or time filter on PostgreSQL: the database counts the
    matches, ranks them (``ts_rank``, then name in code-point order, then id: the order of
    ``_filtered_page``) and returns one page; only that page's services have their places read."""
    svc = schema.Service.__table__
    assert query.text
    rank = sa.func.ts_rank(
        sa.literal_column(PG_TSVECTOR), sa.func.plainto_tsquery("english", query.text)
    )
    total = int(session.scalar(sa.select(sa.func.count()).select_from(svc).where(*conds)) or 0)
    first = (query.page - 1) * query.per_page
    ranked = session.execute(
        sa.select(svc.c.id, rank.label("score"))
        .where(*conds)
        .order_by(rank.desc(), svc.c.name.collate("C"), svc.c.id.collate("C"))
        .offset(first)
        .limit(query.per_page)
    ).all()
    if not ranked:
        return SearchPage([], total, query.page, query.per_page)
    position = {sid: k for k, (sid, _score) in enumerate(ranked)}
    rows = session.execute(_hit_statement(True, query.text, [svc.c.id.in_(list(position))])).all()
    hits = sorted(_collapse(rows, query, None, session), key=lambda h: position[h.service_id])
    return SearchPage(hits, total, query.page, query.per_page)


def _free_clause(svc: Any) -> Any:
    """Free: marked free, or has a zero-cost option and no option that costs money."""
    co = schema.CostOption.__table__
    return sa.or_(
        svc.c.free.is_(True),
        sa.and_(
            svc.c.free.is_(None),
            sa.exists().where(co.c.service_id == svc.c.id, co.c.amount == 0),
            ~sa.exists().where(co.c.service_id == svc.c.id, co.c.amount > 0),
        ),
    )


def _box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) surely holding every point within ``radius_m``.

    Widened by 1e-4 degrees (about 10 m) because the R*Tree stores 32-bit floats; the exact
    geodesic test follows.
    """
    dlat = radius_m / _M_PER_DEG_LAT + 1e-4
    coslat = max(np.cos(np.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    dlon = radius_m / (_M_PER_DEG_LAT * coslat) + 1e-4
    return (float(lon - dlon), float(lat - dlat), float(lon + dlon), float(lat + dlat))


_SUFFIXES = ("ing", "es", "ed", "s")


def _stem(word: str) -> str:
    """A light English suffix stripper (lunches -> lunch), for scoring only; matching is FTS5's."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=16)
def _bm25_counts_statement(n_words: int) -> Any:
    """``SELECT max(rowid), df(q0), df(q1), ...`` over ``service`` and ``service_fts``."""
    dfs = "".join(
        f", (SELECT count(*) FROM service_fts WHERE service_fts MATCH :q{i})"
        for i in range(n_words)
    )
    return sa.text(f"SELECT (SELECT max(rowid) FROM service){dfs}")


def text_scores(session: Any, text: str, k1: float = 1.2, b: float = 0.75) -> TextScores:
    """Okapi BM25 (Robertson & Zaragoza 2009) of every service whose name or description
    matches ``text`` (SQLite FTS5), name words counted twice.

    The document count and each word's document frequency come from FTS5 (one count per query
    word); term frequencies and the average length from the matching services' own text. The
    scores depend only on the text and the store, so a search keeps them per directory version
    (``candidates.CandidateSets.get``) and looks its hits up. FTS5's own ``bm25()`` reads every match's
    document size on each query, which costs more than the rest of a combined search when a
    word is common.
    """
    fts_query = _fts5_query(text)
    words = list(dict.fromkeys(re.findall(r"\w+", text.lower())))
    # the document count and every word's document frequency in one round trip
    counts = session.execute(
        _bm25_counts_statement(len(words)), {f"q{i}": f'"{w}"' for i, w in enumerate(words)}
    ).one()
    n_docs = counts[0] or 1
    idf = {}
    for w, df in zip(words, counts[1:], strict=True):
        idf[_stem(w)] = float(np.log(1 + (n_docs - df + 0.5) / (df + 0.5)))
    rows = (
        session.connection()
        .exec_driver_sql(
            "SELECT s.rowid, s.name, s.description FROM service s WHERE s.rowid IN "
            "(SELECT rowid FROM service_fts WHERE service_fts MATCH ?) ORDER BY s.rowid",
            (fts_query,),
        )
        .all()
    )
    if not rows:
        return TextScores(np.zeros(0, np.int64), np.zeros(0))
    stems: dict[str, str] = {}

    def stem(word: str) -> str:
        found = stems.get(word)
        if found is None:
            found = stems[word] = _stem(word)
        return found

    docs = []
    for _rowid, name, description in rows:
        tokens = [stem(t) for t in re.findall(r"\w+", (name or "").lower())] * 2
        tokens += [stem(t) for t in re.findall(r"\w+", (description or "").lower())]
        docs.append(tokens)
    avgdl = max(1.0, sum(len(d) for d in docs) / len(docs))
    scores = np.zeros(len(rows))
    for i, tokens in enumerate(docs):
        dl = len(tokens)
        score = 0.0
        for word_stem, weight in idf.items():
            tf = tokens.count(word_stem)
            if tf:
                score += weight * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
        scores[i] = round(score, 6)
    return TextScores(np.array([r[0] for r in rows], np.int64), scores)


@dataclass(frozen=True)
class TextScores:
    """BM25 scores of the services matching one text: ``rowids`` sorted, ``scores`` aligned."""

    rowids: np.ndarray
    scores: np.ndarray

    def array(self, rowids: Any) -> np.ndarray:
        """The score of each rowid as an array (NaN for a rowid that does not match the text)."""
        wanted = np.asarray(rowids, np.int64)
        out = np.full(len(wanted), np.nan)
        if len(self.rowids) and len(wanted):
            at = np.minimum(np.searchsorted(self.rowids, wanted), len(self.rowids) - 1)
            found = self.rowids[at] == wanted
            out[found] = self.scores[at[found]]
        return out

    def of(self, rowids: Sequence[int]) -> list[float | None]:
        """The score of each rowid (None for a rowid that does not match the text)."""
        return [None if np.isnan(v) else float(v) for v in self.array(rowids)]


def _area_geometry(session: Any, code: str) -> Any:
    row = session.execute(
        sa.select(schema.Area.geometry)
        .where(schema.Area.code == code)
        .order_by(schema.Area.vintage.desc())
        .limit(1)
    ).first()
    if row is None or row.geometry is None:
        raise NotFound(f"no area with code {code!r}")
    return row.geometry


def _collapse(
    rows: Sequence[Any], query: ServiceQuery, area_geom: Any, session: Any
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
    rank: dict[str, tuple[Any, ...]] = {}
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


def _services_serving_area(session: Any, code: str) -> set[str]:
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
def _schedules_statement() -> Any:
    """The live schedules of the services ``:ids`` (their own and their locations'), built once:
    one expanding parameter, so SQLAlchemy compiles it once for every chunk size."""
    sched = schema.Schedule.__table__
    sal = schema.ServiceAtLocation.__table__
    ids: Any = sa.bindparam("ids", expanding=True)
    cols = [sched.c[name] for name in _SCHEDULE_COLUMNS]
    direct = sa.select(sched.c.service_id.label("sid"), *cols).where(
        sched.c.service_id.in_(ids), sched.c.retired_at.is_(None)
    )
    via = (
        sa.select(sal.c.service_id.label("sid"), *cols)
        .select_from(sched.join(sal, sal.c.id == sched.c.service_at_location_id))
        .where(sal.c.service_id.in_(ids), sched.c.retired_at.is_(None))
    )
    return sa.union_all(direct, via)


def _open_filter(session: Any, hits: list[ServiceHit], query: ServiceQuery) -> list[ServiceHit]:
    """Keep the hits with a schedule session overlapping the day and time window.

    Services often share a timetable (every Wednesday 12:00-14:00), so each distinct schedule
    is expanded once for a question, and the answer kept for the next search (``_schedule_open``).
    """
    day = query.day
    assert day is not None
    by_service: dict[str, list[tuple[Any, ...]]] = {}
    ids = [h.service_id for h in hits]
    stmt = _schedules_statement()
    for start in range(0, len(ids), 500):
        for sid, *values in session.execute(stmt, {"ids": ids[start : start + 500]}):
            by_service.setdefault(sid, []).append(
                tuple(tuple(v) if isinstance(v, list) else v for v in values)
            )
    # the same schedule asked the same question gives the same answer: kept across searches
    today = query.today or datetime.now(ZoneInfo(LONDON)).date()
    window = (day, query.start_time, query.end_time, today)
    # open_at(schedules) is "any of the schedules is open", so each row is asked on its own
    return [
        h
        for h in hits
        if any(_schedule_open(row, window) for row in by_service.get(h.service_id, ()))
    ]


@lru_cache(maxsize=16_384)
def _schedule_open(row: tuple[Any, ...], window: tuple[Any, ...]) -> bool:
    """``open_at`` of one schedule row (``_SCHEDULE_COLUMNS`` values) for (day, start, end,
    today): a pure function of its arguments, so its answers are kept (bounded LRU)."""
    day, start_time, end_time, today = window
    return open_at(
        [dict(zip(_SCHEDULE_COLUMNS, row, strict=True))], day, start_time, end_time, today=today
    )


def parse_near(store: Store, value: str) -> tuple[float, float]:
    """``"LON,LAT"`` or a postcode (``"LS12 1BE"``) -> ``(lon, lat)``.

    >>> from strengthmap.storage import open_store
    >>> parse_near(open_store("sqlite://"), "-1.5754,53.7902")
    (-1.5754, 53.7902)
    """
    m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*", value)
    if m:
        lon, lat = float(m[1]), float(m[2])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError(f"not a lon,lat point: {value!r}", field="near")
        return lon, lat
    try:  # the areas module (data-loader engineer) owns postcode lookup
        from strengthmap.areas import resolve_postcode
    except ImportError:  # an older tree without it: read the postcode table directly
        return _postcode_point(store, value)
    lon, lat, _lsoa = resolve_postcode(store, value)
    return lon, lat


def _postcode_point(store: Store, value: str) -> tuple[float, float]:
    compact = re.sub(r"\s+", "", value).upper()
    if not re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}", compact):
        raise InputError(f"not a point (LON,LAT) or a postcode: {value!r}", field="near")
    normal = f"{compact[:-3]} {compact[-3:]}"
    with store.session() as session:
        row = session.get(schema.Postcode, normal)
    if row is None or row.lon is None or row.lat is None:
        raise NotFound(f"postcode {normal} is not in the store (load the postcode file)")
    return float(row.lon), float(row.lat)


__all__ = [
    "PG_TSVECTOR",
    "SearchPage",
    "ServiceHit",
    "ServiceQuery",
    "TextScores",
    "parse_near",
    "resolve_terms",
    "search_services",
    "text_scores",
]
