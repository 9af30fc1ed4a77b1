"""Secrets stay secret: SQL logging never shows bound values, and new database files are private.

``DATABASE_ECHO`` logs every statement; with parameters it would log password hashes and
API-key hashes (the red-team run found both). A SQLite file holds the same hashes, so it is
created 0600 whatever the umask; its WAL and shared-memory files take the file's mode.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.container import container_for, running
from tenantrag.entrypoints.settings import Settings

pytestmark = pytest.mark.sqlite

PASSWORD = "correct horse battery staple"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive usual umask, so only an explicit mode makes a file private."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _settings(path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{path}",
        "environment": "test",
        "jwt_secret_key": "secrets-test-" + "0123456789abcdef" * 4,
        "embedder": "hashing",
        "embedding_dimension": 16,
        **overrides,
    }
    return Settings(**values)


async def test_a_new_sqlite_database_and_its_journal_are_private(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "fresh.db"
    container = container_for(_settings(path))
    container.hasher.override(PwdlibPasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    async with running(container) as rag:
        await rag.users.register(email="ada@example.com", password=PASSWORD)
        modes = _modes(tmp_path, "fresh.db")
    assert len(modes) >= 2, modes  # the WAL (and its index) exist while connections are open
    assert set(modes.values()) == {0o600}, modes


def _modes(folder: Path, prefix: str) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir() if p.name.startswith(prefix)}


async def test_an_existing_database_keeps_its_mode(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "shared.db"
    _make(path, 0o640)
    async with running(container_for(_settings(path))):
        pass
    assert _modes(tmp_path, "shared.db")["shared.db"] == 0o640


def _make(path: Path, mode: int) -> None:
    path.touch()
    path.chmod(mode)


async def test_sql_echo_never_prints_bound_parameters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    container = container_for(_settings(tmp_path / "echo.db", database_echo=True))
    container.hasher.override(PwdlibPasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        async with running(container) as rag:
            user = await rag.users.register(email="ada@example.com", password=PASSWORD)
            tenant = await rag.tenants.create(Principal.user(user.id), name="Acme")
            issued = await rag.api_keys.issue(Principal.user(user.id), tenant.id, name="ci")
            stored = await rag.users.get(user.id)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "INSERT INTO users" in logged  # the statements themselves are logged
    assert "parameters hidden" in logged
    assert stored.password_hash is not None
    for secret in (stored.password_hash, issued.key.secret_hash, "ada@example.com", str(user.id)):
        assert secret not in logged
