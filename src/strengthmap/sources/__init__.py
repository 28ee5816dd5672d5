"""Readers and loaders for official open data formats: ``read_*`` validates, ``load_*`` writes in one transaction.

Example:
    >>> reports = load_data_dir(store, Path("../shared/data"), place="Leeds")   # doctest: +SKIP
    >>> [(r.dataset, r.rows_written) for r in reports][:2]                       # doctest: +SKIP
    [('boundaries_lsoa2011', 482), ('boundaries_msoa2011', 107)]

``load_data_dir`` reads and validates every recognised file of the data directory first (any
fault raises ``InputError`` naming file, row and field, and nothing is written), then writes them
all in one transaction. A file whose SHA-256 (and scope) equals its stored ``dataset`` row is
skipped, so loading twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from strengthmap.errors import ConfigError, InputError
from strengthmap.sources._common import LoadReport, SourceFile, area_ids, require_known
from strengthmap.sources.assets import load_assets
from strengthmap.sources.boundaries import Boundaries, read_boundaries, write_boundaries
from strengthmap.sources.catalog import BY_ID, CATALOG, CatalogEntry, record_dataset
from strengthmap.sources.imd import ImdTable, combine_imd, read_imd, write_imd
from strengthmap.sources.life_expectancy import (
    LifeExpectancyTable,
    read_life_expectancy,
    write_life_expectancy,
)
from strengthmap.sources.lookups import LookupTable, read_lookup, write_lookup
from strengthmap.sources.population import PopulationTable, read_population, write_population
from strengthmap.sources.postcodes import PostcodeTable, read_postcodes, write_postcodes
from strengthmap.storage import Store, schema

#: ``progress(stage, dataset, done, total)``; stage is ``"read"`` or ``"write"``.
Progress = Callable[[str, str, int, int], None]


def find_data_files(data_dir: Path) -> list[Path]:
    """The recognised data files present in ``data_dir`` (empty when there is no data)."""
    if not data_dir.is_dir():
        return []
    return sorted(
        p for p in data_dir.rglob("*") if p.is_file() and p.suffix in {".csv", ".gz", ".geojson"}
    )


@dataclass
class _Group:
    """Files written together: a boundary file, a lookup, one IoD release, one indicator."""

    name: str
    entries: list[CatalogEntry] = field(default_factory=list)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    unchanged: bool = False


def _read(
    entry: CatalogEntry, path: Path, place: str | None, place_lsoa21: set[str] | None
) -> SourceFile:
    scoped = place if entry.england_wide else None
    if entry.group.startswith("boundaries_"):
        return read_boundaries(path, dataset=entry.id)
    if entry.group.startswith("lookup_"):
        return read_lookup(path, dataset=entry.id)
    if entry.group == "imd2019":
        return read_imd(path, release=2019, place=scoped, dataset=entry.id)
    if entry.group == "imd2025":
        return read_imd(
            path, release=2025, place=scoped, place_codes=place_lsoa21, dataset=entry.id
        )
    if entry.group == "life_expectancy":
        return read_life_expectancy(path, place=scoped, dataset=entry.id)
    if entry.group == "population":
        return read_population(path, dataset=entry.id)
    if entry.group == "postcodes":
        return read_postcodes(path, dataset=entry.id)
    raise ConfigError(f"no reader for {entry.id}")  # pragma: no cover - catalog is closed


def _scope(entry: CatalogEntry, place: str | None) -> str:
    return (place or "England") if entry.england_wide else "as published"


def _place_lsoa21(sources: dict[str, SourceFile], place: str | None) -> set[str] | None:
    """The place's LSOA 2021 codes, from the official lookups (their LAD name columns)."""
    if place is None:
        return None
    codes: set[str] = set()
    for s in sources.values():
        if isinstance(s, LookupTable) and s.kind in ("lsoa2011_lsoa2021", "lsoa2021_ward2024"):
            f = s.frame
            mask = (f["lad_name"].fillna("").str.casefold() == place.casefold()) | (
                f["lad_code"] == place
            )
            col = "parent" if s.kind == "lsoa2011_lsoa2021" else "child"
            codes |= set(f.loc[mask, col])
    return codes or None


