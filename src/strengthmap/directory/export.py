"""Export the directory: ORUK JSON, ORUK tabular CSV, GeoJSON, GeoPackage, iCalendar.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> to_geojson(store)["features"]
    []

Retired records are left out. GeoJSON and GeoPackage hold one point per service at a location
(WGS84, EPSG:4326) with the service's name, ABCD kind, taxonomy codes, source, licence and
``last_verified``; the attribution of every source used is in the metadata. iCalendar has one
VEVENT per schedule (RRULE / EXDATE in Europe/London, RFC 5545), per service or per location.
Data from OpenStreetMap stays under ODbL 1.0 when exported (share-alike).
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa

from strengthmap.directory.records import MODELS
from strengthmap.directory.schedules import Recurrence, occurrences, parse_time, to_rrule
from strengthmap.errors import InputError, NotFound
from strengthmap.storage import Store, schema

EXPORT_FORMATS = ("oruk-json", "oruk-csv", "geojson", "gpkg", "ical")
#: Table -> file name in an ORUK tabular data package.
CSV_FILES = {
    "organization": "organizations",
    "service": "services",
    "location": "locations",
    "address": "addresses",
    "service_at_location": "service_at_location",
    "schedule": "schedules",
    "taxonomy": "taxonomies",
    "taxonomy_term": "taxonomy_terms",
    "attribute": "attribute",
    "contact": "contacts",
    "phone": "phones",
    "cost_option": "cost_options",
    "accessibility": "accessibility",
    "language": "languages",
    "service_area": "service_areas",
    "funding": "funding",
    "organization_identifier": "organization_identifiers",
}
_INTERNAL = {"geometry", "extra", "created_at", "updated_at", "retired_at", "exdates"}
_RENAMED_OUT = {
    ("funding", "source_text"): "source",
    ("taxonomy_term", "taxonomy_name"): "taxonomy",
}


def _live_service_ids(session: Any) -> list[str]:
    return list(
        session.scalars(
            sa.select(schema.Service.id)
            .where(schema.Service.retired_at.is_(None))
            .order_by(schema.Service.name, schema.Service.id)
        )
    )


def to_oruk_json(store: Store, service_id: str | None = None) -> Any:
    """ORUK ``service`` objects (full shape) of every live service, or one service."""
    from strengthmap.directory.oruk import SERVICE_FULL, to_oruk_many, to_oruk_service

    with store.session() as session:
        if service_id is not None:
            return to_oruk_service(session, service_id)
        return to_oruk_many(session, "service", _live_service_ids(session), SERVICE_FULL)


def write_oruk_csv(store: Store, folder: Path) -> dict[str, int]:
    """One CSV per table (the ORUK tabular layout); returns rows written per file."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    with store.session() as session:
        for table, stem in CSV_FILES.items():
            model = MODELS[table]
            tab = model.__table__
            cols = [c for c in tab.columns if c.name not in _INTERNAL]
            stmt = sa.select(*cols).order_by(tab.c.id)
            if "retired_at" in tab.c:
                stmt = stmt.where(tab.c.retired_at.is_(None))
            rows = session.execute(stmt).all()
            with (folder / f"{stem}.csv").open("w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow([_RENAMED_OUT.get((table, c.name), c.name) for c in cols])
                for r in rows:
                    w.writerow(["" if v is None else _text(v) for v in r])
            counts[stem] = len(rows)
    return counts


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, date | datetime):
        return v.isoformat()
    if isinstance(v, list | dict):
        return json.dumps(v)
    return str(v)


def _points(session: Any) -> list[dict[str, Any]]:
    """Live services at located places, with their taxonomy codes."""
    svc, sal, loc = schema.Service, schema.ServiceAtLocation, schema.Location
    rows = session.execute(
        sa.select(
            svc.id, svc.name, svc.description, svc.abcd_kind, svc.url, svc.source, svc.licence,
            svc.last_verified, svc.organization_id, loc.id.label("location_id"),
            loc.name.label("location_name"), loc.longitude, loc.latitude,
        )
        .join(sal, sal.service_id == svc.id)
        .join(loc, loc.id == sal.location_id)
        .where(svc.retired_at.is_(None), loc.retired_at.is_(None), loc.longitude.is_not(None), loc.latitude.is_not(None))
        .order_by(svc.name, svc.id, loc.id)
    ).all()  # fmt: skip
    terms: dict[str, list[str]] = {}
    for link_id, code in session.execute(
        sa.select(schema.Attribute.link_id, schema.TaxonomyTerm.code)
        .join(schema.TaxonomyTerm, schema.TaxonomyTerm.id == schema.Attribute.taxonomy_term_id)
        .where(schema.Attribute.link_type == "service")
        .order_by(schema.TaxonomyTerm.code)
    ):
        terms.setdefault(link_id, []).append(code or "")
    out = []
    for r in rows:
        d = dict(r._mapping)
        d["service_id"] = d.pop("id")
        d["taxonomy"] = ";".join(terms.get(d["service_id"], []))
        d["last_verified"] = d["last_verified"].isoformat() if d["last_verified"] else None
        out.append(d)
    return out


