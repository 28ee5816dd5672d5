"""OSM ways for walking: read a GeoJSON of ways or an ``.osm`` / ``.osm.pbf`` extract; who may walk where.

Example:
    >>> rule = foot_rule({"highway": "trunk"})
    >>> rule.walkable, rule.reason
    (False, 'trunk road without a footway or sidewalk')
    >>> foot_rule({"highway": "steps"}).steps
    True
    >>> foot_rule({"highway": "service", "access": "private", "foot": "yes"}).walkable
    True

Coordinates are lon/lat degrees (WGS84, EPSG:4326), as OSM stores them. GeoJSON is read with
the standard library (plain or gzipped); OSM XML and PBF with pyosmium (``osmium``, the Python
bindings of libosmium), node locations resolved in memory.

Foot access (OSM tagging, https://wiki.openstreetmap.org/wiki/Key:access and the UK defaults in
https://wiki.openstreetmap.org/wiki/OSM_tags_for_routing/Access_restrictions#United_Kingdom):

* ``foot=no`` (or ``use_sidepath``, ``private``): not walkable.
* ``access=private`` / ``access=no``: not walkable unless ``foot`` is ``yes``, ``designated``
  or ``permissive``.
* ``highway=motorway`` / ``motorway_link``: never walkable.
* ``highway=trunk`` / ``trunk_link``: walkable only with a sidewalk on the carriageway
  (``sidewalk=both|left|right|yes``, a ``sidewalk:left|right|both=yes`` or the older
  ``footway=both|left|right``) or an explicit
  ``foot=yes|designated|permissive``; ``sidewalk=separate`` means the footway is its own way.
* ``highway=steps``: walkable, marked as steps so a step-free walk avoids them.
* ``construction``, ``proposed``, ``abandoned``, ``razed``, ``raceway``, ``bus_guideway``,
  ``busway``, ``escape``, ``no``: not a way to walk.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from strengthmap.errors import InputError

#: The tags kept for each way (the rest are not needed to walk or to brief a walk).
TAGS = (
    "osm_id",
    "name",
    "ref",
    "highway",
    "foot",
    "access",
    "footway",
    "sidewalk",
    "sidewalk:left",
    "sidewalk:right",
    "sidewalk:both",
    "crossing",
    "lit",
    "surface",
    "maxspeed",
    "wheelchair",
    "bridge",
    "tunnel",
)
NOT_A_WAY = frozenset(
    {
        "construction", "proposed", "abandoned", "razed", "raceway", "bus_guideway", "busway",
        "escape", "no", "disused", "planned", "elevator", "services", "rest_area",
    }
)  # fmt: skip
MOTORWAY = frozenset({"motorway", "motorway_link"})
TRUNK = frozenset({"trunk", "trunk_link"})
#: Roads whose crossing is worth a note in the briefing (busy traffic).
BUSY_ROADS = frozenset(
    {"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
     "secondary", "secondary_link"}
)  # fmt: skip
FOOT_ALLOWED = frozenset({"yes", "designated", "permissive"})
FOOT_REFUSED = frozenset({"no", "use_sidepath", "private"})
SIDEWALK_YES = frozenset({"both", "left", "right", "yes"})
# the GeoJSON extracts of ``shared/data/streets`` spell ``sidewalk:left`` as ``sidewalk_left``
_ALIASES = {"sidewalk_left": "sidewalk:left", "sidewalk_right": "sidewalk:right",
            "sidewalk_both": "sidewalk:both"}  # fmt: skip
_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class FootRule:
    """Whether a way may be walked, whether it is steps, and why not when it may not."""

    walkable: bool
    steps: bool = False
    reason: str | None = None


def foot_rule(tags: Mapping[str, str | None]) -> FootRule:
    """Apply the foot access rules of the module docstring to one way's tags."""
    highway = (tags.get("highway") or "").strip()
    foot = (tags.get("foot") or "").strip().lower()
    access = (tags.get("access") or "").strip().lower()
    if not highway:
        return FootRule(False, reason="no highway tag")
    if highway in NOT_A_WAY:
        return FootRule(False, reason=f"highway={highway} (not a way to walk)")
    if highway in MOTORWAY:
        return FootRule(False, reason="motorway")
    if foot in FOOT_REFUSED:
        return FootRule(False, reason=f"foot={foot}")
    if access in {"private", "no"} and foot not in FOOT_ALLOWED:
        return FootRule(False, reason=f"access={access}")
    if highway in TRUNK and foot not in FOOT_ALLOWED and not has_sidewalk(tags):
        return FootRule(False, reason="trunk road without a footway or sidewalk")
    return FootRule(True, steps=highway == "steps")


