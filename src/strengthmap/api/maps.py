"""GeoJSON for the map: areas coloured by an indicator, with the legend that explains the colours.

``GET /api/areas.geojson?level=lsoa&vintage=2011&indicator=imd_decile`` gives one feature per
area with ``code``, ``name``, ``value``, ``class`` (1-based colour class, null when there is no
value) and ``colour``; the collection carries ``legend`` (class, label, colour), ``indicator``,
``title`` and ``source``. Indicators: ``imd_decile``, ``<domain>_decile`` for the seven IoD
domains, and ``le_male`` / ``le_female`` / ``le_persons`` (life expectancy at birth 2016-2020,
published on MSOA 2011; each LSOA 2011 shows its parent MSOA's value, from the ONS lookup).

Deciles are as published (1 = most deprived 10% of England) and never re-ranked. Life
expectancy is split into five classes with an equal number of areas each (quintiles of the
areas shown), stated in the legend.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import aliased

from strengthmap.api.deps import get_store
from strengthmap.directory.search import SearchPage, ServiceQuery, parse_near, search_services
from strengthmap.errors import InputError
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.geo import IMD_DOMAINS

router = APIRouter(prefix="/api", tags=["maps"])

#: Colour-blind-safe sequential palette (viridis), darkest = most deprived / shortest life.
VIRIDIS_10 = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
)  # fmt: skip
VIRIDIS_5 = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
NO_DATA_COLOUR = "#bdbdbd"

DOMAIN_LABELS = {
    "imd": "Index of Multiple Deprivation",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, skills and training",
    "health": "Health deprivation and disability",
    "crime": "Crime",
    "housing_services": "Barriers to housing and services",
    "living_environment": "Living environment",
}
LE_SEXES = {"le_male": "male", "le_female": "female", "le_persons": "persons"}
#: The IoD release published on each LSOA vintage.
RELEASE_FOR_VINTAGE = {2011: 2019, 2021: 2025}


def indicator_choices() -> list[tuple[str, str]]:
    """(id, label) of every indicator the map can show, in menu order."""
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


def _geometries(request: Request, store: Store, level: str, vintage: int) -> list[dict[str, Any]]:
    """(code, name, geometry) of the areas, cached on the app (boundaries change only on reload)."""
    cache: dict[tuple[Any, ...], list[dict[str, Any]]] = request.app.state.__dict__.setdefault(
        "_area_geometry_cache", {}
    )
    key = (level, vintage, store.is_empty())
    if key not in cache:
        with store.session() as session:
            rows = session.execute(
                select(schema.Area.id, schema.Area.code, schema.Area.name, schema.Area.geometry)
                .where(
                    schema.Area.level == level,
                    schema.Area.vintage == vintage,
                    schema.Area.geometry.is_not(None),
                )
                .order_by(schema.Area.code)
            ).all()
        cache[key] = [
            {"id": r.id, "code": r.code, "name": r.name, "geometry": _light_geometry(r.geometry)}
            for r in rows
        ]
    return cache[key]


def area_values(
    store: Store, *, level: str, vintage: int, indicator: str
) -> tuple[dict[str, float | None], dict[str, Any]]:
    """{area code: value} for ``indicator`` on the areas of ``level``/``vintage``, and metadata."""
    if indicator.endswith("_decile") and indicator[: -len("_decile")] in DOMAIN_LABELS:
        domain = indicator[: -len("_decile")]
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
        meta = {
            "title": f"{DOMAIN_LABELS[domain]}: decile in England (IoD{release})",
            "unit": "decile",
            "kind": "decile",
            "source": f"English Indices of Deprivation {release}, MHCLG, OGL v3.0",
            "note": "Decile 1 = the most deprived 10% of areas in England; 10 = the least deprived.",
        }
        return {code: (None if v is None else float(v)) for code, v in rows}, meta
    if indicator in LE_SEXES:
        sex = LE_SEXES[indicator]
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
        meta = {
            "title": f"Life expectancy at birth, {sex}, 2016 to 2020 (years)",
            "unit": "years",
            "kind": "quintile",
            "source": "Office for National Statistics, OGL v3.0 (MSOA 2011)",
            "note": "Published for MSOAs; each LSOA shows its MSOA's value. Grey: withheld by ONS "
            "(small numbers) or no data.",
        }
        return {code: v for code, v in rows}, meta
    raise InputError(
        f"unknown indicator {indicator!r}; choose one of "
        + ", ".join(i for i, _ in indicator_choices()),
        field="indicator",
    )


def classify(
    values: dict[str, float | None], kind: str
) -> tuple[dict[str, int | None], list[dict[str, Any]]]:
    """Colour class per code and the legend. Deciles map to themselves; other values to
    quintiles (numpy ``quantile``, linear interpolation) of the non-null values."""
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
    if cls is None:
        return NO_DATA_COLOUR
    return (VIRIDIS_10 if kind == "decile" else VIRIDIS_5)[cls - 1]


def area_table(
    store: Store, *, level: str = "lsoa", vintage: int = 2011, indicator: str = "imd_decile"
) -> dict[str, Any]:
    """The map's data without geometry: rows of code, name, value, class, colour; and the legend."""
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
    rows = [
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


@router.get("/areas.geojson")
def areas_geojson(
    request: Request,
    level: str = Query("lsoa", description="lsoa | msoa | ward | lad"),
    vintage: int = Query(2011, description="Boundary vintage, e.g. 2011 or 2021"),
    indicator: str = Query(
        "imd_decile", description="imd_decile, <domain>_decile, le_male, le_female, le_persons"
    ),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Areas as a GeoJSON FeatureCollection coloured by ``indicator``, with the legend."""
    values, meta = area_values(store, level=level, vintage=vintage, indicator=indicator)
    geoms = _geometries(request, store, level, vintage)
    classes, legend = classify({g["code"]: values.get(g["code"]) for g in geoms}, meta["kind"])
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
        for g in geoms
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


#: Named parts of the day offered by the web forms (local time, Europe/London).
TIMES_OF_DAY = {
    "morning": ("09:00", "12:00"),
    "afternoon": ("12:00", "17:00"),
    "evening": ("17:00", "21:00"),
}


def _blank(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def _number(value: Any, kind: Any, name: str) -> Any:
    """A number from a form field; blank means not given (forms send empty strings)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, not {value!r}", field=name) from None


def service_query(
    store: Store,
    *,
    q: str | None = None,
    taxonomy: list[str] | None = None,
    kind: str | None = None,
    age: int | str | None = None,
    free: bool | None = None,
    near: str | None = None,
    radius_m: float | str | None = None,
    area: str | None = None,
    day: str | None = None,
    time: str | None = None,
    start_time: str | None = None,
    end_time: str | None = None,
    open_at: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> ServiceQuery:
    """A ``ServiceQuery`` from the web's query parameters (blank fields mean "any").

    ``time`` is ``morning`` / ``afternoon`` / ``evening`` (``TIMES_OF_DAY``); ``open_at`` is the
    map's shorthand ``"wed 13:00"`` or ``"wed 13:00-16:00"``; ``near`` is a postcode or
    ``LON,LAT`` (``parse_near``), with ``radius_m`` defaulting to 1,500 m.
    """
    day, start_time, end_time = _blank(day), _blank(start_time), _blank(end_time)
    age_n = _number(age, int, "age")
    radius_n = _number(radius_m, float, "radius_m")
    time = _blank(time)
    if time:
        if time not in TIMES_OF_DAY:
            raise InputError(f"time of day is one of {', '.join(TIMES_OF_DAY)}", field="time")
        start_time, end_time = (
            start_time or TIMES_OF_DAY[time][0],
            end_time or TIMES_OF_DAY[time][1],
        )
    if _blank(open_at):
        parts = str(open_at).split()
        day = parts[0]
        if len(parts) > 1:
            start_time, _, end = parts[1].partition("-")
            end_time = end or start_time
    if day and not start_time:
        start_time, end_time = "00:00", "23:59"
    near_text = _blank(near)
    point = parse_near(store, near_text) if near_text else None
    terms = [part.strip() for item in (taxonomy or []) for part in item.split(",") if part.strip()]
    return ServiceQuery(
        text=_blank(q),
        taxonomy_term_ids=terms,
        kind=_blank(kind),
        age=age_n,
        free=free,
        near=point,
        radius_m=(radius_n or 1500.0) if point is not None else None,
        area_code=_blank(area),
        day=day,
        start_time=start_time,
        end_time=end_time,
        page=page,
        per_page=per_page,
    )


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


def location_names(store: Store, ids: list[str]) -> dict[str, str]:
    """{location id: name} for the given locations."""
    if not ids:
        return {}
    with store.session() as session:
        rows = session.execute(
            select(schema.Location.id, schema.Location.name).where(schema.Location.id.in_(ids))
        ).all()
    return {r.id: r.name for r in rows if r.name}


@router.get("/assets.geojson")
def assets_geojson(
    q: str | None = Query(None, description="Free text"),
    taxonomy: list[str] | None = Query(None, description="Taxonomy term ids, codes or names"),
    kind: str | None = Query(None, description="ABCD kind"),
    age: str | None = Query(None, description="Age of the person (whole years)"),
    free: bool | None = Query(None),
    near: str | None = Query(None, description="Postcode or LON,LAT"),
    radius_m: str | None = Query(None, description="Metres from near (default 1500)"),
    area: str | None = Query(None, description="Area code"),
    day: str | None = Query(None, description="mon..sun or a date"),
    time: str | None = Query(None, description="morning | afternoon | evening"),
    start_time: str | None = Query(None),
    end_time: str | None = Query(None),
    open_at: str | None = Query(None, description='e.g. "wed 13:00" or "wed 13:00-16:00"'),
    store: Store = Depends(get_store),
) -> dict[str, Any]:
    """Directory search results (``search_services``) as GeoJSON points for the map."""
    query = service_query(
        store, q=q, taxonomy=taxonomy, kind=kind, age=age, free=free, near=near,
        radius_m=radius_m, area=area, day=day, time=time, start_time=start_time,
        end_time=end_time, open_at=open_at, per_page=1000,
    )  # fmt: skip
    page = search_services(store, query)
    names = location_names(store, [h.location_id for h in page.items if h.location_id])
    return hits_geojson(page, names)


__all__ = [
    "TIMES_OF_DAY",
    "area_table",
    "area_values",
    "classify",
    "hits_geojson",
    "indicator_choices",
    "location_names",
    "router",
    "service_query",
]
