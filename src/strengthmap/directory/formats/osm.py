"""OpenStreetMap points of interest (ODbL) -> directory records, each with an ABCD kind and taxonomy terms.

Example:
    >>> rows = rows_from_osm({"type": "FeatureCollection", "features": [{"type": "Feature",
    ...     "properties": {"osm_id": "1", "name": "Hall", "category": "amenity=community_centre",
    ...                    "amenity": "community_centre", "opening_hours": "Mo-Fr 09:00-17:00"},
    ...     "geometry": {"type": "Point", "coordinates": [-1.57, 53.79]}}]}, "osm.geojson")
    >>> rows["service"][0]["abcd_kind"], rows["schedule"][0]["byday"]
    ('physical_space', 'MO,TU,WE,TH,FR')

Each point becomes an organization (its operator, or the place itself), a location (the point)
and a service (what the place offers) linked by a service_at_location; ``opening_hours`` becomes
weekly schedules (``strengthmap.directory.schedules.parse_opening_hours``). Ids are ``uuid5`` of
the OSM node id, so loading the file again updates the same records. Every record carries the
source dataset id and the licence ``ODbL-1.0``; exports must keep the attribution
"© OpenStreetMap contributors, ODbL 1.0".
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from strengthmap.directory.formats.base import (
    DirectoryFormat,
    FormatRows,
    ImportContext,
    Probe,
    dataset_row,
)
from strengthmap.directory.records import stable_id
from strengthmap.directory.schedules import parse_opening_hours
from strengthmap.directory.taxonomy import term_id
from strengthmap.errors import InputError

LICENCE = "ODbL-1.0"
ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"
PUBLISHER = "OpenStreetMap contributors (extract: udsleeds/openinfra, University of Leeds)"

#: OSM ``key=value`` -> (ABCD kind, default taxonomy term codes). Unlisted tags fall back per key.
CATEGORY_MAP: dict[str, tuple[str, tuple[str, ...]]] = {
    "amenity=atm": ("economy", ("local-economy",)),
    "amenity=bank": ("economy", ("local-economy",)),
    "amenity=post_office": ("economy", ("local-economy",)),
    "amenity=pharmacy": ("institution", ("pharmacy",)),
    "amenity=dentist": ("institution", ("dentist",)),
    "amenity=doctors": ("institution", ("gp-practice",)),
    "amenity=clinic": ("institution", ("community-health",)),
    "amenity=hospital": ("institution", ("hospital",)),
    "amenity=toilets": ("physical_space", ("public-facilities",)),
    "amenity=drinking_water": ("physical_space", ("public-facilities",)),
    "amenity=shelter": ("physical_space", ("public-facilities",)),
    "amenity=place_of_worship": ("association", ("faith",)),
    "amenity=kindergarten": ("institution", ("early-years",)),
    "amenity=childcare": ("institution", ("early-years",)),
    "amenity=library": ("institution", ("libraries",)),
    "amenity=public_bookcase": ("physical_space", ("libraries",)),
    "amenity=school": ("institution", ("education",)),
    "amenity=college": ("institution", ("education",)),
    "amenity=university": ("institution", ("education",)),
    "amenity=community_centre": ("physical_space", ("community-centre", "social-connection")),
    "amenity=events_venue": ("physical_space", ("community-centre",)),
    "amenity=social_facility": ("institution", ("information-and-advice",)),
    "amenity=advice": ("association", ("information-and-advice",)),
    "amenity=theatre": ("culture", ("arts-and-culture",)),
    "amenity=arts_centre": ("culture", ("arts-and-culture",)),
    "amenity=studio": ("culture", ("arts-and-culture",)),
    "amenity=cinema": ("culture", ("arts-and-culture",)),
    "amenity=police": ("institution", ("safety",)),
    "amenity=bus_station": ("physical_space", ()),
    "social_facility=food_bank": ("association", ("food-bank",)),
    "leisure=fitness_centre": ("economy", ("sport-and-fitness",)),
    "leisure=sports_centre": ("institution", ("sport-and-fitness",)),
    "leisure=pitch": ("physical_space", ("sport-and-fitness",)),
    "leisure=garden": ("physical_space", ("green-space",)),
    "leisure=park": ("physical_space", ("green-space",)),
    "leisure=playground": ("physical_space", ("green-space", "children-and-families")),
    "leisure=picnic_table": ("physical_space", ("public-facilities",)),
    "leisure=outdoor_seating": ("physical_space", ("public-facilities",)),
    "office=government": ("institution", ("information-and-advice",)),
    "office=charity": ("association", ("volunteering",)),
    "office=ngo": ("association", ("volunteering",)),
    "office=association": ("association", ("social-connection",)),
    "healthcare=counselling": ("institution", ("mental-health-clinic",)),
    "healthcare=blood_donation": ("institution", ("hospital",)),
    "healthcare=alternative": ("economy", ("health-services",)),
}
_KEY_FALLBACK: dict[str, tuple[str, tuple[str, ...]]] = {
    "leisure": ("physical_space", ()),
    "healthcare": ("institution", ("health-services",)),
    "social_facility": ("institution", ("information-and-advice",)),
    "office": ("association", ()),
    "amenity": ("physical_space", ()),
}
_TAG_RE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


#: OSM tags that say when a mapper last checked a feature on the ground.
CHECK_DATE_TAGS = ("check_date", "survey:date", "survey_date", "check_date:opening_hours")


def checked_on(tags: dict[str, str]) -> date | None:
    """The latest full date (YYYY-MM-DD) among a feature's check-date tags, else None.

    >>> checked_on({"check_date": "2021-10-19", "check_date:opening_hours": "2022-03-26"})
    datetime.date(2022, 3, 26)
    >>> checked_on({"survey:date": "2019"}) is None  # a year alone is not a date
    True
    """
    found = []
    for key in CHECK_DATE_TAGS:
        value = (tags.get(key) or "").strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                found.append(date.fromisoformat(value))
            except ValueError:
                continue
    return max(found) if found else None


def parse_other_tags(text: str | None) -> dict[str, str]:
    """The hstore text of ``other_tags`` -> a dict.

    >>> parse_other_tags('"phone"=>"+44 113 378 5005","wheelchair"=>"yes"')
    {'phone': '+44 113 378 5005', 'wheelchair': 'yes'}
    """
    if not text:
        return {}
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _TAG_RE.findall(text)}


def classify(category: str) -> tuple[str, tuple[str, ...]]:
    """An OSM ``key=value`` -> (ABCD kind, taxonomy term codes)."""
    if category in CATEGORY_MAP:
        return CATEGORY_MAP[category]
    return _KEY_FALLBACK.get(category.split("=", 1)[0], ("physical_space", ()))


def read_osm(path: Path) -> dict[str, Any]:
    """The GeoJSON of OSM points, checked: every feature needs ``osm_id``, ``category`` and a point."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"not GeoJSON: {exc}", file=str(path)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise InputError("not a GeoJSON FeatureCollection", file=str(path))
    for i, f in enumerate(doc["features"], start=1):
        props = f.get("properties") or {}
        for key in ("osm_id", "category"):
            if not props.get(key):
                raise InputError("missing", file=str(path), row=i, field=key)
        geom = f.get("geometry") or {}
        coords = geom.get("coordinates")
        if geom.get("type") != "Point" or not isinstance(coords, list) or len(coords) < 2:
            raise InputError("not a Point", file=str(path), row=i, field="geometry")
        lon, lat = coords[0], coords[1]
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError(f"not lon/lat: {coords}", file=str(path), row=i, field="geometry")
    return doc


