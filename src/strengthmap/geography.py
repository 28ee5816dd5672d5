"""Areas and their vintages: point -> area lookup (vectorised, spatial index built once), neighbours, contrasts.

Example:
    >>> index = AreaIndex.from_store(store, level="lsoa", vintage=2011)   # doctest: +SKIP
    >>> index.locate([-1.5478], [53.7965]).tolist()                          # doctest: +SKIP
    ['E01033010']

Coordinates are lon/lat degrees (EPSG:4326). Points outside every area get ``OUTSIDE`` (never
dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from sqlalchemy import select

from strengthmap.errors import NotFound
from strengthmap.storage import Store, schema

#: The code given to a point that falls in no area.
OUTSIDE = "outside"


@dataclass
class AreaIndex:
    """Polygons of one level and vintage with a spatial index, built once and reused."""

    level: str
    vintage: int
    codes: NDArray[np.object_]
    names: NDArray[np.object_]
    geometries: NDArray[np.object_]
    tree: shapely.STRtree

    @classmethod
    def from_store(cls, store: Store, *, level: str = "lsoa", vintage: int = 2011) -> AreaIndex:
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
            names=[r.name for r in rows],
        )  # fmt: skip

    @classmethod
    def from_geometries(
        cls,
        codes: Sequence[str],
        geometries: Sequence[shapely.Geometry],
        *,
        level: str = "lsoa",
        vintage: int = 2011,
        names: Sequence[str] | None = None,
    ) -> AreaIndex:
        geoms = np.asarray(geometries, dtype=object)
        shapely.prepare(geoms)
        return cls(
            level=level,
            vintage=vintage,
            codes=np.asarray(codes, dtype=object),
            names=np.asarray(names if names is not None else codes, dtype=object),
            geometries=geoms,
            tree=shapely.STRtree(geoms),
        )

    def locate(self, lons: ArrayLike, lats: ArrayLike) -> NDArray[np.object_]:
        """The code of the area holding each point, or ``OUTSIDE``; a point on a shared
        boundary goes to the area listed first in code order (deterministic)."""
        points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        result = np.full(len(points), OUTSIDE, dtype=object)
        point_idx, area_idx = self.tree.query(points, predicate="intersects")
        if len(point_idx):
            # keep the first (lowest code index) area for each point
            order = np.lexsort((area_idx, point_idx))
            point_idx, area_idx = point_idx[order], area_idx[order]
            first = np.ones(len(point_idx), dtype=bool)
            first[1:] = point_idx[1:] != point_idx[:-1]
            result[point_idx[first]] = self.codes[area_idx[first]]
        return result


__all__ = ["OUTSIDE", "AreaIndex"]
