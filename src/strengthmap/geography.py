"""Areas and their vintages: point -> area lookup (vectorised, spatial index built once), neighbours, contrasts.

Example:
    >>> index = AreaIndex.from_store(store, level="lsoa", vintage=2011)   # doctest: +SKIP
    >>> index.locate([-1.5478], [53.7965]).tolist()                          # doctest: +SKIP
    ['E01033010']
    >>> contrasts(store, by="imd", place="Leeds", limit=3)                    # doctest: +SKIP
    [Contrast(a_code='E01011...', ..., gap=8.0, ...), ...]

Coordinates are lon/lat degrees (EPSG:4326). Points outside every area get ``OUTSIDE`` (never
dropped).

Method (see ``docs/methods/geography.md``): the areas are burnt into a regular raster once, in
bulk with numpy: every cell a boundary segment touches is marked (a supercover of the segments,
row by row), and every cell centre is placed in its polygon by an even-odd scanline over all the
rings at once. A cell that no boundary touches lies wholly inside the one area holding its centre
(or wholly outside all), so a point in it is answered with one array read. Only points in cells
that a boundary crosses (or where areas overlap) go to the exact GEOS test (an STRtree
``intersects`` query). The result is identical to the exact join: a point on a shared boundary
goes to the area first in code order.
Distances are metres on the WGS84 ellipsoid (pyproj ``Geod``) or in a local azimuthal
equidistant projection centred on the place asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from sqlalchemy import or_, select

from strengthmap.coords import GEOD, check_lon_lat
from strengthmap.errors import InputError, NotFound
from strengthmap.storage import Store, schema

#: The code given to a point that falls in no area.
OUTSIDE = "outside"

# raster cell states (values >= 0 are area indexes)
_EMPTY = -1  # wholly outside every area
_EDGE = -2  # a boundary touches the cell: exact test

#: Default raster budget: cells per area (capped by ``MAX_CELLS``).
CELLS_PER_AREA = 2000
MAX_CELLS = 24_000_000


@dataclass
class Raster:
    """A grid over the areas' extent: ``cells[row, col]`` is an area index, ``-1`` (outside all)
    or ``-2`` (a boundary touches the cell)."""

    x0: float
    y0: float
    dx: float
    dy: float
    cells: NDArray[np.int32]

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.cells.shape[0]), int(self.cells.shape[1]))

    def edge_fraction(self) -> float:
        return float(np.mean(self.cells == _EDGE))


@dataclass
class AreaIndex:
    """Polygons of one level and vintage with a spatial index, built once and reused."""

    level: str
    vintage: int
    codes: NDArray[np.object_]
    names: NDArray[np.object_]
    geometries: NDArray[np.object_]
    tree: shapely.STRtree
    raster: Raster | None = field(default=None, repr=False)

    @classmethod
    def from_store(
        cls, store: Store, *, level: str = "lsoa", vintage: int = 2011, raster: bool = True
    ) -> AreaIndex:
        """The index of every ``level`` area of ``vintage`` in the store (``NotFound`` if none)."""
        with store.session() as session:
            rows = session.execute(
                select(schema.Area.code, schema.Area.name, schema.Area.geometry)
                .where(
                    schema.Area.level == level,
                    schema.Area.vintage == vintage,
                    schema.Area.geometry.is_not(None),
                )
                .order_by(schema.Area.code)
            ).all()
        if not rows:
            raise NotFound(f"no {level.upper()} {vintage} boundaries are loaded")
        return cls.from_geometries(
            [r.code for r in rows], [r.geometry for r in rows], level=level, vintage=vintage,
            names=[r.name for r in rows], raster=raster,
        )  # fmt: skip

    @classmethod
    def from_geometries(
        cls,
        codes: Sequence[str],
        geometries: Sequence[shapely.Geometry] | NDArray[np.object_],
        *,
        level: str = "lsoa",
        vintage: int = 2011,
        names: Sequence[str] | None = None,
        raster: bool = True,
        cells: int | None = None,
    ) -> AreaIndex:
        """Build from codes and lon/lat polygons. Ties on shared boundaries go to the area that
        comes first in the order given (``from_store`` gives code order). ``cells`` sets the
        raster size (default ``CELLS_PER_AREA`` per area, at most ``MAX_CELLS``); ``raster=False``
        keeps only the exact STRtree."""
        geoms = np.asarray(geometries, dtype=object)
        if len(geoms) != len(codes):
            raise InputError(f"{len(codes)} codes but {len(geoms)} geometries")
        shapely.prepare(geoms)
        index = cls(
            level=level,
            vintage=vintage,
            codes=np.asarray(codes, dtype=object),
            names=np.asarray(names if names is not None else codes, dtype=object),
            geometries=geoms,
            tree=shapely.STRtree(geoms),
        )
        if raster and len(geoms):
            index.raster = index._build_raster(cells or min(MAX_CELLS, CELLS_PER_AREA * len(geoms)))
        return index

    def __len__(self) -> int:
        return len(self.codes)

    # -- exact lookup -------------------------------------------------------------------------

    def _exact(self, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> NDArray[np.int64]:
        """Exact GEOS lookup: the index of the first area (in index order) the point intersects, or -1."""
        result = np.full(len(xs), -1, dtype=np.int64)
        if not len(xs):
            return result
        points = shapely.points(xs, ys)
        point_idx, area_idx = self.tree.query(points, predicate="intersects")
        if len(point_idx):
            # lowest area index per point; np.minimum.at is exact and order-free
            best = np.full(len(xs), np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(best, point_idx, area_idx)
            hit = best != np.iinfo(np.int64).max
            result[hit] = best[hit]
        return result

    def locate_exact(self, lons: ArrayLike, lats: ArrayLike) -> NDArray[np.object_]:
        """Codes by the exact GEOS test on every point (no raster): the reference result."""
        idx = self._exact(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        return self._codes_of(idx)

    # -- raster -------------------------------------------------------------------------------

    def _build_raster(self, n_cells: int) -> Raster:
        xmin, ymin, xmax, ymax = shapely.total_bounds(self.geometries)
        width, height = max(xmax - xmin, 1e-9), max(ymax - ymin, 1e-9)
        # square-ish cells on the ground: 1 degree of longitude is cos(lat) of one of latitude
        coslat = max(np.cos(np.radians((ymin + ymax) / 2)), 0.05)
        cell_deg = np.sqrt(width * coslat * height / n_cells)
        dx, dy = cell_deg / coslat, cell_deg
        ncol, nrow = int(np.ceil(width / dx)) + 2, int(np.ceil(height / dy)) + 2
        x0, y0 = xmin - dx, ymin - dy  # one spare cell round the edge

        # (multi)polygons and any lines or points left in collections by make_valid, each part
        # with the index of the area it belongs to
        parts, owner = shapely.get_parts(self.geometries, return_index=True)
        while True:
            nested = shapely.get_num_geometries(parts) > 1
            if not nested.any():
                break
            sub, where = shapely.get_parts(parts[nested], return_index=True)
            parts = np.concatenate([parts[~nested], sub])
            owner = np.concatenate([owner[~nested], owner[nested][where]])
        polygonal = shapely.get_type_id(parts) == 3
        # every ring with its polygon part; lines and points (no area) only mark edge cells
        rings, ring_part = shapely.get_rings(parts[polygonal], return_index=True)
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        cx, cy = (coords[:, 0] - x0) / dx, (coords[:, 1] - y0) / dy  # in cell units
        same = ring_of[1:] == ring_of[:-1]  # consecutive vertices of one ring: a segment
        loose, loose_of = shapely.get_coordinates(parts[~polygonal], return_index=True)
        lx, ly = (loose[:, 0] - x0) / dx, (loose[:, 1] - y0) / dy
        lsame = loose_of[1:] == loose_of[:-1]
        # ring and line segments, plus each loose vertex as a zero-length one (lone points)
        edge = _edge_cells(
            np.concatenate([cx[:-1][same], lx[:-1][lsame], lx]),
            np.concatenate([cy[:-1][same], ly[:-1][lsame], ly]),
            np.concatenate([cx[1:][same], lx[1:][lsame], lx]),
            np.concatenate([cy[1:][same], ly[1:][lsame], ly]),
            nrow,
            ncol,
        )
        # cell centres inside each polygon part (even-odd scanline over its rings)
        part_ids = np.flatnonzero(polygonal)
        seg_part = part_ids[ring_part[ring_of[:-1][same]]]
        # A cell no boundary touches lies wholly inside the parts whose interior holds its
        # centre: none (outside all), exactly one (that area), or several overlapping parts
        # (left to the exact test, which applies the first-in-order tie rule).
        cells = _scanline_fill(
            cx[:-1][same], cy[:-1][same], cx[1:][same], cy[1:][same],
            seg_part, owner[seg_part], nrow, ncol,
        )  # fmt: skip
        cells.reshape(-1)[edge] = _EDGE  # a view: cells is C-contiguous
        # the even-odd rule is GEOS's answer only for valid polygons: an invalid area (a
        # self-crossing ring, say) leaves every cell of its bounding box to the exact test
        for bx0, by0, bx1, by1 in shapely.bounds(
            self.geometries[~shapely.is_valid(self.geometries)]
        ):
            c0, c1 = int((bx0 - x0) // dx), int((bx1 - x0) // dx) + 1
            r0, r1 = int((by0 - y0) // dy), int((by1 - y0) // dy) + 1
            cells[max(r0, 0) : r1 + 1, max(c0, 0) : c1 + 1] = _EDGE
        return Raster(x0=float(x0), y0=float(y0), dx=float(dx), dy=float(dy), cells=cells)

    # -- public lookup ------------------------------------------------------------------------

    def locate_index(self, lons: ArrayLike, lats: ArrayLike) -> NDArray[np.int64]:
        """The index (into ``codes``) of the area holding each point, ``-1`` when outside all."""
        xs = np.asarray(lons, dtype=float).ravel()
        ys = np.asarray(lats, dtype=float).ravel()
        if xs.shape != ys.shape:
            raise InputError(f"{len(xs)} longitudes but {len(ys)} latitudes")
        r = self.raster
        if r is None:
            return self._exact(xs, ys)
        nrow, ncol = r.shape
        col = np.floor((xs - r.x0) / r.dx)
        row = np.floor((ys - r.y0) / r.dy)
        inside = (col >= 0) & (col < ncol) & (row >= 0) & (row < nrow)  # NaN is False
        result = np.full(len(xs), -1, dtype=np.int64)
        cell = np.full(len(xs), _EMPTY, dtype=np.int32)
        cell[inside] = r.cells[row[inside].astype(np.intp), col[inside].astype(np.intp)]
        result[cell >= 0] = cell[cell >= 0]
        edge = np.flatnonzero(cell == _EDGE)
        if len(edge):
            result[edge] = self._exact(xs[edge], ys[edge])
        return result

    def _codes_of(self, idx: NDArray[np.int64]) -> NDArray[np.object_]:
        lut = np.append(self.codes, OUTSIDE).astype(object)
        return lut[np.where(idx >= 0, idx, len(self.codes))]

    def locate(self, lons: ArrayLike, lats: ArrayLike) -> NDArray[np.object_]:
        """The code of the area holding each point, or ``OUTSIDE``; a point on a shared
        boundary goes to the area listed first in code order (deterministic)."""
        return self._codes_of(self.locate_index(lons, lats))

    def name_of(self, code: str) -> str | None:
        hit = np.flatnonzero(self.codes == code)
        return str(self.names[hit[0]]) if len(hit) else None


def _edge_cells(
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
    nrow: int,
    ncol: int,
) -> NDArray[np.int64]:
    """Flat indexes (``row * ncol + col``, repeats allowed) of the cells touched by any segment
    (a, b) (coordinates in cell units; a == b for a lone point).

    Each segment is cut at the rows it spans; within row ``r`` it runs between the x it has at
    the bottom and top of the row (clamped to its ends), so it touches the columns from
    ``floor(min x)`` to ``floor(max x)``. Everything is widened by 1e-7 of a cell for rounding,
    so the mask is a superset of the cells a boundary touches (a supercover)."""
    eps = 1e-7
    lo, hi = np.minimum(ay, by), np.maximum(ay, by)
    r_first = np.floor(lo - eps).astype(np.int64)
    n = np.floor(hi + eps).astype(np.int64) - r_first + 1
    seg = np.repeat(np.arange(len(ax)), n)
    row = r_first[seg] + (np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n))
    sax, say, sbx, sby = ax[seg], ay[seg], bx[seg], by[seg]
    slo, shi = lo[seg], hi[seg]
    dy = sby - say
    flat = dy == 0
    slope = np.divide(sbx - sax, dy, out=np.zeros_like(dy), where=~flat)
    y_lo = np.clip(row.astype(float), slo, shi)
    y_hi = np.clip(row + 1.0, slo, shi)
    x_lo = np.where(flat, np.minimum(sax, sbx), sax + (y_lo - say) * slope)
    x_hi = np.where(flat, np.maximum(sax, sbx), sax + (y_hi - say) * slope)
    c0 = np.floor(np.minimum(x_lo, x_hi) - eps).astype(np.int64)
    c1 = np.floor(np.maximum(x_lo, x_hi) + eps).astype(np.int64)
    # out-of-grid indexes are clipped onto the spare border cells, which hold no area
    row = np.clip(row, 0, nrow - 1)
    c0, c1 = np.clip(c0, 0, ncol - 1), np.clip(c1, 0, ncol - 1)
    width = c1 - c0 + 1
    cells = np.repeat(row * ncol + c0, width) + (
        np.arange(int(width.sum())) - np.repeat(np.cumsum(width) - width, width)
    )
    return cells


def _scanline_fill(
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
    part: NDArray[np.int64],
    area: NDArray[np.int64],
    nrow: int,
    ncol: int,
) -> NDArray[np.int32]:
    """The area index whose polygon part holds each cell's centre; ``-1`` when none does and
    ``-2`` when several overlapping parts do (the exact test then applies the tie rule).

    The ring segments (a, b) are in cell units, each with its polygon part and that part's area
    index. Row ``r``'s centres lie on the line y = r + 0.5: a segment crosses it when one end is
    below and the other at or above (half-open, so a vertex on the line counts once). Sorted by
    (part, row, x), the crossings pair up into the spans inside each part (even-odd rule, holes
    included). Each span starts (+1 part, +area) at its first centre and ends (-1, -area) after
    its last; summed in raster order, these events give runs of cells with a constant state,
    written out with one ``np.repeat``. Cells near a crossing are edge cells anyway, so rounding
    there does not matter.
    """
    lo, hi = np.minimum(ay, by), np.maximum(ay, by)
    # rows whose centre line the segment crosses: lo <= r + 0.5 < hi
    r_first = np.ceil(lo - 0.5).astype(np.int64)
    n = np.maximum(np.ceil(hi - 0.5).astype(np.int64) - r_first, 0)
    seg = np.repeat(np.arange(len(ax)), n)
    row = r_first[seg] + (np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n))
    x = ax[seg] + (row + 0.5 - ay[seg]) * (bx[seg] - ax[seg]) / (by[seg] - ay[seg])
    # parts are filled one by one: two overlapping parts (even of one area) count twice
    order = np.lexsort((x, row, part[seg]))
    x, row, sa = x[order], row[order], area[seg][order]
    # every (part, row) has an even number of crossings (closed rings): they pair up in order
    srow, sarea = row[0::2], sa[0::2]
    # the centres (c + 0.5) with start <= c + 0.5 < stop
    c0 = np.clip(np.ceil(x[0::2] - 0.5).astype(np.int64), 0, ncol)
    c1 = np.clip(np.ceil(x[1::2] - 0.5).astype(np.int64), 0, ncol)
    keep = (c1 > c0) & (srow >= 0) & (srow < nrow)
    srow, sarea, c0, c1 = srow[keep], sarea[keep], c0[keep], c1[keep]
    # events in raster order (a span ending at the row's end meets the next row's start)
    at = np.concatenate([[0], srow * ncol + c0, srow * ncol + c1])
    d_count = np.concatenate([[0], np.ones(len(c0), np.int64), -np.ones(len(c0), np.int64)])
    d_area = np.concatenate([[0], sarea + 1, -(sarea + 1)])
    order = np.argsort(at, kind="stable")
    at, count, total = at[order], np.cumsum(d_count[order]), np.cumsum(d_area[order])
    last = np.append(at[1:] != at[:-1], True)  # the state after every event at a position
    at, count, total = at[last], count[last], total[last]
    state = np.where(count == 1, total - 1, np.where(count == 0, _EMPTY, _EDGE)).astype(np.int32)
    runs = np.diff(np.append(at, nrow * ncol))
    return np.repeat(state, runs).reshape(nrow, ncol)


# --- neighbours ------------------------------------------------------------------------------


def neighbours(
    index: AreaIndex,
    *,
    contiguity: Literal["rook", "queen"] = "rook",
    min_shared_m: float = 1.0,
    tolerance_deg: float = 1e-6,
) -> pd.DataFrame:
    """Pairs of areas that share a boundary: columns ``a``, ``b`` (codes, ``a < b``), ``shared_m``.

    ``rook``: the shared stretch of boundary is at least ``min_shared_m`` metres long (measured on
    the ellipsoid); ``queen``: touching at a single point is enough. Generalised boundaries can
    leave hairline gaps, so boundaries within ``tolerance_deg`` (about 0.1 m) count as shared.

    Example:
        >>> pairs = neighbours(AreaIndex.from_geometries(["A", "B"], [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]))
        >>> pairs[["a", "b"]].values.tolist(), round(float(pairs.shared_m[0]) / 1000)
        ([['A', 'B']], 111)
    """
    geoms = index.geometries
    left, right = index.tree.query(geoms, predicate="dwithin", distance=tolerance_deg)
    keep = left < right
    left, right = left[keep], right[keep]
    boundaries = shapely.boundary(geoms)
    shared = shapely.intersection(boundaries[left], shapely.buffer(geoms[right], tolerance_deg))
    shared_m = np.array([GEOD.geometry_length(g) if not g.is_empty else 0.0 for g in shared])
    ok = np.ones(len(left), dtype=bool) if contiguity == "queen" else shared_m >= min_shared_m
    a, b = index.codes[left[ok]], index.codes[right[ok]]
    swap = a > b
    a2, b2 = np.where(swap, b, a), np.where(swap, a, b)
    out = pd.DataFrame({"a": a2, "b": b2, "shared_m": shared_m[ok]})
    return out.sort_values(["a", "b"]).reset_index(drop=True)


# --- contrasts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contrast:
    """Two neighbouring areas and the gap between them (IMD decile/rank or life expectancy years)."""

    by: str  # "imd" or "le"
    a_code: str
    a_name: str
    a_value: float | None
    b_code: str
    b_name: str
    b_value: float | None
    gap: float
    distance_m: float  # between the areas' representative points, on the ellipsoid
    a_rank: int | None = None
    b_rank: int | None = None
    rank_gap: int | None = None
    a_ci: tuple[float | None, float | None] | None = None
    b_ci: tuple[float | None, float | None] | None = None
    ci_overlap: bool | None = None
    significant: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _place_filter(place: str | None) -> Any:
    """Areas of a place: by the LAD code of a ``lad`` area of that name, or by the ONS name prefix."""
    if place is None:
        return None
    lad_codes = select(schema.Area.code).where(
        schema.Area.level == "lad", schema.Area.name == place
    )
    return or_(
        schema.Area.lad_code.in_(lad_codes),
        schema.Area.lad_code == place,
        schema.Area.name.like(f"{place} %"),
    )


def _areas(store: Store, level: str, vintage: int, place: str | None) -> AreaIndex:
    with store.session() as session:
        q = select(schema.Area.code, schema.Area.name, schema.Area.geometry).where(
            schema.Area.level == level,
            schema.Area.vintage == vintage,
            schema.Area.geometry.is_not(None),
        )
        where = _place_filter(place)
        if where is not None:
            q = q.where(where)
        rows = session.execute(q.order_by(schema.Area.code)).all()
    if not rows:
        scope = f" in {place}" if place else ""
        raise NotFound(f"no {level.upper()} {vintage} boundaries are loaded{scope}")
    return AreaIndex.from_geometries(
        [r.code for r in rows], [r.geometry for r in rows], level=level, vintage=vintage,
        names=[r.name for r in rows], raster=False,
    )  # fmt: skip


def distance_to_areas_m(index: AreaIndex, lon: float, lat: float) -> NDArray[np.float64]:
    """Metres from (lon, lat) to each area's nearest edge (0 inside), in a local azimuthal
    equidistant projection centred on the point (exact distances from the centre)."""
    aeqd = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    to_m = Transformer.from_crs("EPSG:4326", aeqd, always_xy=True)
    projected = shapely.transform(
        index.geometries, lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1]))
    )
    return np.asarray(shapely.distance(projected, shapely.Point(0, 0)), dtype=float)


def contrasts(
    store: Store,
    *,
    by: Literal["imd", "le"] = "imd",
    place: str | None = None,
    near: tuple[float, float] | None = None,
    radius_m: float = 2000.0,
    limit: int | None = 10,
    imd_release: int | None = None,
    sex: Literal["male", "female", "persons"] = "persons",
) -> list[Contrast]:
    """Neighbouring areas with the largest gaps: "pockets of deprivation a short distance from wealth".

    ``by="imd"``: LSOAs of the release's vintage (2011 for IMD 2019, 2021 for IMD 2025; the
    latest loaded release by default), ranked by the gap in IMD decile, then in rank (ranks are
    England-wide as published, never re-ranked); ``place`` (a local authority's name or LAD code,
    e.g. ``Settings.place``) keeps its areas, ``None`` every loaded area. ``by="le"``: MSOA 2011 life expectancy at birth
    (``sex``), ranked by the gap in years, each pair saying whether the 95% CIs overlap;
    suppressed areas are left out. ``near=(lon, lat)`` keeps pairs whose areas both come within
    ``radius_m`` of the point.

    Example:
        >>> top = contrasts(store, by="le", near=(-1.5477, 53.7951), radius_m=1500, limit=1)  # doctest: +SKIP
        >>> top[0].gap, top[0].ci_overlap                                                      # doctest: +SKIP
        (9.1, False)
    """
    from strengthmap import indicators

    if by not in ("imd", "le"):
        raise InputError(f"unknown contrast {by!r}: use 'imd' or 'le'", field="by")
    if near is not None:
        check_lon_lat(near[0], near[1], what="--near")
    if radius_m <= 0:
        raise InputError("radius must be positive", field="radius_m")
    if by == "imd":
        release = imd_release or indicators.latest_imd_release(store)
        vintage = indicators.IMD_VINTAGE.get(release, 2011)
        index = _areas(store, "lsoa", vintage, place)
        imd = indicators.imd_by_code(store, release)
        values = {c: imd[c] for c in index.codes if c in imd}
    else:
        index = _areas(store, "msoa", 2011, place)
        le = indicators.life_expectancy(store)
        ests = {c: le.get(c, {}).get(sex) for c in index.codes}
        est_ok = {c: e for c, e in ests.items() if e is not None and e.value is not None}
    pairs = neighbours(index, contiguity="rook")
    if near is not None:
        dist = dict(zip(index.codes, distance_to_areas_m(index, near[0], near[1]), strict=True))
        pairs = pairs[
            [
                dist[a] <= radius_m and dist[b] <= radius_m
                for a, b in zip(pairs.a, pairs.b, strict=True)
            ]
        ]
    names = dict(zip(index.codes, index.names, strict=True))
    reps = dict(zip(index.codes, shapely.point_on_surface(index.geometries), strict=True))
    out: list[Contrast] = []
    for a, b in zip(pairs.a, pairs.b, strict=True):
        pa, pb = reps[a], reps[b]
        dist_m = float(GEOD.inv(pa.x, pa.y, pb.x, pb.y)[2])
        if by == "imd":
            if a not in values or b not in values:
                continue
            (da, ra, _), (db, rb, _) = values[a], values[b]
            if db < da:  # a is always the more deprived side
                a, b, da, db, ra, rb = b, a, db, da, rb, ra
            out.append(
                Contrast("imd", a, names[a], da, b, names[b], db, float(db - da), dist_m,
                         a_rank=ra, b_rank=rb, rank_gap=abs(rb - ra))
            )  # fmt: skip
        else:
            if a not in est_ok or b not in est_ok:
                continue
            ea, eb = est_ok[a], est_ok[b]
            assert ea.value is not None and eb.value is not None
            if eb.value < ea.value:  # a is always the shorter-lived side
                a, b, ea, eb = b, a, eb, ea
            assert ea.value is not None and eb.value is not None
            overlap = ea.overlaps(eb)
            out.append(
                Contrast("le", a, names[a], ea.value, b, names[b], eb.value, eb.value - ea.value, dist_m,
                         a_ci=(ea.lower, ea.upper), b_ci=(eb.lower, eb.upper), ci_overlap=overlap,
                         significant=None if overlap is None else not overlap)
            )  # fmt: skip
    out.sort(key=lambda c: (-c.gap, -(c.rank_gap or 0), c.a_code, c.b_code))
    return out[:limit] if limit else out


def locate_point(store: Store, lon: float, lat: float) -> dict[str, Any]:
    """Every loaded area (each level and vintage) that holds the point: ``{"lsoa_2011": {"code", "name"}, ...}``.

    Example:
        >>> locate_point(store, -1.5100, 53.8120)["msoa_2011"]["code"]   # doctest: +SKIP
        'E02002382'
    """
    check_lon_lat(lon, lat)
    with store.session() as session:
        levels = session.execute(
            select(schema.Area.level, schema.Area.vintage)
            .where(schema.Area.geometry.is_not(None))
            .distinct()
        ).all()
    out: dict[str, Any] = {"lon": lon, "lat": lat, "areas": {}}
    for level, vintage in sorted(levels):
        index = AreaIndex.from_store(store, level=level, vintage=vintage, raster=False)
        code = str(index.locate([lon], [lat])[0])
        out["areas"][f"{level}_{vintage}"] = (
            {"code": code, "name": index.name_of(code)} if code != OUTSIDE else {"code": OUTSIDE}
        )
    return out


def representative_point(
    store: Store, code: str, *, level: str, vintage: int
) -> tuple[float, float] | None:
    """A point (lon, lat) surely inside the area (shapely's ``representative_point``), or None
    for an unknown area or one without a boundary.

    >>> from strengthmap.storage import open_store
    >>> representative_point(open_store("sqlite://"), "E01011264", level="lsoa", vintage=2011)
    """
    area = schema.Area
    with store.session() as session:
        geom = session.scalars(
            select(area.geometry)
            .where(area.code == code, area.vintage == vintage, area.level == level)
            .limit(1)
        ).first()
    if geom is None:
        return None
    rp = geom.representative_point()
    return (rp.x, rp.y)


__all__ = [
    "GEOD",
    "OUTSIDE",
    "AreaIndex",
    "Contrast",
    "Raster",
    "check_lon_lat",
    "contrasts",
    "distance_to_areas_m",
    "locate_point",
    "neighbours",
    "representative_point",
]
