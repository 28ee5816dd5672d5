"""The routes offered by name: one definition used by the CLI, the API, the web page and the docs.

Example:
    >>> sorted(PRESETS)
    ['centre-harehills-wetherby', 'station-new-wortley']
    >>> get_preset("station-new-wortley").waypoints.split(";")[1]
    'Wellington Street@-1.5560,53.7965'

``strengthmap route profile --preset NAME``, ``GET /api/routes/profile?preset=NAME`` and
``/routes?route=NAME`` draw the same line; each recipe in ``docs/recipes/`` gives its preset's
way-points word for word (a test checks). A preset is a route source (``kind`` and ``value`` as
``route_from`` takes them), so a preset can also name a file of the data directory.
"""

from __future__ import annotations

from dataclasses import dataclass

from strengthmap.errors import InputError


@dataclass(frozen=True)
class RoutePreset:
    """A named route: what to call it, and the route source that draws it."""

    name: str
    label: str
    kind: str  # a route source of ``route_from``: "waypoints", "osm_route", "geojson" ...
    value: str
    recipe: str | None = None  # the docs recipe that profiles it (relative to docs/)

    @property
    def waypoints(self) -> str | None:
        """The way-points text (``NAME@LON,LAT;...``) of a way-point preset, else None."""
        return self.value if self.kind == "waypoints" else None


#: Every preset by name, in the order offered.
PRESETS: dict[str, RoutePreset] = {
    p.name: p
    for p in (
        RoutePreset(
            "centre-harehills-wetherby",
            "Bus: Leeds centre, Harehills, Wetherby (the documented route)",
            "waypoints",
            "Centre@-1.5478,53.7965;Harehills@-1.5100,53.8120;Wetherby@-1.3860,53.9280",
            recipe="recipes/bus-route-harehills-wetherby.md",
        ),
        RoutePreset(
            "station-new-wortley",
            "Walk: Leeds station, Wellington Street, New Wortley (the documented walk)",
            "waypoints",
            "Leeds station@-1.5477,53.7951;Wellington Street@-1.5560,53.7965;"
            "Wellington Road@-1.5640,53.7960;Wortley Lane@-1.5700,53.7935;"
            "New Wortley@-1.5790,53.7940",
            recipe="recipes/walk-station-new-wortley.md",
        ),
    )
}


def get_preset(name: str) -> RoutePreset:
    """The preset called ``name``; ``InputError`` naming the known ones otherwise."""
    try:
        return PRESETS[name.strip()]
    except KeyError:
        raise InputError(
            f"unknown route preset {name!r}; one of {', '.join(PRESETS)}", field="preset"
        ) from None


__all__ = ["PRESETS", "RoutePreset", "get_preset"]
