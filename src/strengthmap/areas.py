"""One area's profile (names, parents, population, every IoD release covering it, life expectancy)
and postcode -> point -> LSOA.

Example:
    >>> p = area_profile(store, "E01011264")                        # doctest: +SKIP
    >>> p["level"], p["msoa_code"], p["imd"]["release"], p["imd_releases"]["2019"]["rank"]  # doctest: +SKIP
    ('lsoa', 'E02002340', 2025, 13915)
    >>> resolve_postcode(store, "ls12 1be")                         # doctest: +SKIP
    (-1.55988, 53.79332, 'E01033013')

Releases are never mixed: IoD2019 is on LSOA 2011, IoD2025 on LSOA 2021. For a 2011 LSOA the 2025
figures are found only through the official ONS 2011 -> 2021 lookup; where the LSOA was split,
each 2021 part is listed (``parts``) and the top-level rank, decile and score are null rather
than a guess. Ranks are those published for all of England (rank 1 = most deprived).
"""

from __future__ import annotations

from typing import NotRequired  # pydantic (FastAPI) needs these before 3.12

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased
from typing_extensions import TypedDict

from strengthmap.coords import POSTCODE, normalise_postcode
from strengthmap.errors import InputError, NotFound
from strengthmap.geography import OUTSIDE, AreaIndex
from strengthmap.storage import Store, schema
from strengthmap.storage.schema.geo import IMD_DOMAINS, LIFE_EXPECTANCY_BIRTH

#: Which vintage of a code to show when it exists in several (LSOA codes unchanged since 2011 do).
VINTAGE_PREFERENCE = {"lsoa": (2011, 2021), "msoa": (2011, 2021), "ward": (2022, 2024, 2020)}
IMD_LSOA_VINTAGE = {2019: 2011, 2025: 2021}

A = schema.Area


# --- the record (``strengthmap areas show --json``, ``GET /api/areas/{code}``) -------------------


class AreaRef(TypedDict):
    """Another area, named: its code, name, level and vintage."""

    code: str
    name: str | None
    level: str
    vintage: int


class ParentRef(AreaRef):
    """An area this one lies in (``best_fit``: by the ONS best-fit lookup, not exact nesting)."""

    relation: str
    best_fit: bool


class LinkedRef(AreaRef):
    """An area of another vintage linked by the official lookup (change code U, S, M or X)."""

    change_code: str | None


class DomainRecord(TypedDict):
    """One IoD domain (or the IMD itself): rank (1 = most deprived in England), decile, score."""

    rank: int | None
    decile: int | None
    score: float | None


class ReleaseFigures(TypedDict):
    """An IoD release's figures for one LSOA: the IMD rank, decile and score, and each domain's."""

    release: int
    n_areas: int
    rank: int | None
    decile: int | None
    score: float | None
    domains: dict[str, DomainRecord]


class ReleasePart(ReleaseFigures):
    """One of the LSOAs of another vintage an area maps to (``ReleaseRecord.parts``)."""

    lsoa_code: str
    name: str | None
    change_code: str | None


class ReleaseRecord(ReleaseFigures):
    """One IoD release for the area, of that release's LSOA vintage (see the module docstring)."""

    lsoa_code: NotRequired[str | None]
    lsoa_codes: NotRequired[list[str]]
    lsoa_vintage: NotRequired[int]
    change_code: NotRequired[str | None]
    via: NotRequired[str]
    note: NotRequired[str]
    parts: NotRequired[list[ReleasePart]]


class LifeExpectancyValue(TypedDict):
    """Life expectancy at birth of one sex, years, with its 95% CI (null where suppressed)."""

    value: float | None
    lower: float | None
    upper: float | None
    deaths: NotRequired[float | None]
    person_years: NotRequired[float | None]
    suppressed: NotRequired[bool]


class LifeExpectancyRecord(TypedDict):
    """Life expectancy at birth of the area's MSOA 2011 (ONS), by sex."""

    msoa_code: str
    msoa_name: str | None
    unit: str
    period: str
    female: LifeExpectancyValue
    male: LifeExpectancyValue
    persons: NotRequired[LifeExpectancyValue]


class PostcodePoint(TypedDict):
    """The postcode asked about and its ONS centroid (lon/lat degrees)."""

    postcode: str
    lon: float
    lat: float


