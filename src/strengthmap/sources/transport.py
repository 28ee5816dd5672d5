"""Routes read from files and open data: way-points, GeoJSON, GPX, GTFS, OSM bus routes and stops.

Example:
    >>> route = route_from_waypoints("Station@-1.5477,53.7951;Wortley@-1.5760,53.7930")
    >>> [s.name for s in route.stops], route.source, round(route.length_m())
    (['Station', 'Wortley'], 'waypoints', 1880)

Every reader returns a ``RouteInput``: a line in lon/lat degrees (WGS84, in travel order) and its
named stops. Coordinates are checked (OSGB36 eastings/northings and swapped lat/lon are named),
repeated vertices dropped, and a line under 1 m on the ground refused; a bad file names the file
(and the feature or field) in its ``InputError``. ``strengthmap.routes`` profiles the result.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from strengthmap.coords import GEOD, check_lon_lat
from strengthmap.errors import InputError, NotFound

#: The OSM files of the data directory used for ``--stops`` and ``--osm-route``.
OSM_STOPS_FILE = "transport/leeds_central_osm_bus_stops_2022.geojson"
OSM_ROUTES_FILE = "transport/leeds_central_osm_bus_routes_2022.geojson"

ATTRIBUTION_OSM = "© OpenStreetMap contributors, ODbL 1.0"


@dataclass(frozen=True)
class Stop:
    """A named point on a route (a bus stop or a way-point), lon/lat degrees."""

    name: str
    lon: float
    lat: float
    code: str | None = None


@dataclass
class RouteInput:
    """A line to profile (lon/lat, in travel order) and its named stops."""

    line: shapely.LineString
    stops: list[Stop]
    source: str
    name: str | None = None
    attribution: list[str] = field(default_factory=list)
    # distance of each stop along the line when known exactly (way-points are vertices)
    stop_distances_m: list[float] | None = None

    def length_m(self) -> float:
        """The line's length in metres on the WGS84 ellipsoid."""
        return float(GEOD.geometry_length(self.line))


def _check_coords(coords: NDArray[np.float64], *, what: str) -> None:
    """Every vertex must be lon/lat degrees; the first bad one is named (OSGB or swapped)."""
    for i, (lon, lat) in enumerate(coords):
        check_lon_lat(float(lon), float(lat), what=f"{what} {i + 1}")


def line_from_coords(
    coords: Sequence[Sequence[float]] | NDArray[np.float64], *, what: str
) -> shapely.LineString:
    """A checked line from (lon, lat) vertices: each vertex lon/lat degrees, repeats dropped, at
    least two different points and 1 m on the ground; ``what`` names it in the error."""
    xy = np.asarray(coords, dtype=float)
    if xy.ndim != 2 or xy.shape[0] == 0:
        raise InputError(f"the {what} has no coordinates")
    xy = xy[:, :2]
    _check_coords(xy, what=f"{what} point")
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)  # drop repeated vertices
    xy = xy[keep]
    if len(xy) < 2:
        raise InputError(
            f"the {what} has a single point (or all its points are the same): a route needs "
            "at least two different points"
        )
    line = shapely.LineString(xy)
    if GEOD.geometry_length(line) < 1.0:
        raise InputError(f"the {what} is zero-length (under 1 m on the ground)")
    return line


def route_from_waypoints(text: str) -> RouteInput:
    """``"NAME@LON,LAT;NAME@LON,LAT;..."`` (names optional: ``"LON,LAT;LON,LAT"``).

    Example:
        >>> route_from_waypoints("Station@-1.5477,53.7951;Wortley@-1.5760,53.7930").stops[1].name
        'Wortley'
    """
    parts = [p.strip() for p in text.split(";") if p.strip()]
    stops: list[Stop] = []
    for i, part in enumerate(parts, start=1):
        name, _, xy = part.rpartition("@")
        bits = [b.strip() for b in xy.split(",")]
        if len(bits) != 2:
            raise InputError(
                f"way-point {i} {part!r}: expected NAME@LON,LAT", field="waypoints", row=i
            )
        try:
            lon, lat = float(bits[0]), float(bits[1])
        except ValueError:
            raise InputError(
                f"way-point {i} {part!r}: LON and LAT must be numbers", field="waypoints", row=i
            ) from None
        check_lon_lat(lon, lat, what=f"way-point {i} ({name or 'unnamed'})")
        stops.append(Stop(name.strip() or f"Point {i}", lon, lat))
    line = line_from_coords([(s.lon, s.lat) for s in stops], what="way-point list")
    _, _, dist = GEOD.inv(
        [s.lon for s in stops[:-1]], [s.lat for s in stops[:-1]],
        [s.lon for s in stops[1:]], [s.lat for s in stops[1:]],
    )  # fmt: skip
    cum = [0.0, *np.cumsum(np.atleast_1d(dist)).tolist()]
    return RouteInput(line, stops, "waypoints", stop_distances_m=cum)


