"""The map: areas coloured by an indicator with the legend that explains the colours, and the
directory's assets as points.

Example:
    >>> from strengthmap.storage import open_store
    >>> store = open_store("sqlite://")
    >>> areas_geojson(store, level="lsoa", vintage=2011, indicator="imd_decile")["title"]
    'Index of Multiple Deprivation: decile in England (IoD2019)'
    >>> classify({"E01": 2.0, "E02": None}, "decile")[0]
    {'E01': 2, 'E02': None}

Indicators (``indicator_choices``): ``imd_decile``, ``<domain>_decile`` for the seven IoD
domains, and ``le_male`` / ``le_female`` / ``le_persons`` (life expectancy at birth 2016-2020,
published on MSOA 2011; each LSOA 2011 shows its parent MSOA's value, from the ONS lookup).

Deciles are as published (1 = most deprived 10% of England) and never re-ranked. Life
expectancy is split into five classes with an equal number of areas each (quintiles of the
areas shown, numpy ``quantile`` with linear interpolation), stated in the legend. Colours are
viridis (colour-blind safe), darkest = most deprived / shortest life; grey = no data.
"""

from __future__ import annotations

import math
from typing import Any, TypedDict

import numpy as np
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import aliased

from strengthmap.directory.profile import location_names
from strengthmap.directory.search import SearchPage, ServiceQuery, search_services
from strengthmap.errors import InputError
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.geo import DOMAIN_LABELS, IMD_DOMAINS

#: Colour-blind-safe sequential palette (viridis), darkest = most deprived / shortest life.
VIRIDIS_10 = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
)  # fmt: skip
VIRIDIS_5 = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
NO_DATA_COLOUR = "#bdbdbd"
LE_SEXES = {"le_male": "male", "le_female": "female", "le_persons": "persons"}
#: The IoD release published on each LSOA vintage.
RELEASE_FOR_VINTAGE = {2011: 2019, 2021: 2025}

#: One legend entry: colour class (None: no data), label, colour.
LegendEntry = TypedDict("LegendEntry", {"class": int | None, "label": str, "colour": str})
#: One area of the map's table: code, name, value, colour class, colour.
AreaRow = TypedDict(
    "AreaRow",
    {"code": str, "name": str, "value": float | None, "class": int | None, "colour": str},
)


class IndicatorMeta(TypedDict):
    """What an indicator is: title, unit, ``kind`` (``decile`` or ``quintile`` classes), source
    and a note for the legend."""

    title: str
    unit: str
    kind: str
    source: str
    note: str


class AreaShape(TypedDict):
    """An area's outline for the map: GeoJSON geometry simplified (~3 m) and rounded (~1 m)."""

    id: int
    code: str
    name: str
    geometry: dict[str, Any]


def indicator_choices() -> list[tuple[str, str]]:
    """(id, label) of every indicator the map can show, in menu order.

    >>> indicator_choices()[0]
    ('imd_decile', 'Index of Multiple Deprivation decile')
    """
    out = [(f"{d}_decile", f"{DOMAIN_LABELS[d]} decile") for d in ("imd", *IMD_DOMAINS)]
    out += [
        ("le_male", "Life expectancy at birth, male"),
        ("le_female", "Life expectancy at birth, female"),
        ("le_persons", "Life expectancy at birth, persons"),
    ]
    return out


def _round(coords: Any, ndigits: int = 5) -> Any:
    if isinstance(coords, tuple | list):
        if coords and isinstance(coords[0], float | int):
            return [round(float(c), ndigits) for c in coords]
        return [_round(c, ndigits) for c in coords]
    return coords


def _light_geometry(geom: BaseGeometry) -> dict[str, Any]:
    # about 3 m of simplification and 1 m of rounding: invisible at city zoom, a quarter the bytes
    simple = geom.simplify(0.00003, preserve_topology=True)
    m = dict(mapping(simple))
    m["coordinates"] = _round(m["coordinates"])
    return m


def area_shapes(store: Store, *, level: str, vintage: int) -> list[AreaShape]:
    """The outlines of the areas of ``level`` / ``vintage`` that have one, by code (callers may
    keep them: boundaries change only when the data is loaded again)."""
    area = schema.Area
    with store.session() as session:
        rows = session.execute(
            select(area.id, area.code, area.name, area.geometry)
            .where(area.level == level, area.vintage == vintage, area.geometry.is_not(None))
            .order_by(area.code)
        ).all()
    return [
        {"id": r.id, "code": r.code, "name": r.name, "geometry": _light_geometry(r.geometry)}
        for r in rows
    ]


