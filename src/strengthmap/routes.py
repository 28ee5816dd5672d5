"""The inequality profile along any line: a bus route, a walk, a drawn path ("Lives on the Line").

Example:
    >>> route = route_from_waypoints("Centre@-1.5478,53.7965;Harehills@-1.5100,53.8120;Wetherby@-1.3860,53.9280")
    >>> [s.name for s in route.stops], round(route.length_m())
    (['Centre', 'Harehills', 'Wetherby'], 18301)
    >>> profile = profile_route(store, route, every_m=500, imd_release=2019)   # doctest: +SKIP
    >>> profile.to_dict()["points"][0]["msoa_code"]                             # doctest: +SKIP
    'E02006875'

A route is sampled at every stop (or way-point) and every ``every_m`` metres along the line;
distances are measured on the ground along the WGS84 ellipsoid (pyproj ``Geod``), never in
degrees. Each point gets its LSOA (of the IMD release's vintage: 2011 for IMD 2019, 2021 for IMD
2025) and MSOA 2011, the IMD decile and rank, and life expectancy at birth (male and female, 95%
CI). Points outside the loaded areas, or where a value is suppressed, stay in the profile with a
flag: nothing is dropped or guessed.
"""

from __future__ import annotations

import itertools
import json
import math
import weakref
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy import func, select

from strengthmap import indicators
from strengthmap.errors import InputError, NotFound
from strengthmap.geography import GEOD, OUTSIDE, AreaIndex, check_lon_lat
from strengthmap.indicators import Estimate
from strengthmap.storage import Store, schema

#: The OSM files of the data directory used for ``--stops`` and ``--osm-route``.
OSM_STOPS_FILE = "transport/leeds_central_osm_bus_stops_2022.geojson"
OSM_ROUTES_FILE = "transport/leeds_central_osm_bus_routes_2022.geojson"

ATTRIBUTION_OGL = (
    "Source: Office for National Statistics (life expectancy 2016 to 2020, boundaries; "
    "contains OS data © Crown copyright and database right 2021) and MHCLG English Indices of "
    "Deprivation, licensed under the Open Government Licence v3.0"
)
ATTRIBUTION_OSM = "© OpenStreetMap contributors, ODbL 1.0"

SEXES = ("male", "female")


# --- inputs ------------------------------------------------------------------------------------


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
        return float(GEOD.geometry_length(self.line))


def _check_coords(coords: np.ndarray, *, what: str) -> None:
    """Every vertex must be lon/lat degrees; the first bad one is named (OSGB or swapped)."""
    for i, (lon, lat) in enumerate(coords):
        check_lon_lat(float(lon), float(lat), what=f"{what} {i + 1}")


def _line(coords: Sequence[Sequence[float]] | np.ndarray, *, what: str) -> shapely.LineString:
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
    line = _line([(s.lon, s.lat) for s in stops], what="way-point list")
    _, _, dist = GEOD.inv(
        [s.lon for s in stops[:-1]], [s.lat for s in stops[:-1]],
        [s.lon for s in stops[1:]], [s.lat for s in stops[1:]],
    )  # fmt: skip
    cum = [0.0, *np.cumsum(np.atleast_1d(dist)).tolist()]
    return RouteInput(line, stops, "waypoints", stop_distances_m=cum)


def _merge_parts(parts: list[np.ndarray], *, snap_deg: float = 1e-6) -> np.ndarray:
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
            coords = _merge_parts(parts)
        line = _line(coords, what="line")
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
        line = _line(coords, what="GPX track")
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
    coords = _merge_parts([np.asarray(p, dtype=float) for p in parts if len(p) >= 1])
    line = _line(coords, what=f"OSM route {ref}")
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
        line = _line(coords, what=f"GTFS route {route_id}")
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
        coords = _merge_parts([np.asarray(g.coords) for g in line_or_input.geoms])
        line = _line(coords, what="line")
    elif isinstance(line_or_input, shapely.LineString):
        line = _line(np.asarray(line_or_input.coords), what="line")
    else:
        line = _line(line_or_input, what="line")
    start, end = line.coords[0], line.coords[-1]
    return RouteInput(
        line, [Stop("Start", start[0], start[1]), Stop("End", end[0], end[1])], "line"
    )


