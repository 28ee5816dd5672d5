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
from sqlalchemy.orm import Session

from strengthmap.errors import ConfigError
from strengthmap.sources._common import LoadReport, SourceFile, area_ids, require_known
from strengthmap.sources.assets import load_assets
from strengthmap.sources.boundaries import Boundaries
from strengthmap.sources.catalog import BY_ID, CATALOG, CatalogEntry, record_dataset
from strengthmap.sources.imd import ImdTable
from strengthmap.sources.lookups import LookupTable
from strengthmap.sources.population import PopulationTable
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

    def files(self, role: str) -> list[SourceFile]:
        """The files of ``role`` (``primary`` or ``crosscheck``), in catalog order."""
        return [self.sources[e.id] for e in self.entries if e.role == role]


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
    place: str | None,
    progress: Progress | None = None,
) -> list[_Group]:
    """Read and validate every catalogued file present (no writes); grouped for writing.

    ``place`` (a local authority's name or code, e.g. ``Settings.place``) keeps the England-wide
    files' rows of that place; ``None`` keeps all of England. Each file is read by its catalog
    entry's kind, the lookups first (they give the place's LSOA 2021 codes, which the IoD2025 file
    needs: it has no local authority column); then the files of each group are checked against
    each other (``SourceKind.check``)."""
    data_dir = Path(data_dir)
    present = [e for e in CATALOG if (data_dir / e.path).is_file()]
    if not present:
        raise ConfigError(
            f"no known data files in {data_dir}: get them with `strengthmap data download` "
            "or point --data / STRENGTHMAP_DATA_DIR at a folder laid out like it"
        )
    stored = _stored_datasets(store)
    lookups = [e for e in present if e.kind.name == "lookup"]
    others = [e for e in present if e.kind.name != "lookup"]
    sources: dict[str, SourceFile] = {}
    for batch in (lookups, others):
        place21 = _place_lsoa21(sources, place) if batch is others else None
        for entry in batch:
            if progress:
                progress("read", entry.id, len(sources), len(present))
            sources[entry.id] = entry.read(data_dir, place, place21)
    if progress:
        progress("read", "", len(present), len(present))
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
        check = g.entries[0].kind.check
        if check is not None:
            check(g.files("primary"), g.files("crosscheck"))
    return list(groups.values())


def _write_group(session: Session, g: _Group, place: str | None) -> dict[str, int]:
    """Write one group inside the caller's transaction (its kind's writer); rows written per
    dataset id (0 for a cross-check file: its ``dataset`` row is recorded, its rows are not)."""
    written: dict[str, int] = {}
    for e in g.entries:
        record_dataset(session, g.sources[e.id], scope=_scope(e, place))
        written[e.id] = 0
    primaries = g.files("primary") or [g.sources[g.entries[0].id]]
    written.update(g.entries[0].kind.write(session, primaries))
    return written


def load_data_dir(
    store: Store,
    data_dir: Path,
    *,
    place: str | None,
    progress: Progress | None = None,
) -> list[LoadReport]:
    """Load every recognised file of ``data_dir`` for ``place`` (``Settings.place``; ``None``:
    all of England).

    Reads and validates everything first, then writes in one transaction; unchanged files
    (same SHA-256 and scope as their ``dataset`` row) are skipped. The community asset files
    (``assets/``) are then imported into the directory (``strengthmap.sources.assets``).
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
    out.extend(load_assets(store, data_dir, place=place))
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
