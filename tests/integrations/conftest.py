"""Fixtures for the integrations' tests (tests/integrations/).

``sync_rag`` is a synchronous facade (``tenantrag.integrations.sync``) on a store of the
requested backend, wired as a deployment is (settings, the container), with cheap password
hashing; tests/http/helpers.py is the one home of those test settings.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tenantrag.entrypoints.settings import MEMORY_URL, Settings
from tenantrag.integrations.sync import SyncTenantrag
from tests.http.helpers import DIMENSION, make_container, make_settings

SYNC_BACKENDS = [
    pytest.param("memory", marks=pytest.mark.memory),
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def sqlite_file_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once, for each test to copy."""
    from tenantrag.adapters.sql import migrations

    path = tmp_path_factory.mktemp("integrations-sqlite") / "template.sqlite"
    migrations.upgrade(f"sqlite:///{path}", embedding_dimension=DIMENSION)
    return path


@pytest.fixture
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Settings]:
    """Settings for a fresh store of a backend (``memory``, ``sqlite`` or ``postgres``)."""

    def settings(backend: str) -> Settings:
        if backend == "memory":
            return make_settings(MEMORY_URL)
        if backend == "sqlite":
            template: Path = request.getfixturevalue("sqlite_file_template")
            path = tmp_path / "store.sqlite"
            shutil.copyfile(template, path)
            return make_settings(f"sqlite:///{path}")
        if backend == "postgres":
            database: Callable[[int], str] = request.getfixturevalue("postgres_database")
            return make_settings(database(DIMENSION), auto_migrate=False, blob_store_path=tmp_path / "blobs")
        raise AssertionError(f"no store for backend {backend!r}")

    return settings


@pytest.fixture(params=SYNC_BACKENDS)
def sync_rag(
    request: pytest.FixtureRequest, store_settings: Callable[[str], Settings]
) -> Iterator[SyncTenantrag]:
    rag = SyncTenantrag.from_container(make_container(store_settings(request.param)))
    try:
        yield rag
    finally:
        rag.close()
