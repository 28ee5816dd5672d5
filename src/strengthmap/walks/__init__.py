"""Walks: plan a contrast walk on real streets, past assets that are open, with a briefing sheet and GPX.

Example:
    >>> from strengthmap.walks import load_walk_network, plan_walk, to_gpx, write_briefing
    >>> load_walk_network(store, "streets/leeds_central_osm_ways_2022.geojson")   # doctest: +SKIP
    >>> plan = plan_walk(store, "-1.5477,53.7951", "LS12 1JD",
    ...                  via=["-1.5560,53.7965"], at="2026-12-02T11:00")         # doctest: +SKIP
    >>> plan.to_dict()["contrast"]["imd_decile_max"]                              # doctest: +SKIP
    8

The parts, each a module:

* ``ways``: read OSM ways (GeoJSON, ``.osm``, ``.osm.pbf``) and the foot access rules;
* ``network``: the routable pedestrian graph (noded, ellipsoid lengths, largest piece kept),
  joining points to it, shortest paths (``scipy.sparse.csgraph``);
* ``store``: the network kept in the store (``load_walk_network``, ``current_network``);
* ``places``: PLACE (``LON,LAT``, postcode, directory location) and the Europe/London start time;
* ``facts``: areas (IMD, life expectancy) and the directory's located assets with opening times;
* ``planner``: ``plan_walk`` (an orienteering heuristic) and its typed result ``WalkPlan``;
* ``exports``: GPX 1.1 and GeoJSON; ``briefing``: the A4 briefing sheet (HTML, PDF);
* ``saved``: saved walks, listed per area, with notes private to editors unless public.
"""

from strengthmap.walks.briefing import briefing_html, walk_map_svg, write_briefing
from strengthmap.walks.exports import to_geojson, to_gpx
from strengthmap.walks.network import NetworkReport, Path, Snap, WalkNetwork, build_network
from strengthmap.walks.places import Place, parse_at, resolve_place
from strengthmap.walks.planner import Budget, Contrast, Safety, WalkPlan, WalkStop, plan_walk
from strengthmap.walks.presets import PRESETS, Preset
from strengthmap.walks.saved import (
    SavedWalk,
    WalkNote,
    add_note,
    get_walk,
    list_walks,
    plan_from_gpx,
    read_plan,
    retire_walk,
    save_walk,
)
from strengthmap.walks.store import (
    NetworkInfo,
    NetworkLoad,
    current_network,
    default_streets_file,
    load_walk_network,
    network_info,
)
from strengthmap.walks.ways import foot_rule, read_ways

__all__ = [
    "PRESETS",
    "Budget",
    "Contrast",
    "NetworkInfo",
    "NetworkLoad",
    "NetworkReport",
    "Path",
    "Place",
    "Preset",
    "Safety",
    "SavedWalk",
    "Snap",
    "WalkNetwork",
    "WalkNote",
    "WalkPlan",
    "WalkStop",
    "add_note",
    "briefing_html",
    "build_network",
    "current_network",
    "default_streets_file",
    "foot_rule",
    "get_walk",
    "list_walks",
    "load_walk_network",
    "network_info",
    "parse_at",
    "plan_from_gpx",
    "plan_walk",
    "read_plan",
    "read_ways",
    "resolve_place",
    "retire_walk",
    "save_walk",
    "to_geojson",
    "to_gpx",
    "walk_map_svg",
    "write_briefing",
]