def has_sidewalk(tags: Mapping[str, str | None]) -> bool:
    """A sidewalk mapped on the carriageway itself (not ``separate``, not ``no``); the older
    ``footway=both|left|right`` on a road says the same."""
    if (tags.get("sidewalk") or "").lower() in SIDEWALK_YES:
        return True
    if (tags.get("footway") or "").lower() in {"both", "left", "right"}:
        return True
    return any(
        (tags.get(k) or "").lower() in {"yes", "designated"}
        for k in ("sidewalk:left", "sidewalk:right", "sidewalk:both")
    )


def parse_hstore(text: str | None) -> dict[str, str]:
    """The ``other_tags`` column of an ogr2ogr OSM export (``"k"=>"v","k2"=>"v2"``) as a dict.

    >>> parse_hstore('"lanes"=>"1","sidewalk:left"=>"yes"')
    {'lanes': '1', 'sidewalk:left': 'yes'}
    """
    if not text:
        return {}
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _HSTORE.findall(str(text))}


@dataclass
class Ways:
    """OSM ways with a ``highway`` tag: vertices of way ``i`` are ``coords[offsets[i]:offsets[i+1]]``."""

    coords: NDArray[np.float64]  # (n_vertices, 2) lon, lat degrees
    offsets: NDArray[np.int64]  # (n_ways + 1,)
    tags: list[dict[str, str]]
    source: str
    format: str
    sha256: str
    skipped: dict[str, int] = field(default_factory=dict)  # features that are not ways, by why

    def __len__(self) -> int:
        return len(self.tags)


def _clean_tags(props: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    extra = parse_hstore(props.get("other_tags")) if props.get("other_tags") else {}
    for key, value in (*extra.items(), *props.items()):
        key = _ALIASES.get(key, key)
        if key in TAGS and value is not None and str(value) != "":
            out[key] = str(value)
    return out


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file (hex), read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".osm.pbf", ".pbf")):
        return "pbf"
    if name.endswith((".osm", ".osm.gz", ".osm.bz2")):
        return "osm"
    if name.endswith((".geojson", ".geojson.gz", ".json", ".json.gz")):
        return "geojson"
    raise InputError(
        "not an OSM extract this reader knows: give a GeoJSON of ways (.geojson, .geojson.gz) "
        "or an OSM file (.osm, .osm.pbf)",
        file=str(path),
    )


