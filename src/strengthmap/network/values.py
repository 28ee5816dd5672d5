"""Reading one value of a node or tie as people write it (shared by the imports and the editor).

Each ``parse_*`` returns the value in its stored form or raises ``ValueError`` with a message a
community builder can act on; the caller adds the file, row and field.

    >>> parse_type("Volunteers at"), parse_type("custom:mentors")
    (('volunteers_at', None), ('custom', 'mentors'))
    >>> parse_weight(""), parse_weight("2.5")
    (1.0, 2.5)
    >>> parse_weight("-1")
    Traceback (most recent call last):
    ...
    ValueError: not a positive number: '-1'
"""

from __future__ import annotations

import re
from datetime import date

from strengthmap.network.model import NODE_KINDS, TIE_TYPES, positive_weight
from strengthmap.network.places import is_lsoa_code
from strengthmap.storage.schema.network import CONSENT_LEVELS

_KIND_ALIASES = {
    "person": "person",
    "people": "person",
    "individual": "person",
    "organization": "organization",
    "organisation": "organization",
    "org": "organization",
    "group": "organization",
    "service": "service",
    "location": "location",
    "place": "location",
    "venue": "location",
}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,35}")
_LABEL = re.compile(r"[^\s:,;][^:,;]{0,63}")


def _plain(text: str) -> str:
    return "_".join(text.strip().lower().replace("-", " ").split())


def parse_node_id(text: str) -> str:
    """An id: 1 to 36 letters, digits and ``. _ : -``, starting with a letter or digit."""
    value = text.strip()
    if not value:
        raise ValueError("required")
    if not _ID.fullmatch(value):
        raise ValueError(
            f"not an id: {value!r} (1 to 36 letters, digits, '.', '_', ':' or '-'; a directory "
            "record's id is its UUID)"
        )
    return value


def parse_kind(text: str) -> str:
    """A node kind (``organisation`` and a few other spellings are understood)."""
    kind = _KIND_ALIASES.get(_plain(text))
    if kind is None:
        raise ValueError(f"not a kind: {text.strip()!r} (one of {', '.join(NODE_KINDS)})")
    return kind


def parse_consent(text: str | None, default: str) -> str:
    """A consent level; blank gives ``default``."""
    value = _plain(text or "")
    if not value:
        return default
    if value not in CONSENT_LEVELS:
        raise ValueError(f"not a consent level: {text!r} (one of {', '.join(CONSENT_LEVELS)})")
    return value


def parse_type(text: str) -> tuple[str, str | None]:
    """A tie type and, for ``custom:<label>``, its label."""
    raw = text.strip()
    if not raw:
        raise ValueError("required")
    head, sep, tail = raw.partition(":")
    if sep and _plain(head) == "custom":
        label = tail.strip()
        if not _LABEL.fullmatch(label):
            raise ValueError(
                f"a custom type needs a name after 'custom:' (up to 64 characters): {raw!r}"
            )
        return "custom", label
    value = _plain(raw)
    if value not in TIE_TYPES or value == "custom":
        known = ", ".join(t for t in TIE_TYPES if t != "custom")
        raise ValueError(f"not a tie type: {raw!r} (one of {known}, or custom:<name>)")
    return value, None


def parse_weight(text: str | float | int | None) -> float:
    """A tie weight: blank is 1; otherwise a finite number above zero."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return 1.0
    if isinstance(text, bool):
        raise ValueError(f"not a positive number: {text!r}")
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"not a positive number: {text!r}") from None
    if not positive_weight(value):
        raise ValueError(f"not a positive number: {text!r}")
    return value


def parse_date(text: str | date | None) -> date | None:
    """An ISO date (YYYY-MM-DD); blank is None."""
    if text is None or isinstance(text, date):
        return text
    value = text.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None


def parse_area_code(text: str | None, known: set[str] | None) -> str | None:
    """An LSOA code, or blank; when ``known`` (the LSOAs loaded) is not empty, one of them."""
    value = (text or "").strip().upper()
    if not value:
        return None
    if not is_lsoa_code(value):
        raise ValueError(f"not an LSOA code: {value!r} (e.g. E01011294)")
    if known and value not in known:
        raise ValueError(f"no LSOA {value} is loaded (run `strengthmap data load` for its place)")
    return value


def check_dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")


__all__ = [
    "check_dates",
    "parse_area_code",
    "parse_consent",
    "parse_date",
    "parse_kind",
    "parse_node_id",
    "parse_type",
    "parse_weight",
]
