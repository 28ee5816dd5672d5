"""The data a route profile reads, loaded once per store: area indexes, IMD, life expectancy, assets.

Example:
    >>> data = profile_data(store, 2019)                         # doctest: +SKIP
    >>> data.lsoa.vintage, len(data.imd) > 0, len(data.assets)   # doctest: +SKIP
    (2011, True, 479)

``profile_data`` caches one ``ProfileData`` per store and IMD release until a dataset is loaded or
a location is written (a fingerprint of counts and time stamps read on each call), so a web page
that profiles many routes builds the point-in-area indexes once.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select

from strengthmap import indicators
from strengthmap.coords import GEOD
from strengthmap.errors import InputError, NotFound
from strengthmap.geography import AreaIndex
from strengthmap.indicators import Estimate
from strengthmap.storage import Store, schema


@dataclass
class Assets:
    """The directory's located assets (``Location`` rows with latitude/longitude, not retired):
    lon/lat degrees, name, ABCD kind, and the attribution of the dataset each came from."""

    lonlat: NDArray[np.float64]  # shape (n, 2), degrees
    names: list[str | None]
    kinds: list[str | None]
    sources: list[str | None]
    attribution: dict[str, str]  # dataset id -> attribution text

    @classmethod
    def empty(cls) -> Assets:
        """No assets (a store whose directory has no located asset)."""
        return cls(np.zeros((0, 2)), [], [], [], {})

    @classmethod
    def from_store(cls, store: Store) -> Assets:
        """Every located, live asset of the directory, in ``Location.id`` order."""
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
        self, lon: NDArray[np.float64], lat: NDArray[np.float64], radius_m: float
    ) -> list[tuple[NDArray[np.int64], NDArray[np.float64]]]:
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
        """Load the indexes and tables for ``imd_release`` (default: the latest loaded)."""
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


_Key = tuple[int | None, int, str, int, str]
_CACHE: weakref.WeakKeyDictionary[Store, dict[_Key, ProfileData]] = weakref.WeakKeyDictionary()


def _fingerprint(store: Store) -> tuple[int, str, int, str]:
    """What changes when a dataset is loaded or a location written: counts and latest stamps."""
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
    key: _Key = (imd_release, *_fingerprint(store))
    per_store = _CACHE.setdefault(store, {})
    if key not in per_store:
        per_store.clear()
        per_store[key] = ProfileData.from_store(store, imd_release)
    return per_store[key]


__all__ = ["ASSETS_NEAREST", "Assets", "ProfileData", "profile_data"]
