"""The datasets Strengthmap knows: where each lives in the data directory, who publishes it, its
licence and the attribution to show, where it came from, and the kind of file it is; the kind
reads, checks and writes it (``load_data_dir`` dispatches through this table).

Example:
    >>> entry = BY_ID["imd2019_file2"]
    >>> entry.path, entry.licence, entry.kind.name
    ('imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz', 'OGL-UK-3.0', 'imd2019')
    >>> entry.kind.read.__name__, entry.kind.write.__name__
    ('read_imd2019', 'write_imd_release')

Attribution texts are those ``shared/data/SOURCES.md`` asks for, word for word. ``download_url``
is set only where the file is a byte-for-byte copy of one at a pinned upstream URL (the three
IoD2019 files); the others are Leeds extracts made for this project (filtered, merged, converted),
which ``strengthmap data download`` fetches from a mirror of the data directory (``--base-url``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from strengthmap.sources._common import SourceFile
from strengthmap.sources.boundaries import Boundaries, read_boundaries, write_boundaries
from strengthmap.sources.imd import ImdTable, base_first, combine_imd, read_imd, write_imd
from strengthmap.sources.life_expectancy import (
    LifeExpectancyTable,
    crosscheck_life_expectancy,
    read_life_expectancy,
    write_life_expectancy,
)
from strengthmap.sources.lookups import LookupTable, read_lookup, write_lookup
from strengthmap.sources.population import PopulationTable, read_population, write_population
from strengthmap.sources.postcodes import PostcodeTable, read_postcodes, write_postcodes
from strengthmap.storage import schema

S = TypeVar("S", bound=SourceFile)

OGL = "OGL-UK-3.0"
ONS = "Office for National Statistics (ONS)"
MHCLG = "Ministry of Housing, Communities and Local Government (MHCLG)"

ATTR_ONS = "Source: Office for National Statistics licensed under the Open Government Licence v3.0."
ATTR_OS_2021 = "Contains OS data © Crown copyright and database right 2021 (boundaries)."
ATTR_IMD2019 = (
    "English Indices of Deprivation 2019, Ministry of Housing, Communities & Local Government "
    "(MHCLG), OGL v3.0."
)
ATTR_IMD2025 = (
    "English Indices of Deprivation 2025, Ministry of Housing, Communities and Local Government, "
    "OGL v3.0."
)
ATTR_LE = "Source: Office for National Statistics, licensed under the Open Government Licence v3.0"
ATTR_POSTCODES = (
    "Contains OS data © Crown copyright and database right 2025. Contains Royal Mail data "
    "© Royal Mail copyright and database right 2025. Source: Office for National Statistics "
    "licensed under the OGL v3.0"
)

_GEO_BITS = (
    "https://github.com/odileeds/geography-bits/tree/e08a176ea90fd35a55fdb0545c15650976e77783/"
)
_GEOGRAPHR = (
    "https://github.com/humaniverse/geographr/blob/c026be5cc76cb576358082b53f1f13d69ab577ae/"
)
_ENERGY = (
    "https://github.com/anetobradley/energy_flex/blob/709f2f8b79a86e273a86f6c7324f4fc2b1aeeefd/"
    "02-EnergyModel/Energy_Intensity_Analysis/data/imd/"
)
# the same files as raw bytes at the same commit (the IoD2019 CSVs are stored there gzipped)
_ENERGY_RAW = (
    "https://raw.githubusercontent.com/anetobradley/energy_flex/"
    "709f2f8b79a86e273a86f6c7324f4fc2b1aeeefd/02-EnergyModel/Energy_Intensity_Analysis/data/imd/"
)
_IMD_PKG = "https://github.com/humaniverse/IMD/blob/2f6c9050afee99a40041eb63b02b6b0c58850704/"
_BCC = (
    "https://github.com/BCC-PHM/REQ-unemp-life-exp/blob/3e74cdec77df4c120d3fb9d3429e3c0a9424cd08/"
)
_DEMOGRAPHR = (
    "https://github.com/humaniverse/demographr/blob/d0417101e5cad5fe1eca059ac60859e9157a29d2/"
)
_PC2LL = (
    "https://github.com/odileeds/Postcodes2LatLon/blob/9322263c2470e322840428bd8c19aad26b9a2c55/"
)
IOD2019_URL = "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019"
IOD2025_URL = "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025"
GEOPORTAL = "https://geoportal.statistics.gov.uk/"
LE_URL = "https://www.ons.gov.uk/peoplepopulationandcommunity/healthandsocialcare/healthandlifeexpectancies"
POPULATION_URL = (
    "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates"
)
IOD2019_PUBLISHED = "2019-09-26"


@dataclass(frozen=True)
class ReadContext:
    """What a reader is told besides the file: the dataset id to record, the place to keep rows
    of (England-wide files only; None keeps all of England) and that place's LSOA 2021 codes
    (from the official lookups, read first: the IoD2025 file has no local authority column)."""

    dataset: str
    place: str | None = None
    place_lsoa21: set[str] | None = None


#: Read and validate one file (nothing written).
Reader = Callable[[Path, ReadContext], SourceFile]
#: Write a group's primary files (in catalog order) inside the caller's transaction; returns the
#: rows written per dataset id.
Writer = Callable[[Session, Sequence[SourceFile]], dict[str, int]]
#: Check a group's files against each other before anything is written: (primaries, cross-checks).
Check = Callable[[Sequence[SourceFile], Sequence[SourceFile]], None]


@dataclass(frozen=True)
class SourceKind:
    """A kind of official file: how it is read, checked and written, and whom to credit."""

    name: str
    read: Reader
    write: Writer
    publisher: str
    attribution: str
    url: str  # the official publisher's page
    check: Check | None = None


@dataclass(frozen=True)
class CatalogEntry:
    """One dataset: its place in the data directory, its kind and everything needed to credit it."""

    id: str
    path: str  # relative to the data directory
    title: str
    kind: SourceKind
    upstream: str  # where this exact file's content came from (repository, commit, path)
    group: str  # files loaded together (one release, one indicator)
    england_wide: bool = False  # filtered to the place when loaded for a place
    role: str = "primary"  # primary | crosscheck (read, validated, compared; not written)
    published: str | None = None
    # a pinned URL serving this exact file byte for byte (``data download``'s default source);
    # None for the Leeds extracts made for this project, which only a mirror of the data serves
    download_url: str | None = None
    licence: str = OGL

    @property
    def publisher(self) -> str:
        return self.kind.publisher

    @property
    def attribution(self) -> str:
        return self.kind.attribution

    @property
    def url(self) -> str:
        """The official publisher's page."""
        return self.kind.url

    def read(self, data_dir: Path, place: str | None, place_lsoa21: set[str] | None) -> SourceFile:
        """Read and validate this file of ``data_dir`` for ``place`` (England-wide files only)."""
        scoped = place if self.england_wide else None
        context = ReadContext(self.id, scoped, place_lsoa21 if scoped else None)
        return self.kind.read(data_dir / self.path, context)


