"""Sampling a route: every stop, and a point every N metres along the line on the ellipsoid.

Example:
    >>> from strengthmap.sources.transport import route_from_waypoints
    >>> s = sample_route(route_from_waypoints("A@-1.5478,53.7965;B@-1.5100,53.8120"), every_m=1000)
    >>> s.distance_m.round(1).tolist(), s.stop.tolist(), round(s.length_m, 1)
    ([0.0, 1000.0, 2000.0, 3000.0, 3029.6], [0, -1, -1, -1, 1], 3029.6)

Distances are metres along the line on the WGS84 ellipsoid (pyproj ``Geod``), never degrees: a
sample is placed on its segment with ``Geod.fwd`` from the segment's start. A sample within 1 m of
a stop is that stop; on equal distances a stop comes before a sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from strengthmap.coords import GEOD
from strengthmap.errors import InputError
from strengthmap.sources.transport import RouteInput

#: More samples than this is a mistake (a tiny ``every_m`` on a long line), not a profile.
MAX_SAMPLES = 2_000_000


@dataclass(frozen=True)
class Samples:
    """The points of a profile in order along the route: lon/lat degrees, metres along the line,
    and for each the index of its stop in ``route.stops`` (``-1`` for a sample)."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    stop: NDArray[np.int64]
    length_m: float

    def __len__(self) -> int:
        return len(self.lon)


def stop_distances(
    route: RouteInput, cum_m: NDArray[np.float64], seg_m: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Distance along the line of each stop: exact for way-points, else the stop projected onto
    the line (in a local metric projection) and mapped to the ellipsoid distance of that segment.

    ``cum_m`` is the distance of each vertex along the line, ``seg_m`` each segment's length."""
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
    return np.asarray(cum_m[k] + np.clip(frac, 0, 1) * seg_m[k], dtype=float)


def sample_route(route: RouteInput, every_m: float) -> Samples:
    """Every stop of ``route`` and a point every ``every_m`` metres (and the line's end), in order
    along the line (see the module docstring)."""
    xy = np.asarray(route.line.coords, dtype=float)[:, :2]
    az, _, seg = GEOD.inv(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1])
    az, seg_m = np.atleast_1d(az), np.atleast_1d(np.asarray(seg, dtype=float))
    cum = np.concatenate([[0.0], np.cumsum(seg_m)])
    total = float(cum[-1])
    n_samples = int(total // every_m) + 1
    if n_samples > MAX_SAMPLES:
        raise InputError(f"{n_samples:,} samples is too many: raise --every", field="every_m")
    sample_d = np.arange(n_samples, dtype=float) * every_m
    if total - sample_d[-1] > 1e-6:
        sample_d = np.append(sample_d, total)
    stop_d = stop_distances(route, cum, seg_m)
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

    n_stops = len(route.stops)
    lon = np.concatenate([[s.lon for s in route.stops], np.atleast_1d(s_lon)])
    lat = np.concatenate([[s.lat for s in route.stops], np.atleast_1d(s_lat)])
    dist = np.concatenate([stop_d, sample_d])
    order = np.lexsort((np.arange(len(dist)) >= n_stops, dist))  # stops first on ties
    stop = np.where(order < n_stops, order, -1).astype(np.int64)
    return Samples(lon[order], lat[order], dist[order], stop, total)


__all__ = ["MAX_SAMPLES", "Samples", "sample_route", "stop_distances"]
