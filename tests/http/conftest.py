"""The HTTP API end to end: httpx against the ASGI app, on every backend in ``BACKENDS``.

Each test gets a fresh container (its own database), the app built by ``create_app``
with its lifespan entered (so the container's resources are open), and a client.
PostgreSQL databases are copies of a migrated, provisioned template, so the app opens
them with ``AUTO_MIGRATE`` off, as a production deployment would.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tenantrag.domain.usecases.app import TenantRag
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.http.context import ApiContext
from tenantrag.entrypoints.settings import Settings
from tests.http.helpers import BASE_URL, DIMENSION, make_container, make_settings
from tests.http.world import World, build_world

BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once, for each test to copy."""
    from tenantrag.adapters.sql import migrations

    path = tmp_path_factory.mktemp("http-sqlite") / "template.sqlite"
    migrations.upgrade(f"sqlite:///{path}", embedding_dimension=DIMENSION)
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database for one test, as a DATABASE_URL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        database = tmp_path / "http.sqlite"
        shutil.copyfile(template, database)
        return f"sqlite:///{database}"
    if request.param == "postgres":
        postgres_database: Callable[[int], str] = request.getfixturevalue("postgres_database")
        return postgres_database(DIMENSION)
    raise AssertionError(f"no database for backend {request.param!r}")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    if database_url.startswith("postgresql"):
        # Blobs would default to the working directory: keep them in the test's folder.
        return make_settings(database_url, auto_migrate=False, blob_store_path=tmp_path / "blobs")
    return make_settings(database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(make_container(settings))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def context(app: FastAPI) -> ApiContext:
    context = app.state.tenantrag
    assert isinstance(context, ApiContext)
    return context


@pytest.fixture
def rag(context: ApiContext) -> TenantRag:
    return context.rag


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def world(context: ApiContext) -> World:
    return await build_world(context.rag, context.config.tokens)
