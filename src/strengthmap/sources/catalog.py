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

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from strengthmap.sources._common import SourceFile
from strengthmap.storage import schema

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


_B = "strengthmap.sources.boundaries"
_L = "strengthmap.sources.lookups"
_I = "strengthmap.sources.imd"

CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("boundaries_lsoa2011", "boundaries/leeds_lsoa2011_bgc.geojson",
                 "LSOA (December 2011) boundaries, generalised clipped (BGC), Leeds", ONS, OGL,
                 f"{ATTR_ONS} {ATTR_OS_2021}", GEOPORTAL, _GEO_BITS + "data/LSOA11CD",
                 f"{_B}.read_boundaries", f"{_B}.load_boundaries", "boundaries_lsoa2011"),
    CatalogEntry("boundaries_msoa2011", "boundaries/leeds_msoa2011_bgc.geojson",
                 "MSOA (December 2011) boundaries, generalised clipped (BGC), Leeds", ONS, OGL,
                 f"{ATTR_ONS} {ATTR_OS_2021}", GEOPORTAL, _GEO_BITS + "data/MSOA11CD",
                 f"{_B}.read_boundaries", f"{_B}.load_boundaries", "boundaries_msoa2011"),
    CatalogEntry("boundaries_ward2020", "boundaries/leeds_wards2020_bgc.geojson",
                 "Wards (December 2020) boundaries UK BGC v2, Leeds", ONS, OGL,
                 f"{ATTR_ONS} {ATTR_OS_2021}", GEOPORTAL, _GEO_BITS + "data/WD20CD",
                 f"{_B}.read_boundaries", f"{_B}.load_boundaries", "boundaries_ward2020"),
    CatalogEntry("boundaries_lsoa2021", "boundaries/leeds_lsoa2021_bsc.geojson",
                 "LSOA (December 2021) boundaries EW BSC V4, Leeds", ONS, OGL,
                 f"{ATTR_ONS} {ATTR_OS_2021}", GEOPORTAL, _GEOGRAPHR + "data/boundaries_lsoa21.rda",
                 f"{_B}.read_boundaries", f"{_B}.load_boundaries", "boundaries_lsoa2021"),
    CatalogEntry("boundaries_msoa2021", "boundaries/leeds_msoa2021_bsc.geojson",
                 "MSOA (2021) boundaries EW BSC V2, Leeds", ONS, OGL,
                 f"{ATTR_ONS} {ATTR_OS_2021}", GEOPORTAL, _GEOGRAPHR + "data/boundaries_msoa21.rda",
                 f"{_B}.read_boundaries", f"{_B}.load_boundaries", "boundaries_msoa2021"),
    CatalogEntry("boundaries_ward2022", "boundaries/leeds_wards2022_bsc.geojson",
                 "Wards (December 2022) boundaries UK BSC, Leeds", ONS, OGL,
                 f"{ATTR_ONS} {ATTR_OS_2021}", GEOPORTAL, _GEOGRAPHR + "data/boundaries_wards22.rda",
                 f"{_B}.read_boundaries", f"{_B}.load_boundaries", "boundaries_ward2022"),
    CatalogEntry("imd2019_file2", "imd/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
                 "English Indices of Deprivation 2019, File 2: domains of deprivation (ranks, deciles)",
                 MHCLG, OGL, ATTR_IMD2019, IOD2019_URL, _ENERGY + "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
                 f"{_I}.read_imd", f"{_I}.load_imd", "imd2019", england_wide=True, published="2019-09-26",
                 download_url=_ENERGY_RAW + "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"),
    CatalogEntry("imd2019_file1", "imd/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
                 "English Indices of Deprivation 2019, File 1: Index of Multiple Deprivation",
                 MHCLG, OGL, ATTR_IMD2019, IOD2019_URL, _ENERGY + "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
                 f"{_I}.read_imd", f"{_I}.load_imd", "imd2019", england_wide=True, published="2019-09-26",
                 download_url=_ENERGY_RAW + "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"),
    CatalogEntry("imd2019_file6", "imd/File_6_-_IoD2019_Population_Denominators.csv.gz",
                 "English Indices of Deprivation 2019, File 6: population denominators (mid-2015)",
                 MHCLG, OGL, ATTR_IMD2019, IOD2019_URL, _ENERGY + "File_6_-_IoD2019_Population_Denominators.csv.gz",
                 f"{_I}.read_imd", f"{_I}.load_imd", "imd2019", england_wide=True, published="2019-09-26",
                 download_url=_ENERGY_RAW + "File_6_-_IoD2019_Population_Denominators.csv.gz"),
    CatalogEntry("imd2019_leeds", "imd/leeds_imd2019_lsoa2011.csv",
                 "English Indices of Deprivation 2019, Files 2 and 6 joined, Leeds", MHCLG, OGL,
                 ATTR_IMD2019, IOD2019_URL, _ENERGY + "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
                 f"{_I}.read_imd", f"{_I}.load_imd", "imd2019", role="crosscheck", published="2019-09-26"),
    CatalogEntry("imd2025", "imd/imd2025_england_lsoa21.csv.gz",
                 "English Indices of Deprivation 2025: ranks, deciles and scores (LSOA 2021)",
                 MHCLG, OGL, ATTR_IMD2025, IOD2025_URL, _IMD_PKG + "data/imd2025_england_lsoa21.rda",
                 f"{_I}.read_imd", f"{_I}.load_imd", "imd2025", england_wide=True, published="2025-10-30"),
    CatalogEntry("life_expectancy_msoa2011", "life_expectancy/le_birth_msoa2011_2016_2020_england_wales.csv",
                 "Life expectancy at birth by MSOA 2011, England and Wales, 2016 to 2020", ONS, OGL,
                 ATTR_LE, "https://www.ons.gov.uk/peoplepopulationandcommunity/healthandsocialcare/healthandlifeexpectancies",
                 _BCC + "data/REQ3292_LifeExpectancy_2011MSOAs_England_2016_to_2020.xlsx",
                 "strengthmap.sources.life_expectancy.read_life_expectancy",
                 "strengthmap.sources.life_expectancy.load_life_expectancy", "life_expectancy",
                 england_wide=True),
    CatalogEntry("life_expectancy_msoa2011_leeds", "life_expectancy/leeds_le_birth_msoa2011_2016_2020.csv",
                 "Life expectancy at birth by MSOA 2011, Leeds, 2016 to 2020", ONS, OGL,
                 ATTR_LE, "https://www.ons.gov.uk/peoplepopulationandcommunity/healthandsocialcare/healthandlifeexpectancies",
                 _BCC + "data/REQ3292_LifeExpectancy_2011MSOAs_England_2016_to_2020.xlsx",
                 "strengthmap.sources.life_expectancy.read_life_expectancy",
                 "strengthmap.sources.life_expectancy.load_life_expectancy", "life_expectancy",
                 role="crosscheck"),
    CatalogEntry("lookup_lsoa2011_msoa2011", "lookups/leeds_lsoa2011_to_msoa2011.csv",
                 "LSOA (2011) to MSOA (2011) lookup, Leeds", ONS, OGL, ATTR_ONS, GEOPORTAL,
                 _GEOGRAPHR + "data/lookup_lsoa11_msoa11.rda", f"{_L}.read_lookup", f"{_L}.load_lookup",
                 "lookup_lsoa2011_msoa2011"),
    CatalogEntry("lookup_lsoa2011_lsoa2021", "lookups/leeds_lsoa2011_to_lsoa2021.csv",
                 "LSOA (2011) to LSOA (2021) to LAD (2022) lookup with change codes, Leeds", ONS, OGL,
                 ATTR_ONS, GEOPORTAL, _GEOGRAPHR + "data/lookup_lsoa11_lsoa21_ltla22.rda",
                 f"{_L}.read_lookup", f"{_L}.load_lookup", "lookup_lsoa2011_lsoa2021"),
    CatalogEntry("lookup_lsoa2021_ward2024", "lookups/leeds_lsoa2021_to_ward2024.csv",
                 "LSOA (2021) to ward (2024) to LAD (2024) best-fit lookup, Leeds", ONS, OGL,
                 ATTR_ONS, GEOPORTAL, _GEOGRAPHR + "data/lookup_lsoa21_ward24_ltla24.rda",
                 f"{_L}.read_lookup", f"{_L}.load_lookup", "lookup_lsoa2021_ward2024"),
    CatalogEntry("lookup_msoa2011_msoa2021", "lookups/leeds_msoa2011_to_msoa2021.csv",
                 "MSOA (2011) to MSOA (2021) to LAD (2022) lookup, Leeds", ONS, OGL, ATTR_ONS,
                 GEOPORTAL, _GEOGRAPHR + "data/lookup_msoa11_msoa21_ltla22.rda",
                 f"{_L}.read_lookup", f"{_L}.load_lookup", "lookup_msoa2011_msoa2021"),
    CatalogEntry("population_lsoa2011_mid2020", "population/leeds_lsoa2011_population_mid2020.csv",
                 "Lower layer Super Output Area population estimates, mid-2020, single year of age, Leeds",
                 ONS, OGL, ATTR_ONS,
                 "https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/populationestimates",
                 _DEMOGRAPHR + "data/population20_lsoa11.rda",
                 "strengthmap.sources.population.read_population",
                 "strengthmap.sources.population.load_population", "population"),
    CatalogEntry("postcodes_ls", "postcodes/ls_postcodes_nspl_may2025.csv",
                 "National Statistics Postcode Lookup (May 2025) centroids, LS postcodes", ONS, OGL,
                 ATTR_POSTCODES, GEOPORTAL, _PC2LL + "postcodes/LS.csv",
                 "strengthmap.sources.postcodes.read_postcodes",
                 "strengthmap.sources.postcodes.load_postcodes", "postcodes"),
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
    "record_dataset",
]
