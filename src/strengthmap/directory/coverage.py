"""Where each directory source's data is complete, so that "no asset here" can be told apart
from "this source never looked here".

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> cov = source_coverage(store, "osm_community_pois")     # no record: the known extent
    >>> cov.basis, round(cov.geometry.area, 4)
    ('known extent', 0.0027)
    >>> source_coverage(store, "template:my-groups.csv").basis
    'none'

A coverage is a polygon (lon/lat, EPSG:4326), a list of area codes (LSOA 2011, MSOA 2011 or a
local authority district), or "the whole place" (every area loaded). It is found, in order:

1. **recorded**: the live ``source_coverage`` row of the source (``record_coverage``; an
   importer calls it, or a person with ``strengthmap commission coverage-record``). A new record
   retires the old one, with an audit entry; nothing is deleted.
2. **known extent** (``KNOWN_EXTENTS``), for the sources shipped with the Leeds data when no
   record exists: the 2022 central Leeds OpenStreetMap extract (``osm_community_pois``) is the
   2.5 km circle round -1.548567, 53.801277 from which it was cut (SOURCES.md); the ODS GP and
   prescribing sites (``ods_epraccur``) are the whole list for the place loaded (they were
   filtered by the place's commissioner), so they cover every loaded area.
3. **none**: nothing is known. Such a source's assets still count where they are, but the
   source cannot tell where strength was looked for (``strengthmap.commissioning.need`` leaves
   it out of that decision and says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import shapely
from pyproj import Geod
from shapely.errors import ShapelyError
from shapely.geometry import Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from strengthmap.errors import InputError
from strengthmap.storage import Store, schema

Basis = Literal["recorded", "known extent", "none"]


@dataclass(frozen=True)
class KnownExtent:
    """The extent of a shipped dataset, used when no coverage is recorded for it."""

    description: str
    circle: tuple[float, float, float] | None = None  # (lon, lat, radius_m)
    whole_place: bool = False


#: Fallback extents of the sources shipped with the Leeds data (see /work/shared/data/SOURCES.md).
KNOWN_EXTENTS: dict[str, KnownExtent] = {
    "osm_community_pois": KnownExtent(
        "OpenStreetMap points of interest of 2022, clipped to a 2.5 km circle round central "
        "Leeds (-1.548567, 53.801277)",
        circle=(-1.548567, 53.801277, 2500.0),
    ),
    "ods_epraccur": KnownExtent(
        "NHS ODS GP practices and prescribing sites: the whole list for the place loaded "
        "(filtered by its commissioner), so every loaded area",
        whole_place=True,
    ),
}

_GEOD = Geod(ellps="WGS84")


def geodesic_circle(lon: float, lat: float, radius_m: float, vertices: int = 128) -> Polygon:
    """A polygon inscribed in the geodesic circle of ``radius_m`` metres round (lon, lat).

    >>> c = geodesic_circle(-1.5, 53.8, 1000)
    >>> round(_GEOD.inv(-1.5, 53.8, *c.exterior.coords[0])[2], 6)
    1000.0
    """
    az = np.linspace(0.0, 360.0, vertices, endpoint=False)
    lons, lats, _ = _GEOD.fwd(
        np.full(vertices, lon), np.full(vertices, lat), az, np.full(vertices, radius_m)
    )
    return Polygon(zip(np.asarray(lons), np.asarray(lats), strict=True))


@dataclass(frozen=True)
class Coverage:
    """Where one source's data is complete (see the module docstring for ``basis``)."""

    source: str
    basis: Basis
    description: str
    geometry: BaseGeometry | None = None
    area_codes: tuple[str, ...] | None = None
    whole_place: bool = False
    recorded_at: datetime | None = None
    recorded_by: str | None = None

    @property
    def known(self) -> bool:
        return self.basis != "none"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "basis": self.basis,
            "description": self.description,
            "geometry": mapping(self.geometry) if self.geometry is not None else None,
            "area_codes": list(self.area_codes) if self.area_codes is not None else None,
            "whole_place": self.whole_place,
            "recorded_at": self.recorded_at.isoformat() if self.recorded_at else None,
            "recorded_by": self.recorded_by,
        }


def _check_geometry(polygon: BaseGeometry | dict[str, Any]) -> BaseGeometry:
    try:
        geom = shape(polygon) if isinstance(polygon, dict) else polygon
    except (KeyError, TypeError, ValueError, AttributeError, ShapelyError) as exc:
        raise InputError(f"not a GeoJSON geometry: {exc}", field="polygon") from None
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise InputError(
            f"a coverage is a Polygon or MultiPolygon, not a {geom.geom_type}", field="polygon"
        )
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InputError(
            "the polygon is not in lon/lat degrees (EPSG:4326); OSGB eastings/northings must be "
            "converted first",
            field="polygon",
        )
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


def _check_codes(session: Session, codes: Sequence[str]) -> tuple[str, ...]:
    cleaned = tuple(sorted({c.strip().upper() for c in codes if c.strip()}))
    if not cleaned:
        raise InputError("no area codes given", field="area_codes")
    known = set(
        session.scalars(select(schema.Area.code).where(schema.Area.code.in_(cleaned))).all()
    )
    known |= {
        str(c)
        for c in session.scalars(
            select(schema.Area.lad_code).where(schema.Area.lad_code.in_(cleaned)).distinct()
        ).all()
        if c is not None
    }
    unknown = [c for c in cleaned if c not in known]
    if unknown:
        raise InputError(
            f"not loaded area or district codes: {', '.join(unknown[:5])}"
            + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""),
            field="area_codes",
        )
    return cleaned


