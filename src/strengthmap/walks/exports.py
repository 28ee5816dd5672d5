"""A walk for walking apps and GIS: GPX 1.1 (named way-points, the route and the track) and GeoJSON.

Example:
    >>> plan = {"title": "Walk", "length_m": 150.0, "duration_min": 2.0,
    ...         "path": {"type": "LineString", "coordinates": [[-1.55, 53.80], [-1.548, 53.80]]},
    ...         "stops": [{"name": "A", "kind": "start", "lon": -1.55, "lat": 53.80,
    ...                    "arrive": "2026-12-02T11:00:00+00:00", "open": None, "distance_m": 0},
    ...                   {"name": "B", "kind": "end", "lon": -1.548, "lat": 53.80,
    ...                    "arrive": "2026-12-02T11:02:00+00:00", "open": True, "distance_m": 132}],
    ...         "attribution": ["© OpenStreetMap contributors, ODbL 1.0"]}
    >>> import gpxpy
    >>> [w.name for w in gpxpy.parse(to_gpx(plan)).waypoints]
    ['1. A', '2. B']
    >>> to_geojson(plan)["features"][0]["geometry"]["type"]
    'LineString'

The GPX holds the stops as ``<wpt>`` (name, arrival time, open or not), the street path as one
``<rte>`` whose points at the stops carry their names (apps that follow a route keep to the
streets given, since every vertex is a route point), and the same path as a ``<trk>`` for apps
that import tracks only. Both formats carry the attribution (ODbL share-alike for the OSM path).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from strengthmap.errors import InputError
from strengthmap.geography import GEOD

ODBL_URL = "https://opendatacommons.org/licenses/odbl/1-0/"


def _plan_dict(plan: Any) -> dict[str, Any]:
    d = plan if isinstance(plan, dict) else plan.to_dict()
    path = (d.get("path") or {}).get("coordinates") or []
    if len(path) < 2:
        raise InputError("the walk has no path to export (fewer than two points)", field="path")
    return d


def _open_text(value: bool | None) -> str:
    return (
        "open on arrival"
        if value
        else ("closed on arrival" if value is False else "opening times unknown")
    )


def _hhmm(iso: str | None) -> str:
    return datetime.fromisoformat(iso).strftime("%H:%M") if iso else ""


def to_gpx(plan: Any) -> str:
    """GPX 1.1 text of a walk plan (a ``WalkPlan`` or its ``to_dict()``)."""
    import gpxpy.gpx

    d = _plan_dict(plan)
    title = str(d.get("title") or "Walk")
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "Strengthmap"
    gpx.name = title
    gpx.description = (
        f"{d.get('length_m', 0) / 1000:.2f} km, about {d.get('duration_min', 0):.0f} minutes with "
        f"stops. " + " ".join(d.get("attribution") or [])
    )
    gpx.copyright_author = "OpenStreetMap contributors and others (see description)"
    gpx.copyright_license = ODBL_URL
    coords = np.asarray(d["path"]["coordinates"], dtype=float)
    stops = d.get("stops") or []
    for i, s in enumerate(stops, start=1):
        when = s.get("arrive")
        desc = f"{s.get('kind', 'stop')}: arrive {_hhmm(when)}, {_open_text(s.get('open'))}"
        wpt = gpxpy.gpx.GPXWaypoint(
            latitude=float(s["lat"]), longitude=float(s["lon"]), name=f"{i}. {s['name']}",
            description=desc, time=datetime.fromisoformat(when) if when else None,
            type=str(s.get("kind") or "stop"),
        )  # fmt: skip
        gpx.waypoints.append(wpt)
    # route: every vertex of the street path; the vertex where each stop is reached is named
    _, _, seg = GEOD.inv(coords[:-1, 0], coords[:-1, 1], coords[1:, 0], coords[1:, 1])
    cum = np.concatenate([[0.0], np.cumsum(np.atleast_1d(seg))])
    names: dict[int, str] = {}
    for i, s in enumerate(stops, start=1):
        k = int(np.argmin(np.abs(cum - float(s.get("distance_m") or 0.0))))
        names.setdefault(k, f"{i}. {s['name']}")
    route = gpxpy.gpx.GPXRoute(name=title)
    for k, (lon, lat) in enumerate(coords):
        route.points.append(
            gpxpy.gpx.GPXRoutePoint(latitude=float(lat), longitude=float(lon), name=names.get(k))
        )
    gpx.routes.append(route)
    track = gpxpy.gpx.GPXTrack(name=title)
    segment = gpxpy.gpx.GPXTrackSegment()
    segment.points.extend(
        gpxpy.gpx.GPXTrackPoint(latitude=float(lat), longitude=float(lon)) for lon, lat in coords
    )
    track.segments.append(segment)
    gpx.tracks.append(track)
    return str(gpx.to_xml(version="1.1"))


def to_geojson(plan: Any) -> dict[str, Any]:
    """A GeoJSON FeatureCollection: the path (LineString) and each stop (Point)."""
    d = _plan_dict(plan)
    summary = {
        k: d.get(k)
        for k in ("title", "length_m", "duration_min", "walking_min", "start", "speed_kmh",
                  "step_free", "loop", "network_source")
    }  # fmt: skip
    summary["contrast"] = {
        k: (d.get("contrast") or {}).get(k)
        for k in ("imd_decile_min", "imd_decile_max", "largest_step", "imd_release")
    }
    summary["attribution"] = d.get("attribution") or []
    features: list[dict[str, Any]] = [
        {"type": "Feature", "geometry": d["path"], "properties": {"kind": "path", **summary}}
    ]
    for i, s in enumerate(d.get("stops") or [], start=1):
        props = {k: v for k, v in s.items() if k not in ("lon", "lat")}
        props["order"] = i
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                "properties": props,
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "attribution": summary["attribution"],
    }


__all__ = ["to_geojson", "to_gpx"]
