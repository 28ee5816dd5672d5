"""What the store holds, for the home page, the data-sources page and ``/api/datasets``: the loaded
datasets with their licences and attribution, and the counts of assets and areas.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> list_datasets(store)
    []
    >>> o = home_overview(store)
    >>> o.total_assets, o.n_lsoa, o.example_area
    (0, 0, None)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select

from strengthmap.storage import Store, schema
from strengthmap.storage.schema.directory import ABCD_KINDS, KIND_LABELS


@dataclass(frozen=True)
class DatasetInfo:
    """One loaded source file: what it is, who publishes it, its licence and attribution."""

    id: str
    title: str
    publisher: str
    licence: str
    attribution: str
    url: str | None
    rows: int | None
    scope: str | None
    sha256: str | None
    published: str | None
    loaded_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """The ``/api/datasets`` record (``published`` is shown on the page only)."""
        return {
            "id": self.id,
            "title": self.title,
            "publisher": self.publisher,
            "licence": self.licence,
            "attribution": self.attribution,
            "url": self.url,
            "rows": self.rows,
            "scope": self.scope,
            "sha256": self.sha256,
            "loaded_at": self.loaded_at,
        }


def list_datasets(store: Store) -> list[DatasetInfo]:
    """Every loaded source file, by id."""
    d = schema.Dataset
    with store.session() as session:
        rows = session.execute(
            select(
                d.id, d.title, d.publisher, d.licence, d.attribution, d.url, d.rows, d.scope,
                d.sha256, d.published, d.loaded_at,
            ).order_by(d.id)
        ).all()  # fmt: skip
    return [DatasetInfo(*row) for row in rows]


class AreaName(NamedTuple):
    """An area's code and name."""

    code: str
    name: str


@dataclass(frozen=True)
class Overview:
    """The home page's numbers: live assets by ABCD kind, LSOAs (2011) and datasets loaded, and
    one LSOA to show as an example."""

    #: (kind, label, live assets of that kind), in ``ABCD_KINDS`` order, every kind listed.
    kinds: list[tuple[str, str, int]]
    total_assets: int
    n_lsoa: int
    n_datasets: int
    example_area: AreaName | None


def home_overview(store: Store) -> Overview:
    """Live assets by kind, the LSOA 2011 count, the datasets count and the first LSOA by code."""
    svc, area = schema.Service, schema.Area
    lsoa_2011 = (area.level == "lsoa", area.vintage == 2011)
    with store.session() as session:
        counts: dict[str | None, int] = {
            kind: n
            for kind, n in session.execute(
                select(svc.abcd_kind, func.count())
                .where(svc.retired_at.is_(None))
                .group_by(svc.abcd_kind)
            )
        }
        n_lsoa = session.scalar(select(func.count()).where(*lsoa_2011)) or 0
        n_datasets = session.scalar(select(func.count()).select_from(schema.Dataset)) or 0
        example = session.execute(
            select(area.code, area.name).where(*lsoa_2011).order_by(area.code).limit(1)
        ).first()
    return Overview(
        kinds=[(k, KIND_LABELS[k], counts.get(k, 0)) for k in ABCD_KINDS],
        total_assets=sum(counts.values()),
        n_lsoa=n_lsoa,
        n_datasets=n_datasets,
        example_area=AreaName(*example) if example is not None else None,
    )


__all__ = ["AreaName", "DatasetInfo", "Overview", "home_overview", "list_datasets"]