def merge_parts(
    parts: Sequence[NDArray[np.float64]], *, snap_deg: float = 1e-6
) -> NDArray[np.float64]:
    """Chain line parts into one sequence of vertices, in order, reversing a part where its end
    meets the chain; where parts do not meet, the gap is bridged by a straight line."""
    chain = [np.asarray(parts[0], dtype=float)[:, :2]]
    remaining = [np.asarray(p, dtype=float)[:, :2] for p in parts[1:]]
    # the first part may run backwards: orient it towards the nearest end of the next part
    if remaining:
        nxt = remaining[0]
        head, tail = chain[0][0], chain[0][-1]
        ends = np.vstack([nxt[0], nxt[-1]])
        if np.min(np.hypot(*(ends - head).T)) < np.min(np.hypot(*(ends - tail).T)):
            chain[0] = chain[0][::-1]
    while remaining:
        end = chain[-1][-1]
        # the part whose start or end is nearest the chain's end goes next
        best, best_d, flip = 0, math.inf, False
        for i, p in enumerate(remaining):
            for rev, pt in ((False, p[0]), (True, p[-1])):
                d = float(np.hypot(*(pt - end)))
                if d < best_d:
                    best, best_d, flip = i, d, rev
        part = remaining.pop(best)
        part = part[::-1] if flip else part
        if best_d <= snap_deg:
            part = part[1:]
        chain.append(part)
    return np.vstack(chain)