def area_values(
    store: Store, *, level: str, vintage: int, indicator: str
) -> tuple[dict[str, float | None], IndicatorMeta]:
    """{area code: value} for ``indicator`` on the areas of ``level``/``vintage``, and metadata."""
    if indicator.endswith("_decile") and indicator[: -len("_decile")] in DOMAIN_LABELS:
        return _deciles(store, level, vintage, indicator[: -len("_decile")])
    if indicator in LE_SEXES:
        return _life_expectancy(store, level, vintage, LE_SEXES[indicator])
    raise InputError(
        f"unknown indicator {indicator!r}; choose one of "
        + ", ".join(i for i, _ in indicator_choices()),
        field="indicator",
    )


def _deciles(
    store: Store, level: str, vintage: int, domain: str
) -> tuple[dict[str, float | None], IndicatorMeta]:
    release = RELEASE_FOR_VINTAGE.get(vintage)
    if level != "lsoa" or release is None:
        raise InputError(
            "deprivation deciles are published on LSOA 2011 (IoD2019) and LSOA 2021 (IoD2025)",
            field="indicator",
        )
    column = getattr(schema.Deprivation, f"{domain}_decile")
    with store.session() as session:
        rows = session.execute(
            select(schema.Area.code, column)
            .join(schema.Deprivation, schema.Deprivation.area_id == schema.Area.id)
            .where(
                schema.Area.level == level,
                schema.Area.vintage == vintage,
                schema.Deprivation.release == release,
            )
        ).all()
    meta: IndicatorMeta = {
        "title": f"{DOMAIN_LABELS[domain]}: decile in England (IoD{release})",
        "unit": "decile",
        "kind": "decile",
        "source": f"English Indices of Deprivation {release}, MHCLG, OGL v3.0",
        "note": "Decile 1 = the most deprived 10% of areas in England; 10 = the least deprived.",
    }
    return {code: (None if v is None else float(v)) for code, v in rows}, meta


def _life_expectancy(
    store: Store, level: str, vintage: int, sex: str
) -> tuple[dict[str, float | None], IndicatorMeta]:
    value_col = schema.IndicatorValue.value
    with store.session() as session:
        if level == "msoa":
            rows = session.execute(
                select(schema.Area.code, value_col)
                .join(schema.IndicatorValue, schema.IndicatorValue.area_id == schema.Area.id)
                .where(
                    schema.Area.level == "msoa",
                    schema.Area.vintage == vintage,
                    schema.IndicatorValue.indicator_id == "life_expectancy_birth",
                    schema.IndicatorValue.sex == sex,
                )
            ).all()
        elif level == "lsoa":
            msoa = aliased(schema.Area)
            rows = session.execute(
                select(schema.Area.code, value_col)
                .join(schema.AreaLink, schema.AreaLink.child_id == schema.Area.id)
                .join(msoa, msoa.id == schema.AreaLink.parent_id)
                .join(schema.IndicatorValue, schema.IndicatorValue.area_id == msoa.id)
                .where(
                    schema.Area.level == "lsoa",
                    schema.Area.vintage == vintage,
                    schema.AreaLink.relation == "parent",
                    msoa.level == "msoa",
                    schema.IndicatorValue.indicator_id == "life_expectancy_birth",
                    schema.IndicatorValue.sex == sex,
                )
            ).all()
        else:
            raise InputError("life expectancy is shown on LSOAs or MSOAs", field="level")
    meta: IndicatorMeta = {
        "title": f"Life expectancy at birth, {sex}, 2016 to 2020 (years)",
        "unit": "years",
        "kind": "quintile",
        "source": "Office for National Statistics, OGL v3.0 (MSOA 2011)",
        "note": "Published for MSOAs; each LSOA shows its MSOA's value. Grey: withheld by ONS "
        "(small numbers) or no data.",
    }
    return {code: v for code, v in rows}, meta