class AreaProfile(TypedDict):
    """One area's published record: the JSON of ``strengthmap areas show --json``."""

    code: str
    name: str | None
    level: str
    vintage: int
    vintages: list[int]
    lad_code: str | None
    msoa_code: str | None
    parents: list[ParentRef]
    successors: list[LinkedRef]
    predecessors: list[LinkedRef]
    population: int | None
    population_year: int | None
    has_geometry: bool
    imd: ReleaseRecord | None
    imd_releases: dict[str, ReleaseRecord]
    life_expectancy: LifeExpectancyRecord | None
    population_note: NotRequired[str]
    postcode: NotRequired[PostcodePoint]


def _parent_ref(area: schema.Area, link: schema.AreaLink) -> ParentRef:
    return {"code": area.code, "name": area.name, "level": area.level, "vintage": area.vintage,
            "relation": "parent", "best_fit": link.best_fit}  # fmt: skip


def _linked_ref(area: schema.Area, link: schema.AreaLink) -> LinkedRef:
    return {"code": area.code, "name": area.name, "level": area.level, "vintage": area.vintage,
            "change_code": link.change_code}  # fmt: skip


# --- reading it -------------------------------------------------------------------------------


def _pick(areas: list[schema.Area], vintage: int | None) -> schema.Area:
    if vintage is not None:
        for a in areas:
            if a.vintage == vintage:
                return a
        raise NotFound(
            f"area {areas[0].code} has no {vintage} vintage (it has {sorted(a.vintage for a in areas)})"
        )
    level = areas[0].level
    prefs = VINTAGE_PREFERENCE.get(level, ())
    return sorted(
        areas, key=lambda a: (prefs.index(a.vintage) if a.vintage in prefs else 99, -a.vintage)
    )[0]


def _links(
    session: Session, area: schema.Area, *, up: bool, relation: str
) -> list[tuple[schema.Area, schema.AreaLink]]:
    other = aliased(A)
    link = schema.AreaLink
    if up:
        cond = and_(link.parent_id == other.id, link.child_id == area.id)
    else:
        cond = and_(link.child_id == other.id, link.parent_id == area.id)
    rows = session.execute(
        select(other, link).join(link, cond).where(link.relation == relation).order_by(other.code)
    ).all()
    return [(r[0], r[1]) for r in rows]


def _domains(dep: schema.Deprivation) -> dict[str, DomainRecord]:
    return {
        d: {
            "rank": getattr(dep, f"{d}_rank"),
            "decile": getattr(dep, f"{d}_decile"),
            "score": getattr(dep, f"{d}_score"),
        }
        for d in IMD_DOMAINS
    }


def _figures(dep: schema.Deprivation) -> ReleaseFigures:
    return {
        "release": dep.release,
        "n_areas": dep.n_areas,
        "rank": dep.imd_rank,
        "decile": dep.imd_decile,
        "score": dep.imd_score,
        "domains": _domains(dep),
    }


def _deprivation(session: Session, area_id: int, release: int) -> schema.Deprivation | None:
    return session.scalars(
        select(schema.Deprivation).where(
            schema.Deprivation.area_id == area_id, schema.Deprivation.release == release
        )
    ).first()


def _release_record(dep: schema.Deprivation) -> ReleaseRecord:
    """The figures as a ``ReleaseRecord`` to add keys to (a literal: strict mypy does not let a
    ``**figures`` fill a TypedDict that has optional keys)."""
    figures = _figures(dep)
    return {"release": figures["release"], "n_areas": figures["n_areas"], "rank": figures["rank"],
            "decile": figures["decile"], "score": figures["score"], "domains": figures["domains"]}  # fmt: skip


