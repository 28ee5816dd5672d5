"""ONS boundary GeoJSON (LSOA, MSOA, ward; 2011 BGC, 2021/2022 BSC): read, validate, load.

Example:
    >>> b = read_boundaries(data_dir / "boundaries/leeds_lsoa2011_bgc.geojson")  # doctest: +SKIP
    >>> b.level, b.vintage, len(b.codes)                                          # doctest: +SKIP
    ('lsoa', 2011, 482)

The level and vintage come from the property names ONS uses (``LSOA11CD``, ``LSOA21CD``,
``MSOA11CD``, ``MSOA21CD``, ``WD20CD``, ``WD22CD``...). Coordinates must be WGS84 lon/lat
(EPSG:4326, the GeoJSON standard, RFC 7946); a file in OSGB eastings/northings (EPSG:27700) is
refused by name, as are lat/lon swapped and points outside the United Kingdom.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from strengthmap.errors import InputError
from strengthmap.sources._common import (
    CODE_PATTERNS,
    LEVEL_PREFIX,
    SourceFile,
    area_rows,
    decode_bytes,
    ensure_areas,
    load_source,
    read_raw,
)
from strengthmap.storage import Store

_CODE_PROP = re.compile(r"^(LSOA|MSOA|WD|LAD)(\d\d)CD$", re.IGNORECASE)
_LEVELS = {"LSOA": "lsoa", "MSOA": "msoa", "WD": "ward", "LAD": "lad"}
#: the United Kingdom and its waters in lon/lat degrees (a loose box: catches other CRSs)
UK_LON = (-9.0, 2.5)
UK_LAT = (49.0, 61.5)


@dataclass
class Boundaries(SourceFile):
    """Validated boundaries of one level and vintage, in lon/lat (EPSG:4326)."""

    level: str = ""
    vintage: int = 0
    code_field: str = ""
    codes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    geometries: list[BaseGeometry] = field(default_factory=list)


def _vintage(two_digits: str) -> int:
    return 2000 + int(two_digits)


def _crs_name(doc: dict[str, Any]) -> str | None:
    crs = doc.get("crs")
    if isinstance(crs, dict):
        props = crs.get("properties") or {}
        return str(props.get("name", "")) or None
    return None


def read_boundaries(path: Path, *, dataset: str | None = None) -> Boundaries:
    """Read an ONS boundary FeatureCollection; every fault names the file, feature (row) and field.

    Row numbers count features from 1. Checks: the CRS (lon/lat, inside the UK), the code
    format of the level, duplicates, a name for every area, a non-empty polygon.
    """
    file = str(path)
    raw, digest = read_raw(path)
    text = decode_bytes(raw, file, first_field="type")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON ({exc.msg}; the file may be truncated)",
            file=file,
            row=exc.lineno,
            field=f"column {exc.colno}",
        ) from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError("not a GeoJSON FeatureCollection", file=file, row=1, field="type")
    crs = _crs_name(doc)
    if crs and not re.search(r"(4326|CRS84)", crs):
        osgb = "27700" in crs
        raise InputError(
            f"CRS is {crs}{' (OSGB eastings/northings)' if osgb else ''}; boundaries must be "
            "WGS84 lon/lat (EPSG:4326): reproject the file first",
            file=file,
            row=1,
            field="crs",
        )
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise InputError(
            "the FeatureCollection has no features", file=file, row=1, field="features"
        )
    props0 = features[0].get("properties") or {}
    code_field = next((k for k in props0 if _CODE_PROP.match(k)), None)
    if code_field is None:
        raise InputError(
            "no ONS code property (such as LSOA11CD, LSOA21CD, MSOA11CD, WD22CD) to tell the "
            f"level and vintage; found {sorted(props0)}",
            file=file,
            row=1,
            field="properties",
        )
    m = _CODE_PROP.match(code_field)
    assert m is not None
    level, vintage = _LEVELS[m.group(1).upper()], _vintage(m.group(2))
    name_field = next((k for k in props0 if k.upper() == code_field.upper()[:-2] + "NM"), None)
    pattern = CODE_PATTERNS[level]
    codes: list[str] = []
    names: list[str] = []
    geoms: list[BaseGeometry] = []
    seen: dict[str, int] = {}
    for i, feature in enumerate(features, start=1):
        props = feature.get("properties") or {}
        code = str(props.get(code_field, "")).strip()
        if not pattern.match(code):
            raise InputError(
                f"malformed {level.upper()} code {code!r}: expected {LEVEL_PREFIX[level]} and 6 digits",
                file=file,
                row=i,
                field=code_field,
            )
        if code in seen:
            raise InputError(
                f"duplicated code {code!r} (first in feature {seen[code]})",
                file=file,
                row=i,
                field=code_field,
            )
        seen[code] = i
        name = str(props.get(name_field, "") or "").strip() if name_field else ""
        gj = feature.get("geometry")
        if not gj:
            raise InputError("feature has no geometry", file=file, row=i, field="geometry")
        try:
            geom = shape(gj)
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            raise InputError(
                f"unreadable geometry ({exc})", file=file, row=i, field="geometry"
            ) from exc
        if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(
                f"expected a Polygon or MultiPolygon, found {geom.geom_type}"
                f"{' (empty)' if geom.is_empty else ''}",
                file=file,
                row=i,
                field="geometry",
            )
        _check_lon_lat(geom, file=file, row=i)
        if not geom.is_valid:
            # ONS generalised boundaries are occasionally self-intersecting after generalisation
            geom = shapely.make_valid(geom)
        codes.append(code)
        names.append(name or code)
        geoms.append(geom)
    return Boundaries(
        dataset=dataset or f"boundaries_{level}{vintage}",
        file=file,
        sha256=digest,
        rows_read=len(features),
        level=level,
        vintage=vintage,
        code_field=code_field,
        codes=codes,
        names=names,
        geometries=geoms,
    )


def _check_lon_lat(geom: BaseGeometry, *, file: str, row: int) -> None:
    minx, miny, maxx, maxy = geom.bounds
    if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
        raise InputError(
            f"coordinates ({minx:.0f}, {miny:.0f}) are not lon/lat degrees: they look like "
            "OSGB eastings/northings (British National Grid, EPSG:27700). GeoJSON must be "
            "WGS84 lon/lat (EPSG:4326): reproject the file (e.g. ogr2ogr -t_srs EPSG:4326)",
            file=file,
            row=row,
            field="geometry",
        )
    in_uk = UK_LON[0] <= minx and maxx <= UK_LON[1] and UK_LAT[0] <= miny and maxy <= UK_LAT[1]
    if not in_uk:
        swapped = UK_LAT[0] <= minx <= UK_LAT[1] and UK_LON[0] <= miny <= UK_LON[1]
        hint = "latitude and longitude are swapped" if swapped else "the area is not in the UK"
        raise InputError(
            f"coordinates ({minx:.4f}, {miny:.4f}) are outside the United Kingdom: {hint}",
            file=file,
            row=row,
            field="geometry",
        )


def write_boundaries(session: Any, b: Boundaries) -> int:
    """Insert or complete the areas of ``b`` (inside the caller's transaction); rows written."""
    rows = area_rows(b.level, b.vintage, b.codes, b.names, None, b.geometries)
    ensure_areas(session, rows, source_id=b.dataset)
    return len(rows)


def load_boundaries(store: Store, path: Path) -> Boundaries:
    """Read and write one boundary file in a single transaction (with its ``dataset`` row)."""
    return load_source(store, read_boundaries(path), write_boundaries)


__all__ = ["Boundaries", "load_boundaries", "read_boundaries", "write_boundaries"]
