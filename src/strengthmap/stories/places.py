"""Where a story is: a postcode, a point, an area or a directory asset, turned into the areas that
hold it and a point kept only to the precision the teller chose.

Example:
    >>> snap_to_street(-1.55988, 53.79332)
    (-1.560885, 53.792662)
    >>> resolved = resolve_place(session, PlaceInput(postcode="LS12 1BE", precision="street"))  # doctest: +SKIP
    >>> resolved.precision, sorted(resolved.area_codes)[:2]                                    # doctest: +SKIP
    ('street', ['E01011264', 'E02002340'])

Precision (``model.PRECISIONS``), decided before anything is stored, so nobody (staff included)
can later read more than the teller agreed to:

* ``exact``: the point as given (a postcode's ONS centroid, the point on the map, the asset's
  location), to 6 decimal places.
* ``street``: the centre of the cell holding the point in a fixed grid of 150 m squares (150 m
  north-south; the east-west step is 150 m at the cell's latitude), at most about 106 m from
  the point. A fixed grid, rather than a random offset, means two stories from one doorstep
  cannot be averaged back to it.
* ``area``: no point at all; the map shows the story at the representative point of its
  smallest area (an LSOA, about 1,500 residents), and lists name its ward.

The areas a place lies in are found from the exact point (before any snapping), on every loaded
level and vintage (LSOA 2011 and 2021, MSOA, ward), plus the local authority; a point outside
every loaded area is refused, so every story with a place can be counted by area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from strengthmap.errors import Fault, InputError
from strengthmap.geography import check_lon_lat
from strengthmap.sources.postcodes import POSTCODE, normalise_postcode
from strengthmap.storage import schema
from strengthmap.stories.model import PRECISIONS

#: Side of the grid squares of ``street`` precision, metres.
STREET_CELL_M = 150.0
#: Metres in one degree of latitude (mean, WGS84; good to 0.5 % at any latitude).
_M_PER_DEG_LAT = 111_195.0
#: Area levels from smallest to largest: the representative point comes from the first found.
_SMALLEST_FIRST = ("lsoa", "msoa", "ward", "lad")

A = schema.Area


def snap_to_street(lon: float, lat: float) -> tuple[float, float]:
    """The centre of the 150 m grid cell holding (lon, lat), degrees rounded to 6 places."""
    dlat = STREET_CELL_M / _M_PER_DEG_LAT
    centre_lat = (math.floor(lat / dlat) + 0.5) * dlat
    dlon = STREET_CELL_M / (_M_PER_DEG_LAT * math.cos(math.radians(centre_lat)))
    centre_lon = (math.floor(lon / dlon) + 0.5) * dlon
    return round(centre_lon, 6), round(centre_lat, 6)


@dataclass(frozen=True)
class PlaceInput:
    """The place as the teller gave it: at most one of postcode, point, area, service, location."""

    postcode: str | None = None
    lonlat: tuple[float, float] | None = None
    area: str | None = None
    service: str | None = None
    location: str | None = None
    precision: str | None = None

    def given(self) -> list[str]:
        return [
            name
            for name in ("postcode", "lonlat", "area", "service", "location")
            if getattr(self, name) not in (None, "")
        ]

    def faults(self) -> list[Fault]:
        """What is wrong without looking anything up."""
        out = []
        given = self.given()
        if len(given) > 1:
            out.append(Fault("place", f"give one place, not {' and '.join(given)}"))
        if self.precision is not None and self.precision not in PRECISIONS:
            out.append(
                Fault(
                    "precision",
                    f"unknown precision {self.precision!r}; one of {', '.join(PRECISIONS)}",
                )
            )
        if self.postcode and not POSTCODE.match(normalise_postcode(self.postcode)):
            out.append(Fault("postcode", f"{self.postcode!r} is not a UK postcode (like LS12 1BE)"))
        if self.lonlat is not None:
            try:
                check_lon_lat(*self.lonlat)
            except InputError as exc:
                out.append(Fault("lonlat", exc.message))
        return out


@dataclass(frozen=True)
class ResolvedPlace:
    """What is stored: the point at its precision, the areas and the assets it is linked to."""

    kind: str | None = None
    precision: str | None = None
    lon: float | None = None
    lat: float | None = None
    area_codes: tuple[str, ...] = ()
    assets: tuple[tuple[str, str], ...] = field(default=())  # (service | location, id)


def _areas_at(session: Session, lon: float, lat: float) -> list[schema.Area]:
    """The loaded area of each level and vintage holding the point (ties: first by code)."""
    rows = session.scalars(
        select(A)
        .where(
            A.geometry.is_not(None),
            A.min_lon <= lon, A.max_lon >= lon, A.min_lat <= lat, A.max_lat >= lat,
        )
        .order_by(A.level, A.vintage, A.code)
    ).all()  # fmt: skip
    point = Point(lon, lat)
    found: dict[tuple[str, int], schema.Area] = {}
    for area in rows:
        key = (area.level, area.vintage)
        if key not in found and area.geometry is not None and area.geometry.covers(point):
            found[key] = area
    return list(found.values())


def _with_parents(session: Session, areas: list[schema.Area]) -> list[str]:
    """Codes of ``areas``, their official parents (LSOA -> MSOA, ward) and local authorities."""
    codes = dict.fromkeys(a.code for a in areas)
    ids = [a.id for a in areas]
    if ids:
        parents = session.scalars(
            select(A)
            .join(schema.AreaLink, schema.AreaLink.parent_id == A.id)
            .where(schema.AreaLink.child_id.in_(ids), schema.AreaLink.relation == "parent")
        ).all()
        codes.update(dict.fromkeys(p.code for p in parents))
        areas = [*areas, *parents]
    codes.update(dict.fromkeys(a.lad_code for a in areas if a.lad_code))
    return list(codes)


def _representative_point(areas: list[schema.Area]) -> tuple[float | None, float | None]:
    ranked = sorted(
        (a for a in areas if a.geometry is not None),
        key=lambda a: (
            _SMALLEST_FIRST.index(a.level) if a.level in _SMALLEST_FIRST else 9,
            -a.vintage,
        ),
    )
    if not ranked:
        return None, None
    p = ranked[0].geometry.representative_point()  # type: ignore[union-attr]  # filtered above
    return round(p.x, 6), round(p.y, 6)


def _at_precision(
    session: Session, kind: str, lon: float, lat: float, precision: str
) -> ResolvedPlace:
    areas = _areas_at(session, lon, lat)
    if not areas:
        raise InputError(
            f"({lon:.5f}, {lat:.5f}) is outside the loaded areas; give a place inside them",
            field=kind,
        )
    codes = tuple(_with_parents(session, areas))
    plon: float | None
    plat: float | None
    if precision == "exact":
        plon, plat = round(lon, 6), round(lat, 6)
    elif precision == "street":
        plon, plat = snap_to_street(lon, lat)
    else:
        plon, plat = _representative_point(areas)
    return ResolvedPlace(kind, precision, plon, plat, codes)


def _at_asset(
    session: Session,
    kind: str,
    lon: float,
    lat: float,
    precision: str | None,
    assets: tuple[tuple[str, str], ...],
) -> ResolvedPlace:
    """An asset's place: its location's point, exact unless the teller chose less."""
    at = _at_precision(session, kind, lon, lat, precision or "exact")
    return ResolvedPlace(kind, at.precision, at.lon, at.lat, at.area_codes, assets)


def resolve_place(session: Session, place: PlaceInput) -> ResolvedPlace:
    """The place to store, or ``InputError`` naming the field (unknown postcode, area, asset;
    a point outside the loaded areas). No place given: an empty ``ResolvedPlace``."""
    faults = place.faults()
    if faults:
        raise InputError(faults[0].message, field=faults[0].path)
    if place.postcode:
        postcode = normalise_postcode(place.postcode)
        row = session.get(schema.Postcode, postcode)
        if row is None:
            raise InputError(
                f"postcode {postcode} is not in the loaded postcode lookup", field="postcode"
            )
        if row.lon is None or row.lat is None:
            raise InputError(
                f"postcode {postcode} has no coordinates (terminated or non-geographic)",
                field="postcode",
            )
        return _at_precision(session, "postcode", row.lon, row.lat, place.precision or "street")
    if place.lonlat is not None:
        lon, lat = place.lonlat
        return _at_precision(session, "point", lon, lat, place.precision or "street")
    if place.area:
        code = place.area.strip().upper()
        areas = session.scalars(select(A).where(A.code == code).order_by(A.vintage)).all()
        if not areas:
            raise InputError(f"no loaded area has the code {place.area!r}", field="area")
        rlon, rlat = _representative_point(list(areas))
        return ResolvedPlace("area", "area", rlon, rlat, tuple(_with_parents(session, list(areas))))
    if place.service:
        service = session.get(schema.Service, place.service)
        if service is None:
            raise InputError(f"no service with id {place.service!r}", field="service")
        if service.retired_at is not None:
            raise InputError(f"service {place.service} is retired", field="service")
        located = session.execute(
            select(schema.Location.id, schema.Location.longitude, schema.Location.latitude)
            .join(schema.ServiceAtLocation, schema.ServiceAtLocation.location_id == schema.Location.id)
            .where(
                schema.ServiceAtLocation.service_id == service.id,
                schema.ServiceAtLocation.retired_at.is_(None),
                schema.Location.retired_at.is_(None),
                schema.Location.longitude.is_not(None),
                schema.Location.latitude.is_not(None),
            )
            .order_by(schema.Location.id)
        ).first()  # fmt: skip
        if located is None:
            return ResolvedPlace("service", assets=(("service", service.id),))
        return _at_asset(
            session, "service", located.longitude, located.latitude, place.precision,
            (("service", service.id), ("location", located.id)),
        )  # fmt: skip
    if place.location:
        location = session.get(schema.Location, place.location)
        if location is None:
            raise InputError(f"no location with id {place.location!r}", field="location")
        if location.retired_at is not None:
            raise InputError(f"location {place.location} is retired", field="location")
        assets = (("location", location.id),)
        if location.longitude is None or location.latitude is None:
            return ResolvedPlace("location", assets=assets)
        return _at_asset(
            session, "location", location.longitude, location.latitude, place.precision, assets
        )
    return ResolvedPlace()


__all__ = ["STREET_CELL_M", "PlaceInput", "ResolvedPlace", "resolve_place", "snap_to_street"]
