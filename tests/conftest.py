"""Fixtures every test folder may use: a real PostgreSQL (see tests/postgres_server.py).

``postgres_databases`` starts (or finds, through TEST_DATABASE_URL) the session's
server. ``postgres_template(dimension)`` is a database migrated to head with the
runtime role provisioned, built once per dimension; ``postgres_database(dimension)``
copies it into a fresh database for one test and drops it afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import make_url

from tests.postgres_server import Databases, running_server


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[Databases]:
    with running_server() as url:
        databases = Databases(url)
        try:
            yield databases
        finally:
            databases.drop_all()


@pytest.fixture(scope="session")
def postgres_template(postgres_databases: Databases) -> Callable[[int], str]:
    from tenantrag.adapters.postgres import provision

    built: dict[int, str] = {}

    def template(dimension: int) -> str:
        if dimension not in built:
            url = postgres_databases.create(prefix=f"tenantrag_template_{dimension}")
            # Called lazily, possibly from inside an async test's running loop.
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, provision(url, dimension)).result()
            built[dimension] = str(make_url(url).database)
        return built[dimension]

    return template


@pytest.fixture
def postgres_database(
    postgres_databases: Databases, postgres_template: Callable[[int], str]
) -> Iterator[Callable[[int], str]]:
    """A function giving the URL of a new migrated database (per call) for this test."""
    created: list[str] = []

    def database(dimension: int) -> str:
        url = postgres_databases.create(template=postgres_template(dimension))
        created.append(url)
        return url

    yield database
    for url in created:
        postgres_databases.drop(url)
