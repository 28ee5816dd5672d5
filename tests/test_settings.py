"""Settings: defaults, environment variables, explicit overrides (CLI flags) win."""

from __future__ import annotations

from pathlib import Path

import pytest

from strengthmap.errors import ConfigError
from strengthmap.settings import Settings


def test_environment_then_overrides(tmp_path: Path) -> None:
    env = {
        "STRENGTHMAP_DATABASE_URL": "sqlite:///env.sqlite",
        "STRENGTHMAP_DATA_DIR": str(tmp_path),
    }
    s = Settings.from_env(env)
    assert s.database_url == "sqlite:///env.sqlite"
    assert s.data_dir == tmp_path
    s2 = Settings.from_env(env, database_url="sqlite:///flag.sqlite", data_dir=tmp_path / "x")
    assert s2.database_url == "sqlite:///flag.sqlite"
    assert s2.data_dir == tmp_path / "x"


def test_every_setting_has_help() -> None:
    helps = Settings.help()
    assert "STRENGTHMAP_DATABASE_URL" in helps and "STRENGTHMAP_DATA_DIR" in helps
    assert all(text for text in helps.values())


def test_bad_port_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        Settings.from_env({"STRENGTHMAP_PORT": "eighty"})