def classify(
    values: dict[str, float | None], kind: str
) -> tuple[dict[str, int | None], list[LegendEntry]]:
    """Colour class per code and the legend. Deciles map to themselves; other values to
    quintiles (numpy ``quantile``, linear interpolation) of the non-null values."""
    legend: list[LegendEntry]
    if kind == "decile":
        classes = {c: (None if v is None else int(v)) for c, v in values.items()}
        legend = [
            {
                "class": k,
                "label": f"{k}"
                + (" (most deprived)" if k == 1 else " (least deprived)" if k == 10 else ""),
                "colour": VIRIDIS_10[k - 1],
            }
            for k in range(1, 11)
        ]
    else:
        present = np.array([v for v in values.values() if v is not None and not math.isnan(v)])
        if len(present) == 0:
            return {c: None for c in values}, []
        edges = np.quantile(present, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
        classes = {}
        for code, v in values.items():
            if v is None or math.isnan(v):
                classes[code] = None
            else:
                # class k holds edges[k-1] <= v < edges[k]; the top edge belongs to class 5
                classes[code] = min(int(np.searchsorted(edges, v, side="right")), 5)
        legend = [
            {
                "class": k,
                "label": f"{edges[k - 1]:.1f} to {edges[k]:.1f}",
                "colour": VIRIDIS_5[k - 1],
            }
            for k in range(1, 6)
        ]
    legend.append({"class": None, "label": "No data", "colour": NO_DATA_COLOUR})
    return classes, legend


def colour_of(cls: int | None, kind: str) -> str:
    """The colour of class ``cls`` (grey for none).

    >>> colour_of(1, "decile"), colour_of(None, "quintile")
    ('#440154', '#bdbdbd')
    """
    if cls is None:
        return NO_DATA_COLOUR
    return (VIRIDIS_10 if kind == "decile" else VIRIDIS_5)[cls - 1]


def area_table(
    store: Store, *, level: str = "lsoa", vintage: int = 2011, indicator: str = "imd_decile"
) -> dict[str, Any]:
    """The map's data without geometry: ``rows`` of code, name, value, class, colour; the
    ``legend``, ``indicator`` and the indicator's ``IndicatorMeta`` keys."""
    values, meta = area_values(store, level=level, vintage=vintage, indicator=indicator)
    with store.session() as session:
        names = dict(
            session.execute(
                select(schema.Area.code, schema.Area.name).where(
                    schema.Area.level == level, schema.Area.vintage == vintage
                )
            ).all()
        )
    full = {code: values.get(code) for code in names}
    classes, legend = classify(full, meta["kind"])
    rows: list[AreaRow] = [
        {
            "code": code,
            "name": names[code],
            "value": full[code],
            "class": classes[code],
            "colour": colour_of(classes[code], meta["kind"]),
        }
        for code in sorted(names)
    ]
    return {"indicator": indicator, "legend": legend, "rows": rows, **meta}


def areas_geojson(
    store: Store,
    *,
    level: str,
    vintage: int,
    indicator: str,
    shapes: list[AreaShape] | None = None,
) -> dict[str, Any]:
    """The areas as a GeoJSON FeatureCollection coloured by ``indicator``: one feature per area
    with ``code``, ``name``, ``value``, ``class`` (1-based colour class, null without a value) and
    ``colour``; the collection carries ``legend``, ``indicator``, ``level``, ``vintage`` and the
    indicator's ``IndicatorMeta`` keys. ``shapes`` are ``area_shapes`` kept by the caller (read
    here when not given)."""
    values, meta = area_values(store, level=level, vintage=vintage, indicator=indicator)
    if shapes is None:
        shapes = area_shapes(store, level=level, vintage=vintage)
    classes, legend = classify({g["code"]: values.get(g["code"]) for g in shapes}, meta["kind"])
    features = [
        {
            "type": "Feature",
            "id": g["code"],
            "geometry": g["geometry"],
            "properties": {
                "code": g["code"],
                "name": g["name"],
                "value": values.get(g["code"]),
                "class": classes[g["code"]],
                "colour": colour_of(classes[g["code"]], meta["kind"]),
            },
        }
        for g in shapes
    ]
    return {
        "type": "FeatureCollection",
        "indicator": indicator,
        "level": level,
        "vintage": vintage,
        "legend": legend,
        **meta,
        "features": features,
    }


def hits_geojson(page: SearchPage, location_names: dict[str, str] | None = None) -> dict[str, Any]:
    """Search hits as GeoJSON points (hits without a location are counted, not drawn)."""
    features = []
    for h in page.items:
        if h.longitude is None or h.latitude is None:
            continue
        features.append(
            {
                "type": "Feature",
                "id": h.service_id,
                "geometry": {"type": "Point", "coordinates": [h.longitude, h.latitude]},
                "properties": {
                    "id": h.service_id,
                    "name": h.name,
                    "abcd_kind": h.abcd_kind,
                    "location": (location_names or {}).get(h.location_id or "", None),
                    "distance_m": h.distance_m,
                },
            }
        )
    return {"type": "FeatureCollection", "total": page.total, "features": features}


def assets_geojson(store: Store, query: ServiceQuery) -> dict[str, Any]:
    """The services ``query`` finds (``search_services``) as GeoJSON points named by place.

    >>> from strengthmap.storage import open_store
    >>> assets_geojson(open_store("sqlite://"), ServiceQuery(text="lunch"))
    {'type': 'FeatureCollection', 'total': 0, 'features': []}
    """
    page = search_services(store, query)
    names = location_names(store, [h.location_id for h in page.items if h.location_id])
    return hits_geojson(page, names)


__all__ = [
    "LE_SEXES",
    "NO_DATA_COLOUR",
    "RELEASE_FOR_VINTAGE",
    "VIRIDIS_5",
    "VIRIDIS_10",
    "AreaRow",
    "AreaShape",
    "IndicatorMeta",
    "LegendEntry",
    "area_shapes",
    "area_table",
    "area_values",
    "areas_geojson",
    "assets_geojson",
    "classify",
    "colour_of",
    "hits_geojson",
    "indicator_choices",
]
