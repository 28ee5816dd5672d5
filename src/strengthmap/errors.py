"""One exception tree for the whole of Strengthmap; each error carries a CLI exit code and an HTTP status.

    StrengthmapError                 exit 1, HTTP 500
    ├── InputError(file, row, field) exit 2, HTTP 422   bad input: names where the fault is
    │   └── ValidationFailed(faults) exit 2, HTTP 422   many faults at once (JSON paths)
    ├── ConfigError                  exit 2, HTTP 500   settings or data directory unusable
    ├── NotFound                     exit 4, HTTP 404
    ├── Conflict                     exit 5, HTTP 409   e.g. a double booking
    ├── Forbidden                    exit 6, HTTP 403
    │   └── Unauthorized             exit 6, HTTP 401
    └── DownloadError                exit 7, HTTP 502   a publisher's file did not arrive intact

Example:
    >>> err = InputError("bad rank", file="imd.csv", row=12, field="IMD Rank")
    >>> str(err)
    'imd.csv: row 12: field IMD Rank: bad rank'
    >>> err.exit_code, err.http_status
    (2, 422)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


class StrengthmapError(Exception):
    """Base of every error Strengthmap raises on purpose."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        """The JSON body the API returns for this error."""
        return {"error": type(self).__name__, "message": str(self)}


class InputError(StrengthmapError):
    """Bad input: names the file, the row (1-based, header = row 1) and the field at fault."""

    exit_code = 2
    http_status = 422

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.row = row
        self.field = field

    def __str__(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        parts.append(self.message)
        return ": ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body.update(file=self.file, row=self.row, field=self.field)
        return body


@dataclass(frozen=True)
class Fault:
    """One fault in a document: where (a JSON path like ``$.services[3].name``, or a row) and what.

    Faults in tabular files also name the ``file``, ``row`` (1-based, header = row 1) and
    ``field`` on their own, for tools that list them (``Fault.at``).
    """

    path: str
    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None

    @classmethod
    def at(
        cls, message: str, *, file: str, row: int | None = None, field: str | None = None
    ) -> Fault:
        """A fault at a file's row and field; its path reads like an ``InputError``.

        >>> str(Fault.at("not a date", file="edges.csv", row=4, field="start"))
        'edges.csv: row 4: field start: not a date'
        """
        where = [file] + ([f"row {row}"] if row is not None else [])
        where += [f"field {field}"] if field is not None else []
        return cls(": ".join(where), message, file=file, row=row, field=field)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ValidationFailed(InputError):
    """A document with one or more faults; all are listed, not only the first."""

    def __init__(self, faults: list[Fault], *, file: str | None = None) -> None:
        self.faults = list(faults)
        summary = f"{len(self.faults)} fault(s):\n" + "\n".join(f"  {f}" for f in self.faults)
        super().__init__(summary, file=file)

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["faults"] = [
            {"path": f.path, "message": f.message}
            | {
                k: v
                for k, v in (("file", f.file), ("row", f.row), ("field", f.field))
                if v is not None
            }
            for f in self.faults
        ]
        return body


class ConfigError(StrengthmapError):
    """The settings or the data directory cannot be used as they are."""

    exit_code = 2


class NotFound(StrengthmapError):
    """The thing asked for does not exist (an area code, a postcode, a service id)."""

    exit_code = 4
    http_status = 404


class Conflict(StrengthmapError):
    """The change would break an invariant (a double booking, a duplicate id)."""

    exit_code = 5
    http_status = 409


class Forbidden(StrengthmapError):
    """The caller may not do this."""

    exit_code = 6
    http_status = 403


class Unauthorized(Forbidden):
    """The caller must log in (or give an API token) first."""

    http_status = 401


class DownloadError(StrengthmapError):
    """A file from an official publisher did not arrive, or arrived with the wrong size or SHA-256."""

    exit_code = 7
    http_status = 502


__all__ = [
    "ConfigError",
    "Conflict",
    "DownloadError",
    "Fault",
    "Forbidden",
    "InputError",
    "NotFound",
    "StrengthmapError",
    "Unauthorized",
    "ValidationFailed",
]