def write_coverage(
    session: Session,
    source: str,
    *,
    polygon: BaseGeometry | dict[str, Any] | None = None,
    area_codes: Sequence[str] | None = None,
    description: str | None = None,
    actor: str = "cli",
) -> int:
    """``record_coverage`` inside a transaction the caller holds (an importer's): returns the
    new record's id."""
    if not source or len(source) > 64:
        raise InputError("a source id of 1 to 64 characters", field="source")
    if polygon is None and not area_codes:
        raise InputError("give a polygon or area codes (or both)", field="polygon")
    geom = _check_geometry(polygon) if polygon is not None else None
    codes = _check_codes(session, area_codes) if area_codes else None
    now = datetime.now(UTC)
    old = session.scalars(
        select(schema.SourceCoverage).where(
            schema.SourceCoverage.source == source, schema.SourceCoverage.retired_at.is_(None)
        )
    ).all()
    for row in old:
        row.retired_at = now
    row = schema.SourceCoverage(
        source=source,
        description=description,
        geometry=geom,
        area_codes=list(codes) if codes is not None else None,
        recorded_at=now,
        recorded_by=actor,
    )
    session.add(row)
    session.flush()
    session.add(
        schema.AuditEntry(
            actor=actor,
            action="create",
            entity="source_coverage",
            entity_id=str(row.id),
            changes={
                "source": [None, source],
                "area_codes": [None, len(codes) if codes else 0],
                "polygon": [None, geom.geom_type if geom is not None else None],
                "retired": [None, [r.id for r in old]],
            },
        )
    )
    return int(row.id)


def record_coverage(
    store: Store,
    source: str,
    *,
    polygon: BaseGeometry | dict[str, Any] | None = None,
    area_codes: Sequence[str] | None = None,
    description: str | None = None,
    actor: str = "cli",
) -> Coverage:
    """Record where ``source`` (a ``Service.source``, e.g. ``"osm_leeds_2023"``) is complete:
    a polygon in lon/lat and/or area codes (LSOA 2011, MSOA 2011, local authority). Retires the
    source's previous record; one transaction, with an audit entry. Bad input (not a polygon, not
    lon/lat, unknown codes) is an ``InputError`` naming the field and writes nothing.

    Importers call this (or ``write_coverage`` inside their own transaction) after loading a
    source whose extent they know."""
    with store.transaction() as session:
        write_coverage(
            session, source, polygon=polygon, area_codes=area_codes,
            description=description, actor=actor,
        )  # fmt: skip
    return source_coverage(store, source)


def _from_row(row: schema.SourceCoverage) -> Coverage:
    at = row.recorded_at
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return Coverage(
        source=row.source,
        basis="recorded",
        description=row.description or "recorded coverage",
        geometry=row.geometry,
        area_codes=tuple(row.area_codes) if row.area_codes else None,
        recorded_at=at,
        recorded_by=row.recorded_by,
    )


def _known(source: str) -> Coverage:
    extent = KNOWN_EXTENTS.get(source)
    if extent is None:
        return Coverage(source, "none", "no coverage recorded and no known extent")
    geom = geodesic_circle(*extent.circle) if extent.circle else None
    return Coverage(
        source, "known extent", extent.description, geometry=geom, whole_place=extent.whole_place
    )


def coverages(store: Store, sources: Sequence[str]) -> dict[str, Coverage]:
    """The coverage of each source: recorded, else known extent, else none."""
    wanted = sorted(set(sources))
    with store.session() as session:
        rows = session.scalars(
            select(schema.SourceCoverage)
            .where(
                schema.SourceCoverage.source.in_(wanted),
                schema.SourceCoverage.retired_at.is_(None),
            )
            .order_by(schema.SourceCoverage.id)
        ).all()
    recorded = {r.source: _from_row(r) for r in rows}
    return {s: recorded.get(s) or _known(s) for s in wanted}


def source_coverage(store: Store, source: str) -> Coverage:
    """The coverage of one source: recorded, else known extent, else ``basis == "none"``."""
    return coverages(store, [source])[source]


@dataclass(frozen=True)
class SourceSummary:
    """A directory source, its live services and its coverage."""

    source: str
    services: int
    coverage: Coverage

    def to_dict(self) -> dict[str, Any]:
        out = self.coverage.to_dict()
        out["services"] = self.services
        return out


def list_coverage(store: Store) -> list[SourceSummary]:
    """Every source with live services in the directory (or a recorded coverage), with its
    coverage: what ``strengthmap commission coverage`` prints."""
    from sqlalchemy import func

    svc = schema.Service
    with store.session() as session:
        counts = dict(
            session.execute(
                select(svc.source, func.count())
                .where(svc.retired_at.is_(None))
                .group_by(svc.source)
            ).all()
        )
        recorded = set(
            session.scalars(
                select(schema.SourceCoverage.source).where(
                    schema.SourceCoverage.retired_at.is_(None)
                )
            ).all()
        )
    names = sorted({str(s) for s in counts if s is not None} | recorded)
    found = coverages(store, names)
    return [SourceSummary(s, int(counts.get(s, 0)), found[s]) for s in names]


def coverage_history(store: Store, source: str) -> list[Coverage]:
    """Every coverage ever recorded for ``source``, oldest first (retired ones included)."""
    with store.session() as session:
        rows = session.scalars(
            select(schema.SourceCoverage)
            .where(schema.SourceCoverage.source == source)
            .order_by(schema.SourceCoverage.id)
        ).all()
    return [_from_row(r) for r in rows]


__all__ = [
    "KNOWN_EXTENTS",
    "Coverage",
    "KnownExtent",
    "SourceSummary",
    "coverage_history",
    "coverages",
    "geodesic_circle",
    "list_coverage",
    "record_coverage",
    "source_coverage",
    "write_coverage",
]