# --- the kinds: each reader and writer called with the same arguments --------------------------


def _read_boundaries(path: Path, ctx: ReadContext) -> SourceFile:
    return read_boundaries(path, dataset=ctx.dataset)


def _read_lookup(path: Path, ctx: ReadContext) -> SourceFile:
    return read_lookup(path, dataset=ctx.dataset)


def read_imd2019(path: Path, ctx: ReadContext) -> SourceFile:
    return read_imd(path, release=2019, place=ctx.place, dataset=ctx.dataset)


def read_imd2025(path: Path, ctx: ReadContext) -> SourceFile:
    return read_imd(
        path, release=2025, place=ctx.place, place_codes=ctx.place_lsoa21, dataset=ctx.dataset
    )


def _read_life_expectancy(path: Path, ctx: ReadContext) -> SourceFile:
    return read_life_expectancy(path, place=ctx.place, dataset=ctx.dataset)


def _read_population(path: Path, ctx: ReadContext) -> SourceFile:
    return read_population(path, dataset=ctx.dataset)


def _read_postcodes(path: Path, ctx: ReadContext) -> SourceFile:
    return read_postcodes(path, dataset=ctx.dataset)


def _only(cls: type[S], files: Sequence[SourceFile]) -> list[S]:
    out = [f for f in files if isinstance(f, cls)]
    assert len(out) == len(files), f"a {cls.__name__} group holds another kind of file"
    return out


