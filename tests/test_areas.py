"""Area profiles and postcodes on the real Leeds data (SQLite and PostGIS): the Contract record,
splits and merges through the official lookup, the API in-process, clear errors for unknown codes
and postcodes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from strengthmap.api import create_app
from strengthmap.areas import area_profile, postcode_profile, resolve_postcode
from strengthmap.errors import InputError, NotFound
from strengthmap.settings import Settings
from strengthmap.storage import Store

pytestmark = pytest.mark.realdata


@pytest.fixture
def store(leeds_store: Store) -> Store:
    """The Leeds data directory loaded once per backend per session (``leeds_store`` in
    conftest); these tests only read it."""
    return leeds_store


def test_profile_of_an_unchanged_lsoa(store: Store) -> None:
    p = area_profile(store, "e01011264 ")
    assert (p["code"], p["level"], p["vintage"], p["msoa_code"]) == (
        "E01011264", "lsoa", 2011, "E02002340",
    )  # fmt: skip
    assert p["imd_releases"]["2019"]["rank"] == 13915  # leeds_imd2019_lsoa2011.csv row 2
    assert p["imd_releases"]["2025"]["lsoa_code"] == "E01011264"
    assert p["imd_releases"]["2025"]["change_code"] == "U"
    assert p["imd"] is p["imd_releases"]["2025"]
    le = p["life_expectancy"]
    assert le["msoa_code"] == "E02002340" and le["male"]["lower"] < le["male"]["value"]


def test_split_lsoa_lists_each_2021_part(store: Store) -> None:
    p = area_profile(store, "E01011490")  # Leeds 099A, split into 099G and 099H
    rec = p["imd_releases"]["2025"]
    assert rec["rank"] is None and rec["lsoa_codes"] == ["E01035048", "E01035049"]
    assert [part["change_code"] for part in rec["parts"]] == ["S", "S"]
    assert all(part["rank"] for part in rec["parts"])


def test_merged_2021_lsoa_lists_its_2011_parts(store: Store) -> None:
    p = area_profile(store, "E01035054")  # Leeds 112F = 112D + 112E
    assert p["vintage"] == 2021
    assert p["imd_releases"]["2019"]["lsoa_codes"] == ["E01033018", "E01033019"]
    assert p["msoa_code"] == "E02006876"


def test_suppressed_life_expectancy_is_flagged(store: Store) -> None:
    p = area_profile(store, "E02002382")  # Leeds 053: Females withheld
    assert p["life_expectancy"]["female"] == {
        "value": None, "lower": None, "upper": None, "deaths": 82.0,
        "person_years": 19532.0, "suppressed": True,
    }  # fmt: skip
    assert p["life_expectancy"]["male"]["value"] > 70


def test_errors(store: Store) -> None:
    with pytest.raises(NotFound):
        area_profile(store, "E01999999")
    with pytest.raises(InputError):
        area_profile(store, "LEEDS")
    with pytest.raises(NotFound, match="LS99 9ZZ"):
        resolve_postcode(store, "ls99 9zz")
    with pytest.raises(NotFound, match="no coordinates"):
        resolve_postcode(store, "LS1 9AR")  # listed without coordinates
    with pytest.raises(InputError):
        resolve_postcode(store, "not a postcode")


def test_api_matches_the_library(store: Store) -> None:
    client = TestClient(create_app(Settings(database_url="sqlite://"), store=store))
    r = client.get("/api/areas/E01011264")
    assert r.status_code == 200 and r.json() == area_profile(store, "E01011264")
    r = client.get("/api/postcodes/LS12 1BE")
    assert r.status_code == 200
    assert r.json() == postcode_profile(store, "LS12 1BE")
    assert r.json()["code"] == "E01033013"
    assert client.get("/api/areas/E01999999").status_code == 404
    assert client.get("/api/postcodes/LS99 9ZZ").status_code == 404
