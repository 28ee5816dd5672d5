"""Areas and what is published about them: boundaries, lookups, deprivation, indicators, population, postcodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from strengthmap.storage.schema.base import Base, utcnow
from strengthmap.storage.types import Geometry

#: The seven domains of the English Indices of Deprivation, in the published order.
IMD_DOMAINS = (
    "income",
    "employment",
    "education",
    "health",
    "crime",
    "housing_services",
    "living_environment",
)
#: Plain-English names of the IMD (``"imd"``) and of its seven domains (``IMD_DOMAINS``), as MHCLG
#: names them.
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

#: The ``indicator.id`` of life expectancy at birth (ONS, MSOA 2011), as the loader stores it.
LIFE_EXPECTANCY_BIRTH = "life_expectancy_birth"


class Area(Base):
    """A statistical or administrative area (LSOA, MSOA, ward, local authority) of one vintage."""

    __tablename__ = "area"
    __table_args__ = (
        UniqueConstraint("level", "vintage", "code"),
        Index("ix_area_geometry_gist", "geometry", postgresql_using="gist").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(9), index=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(8))  # lsoa | msoa | ward | lad
    vintage: Mapped[int] = mapped_column(Integer)  # 2011, 2020, 2021, 2022, 2024 ...
    lad_code: Mapped[str | None] = mapped_column(String(9), index=True)
    geometry: Mapped[BaseGeometry | None] = mapped_column(Geometry(), nullable=True)
    # bounding box in degrees (EPSG:4326): lets SQLite prefilter without a spatial extension
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)
    population_year: Mapped[int | None] = mapped_column(Integer)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("dataset.id"))


class AreaLink(Base):
    """An official link between two areas: a parent (LSOA -> MSOA / ward) or a successor across vintages."""

    __tablename__ = "area_link"
    __table_args__ = (UniqueConstraint("child_id", "parent_id", "relation"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # parent | successor
    change_code: Mapped[str | None] = mapped_column(
        String(1)
    )  # ONS: U unchanged, S split, M merged, X
    best_fit: Mapped[bool] = mapped_column(Boolean, default=False)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("dataset.id"))

    child: Mapped[Area] = relationship(foreign_keys=[child_id])
    parent: Mapped[Area] = relationship(foreign_keys=[parent_id])


class Deprivation(Base):
    """One LSOA in one release of the English Indices of Deprivation (rank 1 = most deprived).

    IoD2019 is on LSOA 2011 (32,844 areas), IoD2025 on LSOA 2021 (33,755 areas); releases are kept
    side by side and never mixed. Scores are null where the loaded file does not publish them.
    """

    __tablename__ = "deprivation"
    __table_args__ = (UniqueConstraint("release", "area_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release: Mapped[int] = mapped_column(Integer, index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    n_areas: Mapped[int] = mapped_column(Integer)  # ranks run 1..n_areas
    imd_rank: Mapped[int] = mapped_column(Integer)
    imd_decile: Mapped[int] = mapped_column(Integer)
    imd_score: Mapped[float | None] = mapped_column(Float)
    income_rank: Mapped[int | None] = mapped_column(Integer)
    income_decile: Mapped[int | None] = mapped_column(Integer)
    income_score: Mapped[float | None] = mapped_column(Float)
    employment_rank: Mapped[int | None] = mapped_column(Integer)
    employment_decile: Mapped[int | None] = mapped_column(Integer)
    employment_score: Mapped[float | None] = mapped_column(Float)
    education_rank: Mapped[int | None] = mapped_column(Integer)
    education_decile: Mapped[int | None] = mapped_column(Integer)
    education_score: Mapped[float | None] = mapped_column(Float)
    health_rank: Mapped[int | None] = mapped_column(Integer)
    health_decile: Mapped[int | None] = mapped_column(Integer)
    health_score: Mapped[float | None] = mapped_column(Float)
    crime_rank: Mapped[int | None] = mapped_column(Integer)
    crime_decile: Mapped[int | None] = mapped_column(Integer)
    crime_score: Mapped[float | None] = mapped_column(Float)
    housing_services_rank: Mapped[int | None] = mapped_column(Integer)
    housing_services_decile: Mapped[int | None] = mapped_column(Integer)
    housing_services_score: Mapped[float | None] = mapped_column(Float)
    living_environment_rank: Mapped[int | None] = mapped_column(Integer)
    living_environment_decile: Mapped[int | None] = mapped_column(Integer)
    living_environment_score: Mapped[float | None] = mapped_column(Float)
    # IoD population denominators (File 6; mid-2015 for IoD2019), excluding prisoners
    pop_total: Mapped[int | None] = mapped_column(Integer)
    pop_0_15: Mapped[int | None] = mapped_column(Integer)
    pop_16_59: Mapped[int | None] = mapped_column(Integer)
    pop_60_plus: Mapped[int | None] = mapped_column(Integer)
    pop_working_age: Mapped[int | None] = mapped_column(Integer)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("dataset.id"))

    area: Mapped[Area] = relationship()


class Indicator(Base):
    """A measured quantity (e.g. life expectancy at birth), its unit, method and source."""

    __tablename__ = "indicator"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "life_expectancy_birth"
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32))  # e.g. "years"
    description: Mapped[str | None] = mapped_column(Text)
    method: Mapped[str | None] = mapped_column(Text)  # e.g. "Chiang II abridged life table, 95% CI"
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("dataset.id"))


class IndicatorValue(Base):
    """One value of an indicator for one area, period and sex, with its 95% CI, count and denominator.

    ``suppressed`` is true where the publisher withheld the value (small numbers): value, lower and
    upper are then null, never zero or a guess.
    """

    __tablename__ = "indicator_value"
    __table_args__ = (UniqueConstraint("indicator_id", "area_id", "period", "sex"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(ForeignKey("indicator.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(32))  # e.g. "2016 to 2020"
    sex: Mapped[str] = mapped_column(String(8), default="persons")  # male | female | persons
    value: Mapped[float | None] = mapped_column(Float)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    count: Mapped[float | None] = mapped_column(Float)  # e.g. deaths
    denominator: Mapped[float | None] = mapped_column(Float)  # e.g. person-years
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("dataset.id"))

    area: Mapped[Area] = relationship()


class PopulationEstimate(Base):
    """A mid-year population estimate for one area: total and single years of age 0..89 and 90+."""

    __tablename__ = "population_estimate"
    __table_args__ = (UniqueConstraint("area_id", "year", "sex"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    sex: Mapped[str] = mapped_column(String(8), default="persons")
    total: Mapped[int] = mapped_column(Integer)
    ages: Mapped[list[Any]] = mapped_column()  # 91 counts: ages 0..89, then 90+
    source_id: Mapped[str | None] = mapped_column(ForeignKey("dataset.id"))


class Postcode(Base):
    """A postcode centroid (ONS postcode lookup), so users can type ``LS12 1BE`` for a location."""

    __tablename__ = "postcode"

    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)  # normalised "LS12 1BE"
    pcd7: Mapped[str] = mapped_column(String(7), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    source_id: Mapped[str | None] = mapped_column(ForeignKey("dataset.id"))


class Dataset(Base):
    """A loaded source file: what it is, who publishes it, its licence and attribution, and its checksum.

    The loader skips a file whose SHA-256 is unchanged, so loading twice changes nothing.
    """

    __tablename__ = "dataset"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "imd2019_file2"
    title: Mapped[str] = mapped_column(String(300))
    publisher: Mapped[str] = mapped_column(String(200))
    licence: Mapped[str] = mapped_column(String(100))  # e.g. "OGL-UK-3.0", "ODbL-1.0"
    attribution: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    file: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    rows: Mapped[int | None] = mapped_column(Integer)
    scope: Mapped[str | None] = mapped_column(String(64))  # e.g. "Leeds" or "England"
    published: Mapped[str | None] = mapped_column(String(32))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = [
    "DOMAIN_LABELS",
    "IMD_DOMAINS",
    "Area",
    "AreaLink",
    "Dataset",
    "Deprivation",
    "Indicator",
    "IndicatorValue",
    "PopulationEstimate",
    "Postcode",
]
