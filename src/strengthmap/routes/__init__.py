"""The inequality profile along any line: a bus route, a walk, a drawn path ("Lives on the Line").

Example:
    >>> route = route_from("preset", "centre-harehills-wetherby")
    >>> [s.name for s in route.stops], round(route.length_m())
    (['Centre', 'Harehills', 'Wetherby'], 18301)
    >>> profile = profile_route(store, route, every_m=500, imd_release=2019)   # doctest: +SKIP
    >>> profile.points[0].msoa_code, profile.to_dict()["points"][0]["msoa_code"]  # doctest: +SKIP
    ('E02006875', 'E02006875')

A route is sampled at every stop (or way-point) and every ``every_m`` metres along the line;
distances are measured on the ground along the WGS84 ellipsoid (pyproj ``Geod``), never in
degrees. Each point gets its LSOA (of the IMD release's vintage: 2011 for IMD 2019, 2021 for IMD
2025) and MSOA 2011, the IMD decile and rank, and life expectancy at birth (male and female, 95%
CI). Points outside the loaded areas, or where a value is suppressed, stay in the profile with a
flag: nothing is dropped or guessed.

The package, by step: ``inputs`` (which route: ``route_from``, ``route_from_one_of``; the readers
are in ``strengthmap.sources.transport``), ``presets`` (the named routes), ``data`` (indexes and
tables loaded once per store), ``sampling`` (points along the line), ``profile`` (each point,
then the summary) and ``results`` (the typed result, ``RouteProfile``).
"""

from __future__ import annotations

from strengthmap.routes.data import ASSETS_NEAREST, Assets, ProfileData, profile_data
from strengthmap.routes.inputs import ROUTE_SOURCES, route_from, route_from_one_of
from strengthmap.routes.presets import PRESETS, RoutePreset, get_preset
from strengthmap.routes.profile import ATTRIBUTION_OGL, profile_route
from strengthmap.routes.results import (
    CHANGE_MEASURES,
    SEXES,
    ProfilePoint,
    RouteProfile,
    RouteSummary,
)
from strengthmap.routes.sampling import Samples, sample_route
from strengthmap.sources.transport import (
    ATTRIBUTION_OSM,
    OSM_ROUTES_FILE,
    OSM_STOPS_FILE,
    RouteInput,
    Stop,
    as_route,
    route_from_geojson,
    route_from_gpx,
    route_from_gtfs,
    route_from_osm,
    route_from_stops,
    route_from_waypoints,
)

__all__ = [
    "ASSETS_NEAREST",
    "ATTRIBUTION_OGL",
    "ATTRIBUTION_OSM",
    "CHANGE_MEASURES",
    "OSM_ROUTES_FILE",
    "OSM_STOPS_FILE",
    "PRESETS",
    "ROUTE_SOURCES",
    "SEXES",
    "Assets",
    "ProfileData",
    "ProfilePoint",
    "RouteInput",
    "RoutePreset",
    "RouteProfile",
    "RouteSummary",
    "Samples",
    "Stop",
    "as_route",
    "get_preset",
    "profile_data",
    "profile_route",
    "route_from",
    "route_from_geojson",
    "route_from_gpx",
    "route_from_gtfs",
    "route_from_one_of",
    "route_from_osm",
    "route_from_stops",
    "route_from_waypoints",
    "sample_route",
]