def _load_geojson(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid GeoJSON: {exc}", file=str(path)) from None
    if not isinstance(doc, dict):
        raise InputError("not a GeoJSON object", file=str(path))
    return doc


def route_from_geojson(path: str | Path) -> RouteInput:
    """A GeoJSON LineString or MultiLineString (a geometry, a Feature, or the first line in a
    FeatureCollection); Point features with a ``name`` become stops, placed along the line."""
    path = Path(path)
    doc = _load_geojson(path)
    features = (
        doc.get("features", [])
        if doc.get("type") == "FeatureCollection"
        else [doc if doc.get("type") == "Feature" else {"type": "Feature", "geometry": doc}]
    )
    line_geom: dict[str, Any] | None = None
    name: str | None = None
    stops: list[Stop] = []
    for i, feat in enumerate(features, start=1):
        geom = (feat or {}).get("geometry") or {}
        props = (feat or {}).get("properties") or {}
        kind = geom.get("type")
        if kind in ("LineString", "MultiLineString") and line_geom is None:
            line_geom, name = geom, props.get("name")
        elif kind == "Point":
            lon, lat = geom.get("coordinates", [None, None])[:2]
            check_lon_lat(float(lon), float(lat), what=f"{path.name}: feature {i}")
            stops.append(Stop(str(props.get("name") or f"Point {i}"), float(lon), float(lat)))
    if line_geom is None:
        raise InputError("no LineString or MultiLineString in the file", file=str(path))
    try:
        coords = line_geom["coordinates"]
        if line_geom["type"] == "MultiLineString":
            parts = [np.asarray(p, dtype=float) for p in coords if len(p)]
            if not parts:
                raise InputError("the MultiLineString is empty", file=str(path))
            coords = merge_parts(parts)
        line = line_from_coords(coords, what="line")
    except InputError as exc:
        raise InputError(exc.message, file=str(path)) from None
    except (TypeError, ValueError, KeyError) as exc:
        raise InputError(f"bad coordinates: {exc}", file=str(path)) from None
    if not stops:
        start, end = line.coords[0], line.coords[-1]
        stops = [Stop("Start", start[0], start[1]), Stop("End", end[0], end[1])]
    return RouteInput(line, stops, "geojson", name=name)


def route_from_gpx(path: str | Path) -> RouteInput:
    """The first track of a GPX file (all its segments, in order); GPX way-points become stops.
    A GPX with only a route (``<rte>``) uses the route; with neither, ``InputError``."""
    import gpxpy
    import gpxpy.gpx

    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            gpx = gpxpy.parse(fh)
    except FileNotFoundError:
        raise InputError("file not found", file=str(path)) from None
    except (gpxpy.gpx.GPXException, ValueError) as exc:
        raise InputError(f"not a valid GPX file: {exc}", file=str(path)) from None
    coords = [
        (p.longitude, p.latitude)
        for track in gpx.tracks[:1]
        for seg in track.segments
        for p in seg.points
    ]
    name = gpx.tracks[0].name if gpx.tracks else None
    if not coords and gpx.routes:
        coords = [(p.longitude, p.latitude) for p in gpx.routes[0].points]
        name = gpx.routes[0].name
    if not coords:
        raise InputError(
            "the GPX file has no track (no <trk> with points, and no <rte>)", file=str(path)
        )
    try:
        line = line_from_coords(coords, what="GPX track")
    except InputError as exc:
        raise InputError(exc.message, file=str(path)) from None
    stops = [
        Stop(w.name or f"Way-point {i}", w.longitude, w.latitude)
        for i, w in enumerate(gpx.waypoints, 1)
    ]
    if not stops:
        stops = [Stop("Start", *line.coords[0]), Stop("End", *line.coords[-1])]
    return RouteInput(line, stops, "gpx", name=name)


def _osm_file(data_dir: Path | None, rel: str) -> Path:
    if data_dir is None:
        raise InputError("no data directory: give --data or set STRENGTHMAP_DATA_DIR")
    path = Path(data_dir) / rel
    if not path.is_file():
        raise NotFound(f"{rel} is not in the data directory {data_dir}")
    return path


def route_from_stops(codes: Sequence[str] | str, data_dir: Path | None) -> RouteInput:
    """Stops by NaPTAN ATCO code (e.g. ``450010676``), looked up in the OSM bus stops file of the
    data directory; the route is drawn stop to stop in the order given."""
    if isinstance(codes, str):
        codes = [c.strip() for c in codes.split(",") if c.strip()]
    if len(codes) < 2:
        raise InputError("give at least two stop codes", field="stops")
    path = _osm_file(data_dir, OSM_STOPS_FILE)
    by_code: dict[str, Stop] = {}
    for feat in _load_geojson(path).get("features", []):
        props = feat.get("properties") or {}
        code = props.get("naptan_atcocode")
        if code and code not in by_code:
            lon, lat = feat["geometry"]["coordinates"][:2]
            label = props.get("naptan_commonname") or props.get("name") or code
            by_code[str(code)] = Stop(str(label), float(lon), float(lat), code=str(code))
    unknown = [c for c in codes if c not in by_code]
    if unknown:
        raise InputError(
            f"unknown stop code(s) {', '.join(unknown)}: not in {OSM_STOPS_FILE} "
            "(central Leeds OSM stops only; NaPTAN ATCO codes look like 450010676)",
            field="stops",
        )
    stops = [by_code[c] for c in codes]
    route = route_from_waypoints(
        ";".join(f"{s.name.replace(';', ',').replace('@', ' ')}@{s.lon},{s.lat}" for s in stops)
    )
    route.stops = stops
    route.source = "stops"
    route.attribution = [ATTRIBUTION_OSM]
    return route


def route_from_osm(ref: str, data_dir: Path | None, *, index: int = 0) -> RouteInput:
    """An OSM bus-route relation by its ``ref`` (e.g. ``"7"``) from the OSM routes file, its parts
    chained in order; ``index`` picks among relations sharing the ref (e.g. the two directions)."""
    path = _osm_file(data_dir, OSM_ROUTES_FILE)
    matches = [
        f
        for f in _load_geojson(path).get("features", [])
        if str((f.get("properties") or {}).get("ref")) == str(ref)
    ]
    if not matches:
        raise InputError(
            f"no OSM bus route with ref {ref!r} in {OSM_ROUTES_FILE}", field="osm-route"
        )
    if not 0 <= index < len(matches):
        raise InputError(
            f"route {ref!r} has {len(matches)} relation(s); index {index} is out of range"
        )
    feat = matches[index]
    props = feat.get("properties") or {}
    geom = feat["geometry"]
    parts = geom["coordinates"] if geom["type"] == "MultiLineString" else [geom["coordinates"]]
    coords = merge_parts([np.asarray(p, dtype=float) for p in parts if len(p) >= 1])
    line = line_from_coords(coords, what=f"OSM route {ref}")
    start, end = line.coords[0], line.coords[-1]
    stops = [
        Stop(str(props.get("from") or "Start"), start[0], start[1]),
        Stop(str(props.get("to") or "End"), end[0], end[1]),
    ]
    return RouteInput(
        line, stops, "osm_route", name=props.get("name"), attribution=[ATTRIBUTION_OSM]
    )


def route_from_gtfs(path: str | Path, route_id: str) -> RouteInput:
    """A GTFS feed's route (read with gtfs-kit): the shape of its most common trip when
    ``shapes.txt`` has it, else the stops joined in order; the stops of that trip are the stops."""
    import gtfs_kit as gk

    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    try:
        feed = gk.read_feed(path, dist_units="km")
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"not a readable GTFS feed: {exc}", file=str(path)) from None
    routes = feed.routes
    if routes is None or routes.empty or feed.trips is None or feed.trips.empty:
        raise InputError("the GTFS feed is empty (no routes or no trips)", file=str(path))
    if feed.stops is None or feed.stops.empty or feed.stop_times is None or feed.stop_times.empty:
        raise InputError("the GTFS feed has no stops or stop_times", file=str(path))
    if str(route_id) not in set(routes.route_id.astype(str)):
        known = ", ".join(sorted(routes.route_id.astype(str))[:10])
        raise InputError(
            f"route {route_id!r} is not in the feed (routes: {known})",
            file=str(path),
            field="route_id",
        )
    trips = feed.trips[feed.trips.route_id.astype(str) == str(route_id)]
    if trips.empty:
        raise InputError(f"route {route_id!r} has no trips", file=str(path))
    st = feed.stop_times[feed.stop_times.trip_id.isin(trips.trip_id)]
    counts = st.groupby("trip_id").size()
    has_shape = (
        "shape_id" in trips.columns and trips.shape_id.notna().any() and feed.shapes is not None
    )
    if has_shape:
        common = trips.shape_id.value_counts().index[0]
        cand = trips[trips.shape_id == common].trip_id
        trip_id = counts.reindex(cand).fillna(0).idxmax()
    else:
        trip_id = counts.idxmax()
    trip_st = (
        st[st.trip_id == trip_id]
        .sort_values("stop_sequence")
        .merge(feed.stops, on="stop_id", how="left")
    )
    if trip_st.stop_lon.isna().any():
        missing = ", ".join(trip_st[trip_st.stop_lon.isna()].stop_id.astype(str))
        raise InputError(f"stop_times name stops missing from stops.txt: {missing}", file=str(path))
    stops = [
        Stop(
            str(r.stop_name if isinstance(r.stop_name, str) else r.stop_id),
            float(r.stop_lon),
            float(r.stop_lat),
            code=str(r.stop_id),
        )
        for r in trip_st.itertuples()
    ]
    if has_shape:
        shape_id = trips[trips.trip_id == trip_id].shape_id.iloc[0]
        pts = feed.shapes[feed.shapes.shape_id == shape_id].sort_values("shape_pt_sequence")
        coords = pts[["shape_pt_lon", "shape_pt_lat"]].to_numpy(dtype=float)
    else:
        coords = np.array([(s.lon, s.lat) for s in stops])
    try:
        line = line_from_coords(coords, what=f"GTFS route {route_id}")
    except InputError as exc:
        raise InputError(exc.message, file=str(path)) from None
    name_row = routes[routes.route_id.astype(str) == str(route_id)].iloc[0]
    name = next(
        (
            str(name_row[c])
            for c in ("route_short_name", "route_long_name")
            if c in name_row and isinstance(name_row[c], str)
        ),
        None,
    )
    return RouteInput(line, stops, "gtfs", name=name)