def _crosscheck_life_expectancy(base: LifeExpectancyTable, other: LifeExpectancyTable) -> None:
    values: dict[tuple[str, str], float] = {
        (str(c), str(x)): float(v)
        for c, x, v in zip(base.frame["code"], base.frame["sex"], base.frame["value"], strict=True)
    }
    for i, (code, sex, value) in enumerate(
        zip(other.frame["code"], other.frame["sex"], other.frame["value"], strict=True)
    ):
        row = int(other.frame.index[i])
        key = (str(code), str(sex))
        if key not in values:
            raise InputError(
                f"{code} ({sex}) is not in {Path(base.file).name}",
                file=other.file,
                row=row,
                field=other.mapping["code"],
            )
        v, w = values[key], float(value)
        same = (v != v and w != w) or abs(v - w) < 1e-6  # both NaN (suppressed), or equal
        if not same:
            raise InputError(
                f"{code} ({sex}): {w} here but {v} in {Path(base.file).name}",
                file=other.file,
                row=row,
                field=other.mapping["value"],
            )


def _known_codes(store: Store, sources: dict[str, SourceFile]) -> dict[tuple[str, int], set[str]]:
    """Codes of the areas that exist or are defined by the files being loaded (boundaries, IoD)."""
    known: dict[tuple[str, int], set[str]] = {}
    with store.session() as session:
        for level, vintage in (("lsoa", 2011), ("lsoa", 2021), ("msoa", 2011)):
            known[(level, vintage)] = set(area_ids(session, level, vintage))
    for s in sources.values():
        if isinstance(s, Boundaries):
            known.setdefault((s.level, s.vintage), set()).update(s.codes)
        elif isinstance(s, ImdTable):
            known.setdefault(("lsoa", 2011 if s.release == 2019 else 2021), set()).update(
                s.frame["code"]
            )
    return known


def _check_known(sources: dict[str, SourceFile], known: dict[tuple[str, int], set[str]]) -> None:
    """An area code that no boundary, IoD file or stored area defines is refused as unknown."""
    for s in sources.values():
        checks: list[tuple[Any, str, tuple[str, int], str]] = []
        if isinstance(s, PopulationTable):
            checks.append((s.frame["code"], "lsoa11_code", ("lsoa", 2011), "LSOA 2011"))
        elif isinstance(s, LookupTable):
            if s.kind == "lsoa2011_lsoa2021":
                checks.append((s.frame["child"], "lsoa11_code", ("lsoa", 2011), "LSOA 2011"))
                checks.append((s.frame["parent"], "lsoa21_code", ("lsoa", 2021), "LSOA 2021"))
            elif s.kind == "lsoa2011_msoa2011":
                checks.append((s.frame["child"], "lsoa11_code", ("lsoa", 2011), "LSOA 2011"))
                checks.append((s.frame["parent"], "msoa11_code", ("msoa", 2011), "MSOA 2011"))
            elif s.kind == "lsoa2021_ward2024":
                checks.append((s.frame["child"], "lsoa21_code", ("lsoa", 2021), "LSOA 2021"))
        for codes, fld, key, what in checks:
            pool = known.get(key) or set()
            if pool:  # nothing defines this level: no basis to call a code unknown
                require_known(
                    zip(codes.index, codes, strict=True), pool, file=s.file, field=fld, what=what
                )


def _stored_datasets(store: Store) -> dict[str, tuple[str | None, str | None]]:
    with store.session() as session:
        d = schema.Dataset
        return {r.id: (r.sha256, r.scope) for r in session.execute(select(d.id, d.sha256, d.scope))}


def read_data_dir(
    store: Store,
    data_dir: Path,
    *,
    place: str | None = "Leeds",
    progress: Progress | None = None,
) -> list[_Group]:
    """Read and validate every catalogued file present (no writes); grouped for writing."""
    data_dir = Path(data_dir)
    present = [e for e in CATALOG if (data_dir / e.path).is_file()]
    if not present:
        raise ConfigError(
            f"no known data files in {data_dir}: get them with `strengthmap data download` "
            "or point --data / STRENGTHMAP_DATA_DIR at a folder laid out like it"
        )
    stored = _stored_datasets(store)
    # lookups first: they tell the place's LSOA 2021 codes (the IoD2025 file has no LAD column)
    order = sorted(present, key=lambda e: (not e.group.startswith("lookup_"), CATALOG.index(e)))
    sources: dict[str, SourceFile] = {}
    place21: set[str] | None = None
    for n, entry in enumerate(order, start=1):
        if progress:
            progress("read", entry.id, n - 1, len(order))
        if entry.group == "imd2025" and place21 is None:
            place21 = _place_lsoa21(sources, place)
        sources[entry.id] = _read(entry, data_dir / entry.path, place, place21)
    if progress:
        progress("read", "", len(order), len(order))
    _check_known(sources, _known_codes(store, sources))
    groups: dict[str, _Group] = {}
    for entry in present:
        g = groups.setdefault(entry.group, _Group(entry.group))
        g.entries.append(entry)
        g.sources[entry.id] = sources[entry.id]
    for g in groups.values():
        g.unchanged = all(
            stored.get(e.id) == (g.sources[e.id].sha256, _scope(e, place)) for e in g.entries
        )
        # cross-check the duplicate files against the primary one (values must agree)
        primaries = [e for e in g.entries if e.role == "primary"]
        checks = [e for e in g.entries if e.role == "crosscheck"]
        if g.name == "imd2019" and primaries:
            tables = [g.sources[e.id] for e in primaries]
            extra = [g.sources[e.id] for e in checks]
            combine_imd(
                *_base_first([t for t in tables if isinstance(t, ImdTable)]),
                *[t for t in extra if isinstance(t, ImdTable)],
            )
        if g.name == "life_expectancy" and primaries and checks:
            base, other = g.sources[primaries[0].id], g.sources[checks[0].id]
            assert isinstance(base, LifeExpectancyTable) and isinstance(other, LifeExpectancyTable)
            _crosscheck_life_expectancy(base, other)
    return list(groups.values())