def _release_via(
    session: Session, release: int, areas: list[tuple[schema.Area, str | None]], own_vintage: int
) -> ReleaseRecord | None:
    """The record of ``release`` for an area, through the areas of that release's vintage
    that the official lookup links it to (``(area, change_code)`` pairs)."""
    found: list[tuple[schema.Area, str | None, schema.Deprivation]] = []
    for a, cc in areas:
        dep = _deprivation(session, a.id, release)
        if dep is not None:
            found.append((a, cc, dep))
    if not found:
        return None
    lsoa_vintage = IMD_LSOA_VINTAGE[release]
    if len(found) == 1:
        a, cc, d = found[0]
        rec = _release_record(d)
        rec["lsoa_code"], rec["lsoa_codes"] = a.code, [a.code]
        rec["lsoa_vintage"], rec["change_code"] = lsoa_vintage, cc
        if lsoa_vintage != own_vintage:
            rec["via"] = "ONS LSOA 2011 -> 2021 lookup"
            if cc == "S" and own_vintage == 2021:
                rec["note"] = (
                    "the 2021 LSOA is part of a 2011 LSOA that was split: this is the whole 2011 LSOA's figure"
                )
            if cc == "M" and own_vintage == 2011:
                rec["note"] = (
                    "the 2011 LSOA was merged with others into this 2021 LSOA: this is the merged area's figure"
                )
        return rec
    parts: list[ReleasePart] = [
        {**_figures(d), "lsoa_code": a.code, "name": a.name, "change_code": cc}
        for a, cc, d in found
    ]
    return {
        "release": release,
        "n_areas": found[0][2].n_areas,
        "rank": None,
        "decile": None,
        "score": None,
        "domains": {d: {"rank": None, "decile": None, "score": None} for d in IMD_DOMAINS},
        "lsoa_code": None,
        "lsoa_codes": [a.code for a, _, _ in found],
        "lsoa_vintage": lsoa_vintage,
        "change_code": found[0][1],
        "via": "ONS LSOA 2011 -> 2021 lookup",
        "parts": parts,
        "note": "the area maps to several LSOAs of this release: each part is listed, none is picked",
    }


def _life_expectancy(session: Session, msoa: schema.Area | None) -> LifeExpectancyRecord | None:
    """The MSOA's life expectancy by sex (the latest period stored); a sex with no row is
    reported suppressed."""
    if msoa is None:
        return None
    values = session.scalars(
        select(schema.IndicatorValue)
        .where(
            schema.IndicatorValue.indicator_id == LIFE_EXPECTANCY_BIRTH,
            schema.IndicatorValue.area_id == msoa.id,
        )
        .order_by(schema.IndicatorValue.period, schema.IndicatorValue.sex)
    ).all()
    if not values:
        return None
    by_sex: dict[str, LifeExpectancyValue] = {}
    for v in values:
        rec: LifeExpectancyValue = {"value": v.value, "lower": v.lower, "upper": v.upper,
                                    "deaths": v.count, "person_years": v.denominator}  # fmt: skip
        if v.suppressed:
            rec["suppressed"] = True
        by_sex[v.sex] = rec

    def of(sex: str) -> LifeExpectancyValue:
        return by_sex.get(sex) or {"value": None, "lower": None, "upper": None, "suppressed": True}

    out: LifeExpectancyRecord = {
        "msoa_code": msoa.code,
        "msoa_name": msoa.name,
        "unit": "years",
        "period": values[-1].period,
        "female": of("female"),
        "male": of("male"),
    }
    if "persons" in by_sex:
        out["persons"] = by_sex["persons"]
    return out