def read_ways(path: str | Path) -> Ways:
    """Read the ways with a ``highway`` tag from a GeoJSON of ways or an OSM XML/PBF extract.

    Raises ``InputError`` naming the file (and the feature) when it is not one.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", file=str(path))
    fmt = _format_of(path)
    sha = file_sha256(path)
    if fmt == "geojson":
        return _read_geojson(path, sha)
    return _read_osm(path, sha, fmt)


def _line_parts(geom: Mapping[str, Any], where: str, path: Path) -> list[list[Any]]:
    kind = geom.get("type")
    coords = geom.get("coordinates")
    if not isinstance(coords, list):
        raise InputError(f"{where}: geometry has no coordinates", file=str(path))
    if kind == "LineString":
        return [coords]
    if kind == "MultiLineString":
        return [part for part in coords if isinstance(part, list)]
    return []


def _read_geojson(path: Path, sha: str) -> Ways:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, EOFError) as exc:  # a truncated or mislabelled gzip
        raise InputError(f"cannot read the file: {exc}", file=str(path)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid GeoJSON: {exc}", file=str(path)) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError("not a GeoJSON FeatureCollection of OSM ways", file=str(path))
    features = doc.get("features")
    if not isinstance(features, list):
        raise InputError("the FeatureCollection has no features list", file=str(path))
    parts: list[NDArray[np.float64]] = []
    tags: list[dict[str, str]] = []
    skipped: dict[str, int] = {}
    for i, feat in enumerate(features, start=1):
        if not isinstance(feat, dict):
            raise InputError(f"feature {i} is not a GeoJSON Feature", file=str(path))
        props = feat.get("properties") or {}
        geom = feat.get("geometry") or {}
        lines = _line_parts(geom, f"feature {i}", path) if geom else []
        if not lines:
            skipped["not a line"] = skipped.get("not a line", 0) + 1
            continue
        if not props.get("highway"):
            skipped["no highway tag"] = skipped.get("no highway tag", 0) + 1
            continue
        clean = _clean_tags(props)
        for line in lines:
            try:
                xy = np.asarray(line, dtype=float)
            except (TypeError, ValueError):
                raise InputError(
                    f"feature {i} (osm_id {props.get('osm_id')}): coordinates are not numbers",
                    file=str(path),
                ) from None
            if xy.ndim != 2 or xy.shape[1] < 2 or len(xy) < 2:
                skipped["fewer than 2 points"] = skipped.get("fewer than 2 points", 0) + 1
                continue
            xy = xy[:, :2]
            bad = ~(
                np.isfinite(xy).all(axis=1) & (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)
            )
            if bad.any():
                raise InputError(
                    f"feature {i} (osm_id {props.get('osm_id')}): point {int(np.argmax(bad)) + 1} "
                    f"{xy[int(np.argmax(bad))].tolist()} is not lon/lat degrees (WGS84)",
                    file=str(path),
                )
            parts.append(xy)
            tags.append(clean)
    return _assemble(parts, tags, path, "geojson", sha, skipped)


def _assemble(
    parts: list[NDArray[np.float64]],
    tags: list[dict[str, str]],
    path: Path,
    fmt: str,
    sha: str,
    skipped: dict[str, int],
) -> Ways:
    if not parts:
        raise InputError("no OSM ways with a highway tag in the file", file=str(path))
    lengths = np.fromiter((len(p) for p in parts), dtype=np.int64, count=len(parts))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return Ways(np.vstack(parts), offsets, tags, str(path), fmt, sha, skipped)


def _read_osm(path: Path, sha: str, fmt: str) -> Ways:
    try:
        import osmium
    except ImportError:  # pragma: no cover - osmium is a runtime dependency
        raise InputError(
            "reading .osm/.osm.pbf needs pyosmium (pip install osmium)", file=str(path)
        ) from None
    parts: list[NDArray[np.float64]] = []
    tags: list[dict[str, str]] = []
    skipped: dict[str, int] = {}
    try:
        processor = osmium.FileProcessor(str(path)).with_locations()
        for obj in processor:
            if not isinstance(obj, osmium.osm.Way) or "highway" not in obj.tags:
                continue
            xy: list[tuple[float, float]] = []
            for n in obj.nodes:
                if not n.location.valid():
                    skipped["node without a location"] = (
                        skipped.get("node without a location", 0) + 1
                    )
                    continue
                xy.append((n.location.lon, n.location.lat))
            if len(xy) < 2:
                skipped["fewer than 2 points"] = skipped.get("fewer than 2 points", 0) + 1
                continue
            raw = {t.k: t.v for t in obj.tags}
            raw["osm_id"] = str(obj.id)
            parts.append(np.asarray(xy, dtype=float))
            tags.append(_clean_tags(raw))
    except RuntimeError as exc:  # libosmium's parse errors
        raise InputError(f"not a readable OSM file: {exc}", file=str(path)) from None
    return _assemble(parts, tags, path, fmt, sha, skipped)


def iter_tag_values(ways: Ways, key: str) -> Iterator[str | None]:
    """Each way's value of ``key`` (``None`` where absent)."""
    return (t.get(key) for t in ways.tags)


def count_reasons(rules: Iterable[FootRule]) -> dict[str, int]:
    """How many ways each rule refused, by reason (sorted, most first)."""
    out: dict[str, int] = {}
    for r in rules:
        if not r.walkable and r.reason:
            out[r.reason] = out.get(r.reason, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


__all__ = [
    "BUSY_ROADS",
    "TAGS",
    "FootRule",
    "Ways",
    "count_reasons",
    "foot_rule",
    "has_sidewalk",
    "parse_hstore",
    "read_ways",
]
