"""Coordinates and codes of places in Great Britain: lon/lat checked, the WGS84 ellipsoid, postcodes.

Example:
    >>> round(float(GEOD.inv(-1.5478, 53.7965, -1.5100, 53.8120)[2]))   # metres on the ground
    3030
    >>> normalise_postcode(" ls121be ")
    'LS12 1BE'

A core module (it imports only ``errors``): readers in ``sources/`` and the domain modules share
it, so neither imports the other for a coordinate check or a postcode's normal form.
"""

from __future__ import annotations

import math
import re

from pyproj import Geod

from strengthmap.errors import InputError

#: Distances along the ground: the WGS84 ellipsoid.
GEOD = Geod(ellps="WGS84")

#: Great Britain in lon/lat, generously: anything else is checked for swapped or OSGB numbers.
GB_LON = (-9.0, 3.0)
GB_LAT = (49.0, 61.5)

#: A UK postcode once normalised: outward code, one space, inward code (e.g. ``LS12 1BE``).
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")


def check_lon_lat(lon: float, lat: float, *, what: str = "point") -> None:
    """Raise ``InputError`` for coordinates that are not lon/lat degrees, saying what they look like.

    Example:
        >>> check_lon_lat(53.7965, -1.5478)
        Traceback (most recent call last):
        ...
        strengthmap.errors.InputError: point (53.7965, -1.5478): latitude and longitude look swapped (lat/lon given); give LON,LAT, e.g. -1.5478,53.7965
    """
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InputError(f"{what} ({lon}, {lat}): coordinates must be finite numbers")
    if abs(lon) > 180 or abs(lat) > 90:
        if 0 <= lon <= 700_000 and 0 <= lat <= 1_300_000:
            raise InputError(
                f"{what} ({lon:g}, {lat:g}): these look like OSGB36 British National Grid "
                "eastings/northings (EPSG:27700), not lon/lat degrees; convert them first "
                "(e.g. pyproj Transformer.from_crs('EPSG:27700', 'EPSG:4326', always_xy=True))"
            )
        raise InputError(f"{what} ({lon:g}, {lat:g}): not lon/lat degrees")
    in_gb = GB_LON[0] <= lon <= GB_LON[1] and GB_LAT[0] <= lat <= GB_LAT[1]
    swapped_gb = GB_LON[0] <= lat <= GB_LON[1] and GB_LAT[0] <= lon <= GB_LAT[1]
    if not in_gb and swapped_gb:
        raise InputError(
            f"{what} ({lon:g}, {lat:g}): latitude and longitude look swapped (lat/lon given); "
            f"give LON,LAT, e.g. {lat:g},{lon:g}"
        )


def normalise_postcode(text: str) -> str:
    """Upper case with one space before the last three characters (``"ls121be"`` -> ``"LS12 1BE"``)."""
    compact = re.sub(r"\s+", "", text).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


__all__ = ["GB_LAT", "GB_LON", "GEOD", "POSTCODE", "check_lon_lat", "normalise_postcode"]