# --- the data a profile reads, loaded once per store ----------------------------------------


@dataclass
class Assets:
    """The directory's located assets (``Location`` rows with latitude/longitude, not retired):
    lon/lat degrees, name, ABCD kind, and the attribution of the dataset each came from."""

    lonlat: np.ndarray  # shape (n, 2), degrees
    names: list[str | None]
    kinds: list[str | None]
    sources: list[str | None]
    attribution: dict[str, str]  # dataset id -> attribution text

    @classmethod
    def from_store(cls, store: Store) -> Assets:
        with store.session() as session:
            rows = session.execute(
                select(
                    schema.Location.longitude,
                    schema.Location.latitude,
                    schema.Location.name,
                    schema.Location.abcd_kind,
                    schema.Location.source,
                )
                .where(
                    schema.Location.longitude.is_not(None),
                    schema.Location.latitude.is_not(None),
                    schema.Location.retired_at.is_(None),
                )
                .order_by(schema.Location.id)
            ).all()
            used = {r.source for r in rows if r.source}
            attribution = {
                d.id: d.attribution
                for d in session.scalars(select(schema.Dataset).where(schema.Dataset.id.in_(used)))
                if d.attribution
            }
        lonlat = np.array([(r.longitude, r.latitude) for r in rows], dtype=float).reshape(-1, 2)
        return cls(
            lonlat,
            [r.name for r in rows],
            [r.abcd_kind for r in rows],
            [r.source for r in rows],
            attribution,
        )

    def __len__(self) -> int:
        return len(self.lonlat)

    def within(
        self, lon: np.ndarray, lat: np.ndarray, radius_m: float
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each point: the indexes of the assets within ``radius_m`` metres (ellipsoid
        distance, WGS84) and their distances, nearest first (ties by index).

        Candidates come from a k-d tree in a local azimuthal equidistant projection (centred on
        the points, searched with a 1% + 1 m margin for its distortion); each candidate is then
        measured exactly on the ellipsoid, so the result equals a brute-force ``Geod.inv`` test.
        """
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=float))
        if not len(self) or not len(lon):
            return [empty for _ in range(len(lon))]
        from pyproj import CRS, Transformer
        from scipy.spatial import cKDTree

        lon0, lat0 = float(np.mean(lon)), float(np.mean(lat))
        aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")
        to_m = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
        ax, ay = to_m.transform(self.lonlat[:, 0], self.lonlat[:, 1])
        px, py = to_m.transform(lon, lat)
        tree = cKDTree(np.column_stack([ax, ay]))
        cands = tree.query_ball_point(np.column_stack([px, py]), r=radius_m * 1.01 + 1.0)
        n_cand = np.fromiter((len(c) for c in cands), dtype=np.int64, count=len(cands))
        point = np.repeat(np.arange(len(lon)), n_cand)
        asset = np.fromiter(itertools.chain.from_iterable(cands), dtype=np.int64, count=len(point))
        _, _, d = GEOD.inv(lon[point], lat[point], self.lonlat[asset, 0], self.lonlat[asset, 1])
        d = np.atleast_1d(np.asarray(d, dtype=float))
        keep = d <= radius_m
        point, asset, d = point[keep], asset[keep], d[keep]
        order = np.lexsort((asset, d, point))  # by point, then nearest first, ties by index
        point, asset, d = point[order], asset[order], d[order]
        bounds = np.searchsorted(point, np.arange(len(lon) + 1))
        return [(asset[i:j], d[i:j]) for i, j in itertools.pairwise(bounds)]


#: How many of the nearest assets each point lists (all are counted).
ASSETS_NEAREST = 3


@dataclass
class ProfileData:
    """Area indexes and indicator tables for profiling, built once per store and IMD release."""

    imd_release: int | None
    lsoa: AreaIndex | None
    msoa: AreaIndex | None
    imd: dict[str, tuple[int, int, int]]
    le: dict[str, dict[str, Estimate]]
    assets: Assets | None = None

    @classmethod
    def from_store(cls, store: Store, imd_release: int | None = None) -> ProfileData:
        releases = indicators.imd_releases(store)
        if imd_release is None:
            imd_release = releases[-1] if releases else None
        elif imd_release not in indicators.IMD_VINTAGE:
            raise InputError(
                f"unknown IMD release {imd_release}: use 2019 or 2025", field="imd_release"
            )
        elif imd_release not in releases:
            raise NotFound(f"IMD {imd_release} is not loaded (loaded: {releases or 'none'})")
        vintage = indicators.IMD_VINTAGE.get(imd_release, 2011) if imd_release else 2011
        try:
            lsoa: AreaIndex | None = AreaIndex.from_store(store, level="lsoa", vintage=vintage)
        except NotFound:
            lsoa = None
        try:
            msoa: AreaIndex | None = AreaIndex.from_store(store, level="msoa", vintage=2011)
        except NotFound:
            msoa = None
        if lsoa is None and msoa is None:
            raise NotFound(
                "no LSOA or MSOA boundaries are loaded: run `strengthmap data load` first"
            )
        imd = indicators.imd_by_code(store, imd_release) if imd_release else {}
        le = indicators.life_expectancy(store)
        return cls(imd_release, lsoa, msoa, imd, le, Assets.from_store(store))


_CACHE: weakref.WeakKeyDictionary[Store, dict[tuple[Any, ...], ProfileData]] = (
    weakref.WeakKeyDictionary()
)


def _fingerprint(store: Store) -> tuple[Any, ...]:
    with store.session() as session:
        ds = session.execute(
            select(func.count(), func.max(schema.Dataset.loaded_at)).select_from(schema.Dataset)
        ).one()
        loc = session.execute(
            select(func.count(), func.max(schema.Location.updated_at)).select_from(schema.Location)
        ).one()
    return (ds[0], str(ds[1]), loc[0], str(loc[1]))


def profile_data(store: Store, imd_release: int | None = None) -> ProfileData:
    """``ProfileData.from_store``, cached per store until a dataset or location is added."""
    key = (imd_release, *_fingerprint(store))
    per_store = _CACHE.setdefault(store, {})
    if key not in per_store:
        per_store.clear()
        per_store[key] = ProfileData.from_store(store, imd_release)
    return per_store[key]


# --- the profile -----------------------------------------------------------------------------


@dataclass
class RouteProfile:
    """The sampled points and the summary; ``to_dict()`` is the JSON of the CLI and the API."""

    points: list[dict[str, Any]]
    summary: dict[str, Any]
    route: RouteInput

    def to_dict(self) -> dict[str, Any]:
        return {"points": self.points, "summary": self.summary}

    @property
    def stops(self) -> list[dict[str, Any]]:
        return [p for p in self.points if p["kind"] == "stop"]


def _stop_distances(route: RouteInput, cum: np.ndarray, seg_m: np.ndarray) -> np.ndarray:
    """Distance along the line of each stop: exact for way-points, else the stop projected onto
    the line (in a local metric projection) and mapped to the ellipsoid distance of that segment."""
    if route.stop_distances_m is not None and len(route.stop_distances_m) == len(route.stops):
        return np.asarray(route.stop_distances_m, dtype=float)
    from pyproj import CRS, Transformer

    c = route.line.centroid
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m")
    to_m = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    xy = np.asarray(route.line.coords)
    px, py = to_m.transform(xy[:, 0], xy[:, 1])
    planar = shapely.LineString(np.column_stack([px, py]))
    plen = np.hypot(np.diff(px), np.diff(py))
    pcum = np.concatenate([[0.0], np.cumsum(plen)])
    sx, sy = to_m.transform([s.lon for s in route.stops], [s.lat for s in route.stops])
    along = shapely.line_locate_point(planar, shapely.points(sx, sy))
    k = np.clip(np.searchsorted(pcum, along, side="right") - 1, 0, len(plen) - 1)
    frac = np.where(plen[k] > 0, (along - pcum[k]) / np.where(plen[k] > 0, plen[k], 1), 0.0)
    return np.asarray(cum[k] + np.clip(frac, 0, 1) * seg_m[k], dtype=float)


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), nd)


def profile_route(
    store: Store,
    line_or_input: RouteInput
    | shapely.LineString
    | shapely.MultiLineString
    | str
    | Sequence[Sequence[float]],
    *,
    every_m: float = 250,
    imd_release: int | None = None,
    radius_m: float | None = None,
    data: ProfileData | None = None,
    assets_nearest: int = ASSETS_NEAREST,
) -> RouteProfile:
    """Profile a route: every stop and a point every ``every_m`` metres, each with its areas,
    IMD and life expectancy (see the module docstring). ``data`` reuses loaded indexes (by
    default they are cached per store).

    ``radius_m`` adds ``assets_within`` to each point: ``{"count", "nearest": [{"name",
    "abcd_kind", "distance_m"}, ...]}``, the directory's located assets (``Location`` rows with
    latitude/longitude, not retired) within that many metres on the ellipsoid, all counted and
    the ``assets_nearest`` nearest listed.

    Example:
        >>> walk = "Leeds station@-1.5477,53.7951;New Wortley@-1.5790,53.7940"
        >>> p = profile_route(store, walk, every_m=250, radius_m=250)       # doctest: +SKIP
        >>> p.points[0]["assets_within"]["count"] > 0                        # doctest: +SKIP
        True
    """
    if not (every_m > 0 and math.isfinite(every_m)):
        raise InputError("--every must be a positive number of metres", field="every_m")
    if radius_m is not None and not (radius_m > 0 and math.isfinite(radius_m)):
        raise InputError("radius must be a positive number of metres", field="radius_m")
    if assets_nearest < 0:
        raise InputError("assets_nearest must be 0 or more", field="assets_nearest")
    route = as_route(line_or_input)
    data = data or profile_data(store, imd_release)

    xy = np.asarray(route.line.coords, dtype=float)[:, :2]
    az, _, seg_m = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    az, seg_m = np.atleast_1d(az), np.atleast_1d(seg_m)
    cum = np.concatenate([[0.0], np.cumsum(seg_m)])
    total = float(cum[-1])
    n_samples = int(total // every_m) + 1
    if n_samples > 2_000_000:
        raise InputError(f"{n_samples:,} samples is too many: raise --every", field="every_m")
    sample_d = np.arange(n_samples, dtype=float) * every_m
    if total - sample_d[-1] > 1e-6:
        sample_d = np.append(sample_d, total)
    stop_d = _stop_distances(route, cum, seg_m)
    # a sample within 1 m of a stop is that stop
    if len(stop_d):
        near = (
            np.abs(sample_d[:, None] - stop_d[None, :]).min(axis=1) < 1.0
            if len(sample_d) * len(stop_d) < 5e7
            else np.zeros(len(sample_d), bool)
        )
        sample_d = sample_d[~near]
    k = np.clip(np.searchsorted(cum, sample_d, side="right") - 1, 0, len(seg_m) - 1)
    s_lon, s_lat, _ = GEOD.fwd(xy[k, 0], xy[k, 1], az[k], sample_d - cum[k])
    s_lon, s_lat = np.atleast_1d(s_lon), np.atleast_1d(s_lat)

    lon = np.concatenate([[s.lon for s in route.stops], s_lon])
    lat = np.concatenate([[s.lat for s in route.stops], s_lat])
    dist = np.concatenate([stop_d, sample_d])
    n_stops = len(route.stops)
    order = np.lexsort((np.arange(len(dist)) >= n_stops, dist))  # stops first on ties
    lon, lat, dist = lon[order], lat[order], dist[order]
    is_stop = order < n_stops

    lsoa = (
        data.lsoa.locate(lon, lat) if data.lsoa is not None else np.full(len(lon), OUTSIDE, object)
    )
    msoa = (
        data.msoa.locate(lon, lat) if data.msoa is not None else np.full(len(lon), OUTSIDE, object)
    )
    within = None
    if radius_m is not None:
        found = data.assets or Assets(np.zeros((0, 2)), [], [], [], {})
        within = found.within(lon, lat, radius_m)

    empty = {"value": None, "lower": None, "upper": None}
    points: list[dict[str, Any]] = []
    for i in range(len(lon)):
        flags: list[str] = []
        lc, mc = str(lsoa[i]), str(msoa[i])
        if lc == OUTSIDE:
            flags.append("outside_lsoa_coverage")
        if mc == OUTSIDE:
            flags.append("outside_msoa_coverage")
        imd = data.imd.get(lc) if lc != OUTSIDE else None
        if lc != OUTSIDE and imd is None:
            flags.append("no_imd")
        le_area = data.le.get(mc, {}) if mc != OUTSIDE else {}
        le: dict[str, Any] = {}
        for sex in SEXES:
            est = le_area.get(sex)
            if est is None:
                le[sex] = dict(empty)
                if mc != OUTSIDE:
                    flags.append(f"no_le_{sex}")
            else:
                le[sex] = {"value": _r(est.value), "lower": _r(est.lower), "upper": _r(est.upper)}
                if est.suppressed:
                    flags.append(f"le_{sex}_suppressed")
        stop = route.stops[order[i]] if is_stop[i] else None
        point: dict[str, Any] = {
            "name": stop.name if stop else None,
            "kind": "stop" if stop else "sample",
            "lon": round(float(lon[i]), 6),
            "lat": round(float(lat[i]), 6),
            "distance_m": round(float(dist[i]), 1),
            "lsoa_code": lc if lc != OUTSIDE else None,
            "msoa_code": mc if mc != OUTSIDE else None,
            "imd_decile": imd[0] if imd else None,
            "imd_rank": imd[1] if imd else None,
            "life_expectancy": le,
            "flags": flags,
        }
        if stop and stop.code:
            point["stop_code"] = stop.code
        if within is not None:
            idx, d = within[i]
            point["assets_within"] = {
                "count": len(idx),
                "nearest": [
                    {"name": found.names[j], "abcd_kind": found.kinds[j], "distance_m": round(float(m), 1)}
                    for j, m in zip(idx[:assets_nearest], d[:assets_nearest], strict=True)
                ],
            }  # fmt: skip
        points.append(point)
    summary = _summary(points, route, data, total, every_m, radius_m)
    if within is not None:
        # distinct assets within the radius of any point, by ABCD kind
        near_any = sorted({int(j) for idx, _ in within for j in idx})
        kinds = Counter(found.kinds[j] or "unknown" for j in near_any)
        summary["assets_near_route"] = len(near_any)
        summary["assets_near_route_by_kind"] = dict(sorted(kinds.items()))
        # the licence of every dataset an asset within the radius came from
        used = sorted({src for j in near_any if (src := found.sources[j])})
        extra = [found.attribution[u] for u in used if u in found.attribution]
        summary["attribution"] += [a for a in extra if a not in summary["attribution"]]
    return RouteProfile(points, summary, route)


def _ref(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": p["name"],
        "distance_m": p["distance_m"],
        "lsoa_code": p["lsoa_code"],
        "msoa_code": p["msoa_code"],
    }


#: The measures of the "largest changes" lists, each in its own unit (years, decile, rank).
CHANGE_MEASURES = ("life_expectancy_male", "life_expectancy_female", "imd_decile", "imd_rank")


def _measure(p: dict[str, Any], measure: str) -> float | None:
    if measure.startswith("life_expectancy_"):
        sex = measure.removeprefix("life_expectancy_")
        value: float | None = p["life_expectancy"][sex]["value"]
        return value
    value = p[measure]
    return value


def _changes_by_measure(
    seq: list[dict[str, Any]], limit: int = 5
) -> dict[str, list[dict[str, Any]]]:
    """The largest changes between consecutive points of ``seq``, one list per measure (LE in
    years for each sex, IMD decile, IMD rank), each ranked by the size of the change (ties: first
    along the route first). A pair where either side has no value is skipped."""
    out: dict[str, list[dict[str, Any]]] = {}
    for measure in CHANGE_MEASURES:
        found: list[dict[str, Any]] = []
        for a, b in itertools.pairwise(seq):
            va, vb = _measure(a, measure), _measure(b, measure)
            if va is not None and vb is not None and va != vb:
                change = round(vb - va, 3) if measure.startswith("life") else vb - va
                found.append({"measure": measure, "from": _ref(a), "to": _ref(b), "change": change})
        found.sort(key=lambda c: (-abs(c["change"]), c["from"]["distance_m"]))
        out[measure] = found[:limit]
    return out


def _interleave(
    by_measure: dict[str, list[dict[str, Any]]], limit: int = 5
) -> list[dict[str, Any]]:
    """One list from the per-measure lists (LE male, LE female, IMD decile), taking each
    measure's next largest in turn: years and deciles are never ranked against each other."""
    lists = [by_measure[m] for m in CHANGE_MEASURES if m != "imd_rank"]
    merged = [c for group in itertools.zip_longest(*lists) for c in group if c is not None]
    return merged[:limit]