def as_route(
    line_or_input: RouteInput
    | shapely.LineString
    | shapely.MultiLineString
    | str
    | Sequence[Sequence[float]],
) -> RouteInput:
    """Accept a ``RouteInput``, a way-point string, a shapely line or a list of (lon, lat)."""
    if isinstance(line_or_input, RouteInput):
        return line_or_input
    if isinstance(line_or_input, str):
        return route_from_waypoints(line_or_input)
    if isinstance(line_or_input, shapely.MultiLineString):
        coords = merge_parts([np.asarray(g.coords) for g in line_or_input.geoms])
        line = line_from_coords(coords, what="line")
    elif isinstance(line_or_input, shapely.LineString):
        line = line_from_coords(np.asarray(line_or_input.coords), what="line")
    else:
        line = line_from_coords(line_or_input, what="line")
    start, end = line.coords[0], line.coords[-1]
    return RouteInput(
        line, [Stop("Start", start[0], start[1]), Stop("End", end[0], end[1])], "line"
    )


__all__ = [
    "ATTRIBUTION_OSM",
    "OSM_ROUTES_FILE",
    "OSM_STOPS_FILE",
    "RouteInput",
    "Stop",
    "as_route",
    "line_from_coords",
    "merge_parts",
    "route_from_geojson",
    "route_from_gpx",
    "route_from_gtfs",
    "route_from_osm",
    "route_from_stops",
    "route_from_waypoints",
]