def area_profile(store: Store, code: str, *, vintage: int | None = None) -> AreaProfile:
    """The record of ``strengthmap areas show CODE --json`` (and ``GET /api/areas/{code}``)."""
    code = code.strip().upper()
    if not code or len(code) != 9 or not code[1:].isdigit():
        raise InputError(f"{code!r} is not an ONS area code (like E01011264)", field="code")
    with store.session() as session:
        areas = list(session.scalars(select(A).where(A.code == code)).all())
        if not areas:
            raise NotFound(f"no area with code {code} is loaded")
        area = _pick(areas, vintage)
        parents = _links(session, area, up=True, relation="parent")
        successors = _links(session, area, up=True, relation="successor")
        predecessors = _links(session, area, up=False, relation="successor")
        msoa: schema.Area | None = None
        if area.level == "msoa":
            msoa = area if area.vintage == 2011 else next((a for a, _ in predecessors), None)
        else:
            msoa = next((p for p, _ in parents if p.level == "msoa" and p.vintage == 2011), None)
            if msoa is None and area.level == "lsoa" and area.vintage == 2021:
                # through the official 2011 -> 2021 lookup: the MSOA of its 2011 LSOA(s), if one
                msoas = {p.code: p for a, _ in predecessors for p, _ in _links(session, a, up=True, relation="parent") if p.level == "msoa"}  # fmt: skip
                if len(msoas) == 1:
                    msoa = next(iter(msoas.values()))
        releases: dict[str, ReleaseRecord] = {}
        if area.level == "lsoa":
            own: list[tuple[schema.Area, str | None]] = [(area, None)]
            succ = [(a, link.change_code) for a, link in successors if a.level == "lsoa"]
            pred = [(a, link.change_code) for a, link in predecessors if a.level == "lsoa"]
            for release, lsoa_vintage in IMD_LSOA_VINTAGE.items():
                if lsoa_vintage == area.vintage:
                    rec = _release_via(session, release, own, area.vintage)
                    if rec is not None:
                        rec["lsoa_code"], rec["lsoa_codes"] = area.code, [area.code]
                        rec["lsoa_vintage"] = lsoa_vintage
                        rec.pop("change_code", None)
                else:
                    linked = succ if lsoa_vintage > area.vintage else pred
                    rec = _release_via(session, release, linked, area.vintage)
                if rec is not None:
                    releases[str(release)] = rec
        population = area.population
        population_year = area.population_year
        population_note = None
        if population is None and area.level == "msoa" and area.vintage == 2011:
            kids = [a for a, _ in _links(session, area, up=False, relation="parent")]
            if kids and all(k.population is not None for k in kids):
                population = int(sum(k.population for k in kids if k.population is not None))
                population_year = kids[0].population_year
                population_note = f"sum of its {len(kids)} LSOAs (2011)"
        latest = max(releases, key=int) if releases else None
        record: AreaProfile = {
            "code": area.code,
            "name": area.name,
            "level": area.level,
            "vintage": area.vintage,
            "vintages": sorted(a.vintage for a in areas),
            "lad_code": area.lad_code,
            "msoa_code": msoa.code if msoa is not None else None,
            "parents": [_parent_ref(p, link) for p, link in parents],
            "successors": [_linked_ref(a, link) for a, link in successors],
            "predecessors": [_linked_ref(a, link) for a, link in predecessors],
            "population": population,
            "population_year": population_year,
            "has_geometry": area.geometry is not None,
            "imd": releases[latest] if latest else None,
            "imd_releases": releases,
            "life_expectancy": _life_expectancy(session, msoa),
        }
        if population_note:
            record["population_note"] = population_note
        return record


def resolve_postcode(store: Store, text: str) -> tuple[float, float, str]:
    """Postcode -> (lon, lat, LSOA 2011 code) from the ONS postcode centroids and the LSOA
    boundaries (point in polygon). Unknown postcodes raise ``NotFound``; a point outside the
    loaded LSOAs gives ``"outside"`` as the code."""
    postcode = normalise_postcode(text)
    if not POSTCODE.match(postcode):
        raise InputError(f"{text!r} is not a UK postcode (like LS12 1BE)", field="postcode")
    with store.session() as session:
        row = session.get(schema.Postcode, postcode)
        if row is None:
            raise NotFound(f"postcode {postcode} is not in the loaded postcode lookup")
        if row.lon is None or row.lat is None:
            raise NotFound(f"postcode {postcode} has no coordinates in the ONS postcode lookup")
        lon, lat = float(row.lon), float(row.lat)
        # bounding-box prefilter in SQL, then the exact test on the few candidates
        candidates = session.execute(
            select(A.code, A.geometry).where(
                A.level == "lsoa", A.vintage == 2011, A.geometry.is_not(None),
                A.min_lon <= lon, A.max_lon >= lon, A.min_lat <= lat, A.max_lat >= lat,
            ).order_by(A.code)
        ).all()  # fmt: skip
    if not candidates:
        return lon, lat, OUTSIDE
    index = AreaIndex.from_geometries(
        [c.code for c in candidates], [c.geometry for c in candidates]
    )
    code = index.locate(np.array([lon]), np.array([lat]))[0]
    return lon, lat, str(code)


def postcode_profile(store: Store, text: str) -> AreaProfile:
    """The record of ``areas show --postcode``: the LSOA's profile plus the postcode and its point."""
    lon, lat, code = resolve_postcode(store, text)
    if code == OUTSIDE:
        raise NotFound(
            f"postcode {normalise_postcode(text)} ({lon}, {lat}) is outside the loaded LSOAs"
        )
    record = area_profile(store, code, vintage=2011)
    record["postcode"] = {"postcode": normalise_postcode(text), "lon": lon, "lat": lat}
    return record


__all__ = [
    "AreaProfile",
    "AreaRef",
    "DomainRecord",
    "LifeExpectancyRecord",
    "LifeExpectancyValue",
    "LinkedRef",
    "ParentRef",
    "PostcodePoint",
    "ReleaseFigures",
    "ReleasePart",
    "ReleaseRecord",
    "area_profile",
    "postcode_profile",
    "resolve_postcode",
]
