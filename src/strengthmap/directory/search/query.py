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
from typing import Any

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