def _attributions(session: Any) -> list[str]:
    return [
        f"{d.title}: {d.attribution} ({d.licence})"
        for d in session.scalars(sa.select(schema.Dataset).order_by(schema.Dataset.id))
        if d.id.startswith(("osm", "ods"))
    ]


def to_geojson(store: Store) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of every live service at a located place (lon/lat)."""
    with store.session() as session:
        pts = _points(session)
        attribution = _attributions(session)
    features = [
        {
            "type": "Feature",
            "id": f"{p['service_id']}/{p['location_id']}",
            "geometry": {"type": "Point", "coordinates": [p["longitude"], p["latitude"]]},
            "properties": {k: v for k, v in p.items() if k not in {"longitude", "latitude"}},
        }
        for p in pts
    ]
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if attribution:
        doc["attribution"] = attribution
    return doc


def write_gpkg(store: Store, path: Path, layer: str = "services") -> int:
    """A GeoPackage layer of the same points as ``to_geojson`` (EPSG:4326); returns features."""
    import pyogrio.raw
    import shapely

    with store.session() as session:
        pts = _points(session)
        attribution = _attributions(session)
    if path.exists():
        path.unlink()
    fields = ["service_id", "name", "description", "abcd_kind", "taxonomy", "url", "source", "licence", "last_verified", "organization_id", "location_id", "location_name"]  # fmt: skip
    geometry = (
        shapely.to_wkb(shapely.points([p["longitude"] for p in pts], [p["latitude"] for p in pts]))
        if pts
        else np.array([], dtype=object)
    )
    data = [
        np.array([p[f] if p[f] is not None else None for p in pts], dtype=object) for f in fields
    ]
    pyogrio.raw.write(
        str(path),
        geometry=np.asarray(geometry, dtype=object),
        field_data=data,
        fields=fields,
        layer=layer,
        driver="GPKG",
        geometry_type="Point",
        crs="EPSG:4326",
        dataset_metadata={"attribution": " | ".join(attribution)} if attribution else None,
    )
    return len(pts)


# --- iCalendar --------------------------------------------------------------------------------


def _schedules_for(
    session: Any, service_id: str | None, location_id: str | None
) -> list[tuple[Any, Any, Any]]:
    """(schedule, service, location) triples for one service or one location."""
    sched, svc, sal, loc = (
        schema.Schedule,
        schema.Service,
        schema.ServiceAtLocation,
        schema.Location,
    )
    out = []
    if service_id is not None:
        service = session.get(svc, service_id)
        if service is None or service.retired_at is not None:
            raise NotFound(f"no service with id {service_id}")
        location = session.scalars(
            sa.select(loc)
            .join(sal, sal.location_id == loc.id)
            .where(sal.service_id == service_id)
            .order_by(loc.id)
        ).first()
        rows = session.scalars(
            sa.select(sched)
            .outerjoin(sal, sal.id == sched.service_at_location_id)
            .where(
                sa.or_(sched.service_id == service_id, sal.service_id == service_id),
                sched.retired_at.is_(None),
            )
            .order_by(sched.id)
        ).all()
        out = [(s, service, location) for s in rows]
    elif location_id is not None:
        location = session.get(loc, location_id)
        if location is None:
            raise NotFound(f"no location with id {location_id}")
        services = session.scalars(
            sa.select(svc)
            .join(sal, sal.service_id == svc.id)
            .where(sal.location_id == location_id, svc.retired_at.is_(None))
            .order_by(svc.name)
        ).all()
        for service in services:
            out += [
                (s, service, location)
                for s, _svc, _loc in _schedules_for(session, service.id, None)
            ]
        for s in session.scalars(
            sa.select(sched).where(
                sched.location_id == location_id,
                sched.service_id.is_(None),
                sched.retired_at.is_(None),
            )
        ):
            out.append((s, None, location))
    else:
        raise InputError("iCalendar export needs --service ID or --location ID", field="service")
    return out


def to_ical(
    store: Store,
    *,
    service_id: str | None = None,
    location_id: str | None = None,
    today: date | None = None,
) -> bytes:
    """An iCalendar (RFC 5545) feed of the schedules of a service or of a location."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Strengthmap//directory//EN")
    cal.add("version", "2.0")
    with store.session() as session:
        triples = _schedules_for(session, service_id, location_id)
        for sched, service, location in triples:
            rec = Recurrence.of(sched)
            zone = ZoneInfo(rec.timezone or "Europe/London")
            anchor = rec.dtstart or rec.valid_from or (today or date.today())
            first = occurrences(rec, anchor, anchor + timedelta(days=800))
            if not first:
                continue
            start = first[0].start
            ev = Event()
            ev.add("uid", f"{sched.id}@strengthmap")
            name = (
                service.name
                if service is not None
                else (location.name if location else "Opening hours")
            )
            ev.add("summary", name)
            ev.add("dtstart", start)
            ev.add("dtend", first[0].end)
            ev.add("dtstamp", datetime.now(ZoneInfo("UTC")))
            rule = to_rrule(rec)
            if rule and rec.valid_to and "UNTIL=" not in rule and "COUNT=" not in rule:
                last = datetime.combine(rec.valid_to, time(23, 59, 59), zone)
                rule += f";UNTIL={last.astimezone(ZoneInfo('UTC')).strftime('%Y%m%dT%H%M%SZ')}"
            if rule:
                ev.add("rrule", _rrule_dict(rule))
            opens = parse_time(rec.opens_at) if rec.opens_at else time(0)
            for d in rec.exdates:
                ev.add("exdate", datetime.combine(d, opens, zone))
            text = [
                x
                for x in (sched.description, service.description if service else None, sched.notes)
                if x
            ]
            if sched.illustrative:
                text.append("Times are illustrative.")
            if text:
                ev.add("description", "\n".join(text))
            if location is not None and location.name:
                ev.add("location", location.name)
            if (
                location is not None
                and location.latitude is not None
                and location.longitude is not None
            ):
                ev.add("geo", (location.latitude, location.longitude))
            cal.add_component(ev)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _rrule_dict(rule: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in rule.split(";"):
        k, _, v = part.partition("=")
        out[k.lower()] = v.split(",") if k.upper() in {"BYDAY", "BYMONTHDAY"} else v
    if "until" in out:  # RFC 5545: with a zoned DTSTART, UNTIL is given in UTC
        raw = out["until"]
        until = datetime.strptime(raw[:15], "%Y%m%dT%H%M%S")
        if raw.endswith("Z"):
            until = until.replace(tzinfo=ZoneInfo("UTC"))
        else:
            until = until.replace(tzinfo=ZoneInfo("Europe/London")).astimezone(ZoneInfo("UTC"))
        out["until"] = until
    if "interval" in out:
        out["interval"] = int(out["interval"])
    if "count" in out:
        out["count"] = int(out["count"])
    return out


def export(
    store: Store,
    format: str,
    out: Path,
    *,
    service_id: str | None = None,
    location_id: str | None = None,
) -> int:
    """Write ``format`` to ``out``; returns the number of records (features, services, events)."""
    if format not in EXPORT_FORMATS:
        raise InputError(
            f"unknown format {format!r}; one of {', '.join(EXPORT_FORMATS)}", field="format"
        )
    out = Path(out)
    if format == "oruk-json":
        doc = to_oruk_json(store, service_id)
        out.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        return 1 if service_id else len(doc)
    if format == "oruk-csv":
        return write_oruk_csv(store, out).get("services", 0)
    if format == "geojson":
        doc = to_geojson(store)
        out.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        return len(doc["features"])
    if format == "gpkg":
        return write_gpkg(store, out)
    data = to_ical(store, service_id=service_id, location_id=location_id)
    out.write_bytes(data)
    return data.count(b"BEGIN:VEVENT")


__all__ = [
    "EXPORT_FORMATS",
    "export",
    "to_geojson",
    "to_ical",
    "to_oruk_json",
    "write_gpkg",
    "write_oruk_csv",
]
