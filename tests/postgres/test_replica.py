"""DATABASE_REPLICA_URL: read-only units of work run on the replica, everything else on the primary.

A real streaming replica needs a second server; a copy of the primary taken at one
moment stands in for one that lags: what the primary gains afterwards is not there.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tenantrag.adapters.postgres import DeploymentError, PostgresUnitOfWorkFactory, open_postgres
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import ReadOnlyUnitOfWork
from tenantrag.entrypoints.backends import close_backend, open_backend
from tenantrag.entrypoints.settings import Settings
from tests.contract.factories import DIMENSION, make_chunk, make_document, seed_tenant
from tests.postgres_server import Databases

pytestmark = pytest.mark.postgres


async def test_reads_marked_read_only_go_to_the_replica_and_writes_to_the_primary(
    postgres_database: Callable[[int], str], postgres_databases: Databases
) -> None:
    primary = postgres_database(DIMENSION)
    seeding = await open_postgres(primary, DIMENSION, migrate=False)
    seeded = await seed_tenant(seeding)
    await seeding.dispose()
    replica = postgres_databases.create(template=str(make_url(primary).database))
    try:
        factory = await open_postgres(primary, DIMENSION, migrate=False, replica_url=replica)
        try:
            document = make_document(seeded.tenant.id)
            async with factory.tenant(seeded.tenant.id) as uow:
                await uow.documents.add(document)
                await uow.chunks.add_many([make_chunk(document, 0)])
                await uow.commit()

            async with factory.tenant(seeded.tenant.id, read_only=True) as on_replica:
                assert await on_replica.tenant.get() == seeded.tenant
                assert not (await on_replica.documents.list(PageRequest())).items
                assert await on_replica.chunks.count() == 0
                with pytest.raises(ReadOnlyUnitOfWork):
                    await on_replica.documents.add(make_document(seeded.tenant.id))
                # The database refuses writes too, not only the session's guard.
                connection = on_replica._session.connection()
                assert (await connection.execute(text("SHOW transaction_read_only"))).scalar() == "on"
            async with factory.tenant(seeded.tenant.id) as on_primary:
                assert [d.id for d in (await on_primary.documents.list(PageRequest())).items] == [document.id]
            async with factory.system() as system:
                assert await system.tenants.get(seeded.tenant.id) == seeded.tenant
        finally:
            await factory.dispose()
    finally:
        postgres_databases.drop(replica)


async def test_a_replica_without_the_schema_is_refused_on_open(
    postgres_database: Callable[[int], str], postgres_databases: Databases
) -> None:
    primary = postgres_database(DIMENSION)
    empty = postgres_databases.create(prefix="tenantrag_empty_replica")
    try:
        with pytest.raises(DeploymentError, match=r"tenantrag_empty_replica.*run `tenantrag init`"):
            await open_postgres(primary, DIMENSION, migrate=False, replica_url=empty)
    finally:
        postgres_databases.drop(empty)


async def test_database_replica_url_reaches_the_backend(
    postgres_database: Callable[[int], str], postgres_databases: Databases
) -> None:
    primary = postgres_database(DIMENSION)
    replica = postgres_databases.create(template=str(make_url(primary).database))
    settings = Settings(
        database_url=primary,
        database_replica_url=replica,
        environment="test",
        auto_migrate=False,
        embedding_dimension=DIMENSION,
        jwt_secret_key="replica-test-" + "x" * 40,
    )
    try:
        factory = await open_backend(settings)
        try:
            assert isinstance(factory, PostgresUnitOfWorkFactory)
            assert factory.replica is not None
            assert factory.replica.url.database == make_url(replica).database
            assert factory.engine.url.database == make_url(primary).database
        finally:
            await close_backend(factory)
    finally:
        postgres_databases.drop(replica)
