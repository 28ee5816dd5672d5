"""The datasets Strengthmap knows: where each lives in the data directory, who publishes it, its
licence and the attribution to show, where it came from, and which function reads it.

Example:
    >>> entry = BY_ID["imd2019_file2"]
    >>> entry.path, entry.licence
    ('imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz', 'OGL-UK-3.0')
    >>> entry.reader
    'strengthmap.sources.imd.read_imd'

Attribution texts are those ``shared/data/SOURCES.md`` asks for, word for word. ``download_url``
is set only where the file is a byte-for-byte copy of one at a pinned upstream URL (the three
IoD2019 files); the others are Leeds extracts made for this project (filtered, merged, converted),
which ``strengthmap data download`` fetches from a mirror of the data directory (``--base-url``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from strengthmap.sources._common import SourceFile
from strengthmap.storage import Store, schema

S = TypeVar("S", bound=SourceFile)

OGL = "OGL-UK-3.0"
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
ONS = "Office for National Statistics (ONS)"
MHCLG = "Ministry of Housing, Communities and Local Government (MHCLG)"

ATTR_OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
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
class CatalogEntry:
    """One dataset: its place in the data directory and everything needed to credit it."""

    id: str
    path: str  # relative to the data directory
    title: str
    publisher: str
    licence: str
    attribution: str
    url: str  # the official publisher's page
    upstream: str  # where this exact file's content came from (repository, commit, path)
    reader: str
    loader: str
    group: str  # files loaded together (one release, one indicator)
    england_wide: bool = False  # filtered to the place when loaded for a place
    role: str = "primary"  # primary | crosscheck (read, validated, compared; not written)
    published: str | None = None
    # a pinned URL serving this exact file byte for byte (``data download``'s default source);
    # None for the Leeds extracts made for this project, which only a mirror of the data serves
    download_url: str | None = None

    def attribution_lines(self) -> list[str]:
        return [self.attribution]


#: kind of file -> (reader module, read_* / load_* suffix, publisher, attribution, official page)
_KINDS = {
    "boundaries": ("boundaries", "boundaries", ONS, f"{ATTR_ONS} {ATTR_OS_2021}", GEOPORTAL),
    "lookup": ("lookups", "lookup", ONS, ATTR_ONS, GEOPORTAL),
    "imd2019": ("imd", "imd", MHCLG, ATTR_IMD2019, IOD2019_URL),
    "imd2025": ("imd", "imd", MHCLG, ATTR_IMD2025, IOD2025_URL),
    "life_expectancy": ("life_expectancy", "life_expectancy", ONS, ATTR_LE, LE_URL),
    "population": ("population", "population", ONS, ATTR_ONS, POPULATION_URL),
    "postcodes": ("postcodes", "postcodes", ONS, ATTR_POSTCODES, GEOPORTAL),
}


def _entry(
    kind: str, id: str, path: str, title: str, upstream: str, *, group: str | None = None, **kw: Any
) -> CatalogEntry:
    """A catalog entry of ``kind`` (publisher, licence, attribution, reader and loader from
    ``_KINDS``); ``group`` defaults to the kind, or to the id for boundaries and lookups (each file
    its own group)."""
    module, suffix, publisher, attribution, url = _KINDS[kind]
    fn = f"strengthmap.sources.{module}"
    return CatalogEntry(
        id, path, title, publisher, OGL, attribution, url, upstream, f"{fn}.read_{suffix}",
        f"{fn}.load_{suffix}", group or (id if kind in ("boundaries", "lookup") else kind), **kw,
    )  # fmt: skip


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
BY_PATH: dict[str, CatalogEntry] = {e.path: e for e in CATALOG}


def entry_for(source: SourceFile) -> CatalogEntry | None:
    """The catalog entry of a file read (by dataset id, else by its path's tail)."""
    if source.dataset in BY_ID:
        return BY_ID[source.dataset]
    posix = source.file.replace("\\", "/")
    return next((e for e in CATALOG if posix.endswith(e.path)), None)


def record_dataset(
    session: Session, source: SourceFile, *, scope: str | None, rows: int | None = None
) -> None:
    """Insert or update the ``dataset`` row of a file just written (checksum, rows, scope)."""
    entry = entry_for(source)
    values: dict[str, Any] = {
        "id": source.dataset,
        "title": entry.title if entry else source.file.rsplit("/", 1)[-1],
        "publisher": entry.publisher if entry else "unknown",
        "licence": entry.licence if entry else "unknown",
        "attribution": entry.attribution if entry else "",
        "url": entry.url if entry else None,
        "file": entry.path if entry else source.file,
        "sha256": source.sha256,
        "rows": source.rows_read if rows is None else rows,
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


def load_source(
    store: Store,
    source: S,
    write: Callable[[Session, S], object],
    *,
    scope: str | None = None,
) -> S:
    """Write a file just read in one transaction: its ``dataset`` row, then ``write(session,
    source)``; returns ``source``. Every ``load_*`` is this around its ``read_*`` and ``write_*``:

        >>> load_source(store, read_population(path), write_population)  # doctest: +SKIP
    """
    with store.transaction() as session:
        record_dataset(session, source, scope=scope)
        write(session, source)
    return source


def attributions(entries: list[CatalogEntry] | None = None) -> list[str]:
    """The distinct attribution lines to show for ``entries`` (default: the whole catalog)."""
    seen: list[str] = []
    for e in entries or list(CATALOG):
        if e.attribution not in seen:
            seen.append(e.attribution)
    return seen


__all__ = [
    "ATTR_IMD2019",
    "ATTR_IMD2025",
    "ATTR_POSTCODES",
    "BY_ID",
    "BY_PATH",
    "CATALOG",
    "CatalogEntry",
    "attributions",
    "entry_for",
    "load_source",
    "record_dataset",
]
