"""Bulk chunk ingest on PostgreSQL: binary COPY into a staging table, then INSERT ... SELECT."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tenantrag.adapters.postgres import PostgresUnitOfWorkFactory
from tenantrag.adapters.postgres.bulk import MIN_ROWS, STAGING
from tenantrag.domain.errors import Conflict, NotFound, PermissionDenied
from tests.contract.factories import make_chunk, make_document, seed_tenant

pytestmark = pytest.mark.postgres

MANY = MIN_ROWS * 3


async def test_a_large_batch_goes_through_the_staging_table_and_reads_back_unchanged(
    factory: PostgresUnitOfWorkFactory,
) -> None:
    seeded = await seed_tenant(factory)
    document = make_document(seeded.tenant.id)
    chunks = [make_chunk(document, i, metadata={"i": i, "tags": ["x"]}) for i in range(MANY)]
    async with factory.tenant(seeded.tenant.id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many(chunks)
        connection = uow._session.connection()
        # This transaction's own statistics: every row went in, and out again.
        staged = await connection.scalar(
            text(f"SELECT pg_stat_get_xact_tuples_inserted('{STAGING}'::regclass)")
        )
        left = await connection.scalar(text(f"SELECT count(*) FROM {STAGING}"))
        await uow.commit()
    assert (staged, left) == (MANY, 0)
    async with factory.tenant(seeded.tenant.id) as uow:
        assert list(await uow.chunks.list_for_document(document.id)) == chunks


async def test_a_failed_batch_leaves_nothing_and_names_the_row(factory: PostgresUnitOfWorkFactory) -> None:
    seeded = await seed_tenant(factory)
    document = make_document(seeded.tenant.id)
    chunks = [make_chunk(document, i) for i in range(MANY)]
    chunks.append(make_chunk(document, 7))  # a second ordinal 7
    async with factory.tenant(seeded.tenant.id) as uow:
        await uow.documents.add(document)
        with pytest.raises(Conflict, match="ordinal 7"):
            await uow.chunks.add_many(chunks)
        assert await uow.chunks.count() == 0
        await uow.chunks.add_many(chunks[:-1])  # the unit of work is still usable
        await uow.commit()
    async with factory.tenant(seeded.tenant.id) as uow:
        assert await uow.chunks.count() == MANY


async def test_a_batch_holding_another_tenants_chunk_is_refused_before_any_sql(
    factory: PostgresUnitOfWorkFactory,
) -> None:
    mine, other = await seed_tenant(factory), await seed_tenant(factory)
    document = make_document(mine.tenant.id)
    chunks = [make_chunk(document, i) for i in range(MANY)]
    chunks[5] = make_chunk(document, 5, tenant_id=other.tenant.id)
    async with factory.tenant(mine.tenant.id) as uow:
        await uow.documents.add(document)
        with pytest.raises(PermissionDenied):
            await uow.chunks.add_many(chunks)
        assert await uow.chunks.count() == 0


async def test_a_batch_for_a_missing_document_is_not_found(factory: PostgresUnitOfWorkFactory) -> None:
    seeded = await seed_tenant(factory)
    never_added = make_document(seeded.tenant.id)
    async with factory.tenant(seeded.tenant.id) as uow:
        with pytest.raises(NotFound, match="document"):
            await uow.chunks.add_many([make_chunk(never_added, i) for i in range(MANY)])