def rows_from_osm(
    doc: dict[str, Any], file: str, *, dataset: str = "osm_community_pois", place: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Directory rows (by table) for every OSM point in ``doc`` (already checked by ``read_osm``);
    an address without ``addr:city`` is in ``place`` (the local authority the extract covers)."""
    rows: dict[str, list[dict[str, Any]]] = {
        k: []
        for k in (
            "organization",
            "service",
            "location",
            "address",
            "service_at_location",
            "schedule",
            "phone",
            "accessibility",
            "attribute",
        )
    }
    for f in doc["features"]:
        p = f["properties"]
        tags = parse_other_tags(p.get("other_tags"))
        ref = f"node/{p['osm_id']}"
        kind, terms = classify(p["category"])
        label = p["category"].split("=", 1)[1].replace("_", " ")
        name = p.get("name") or tags.get("name") or label.capitalize()
        lon, lat = f["geometry"]["coordinates"][:2]
        oid, sid, lid = (
            stable_id(dataset, f"{ref}/{x}") for x in ("organization", "service", "location")
        )
        # last verified: when a mapper last checked it on the ground (OSM's check_date and
        # survey:date tags); never the day of our import, which would claim a check nobody made
        common = {"source_ref": ref, "last_verified": checked_on(tags)}
        operator = p.get("operator") or tags.get("operator")
        rows["organization"].append(
            {
                "id": oid,
                "name": operator or name,
                "description": f"{label.capitalize()} mapped in OpenStreetMap"
                + (f", operated by {operator}" if operator else ""),
                "website": p.get("website") or tags.get("website"),
                "abcd_kind": kind,
                **common,
            }
        )
        extra: dict[str, Any] = {
            "osm": {k: v for k, v in p.items() if v is not None and k != "other_tags"}
        }
        if tags:
            extra["osm_tags"] = tags
        oh = parse_opening_hours(p.get("opening_hours") or "")
        if oh.notes:
            extra["opening_hours_notes"] = oh.notes
        rows["service"].append(
            {
                "id": sid,
                "organization_id": oid,
                "name": name,
                "description": f"{label.capitalize()}"
                + (f" at {p['addr_street']}" if p.get("addr_street") else ""),
                "url": p.get("website") or tags.get("website"),
                "status": "active",
                "abcd_kind": kind,
                "extra": extra,
                **common,
            }
        )
        rows["location"].append(
            {
                "id": lid,
                "name": name,
                "location_type": "physical",
                "longitude": float(lon),
                "latitude": float(lat),
                "external_identifier": ref,
                "external_identifier_type": "osm",
                "organization_id": oid,
                "abcd_kind": kind,
                **common,
            }
        )
        if p.get("addr_street") or p.get("addr_postcode"):
            rows["address"].append(
                {
                    "id": stable_id(dataset, f"{ref}/address"),
                    "location_id": lid,
                    "address_1": " ".join(
                        x for x in (p.get("addr_housenumber"), p.get("addr_street")) if x
                    )
                    or name,
                    "city": tags.get("addr:city") or place or "",
                    "state_province": "West Yorkshire",
                    "postal_code": p.get("addr_postcode") or "",
                    "country": "GB",
                    **common,
                }
            )
        salid = stable_id(dataset, f"{ref}/service_at_location")
        rows["service_at_location"].append(
            {"id": salid, "service_id": sid, "location_id": lid, **common}
        )
        for j, s in enumerate(oh.schedules):
            rows["schedule"].append(
                {
                    "id": stable_id(dataset, f"{ref}/schedule/{j}"),
                    "service_id": sid,
                    "freq": s.freq,
                    "byday": s.byday,
                    "opens_at": s.opens_at,
                    "closes_at": s.closes_at,
                    "description": f"Opening hours from OpenStreetMap: {p['opening_hours']}",
                    "notes": "; ".join(oh.notes) or None,
                    **common,
                }
            )
        phone = tags.get("phone") or tags.get("contact:phone")
        if phone:
            rows["phone"].append(
                {
                    "id": stable_id(dataset, f"{ref}/phone"),
                    "service_id": sid,
                    "number": phone[:64],
                    **common,
                }
            )
        if p.get("wheelchair"):
            rows["accessibility"].append(
                {
                    "id": stable_id(dataset, f"{ref}/accessibility"),
                    "location_id": lid,
                    "description": f"Wheelchair access: {p['wheelchair']} (OpenStreetMap)",
                    **common,
                }
            )
        for code in terms:
            rows["attribute"].append(
                {
                    "id": stable_id(dataset, f"{ref}/attribute/{code}"),
                    "link_id": sid,
                    "link_type": "service",
                    "link_entity": "service",
                    "taxonomy_term_id": term_id(code),
                    **common,
                }
            )
    return rows


def _detect(probe: Probe) -> bool:
    if probe.kind != "json" or not probe.feature_collection:
        return False
    props = (probe.document.get("features") or [{}])[0].get("properties") or {}
    return "osm_id" in props


def _read(ctx: ImportContext) -> FormatRows:
    doc = read_osm(ctx.path)
    source, licence = ctx.source or "osm_community_pois", ctx.licence or LICENCE
    dataset = dataset_row(ctx, id=source, title="OpenStreetMap community points of interest",
                          publisher=PUBLISHER, licence=licence, attribution=ATTRIBUTION,
                          rows=len(doc["features"]))  # fmt: skip
    return FormatRows(rows_from_osm(doc, str(ctx.path), place=ctx.place), source, licence, dataset)


#: GeoJSON of OSM points (an extract: its newer files retire what vanished).
FORMAT = DirectoryFormat(
    "osm", "OpenStreetMap points (GeoJSON with osm_id)", _detect, read=_read, snapshot=True
)

__all__ = [
    "ATTRIBUTION",
    "CATEGORY_MAP",
    "FORMAT",
    "LICENCE",
    "checked_on",
    "classify",
    "parse_other_tags",
    "read_osm",
    "rows_from_osm",
]