#: the writer of each kind of file read (IoD files are combined per release first)
_WRITERS: dict[type, Callable[[Any, Any], int]] = {
    Boundaries: write_boundaries,
    LookupTable: write_lookup,
    LifeExpectancyTable: write_life_expectancy,
    PopulationTable: write_population,
    PostcodeTable: write_postcodes,
}


def _base_first(tables: list[ImdTable]) -> list[ImdTable]:
    """IoD files of one release, the base first: the most areas, then the most rank columns
    (File 7 before File 2 before File 1 before File 6); the others add their columns for the
    areas the base has (``combine_imd``)."""
    return sorted(
        tables, key=lambda t: (-len(t.frame), -sum(c.endswith("_rank") for c in t.frame.columns))
    )


def _write_group(session: Any, g: _Group, place: str | None) -> dict[str, int]:
    """Write one group inside the caller's transaction; rows written per dataset id."""
    written: dict[str, int] = {}
    primaries = [e for e in g.entries if e.role == "primary"] or g.entries[:1]
    for e in g.entries:
        record_dataset(session, g.sources[e.id], scope=_scope(e, place))
        written[e.id] = 0
    first = g.sources[primaries[0].id]
    if isinstance(first, ImdTable):
        imd_tables = [t for t in (g.sources[e.id] for e in primaries) if isinstance(t, ImdTable)]
        imd_tables = _base_first(imd_tables)
        frame = combine_imd(*imd_tables)
        written[imd_tables[0].dataset] = write_imd(
            session, first.release, frame, source_id=imd_tables[0].dataset
        )
    else:
        written[first.dataset] = _WRITERS[type(first)](session, first)
    return written


def load_data_dir(
    store: Store,
    data_dir: Path,
    *,
    place: str | None = "Leeds",
    progress: Progress | None = None,
) -> list[LoadReport]:
    """Load every recognised file of ``data_dir`` for ``place`` (``None``: all of England).

    Reads and validates everything first, then writes in one transaction; unchanged files
    (same SHA-256 and scope as their ``dataset`` row) are skipped. The community asset files
    (``assets/``) are then loaded by ``strengthmap.sources.assets.load_assets`` if installed.
    """
    data_dir = Path(data_dir)
    groups = read_data_dir(store, data_dir, place=place, progress=progress)
    reports: dict[str, LoadReport] = {}
    for g in groups:
        for e in g.entries:
            s = g.sources[e.id]
            reports[e.id] = LoadReport(
                dataset=e.id, file=e.path, rows_read=s.rows_read, skipped_unchanged=g.unchanged,
                notes=list(s.notes) + (["cross-checked against the primary file"]
                                       if e.role == "crosscheck" else []),
            )  # fmt: skip
    todo = [g for g in groups if not g.unchanged]
    if todo:
        with store.transaction() as session:
            for n, g in enumerate(todo, start=1):
                if progress:
                    progress("write", g.name, n - 1, len(todo))
                for dataset_id, count in _write_group(session, g, place).items():
                    reports[dataset_id].rows_written = count
            if progress:
                progress("write", "", len(todo), len(todo))
    out = [reports[e.id] for e in CATALOG if e.id in reports]
    out.extend(load_assets(store, data_dir))
    return out


__all__ = [
    "BY_ID",
    "CATALOG",
    "LoadReport",
    "Progress",
    "find_data_files",
    "load_data_dir",
    "read_data_dir",
]
