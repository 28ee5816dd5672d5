"""``--all-england``: IoD2019 on all 32,844 LSOAs (2011) and IoD2025 on all 33,755 LSOAs (2021).

Run on SQLite only (the same loader code runs on PostGIS in test_sources_leeds.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from strengthmap.sources import load_data_dir
from strengthmap.storage import Store, schema

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def test_all_england_imd(sqlite_store: Store, data_dir: Path, tmp_path: Path) -> None:
    imd = tmp_path / "data" / "imd"
    imd.mkdir(parents=True)
    for name in (
        "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
        "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
        "File_6_-_IoD2019_Population_Denominators.csv.gz",
        "imd2025_england_lsoa21.csv.gz",
    ):
        shutil.copy(data_dir / "imd" / name, imd / name)
    load_data_dir(sqlite_store, tmp_path / "data", place=None)
    D, A = schema.Deprivation, schema.Area
    with sqlite_store.session() as s:
        counts = dict(s.execute(select(D.release, func.count()).group_by(D.release)).all())
        max_rank = dict(
            s.execute(select(D.release, func.max(D.imd_rank)).group_by(D.release)).all()
        )
        named = s.scalar(select(func.count()).where(A.vintage == 2011, A.name != A.code))
        pop = s.scalar(select(func.count()).where(D.release == 2019, D.pop_total.is_not(None)))
    assert counts == {2019: 32_844, 2025: 33_755}
    assert max_rank == {2019: 32_844, 2025: 33_755}  # every published rank, none re-ranked
    assert named == 32_844  # names from the IoD2019 files
    assert pop == 32_844  # File 6 denominators joined
