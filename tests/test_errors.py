"""The exception tree: exit codes, HTTP statuses, messages that name file, row and field."""

from __future__ import annotations

import pytest

from strengthmap import errors
from strengthmap.errors import Fault, InputError, StrengthmapError, ValidationFailed


def test_input_error_names_file_row_and_field() -> None:
    err = InputError("not a number", file="imd.csv", row=12, field="IMD Rank")
    assert str(err) == "imd.csv: row 12: field IMD Rank: not a number"
    assert (err.exit_code, err.http_status) == (2, 422)
    assert err.to_dict()["field"] == "IMD Rank"


def test_validation_failed_lists_every_fault() -> None:
    err = ValidationFailed([Fault("$[0].name", "missing"), Fault("$[2].id", "duplicate")])
    assert "$[0].name: missing" in str(err) and "$[2].id: duplicate" in str(err)
    assert [f["path"] for f in err.to_dict()["faults"]] == ["$[0].name", "$[2].id"]


@pytest.mark.parametrize(
    ("cls", "exit_code", "status"),
    [
        (errors.NotFound, 4, 404),
        (errors.Conflict, 5, 409),
        (errors.Forbidden, 6, 403),
        (errors.Unauthorized, 6, 401),
        (errors.ConfigError, 2, 500),
        (errors.DownloadError, 7, 502),
    ],
)
def test_codes(cls: type[StrengthmapError], exit_code: int, status: int) -> None:
    assert issubclass(cls, StrengthmapError)
    assert (cls.exit_code, cls.http_status) == (exit_code, status)