def _writer(cls: type[S], write: Callable[[Session, S], int]) -> Writer:
    """A group whose first primary file is written alone (one file per group)."""

    def write_first(session: Session, files: Sequence[SourceFile]) -> dict[str, int]:
        first = _only(cls, files)[0]
        return {first.dataset: write(session, first)}

    write_first.__name__ = f"write_{cls.__name__}"
    return write_first


def write_imd_release(session: Session, files: Sequence[SourceFile]) -> dict[str, int]:
    """One IoD release from its files: combined on the base file (``base_first``), the rows
    credited to the base file's dataset."""
    tables = base_first(_only(ImdTable, files))
    frame = combine_imd(*tables)
    base = tables[0]
    return {base.dataset: write_imd(session, base.release, frame, source_id=base.dataset)}


def _check_imd(primaries: Sequence[SourceFile], crosschecks: Sequence[SourceFile]) -> None:
    """The files of a release must combine, and the cross-check files agree with them."""
    if primaries:
        combine_imd(*base_first(_only(ImdTable, primaries)), *_only(ImdTable, crosschecks))


def _check_life_expectancy(
    primaries: Sequence[SourceFile], crosschecks: Sequence[SourceFile]
) -> None:
    """The Leeds extract must give the England and Wales file's values."""
    if primaries and crosschecks:
        base = _only(LifeExpectancyTable, primaries)[0]
        crosscheck_life_expectancy(base, _only(LifeExpectancyTable, crosschecks)[0])


_KINDS: dict[str, SourceKind] = {
    k.name: k
    for k in (
        SourceKind("boundaries", _read_boundaries, _writer(Boundaries, write_boundaries), ONS,
                   f"{ATTR_ONS} {ATTR_OS_2021}", GEOPORTAL),
        SourceKind("lookup", _read_lookup, _writer(LookupTable, write_lookup), ONS, ATTR_ONS,
                   GEOPORTAL),
        SourceKind("imd2019", read_imd2019, write_imd_release, MHCLG, ATTR_IMD2019, IOD2019_URL,
                   check=_check_imd),
        SourceKind("imd2025", read_imd2025, write_imd_release, MHCLG, ATTR_IMD2025, IOD2025_URL,
                   check=_check_imd),
        SourceKind("life_expectancy", _read_life_expectancy,
                   _writer(LifeExpectancyTable, write_life_expectancy), ONS, ATTR_LE, LE_URL,
                   check=_check_life_expectancy),
        SourceKind("population", _read_population, _writer(PopulationTable, write_population),
                   ONS, ATTR_ONS, POPULATION_URL),
        SourceKind("postcodes", _read_postcodes, _writer(PostcodeTable, write_postcodes), ONS,
                   ATTR_POSTCODES, GEOPORTAL),
    )
}  # fmt: skip


def _entry(
    kind: str, id: str, path: str, title: str, upstream: str, *, group: str | None = None, **kw: Any
) -> CatalogEntry:
    """A catalog entry of ``kind``; ``group`` defaults to the kind, or to the id for boundaries
    and lookups (each file its own group)."""
    group = group or (id if kind in ("boundaries", "lookup") else kind)
    return CatalogEntry(id, path, title, _KINDS[kind], upstream, group, **kw)


def _iod2019_official(id: str, file: str, title: str) -> CatalogEntry:
    """One of the three official IoD2019 CSVs (byte-for-byte copies at the pinned commit)."""
    return _entry("imd2019", id, f"imd/{file}", f"English Indices of Deprivation 2019, {title}",
                  _ENERGY + file, england_wide=True, published=IOD2019_PUBLISHED,
                  download_url=_ENERGY_RAW + file)  # fmt: skip


