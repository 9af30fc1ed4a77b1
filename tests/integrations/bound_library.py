"""The library on a backend, on a loop thread, with a tenant to bind framework stores to.

For the LangChain and LlamaIndex tests: ``open_library(backend, dimension, request)`` gives
a ``Library`` whose app lives on its own ``LoopThread`` (as a store's does), with an owner
and a viewer of tenant ``acme`` and a second tenant ``other`` owned by someone else.
SQLite is a temporary file copied from a template migrated once per dimension; PostgreSQL
a fresh database copied from the session's migrated template (tests/conftest.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest

from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.bootstrap import bootstrap
from tenantrag.integrations._loop import LoopThread

BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@attrs.frozen
class Library:
    loop: LoopThread
    rag: TenantRag
    acme: Tenant
    owner: Principal
    viewer: Principal
    other: Tenant
    other_owner: Principal


_templates: dict[int, Path] = {}


def _sqlite_url(dimension: int, folder: Path) -> str:
    from tenantrag.adapters.sql import migrations

    if dimension not in _templates:
        template = folder.parent / f"langchain-template-{dimension}.sqlite"
        if not template.exists():
            migrations.upgrade(f"sqlite:///{template}", embedding_dimension=dimension)
        _templates[dimension] = template
    path = folder / "store.sqlite"
    shutil.copyfile(_templates[dimension], path)
    return f"sqlite:///{path}"


def _url(backend: str, dimension: int, request: pytest.FixtureRequest, folder: Path) -> str:
    if backend == "sqlite":
        return _sqlite_url(dimension, folder)
    if backend == "postgres":
        database: Callable[[int], str] = request.getfixturevalue("postgres_database")
        return database(dimension)
    raise AssertionError(f"no such backend: {backend}")


async def _backend(url: str, dimension: int) -> UnitOfWorkFactory:
    if url.startswith("sqlite"):
        from tenantrag.adapters.sqlite import open_sqlite

        return await open_sqlite(url, dimension, migrate=False)
    from tenantrag.adapters.postgres import open_postgres

    return await open_postgres(url, dimension, migrate=False)


@contextmanager
def open_library(
    backend: str, dimension: int, request: pytest.FixtureRequest, folder: Path
) -> Iterator[Library]:
    loop = LoopThread("tenantrag-tests")
    rag: TenantRag | None = None
    try:
        uow = loop.run(_backend(_url(backend, dimension, request, folder), dimension))
        rag = bootstrap(uow=uow, hasher=PwdlibPasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield loop.run(_seed(loop, rag))
    finally:
        loop.close(None if rag is None else rag.aclose())


async def _seed(loop: LoopThread, rag: TenantRag) -> Library:
    system = Principal.system()
    owner = await rag.users.register(email="owner@example.com")
    viewer = await rag.users.register(email="viewer@example.com")
    stranger = await rag.users.register(email="stranger@example.com")
    acme = await rag.tenants.create(system, name="Acme", owner_id=owner.id)
    await rag.members.add(Principal.user(owner.id), acme.id, role="viewer", user_id=viewer.id)
    other = await rag.tenants.create(system, name="Other", owner_id=stranger.id)
    return Library(
        loop=loop, rag=rag, acme=acme, owner=Principal.user(owner.id), viewer=Principal.user(viewer.id),
        other=other, other_owner=Principal.user(stranger.id),
    )  # fmt: skip