def _summary(
    points: list[dict[str, Any]],
    route: RouteInput,
    data: ProfileData,
    total: float,
    every_m: float,
    radius_m: float | None,
) -> dict[str, Any]:
    stops = [p for p in points if p["kind"] == "stop"]
    le_summary: dict[str, Any] = {}
    for sex in SEXES:
        have = [p for p in points if p["life_expectancy"][sex]["value"] is not None]
        if not have:
            le_summary[sex] = None
            continue
        lo = min(have, key=lambda p: (p["life_expectancy"][sex]["value"], p["distance_m"]))
        hi = max(have, key=lambda p: (p["life_expectancy"][sex]["value"], -p["distance_m"]))
        e_lo = Estimate(**lo["life_expectancy"][sex])
        e_hi = Estimate(**hi["life_expectancy"][sex])
        cmp = indicators.compare(e_hi, e_lo)
        le_summary[sex] = {
            "min": {**lo["life_expectancy"][sex], **_ref(lo)},
            "max": {**hi["life_expectancy"][sex], **_ref(hi)},
            "gap_years": _r(cmp.difference),
            "significant": cmp.significant,
            "comparison": cmp.text,
        }
    with_imd = [p for p in points if p["imd_decile"] is not None]
    imd_summary: dict[str, Any] | None = None
    if with_imd:
        most = min(with_imd, key=lambda p: (p["imd_rank"], p["distance_m"]))
        least = max(with_imd, key=lambda p: (p["imd_rank"], -p["distance_m"]))
        imd_summary = {
            "release": data.imd_release,
            "decile_min": min(p["imd_decile"] for p in with_imd),
            "decile_max": max(p["imd_decile"] for p in with_imd),
            "rank_min": most["imd_rank"],
            "rank_max": least["imd_rank"],
            "most_deprived": {
                **_ref(most),
                "imd_decile": most["imd_decile"],
                "imd_rank": most["imd_rank"],
            },
            "least_deprived": {
                **_ref(least),
                "imd_decile": least["imd_decile"],
                "imd_rank": least["imd_rank"],
            },
            "points_in_decile_1": sum(1 for p in with_imd if p["imd_decile"] == 1),
        }
    attribution = [ATTRIBUTION_OGL, *route.attribution]
    stop_changes, point_changes = _changes_by_measure(stops), _changes_by_measure(points)
    summary: dict[str, Any] = {
        "source": route.source,
        "name": route.name,
        "length_m": round(total, 1),
        "every_m": every_m,
        "imd_release": data.imd_release,
        "lsoa_vintage": data.lsoa.vintage if data.lsoa is not None else None,
        "msoa_vintage": 2011,
        "n_points": len(points),
        "n_stops": len(stops),
        "n_outside": sum(
            1
            for p in points
            if "outside_lsoa_coverage" in p["flags"] or "outside_msoa_coverage" in p["flags"]
        ),
        "n_le_suppressed": sum(
            1 for p in points if any(f.endswith("_suppressed") for f in p["flags"])
        ),
        "life_expectancy": le_summary,
        "imd": imd_summary,
        # kept for compatibility: the per-measure lists interleaved (see ``_interleave``)
        "largest_stop_changes": _interleave(stop_changes),
        "largest_point_changes": _interleave(point_changes),
        # one list per measure, each in its own unit
        "largest_stop_changes_by_measure": stop_changes,
        "largest_point_changes_by_measure": point_changes,
        "attribution": attribution,
    }
    if radius_m is not None:
        summary["radius_m"] = radius_m
        summary["assets_within_max"] = max((p["assets_within"]["count"] for p in points), default=0)
    return summary


__all__ = [
    "ATTRIBUTION_OGL",
    "ATTRIBUTION_OSM",
    "OSM_ROUTES_FILE",
    "OSM_STOPS_FILE",
    "ProfileData",
    "RouteInput",
    "RouteProfile",
    "Stop",
    "as_route",
    "profile_data",
    "profile_route",
    "route_from_geojson",
    "route_from_gpx",
    "route_from_gtfs",
    "route_from_osm",
    "route_from_stops",
    "route_from_waypoints",
]