_LE_UPSTREAM = _BCC + "data/REQ3292_LifeExpectancy_2011MSOAs_England_2016_to_2020.xlsx"
_FILE2 = "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"

CATALOG: tuple[CatalogEntry, ...] = (
    *(
        _entry("boundaries", f"boundaries_{id}", f"boundaries/{file}", title, upstream)
        for id, file, title, upstream in (
            ("lsoa2011", "leeds_lsoa2011_bgc.geojson",
             "LSOA (December 2011) boundaries, generalised clipped (BGC), Leeds",
             _GEO_BITS + "data/LSOA11CD"),
            ("msoa2011", "leeds_msoa2011_bgc.geojson",
             "MSOA (December 2011) boundaries, generalised clipped (BGC), Leeds",
             _GEO_BITS + "data/MSOA11CD"),
            ("ward2020", "leeds_wards2020_bgc.geojson",
             "Wards (December 2020) boundaries UK BGC v2, Leeds", _GEO_BITS + "data/WD20CD"),
            ("lsoa2021", "leeds_lsoa2021_bsc.geojson",
             "LSOA (December 2021) boundaries EW BSC V4, Leeds",
             _GEOGRAPHR + "data/boundaries_lsoa21.rda"),
            ("msoa2021", "leeds_msoa2021_bsc.geojson", "MSOA (2021) boundaries EW BSC V2, Leeds",
             _GEOGRAPHR + "data/boundaries_msoa21.rda"),
            ("ward2022", "leeds_wards2022_bsc.geojson",
             "Wards (December 2022) boundaries UK BSC, Leeds",
             _GEOGRAPHR + "data/boundaries_wards22.rda"),
        )
    ),
    _iod2019_official("imd2019_file2", _FILE2,
                      "File 2: domains of deprivation (ranks, deciles)"),
    _iod2019_official("imd2019_file1", "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
                      "File 1: Index of Multiple Deprivation"),
    _iod2019_official("imd2019_file6", "File_6_-_IoD2019_Population_Denominators.csv.gz",
                      "File 6: population denominators (mid-2015)"),
    # official files a user may add to the data directory (not in ../shared/data, not in the
    # download manifest): IoD2019 File 7 (everything, CSV) and File 5 (scores: the published
    # xlsx saved as CSV), IoD2025 File 7; their scores and denominators join the files above
    _entry("imd2019", "imd2019_file7",
           "imd/File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv",
           "English Indices of Deprivation 2019, File 7: all ranks, deciles, scores and "
           "population denominators", IOD2019_URL, england_wide=True,
           published=IOD2019_PUBLISHED),
    _entry("imd2019", "imd2019_file5", "imd/File_5_-_IoD2019_Scores.csv",
           "English Indices of Deprivation 2019, File 5: scores (saved as CSV)", IOD2019_URL,
           england_wide=True, published=IOD2019_PUBLISHED),
    _entry("imd2019", "imd2019_leeds", "imd/leeds_imd2019_lsoa2011.csv",
           "English Indices of Deprivation 2019, Files 2 and 6 joined, Leeds", _ENERGY + _FILE2,
           role="crosscheck", published=IOD2019_PUBLISHED),
    _entry("imd2025", "imd2025", "imd/imd2025_england_lsoa21.csv.gz",
           "English Indices of Deprivation 2025: ranks, deciles and scores (LSOA 2021)",
           _IMD_PKG + "data/imd2025_england_lsoa21.rda", england_wide=True,
           published="2025-10-30"),
    _entry("imd2025", "imd2025_file7",
           "imd/File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv",
           "English Indices of Deprivation 2025, File 7: all ranks, deciles, scores and "
           "population denominators", IOD2025_URL, england_wide=True, published="2025-10-30"),
    _entry("life_expectancy", "life_expectancy_msoa2011",
           "life_expectancy/le_birth_msoa2011_2016_2020_england_wales.csv",
           "Life expectancy at birth by MSOA 2011, England and Wales, 2016 to 2020",
           _LE_UPSTREAM, england_wide=True),
    _entry("life_expectancy", "life_expectancy_msoa2011_leeds",
           "life_expectancy/leeds_le_birth_msoa2011_2016_2020.csv",
           "Life expectancy at birth by MSOA 2011, Leeds, 2016 to 2020", _LE_UPSTREAM,
           role="crosscheck"),
    *(
        _entry("lookup", f"lookup_{id}", f"lookups/{file}", title, _GEOGRAPHR + f"data/{rda}")
        for id, file, title, rda in (
            ("lsoa2011_msoa2011", "leeds_lsoa2011_to_msoa2011.csv",
             "LSOA (2011) to MSOA (2011) lookup, Leeds", "lookup_lsoa11_msoa11.rda"),
            ("lsoa2011_lsoa2021", "leeds_lsoa2011_to_lsoa2021.csv",
             "LSOA (2011) to LSOA (2021) to LAD (2022) lookup with change codes, Leeds",
             "lookup_lsoa11_lsoa21_ltla22.rda"),
            ("lsoa2021_ward2024", "leeds_lsoa2021_to_ward2024.csv",
             "LSOA (2021) to ward (2024) to LAD (2024) best-fit lookup, Leeds",
             "lookup_lsoa21_ward24_ltla24.rda"),
            ("msoa2011_msoa2021", "leeds_msoa2011_to_msoa2021.csv",
             "MSOA (2011) to MSOA (2021) to LAD (2022) lookup, Leeds",
             "lookup_msoa11_msoa21_ltla22.rda"),
        )
    ),
    _entry("population", "population_lsoa2011_mid2020",
           "population/leeds_lsoa2011_population_mid2020.csv",
           "Lower layer Super Output Area population estimates, mid-2020, single year of age, Leeds",
           _DEMOGRAPHR + "data/population20_lsoa11.rda"),
    _entry("postcodes", "postcodes_ls", "postcodes/ls_postcodes_nspl_may2025.csv",
           "National Statistics Postcode Lookup (May 2025) centroids, LS postcodes",
           _PC2LL + "postcodes/LS.csv"),
)  # fmt: skip

