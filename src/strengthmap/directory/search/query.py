"""A directory search's question and its answer: ``ServiceQuery`` (validated), ``ServiceHit``,
``SearchPage``, and ``parse_near`` for the place a question is asked around.

Example:
    >>> ServiceQuery(text="lunch", near=(-1.5754, 53.7902), radius_m=1000).validate()
    >>> ServiceQuery(radius_m=1000).validate()
    Traceback (most recent call last):
    ...
    strengthmap.errors.InputError: field radius_m: radius_m needs near (a point or postcode)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from strengthmap.areas import resolve_postcode
from strengthmap.directory.schedules import parse_day, parse_time
from strengthmap.errors import InputError
from strengthmap.storage import Store, schema


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


def parse_near(store: Store, value: str) -> tuple[float, float]:
    """``"LON,LAT"`` or a postcode (``"LS12 1BE"``, through ``areas.resolve_postcode``) ->
    ``(lon, lat)``.

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
    lon, lat, _lsoa = resolve_postcode(store, value)
    return lon, lat


__all__ = ["SearchPage", "ServiceHit", "ServiceQuery", "parse_near"]
