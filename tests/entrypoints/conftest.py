"""An environment with none of tenantrag's variables set, in an empty working directory.

Settings read the process environment and ``./.env``; a developer's own DATABASE_URL or
.env must not leak into these tests, so every variable Settings reads is removed and the
working directory is the test's temporary folder (where the development JWT secret of
the default SQLite database lands, too).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tenantrag.entrypoints.settings import Settings, variables

MakeSettings = Callable[..., Settings]


def clear_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for names in variables().values():
        for name in names:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    clear_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def settings_from_env(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> MakeSettings:
    """Build Settings from environment variables given as keyword arguments (no .env file)."""

    def make(**environment: str) -> Settings:
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        return Settings(_env_file=None)

    return make
