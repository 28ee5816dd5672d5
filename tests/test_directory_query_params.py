"""``ServiceQuery.from_params``: the one place the CLI, the API, the map and the Open Referral feed
turn their parameters into a directory query."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from strengthmap.directory.search import ServiceQuery, search_services
from strengthmap.errors import InputError, NotFound
from strengthmap.storage import Store, schema


def _postcode(store: Store) -> None:
    with store.transaction() as s:
        s.add(schema.Postcode(postcode="LS12 1BE", pcd7="LS121BE", lon=-1.5754, lat=53.7902))


def test_nothing_given_is_the_blank_query(sqlite_store: Store) -> None:
    assert ServiceQuery.from_params(sqlite_store) == ServiceQuery()
    blanks = ServiceQuery.from_params(
        sqlite_store, text=" ", taxonomy=["", " "], kind="", age="", near="", radius_m="",
        area=" ", day="", time="", start_time="", end_time="", open_at="", postcode="",
    )  # fmt: skip
    assert blanks == ServiceQuery()


def test_the_api_and_cli_parameters_pass_through(sqlite_store: Store) -> None:
    q = ServiceQuery.from_params(
        sqlite_store, text="lunch", taxonomy=["food", "Schools, colleges and universities"],
        kind="association", near="-1.57,53.79", radius_m=500, day="wed", start_time="12:00",
        end_time="14:00", free=True, age=70, minimum_age=18, maximum_age=99, area="E01011264",
        include_retired=True, page=2, per_page=10,
    )  # fmt: skip
    assert q == ServiceQuery(
        text="lunch", taxonomy_term_ids=("food", "Schools, colleges and universities"),
        kind="association", near=(-1.57, 53.79), radius_m=500.0, day="wed",
        start_time="12:00", end_time="14:00", free=True, age=70, minimum_age=18,
        maximum_age=99, area_code="E01011264", include_retired=True, page=2, per_page=10,
    )  # fmt: skip


def test_form_parameters_numbers_as_text_and_comma_joined_terms(sqlite_store: Store) -> None:
    q = ServiceQuery.from_params(sqlite_store, age=" 7 ", taxonomy=["food,arts", "sport"],
                                 taxonomy_sep=",")  # fmt: skip
    assert q.age == 7 and list(q.taxonomy_term_ids) == ["food", "arts", "sport"]
    calls: dict[str, Callable[[], ServiceQuery]] = {
        "age": lambda: ServiceQuery.from_params(sqlite_store, age="lots"),
        "minimum_age": lambda: ServiceQuery.from_params(sqlite_store, minimum_age="lots"),
        "radius_m": lambda: ServiceQuery.from_params(
            sqlite_store, near="-1.5,53.8", radius_m="lots"
        ),
    }
    for name, call in calls.items():
        with pytest.raises(InputError) as bad:
            call()
        assert bad.value.field == name and "must be a number" in bad.value.message
    assert ServiceQuery.from_params(sqlite_store, minimum_age=16.9).minimum_age == 16  # the feed


def test_a_form_radius_applies_to_a_point_only(sqlite_store: Store) -> None:
    def radius(near: str | None = None, radius_m: str | None = None) -> float | None:
        q = ServiceQuery.from_params(sqlite_store, near=near, radius_m=radius_m,
                                     default_radius_m=1500)  # fmt: skip
        return q.radius_m

    assert radius(near="-1.5,53.8") == 1500.0
    assert radius(near="-1.5,53.8", radius_m="400") == 400.0
    assert radius(near="-1.5,53.8", radius_m="0") == 1500.0
    assert radius(radius_m="400") is None  # no point: the form's radius field is not a filter
    # without a default, a radius without a point is refused when the query runs
    q = ServiceQuery.from_params(sqlite_store, radius_m=400)
    with pytest.raises(InputError) as bad:
        search_services(sqlite_store, q)
    assert bad.value.field == "radius_m"


def test_the_point_from_near_lat_lon_or_postcode(sqlite_store: Store) -> None:
    _postcode(sqlite_store)
    assert ServiceQuery.from_params(sqlite_store, near="LS12 1BE").near == (-1.5754, 53.7902)
    assert ServiceQuery.from_params(sqlite_store, lon=-1.5, lat=53.8).near == (-1.5, 53.8)
    assert ServiceQuery.from_params(sqlite_store, postcode="ls121be").near == (-1.5754, 53.7902)
    # lat and lon win over a postcode (the feed's order)
    both = ServiceQuery.from_params(sqlite_store, lon=-1.5, lat=53.8, postcode="LS12 1BE")
    assert both.near == (-1.5, 53.8)
    with pytest.raises(InputError) as half:
        ServiceQuery.from_params(sqlite_store, lat=53.8)
    assert (half.value.field, half.value.message) == ("lon", "lat and lon come together")
    with pytest.raises(NotFound):
        ServiceQuery.from_params(sqlite_store, postcode="LS99 9ZZ")


def test_times_of_day_and_the_open_at_shorthand(sqlite_store: Store) -> None:
    def window(
        day: str | None = None,
        time: str | None = None,
        start_time: str | None = None,
        open_at: str | None = None,
    ) -> tuple[object, object, object]:
        q = ServiceQuery.from_params(
            sqlite_store, day=day, time=time, start_time=start_time, open_at=open_at
        )
        return q.day, q.start_time, q.end_time

    assert window(day="wed", time="afternoon") == ("wed", "12:00", "17:00")
    assert window(day="wed", time="evening", start_time="18:00") == ("wed", "18:00", "21:00")
    assert window(open_at="wed 13:00") == ("wed", "13:00", "13:00")
    assert window(open_at="thu 13:00-16:00", day="mon") == ("thu", "13:00", "16:00")
    assert window(day="wed") == ("wed", None, None)  # the whole day
    with pytest.raises(InputError) as bad:
        window(day="wed", time="noon")
    assert bad.value.field == "time"
    assert set(ServiceQuery.TIMES_OF_DAY) == {"morning", "afternoon", "evening"}
