"""Which route to profile: one route source (``route_from``), or exactly one of several given.

Example:
    >>> route_from("preset", "centre-harehills-wetherby").stops[1].name
    'Harehills'
    >>> route_from_one_of({"--waypoints": "A@-1.5478,53.7965;B@-1.5100,53.8120", "--gpx": None}).source
    'waypoints'
    >>> route_from_one_of({"waypoints": None, "osm_route": None})
    Traceback (most recent call last):
    ...
    strengthmap.errors.InputError: give exactly one of waypoints, osm_route

The CLI (``--waypoints``, ``--osm-route`` ...), the API (``waypoints``, ``osm_route`` ...) and the
web page all pick their route here, so "exactly one source" is checked once and each error names
the parameters as the caller spells them. The readers themselves are in
``strengthmap.sources.transport``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from strengthmap.errors import InputError
from strengthmap.routes.presets import get_preset
from strengthmap.sources.transport import (
    RouteInput,
    route_from_geojson,
    route_from_gpx,
    route_from_gtfs,
    route_from_osm,
    route_from_stops,
    route_from_waypoints,
)

#: The route sources ``route_from`` takes, and what ``value`` is for each.
ROUTE_SOURCES: dict[str, str] = {
    "waypoints": '"NAME@LON,LAT;NAME@LON,LAT;..." (names optional)',
    "geojson": "a GeoJSON file with a LineString or MultiLineString",
    "gpx": "a GPX file (its first track, else its first route)",
    "osm_route": "the ref of an OSM bus route in the data directory, e.g. 7",
    "stops": "NaPTAN ATCO codes of OSM bus stops in the data directory, comma separated",
    "gtfs": "a GTFS feed (zip or folder); needs gtfs_route",
    "preset": "the name of a route preset (strengthmap.routes.PRESETS)",
}


def _gtfs(value: str | Path, data_dir: Path | None, gtfs_route: str | None) -> RouteInput:
    if gtfs_route is None:
        raise InputError("a GTFS feed needs the id of one of its routes (--gtfs-route ROUTE_ID)")
    return route_from_gtfs(value, gtfs_route)


#: Route sources read from a file: a preset's relative path is in the data directory.
FILE_SOURCES = frozenset({"geojson", "gpx", "gtfs"})


def _preset(value: str | Path, data_dir: Path | None, gtfs_route: str | None) -> RouteInput:
    preset = get_preset(str(value))
    source: str | Path = preset.value
    if preset.kind in FILE_SOURCES and data_dir is not None and not Path(source).is_absolute():
        source = Path(data_dir) / source
    route = route_from(preset.kind, source, data_dir=data_dir)
    route.name = route.name or preset.label
    return route


_Reader = Callable[[str | Path, Path | None, str | None], RouteInput]
_READERS: dict[str, _Reader] = {
    "waypoints": lambda value, data_dir, gtfs_route: route_from_waypoints(str(value)),
    "geojson": lambda value, data_dir, gtfs_route: route_from_geojson(value),
    "gpx": lambda value, data_dir, gtfs_route: route_from_gpx(value),
    "osm_route": lambda value, data_dir, gtfs_route: route_from_osm(str(value), data_dir),
    "stops": lambda value, data_dir, gtfs_route: route_from_stops(str(value), data_dir),
    "gtfs": _gtfs,
    "preset": _preset,
}


def route_from(
    kind: str,
    value: str | Path,
    *,
    data_dir: Path | None = None,
    gtfs_route: str | None = None,
) -> RouteInput:
    """The route given by one source (``ROUTE_SOURCES``): ``kind`` names it, ``value`` is the
    way-points text, the file, the OSM ref, the stop codes or the preset's name. ``data_dir``
    holds the OSM routes and stops; ``gtfs_route`` picks a GTFS feed's route."""
    reader = _READERS.get(kind)
    if reader is None:
        raise InputError(
            f"unknown route source {kind!r}; one of {', '.join(ROUTE_SOURCES)}", field="kind"
        )
    return reader(value, data_dir, gtfs_route)


def source_kind(name: str) -> str:
    """The route source a parameter names: ``--osm-route`` and ``osm_route`` are ``osm_route``."""
    kind = name.lstrip("-").replace("-", "_")
    if kind not in ROUTE_SOURCES:
        raise ValueError(f"{name!r} names no route source (one of {', '.join(ROUTE_SOURCES)})")
    return kind


def route_from_one_of(
    given: Mapping[str, str | Path | None],
    *,
    data_dir: Path | None = None,
    gtfs_route: str | None = None,
) -> RouteInput:
    """The route of the one source in ``given`` that is not None; keys are the parameters as the
    caller spells them (``"--osm-route"``, ``"osm_route"``), so the error for none or several
    ("give exactly one of ...") names them that way."""
    chosen = [(name, value) for name, value in given.items() if value is not None]
    if len(chosen) != 1:
        raise InputError(f"give exactly one of {', '.join(given)}")
    name, value = chosen[0]
    return route_from(source_kind(name), value, data_dir=data_dir, gtfs_route=gtfs_route)


__all__ = ["FILE_SOURCES", "ROUTE_SOURCES", "route_from", "route_from_one_of", "source_kind"]
