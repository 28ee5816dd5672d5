"""Settings declared once, with help text; built at the entry point and passed in (no globals).

Example:
    >>> s = Settings.from_env({"STRENGTHMAP_DATABASE_URL": "sqlite:///x.sqlite"}, data_dir="/tmp")
    >>> s.database_url, str(s.data_dir)
    ('sqlite:///x.sqlite', '/tmp')

Precedence: explicit overrides (CLI flags ``--database`` / ``--data``) > environment variables
(``STRENGTHMAP_<NAME>``) > defaults.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from strengthmap.errors import ConfigError

ENV_PREFIX = "STRENGTHMAP_"

#: Where ``data download`` writes when no data directory is configured.
DEFAULT_DOWNLOAD_DIR = Path("data")
#: Where the project looks for data when nothing is configured (the shared folder beside a checkout).
SHARED_DATA_CANDIDATES = (Path("data"), Path("../shared/data"))


def _default_data_dir() -> Path:
    for candidate in SHARED_DATA_CANDIDATES:
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate.resolve()
    return DEFAULT_DOWNLOAD_DIR.resolve()


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one Strengthmap instance."""

    database_url: str = field(
        default="sqlite:///var/strengthmap.sqlite",
        metadata={
            "help": "Where the store lives: sqlite:///path/file.sqlite (default, embedded) or "
            "postgresql+psycopg://user:pass@host/db (PostGIS, for many users).",
        },
    )
    data_dir: Path = field(
        default_factory=_default_data_dir,
        metadata={
            "help": "Folder of official open data files (the layout of `strengthmap data download`). "
            "Default: ./data if present, else ../shared/data beside the checkout.",
        },
    )
    place: str = field(
        default="Leeds",
        metadata={"help": "The local authority whose areas are loaded (by name), e.g. Leeds."},
    )
    secret_key: str = field(
        default_factory=lambda: secrets.token_hex(32),
        metadata={
            "help": "Key that signs session cookies and CSRF tokens. Set it in production so "
            "sessions survive a restart.",
        },
    )
    api_token: str | None = field(
        default=None,
        metadata={"help": "Bearer token that enables the write API for scripts (optional)."},
    )
    tile_url: str | None = field(
        default=None,
        metadata={
            "help": "Optional map tile URL template (e.g. a local tile server). The map works without it.",
        },
    )
    smtp_url: str | None = field(
        default=None,
        metadata={
            "help": "Mail server for booking messages: smtp://user:pass@host:587?starttls=1 or "
            "smtps://host:465. Unset: messages wait in the outbox staff can read.",
        },
    )
    mail_from: str = field(
        default="bookings@localhost",
        metadata={"help": "The From address of booking messages."},
    )
    booking_hold_hours: int = field(
        default=72,
        metadata={"help": "How long a booking request holds its slot before staff decide (hours)."},
    )
    booking_retention_months: int = field(
        default=12,
        metadata={
            "help": "Months after a booking ends before `bookings anonymise` removes the hirer's "
            "name, email and postcode (their area and IMD decile are kept for the report).",
        },
    )
    host: str = field(default="127.0.0.1", metadata={"help": "Address the web server listens on."})
    port: int = field(default=8000, metadata={"help": "Port the web server listens on."})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``STRENGTHMAP_*`` variables, then apply non-None ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, raw)
        for name, value in overrides.items():
            if value is not None:
                values[name] = _coerce(name, value) if isinstance(value, str) else value
        settings = cls(**values)
        if not isinstance(settings.data_dir, Path):
            settings = replace(settings, data_dir=Path(settings.data_dir))
        return settings

    @classmethod
    def help(cls) -> dict[str, str]:
        """Each setting's environment variable and help text (used by the docs and ``--help``)."""
        return {ENV_PREFIX + f.name.upper(): f.metadata.get("help", "") for f in fields(cls)}


#: Settings never shown, even to admins.
SECRET_SETTINGS = frozenset({"secret_key", "api_token"})


def shown_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(name, value, help) of every setting as an admin may see it: secrets only as
    ``(set)`` / ``(not set)``.

    >>> dict((n, v) for n, v, _ in shown_settings(Settings(secret_key="k")))["secret_key"]
    '(set)'
    """
    help_ = Settings.help()
    shown = []
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if f.name in SECRET_SETTINGS:
            value = "(set)" if value else "(not set)"
        shown.append(
            (f.name, str(value) if value is not None else "", help_[ENV_PREFIX + f.name.upper()])
        )
    return shown


def settings_environment(settings: Settings) -> dict[str, str]:
    """``settings`` as ``STRENGTHMAP_*`` variables (for worker processes that build their own).

    >>> settings_environment(Settings(database_url="sqlite://", secret_key="k"))["STRENGTHMAP_SECRET_KEY"]
    'k'
    """
    return {
        ENV_PREFIX + f.name.upper(): str(getattr(settings, f.name))
        for f in fields(settings)
        if getattr(settings, f.name) is not None
    }


_INT_SETTINGS = frozenset({"port", "booking_hold_hours", "booking_retention_months"})


def _coerce(name: str, raw: str) -> Any:
    if name == "data_dir":
        return Path(raw).expanduser()
    if name in _INT_SETTINGS:
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(
                f"{ENV_PREFIX}{name.upper()} must be a whole number, not {raw!r}"
            ) from exc
    return raw


__all__ = ["SECRET_SETTINGS", "Settings", "settings_environment", "shown_settings"]