BY_ID: dict[str, CatalogEntry] = {e.id: e for e in CATALOG}


def _entry_for(source: SourceFile) -> CatalogEntry | None:
    """The catalog entry of a file read (by dataset id, else by its path's tail)."""
    if source.dataset in BY_ID:
        return BY_ID[source.dataset]
    posix = source.file.replace("\\", "/")
    return next((e for e in CATALOG if posix.endswith(e.path)), None)


def record_dataset(session: Session, source: SourceFile, *, scope: str | None) -> None:
    """Insert or update the ``dataset`` row of a file just written (checksum, rows, scope)."""
    entry = _entry_for(source)
    values: dict[str, Any] = {
        "id": source.dataset,
        "title": entry.title if entry else source.file.rsplit("/", 1)[-1],
        "publisher": entry.publisher if entry else "unknown",
        "licence": entry.licence if entry else "unknown",
        "attribution": entry.attribution if entry else "",
        "url": entry.url if entry else None,
        "file": entry.path if entry else source.file,
        "sha256": source.sha256,
        "rows": source.rows_read,
        "scope": scope,
        "published": entry.published if entry else None,
    }
    existing = session.get(schema.Dataset, source.dataset)
    if existing is None:
        session.add(schema.Dataset(**values))
    else:
        for key, value in values.items():
            setattr(existing, key, value)
        existing.loaded_at = schema.utcnow()
    session.flush()


__all__ = [
    "ATTR_IMD2019",
    "ATTR_IMD2025",
    "ATTR_POSTCODES",
    "BY_ID",
    "CATALOG",
    "CatalogEntry",
    "ReadContext",
    "SourceKind",
    "record_dataset",
]
