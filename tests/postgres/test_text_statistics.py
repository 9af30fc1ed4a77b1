"""The per-tenant text statistics BM25 weighs by stay equal to the chunks they count, under
concurrent writers in one tenant, deletions and a tenant's removal."""

from __future__ import annotations

import asyncio
import uuid

import attrs
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.postgres import PostgresUnitOfWorkFactory
from tenantrag.domain.model.document import sha256_hex
from tests.contract.factories import basis, make_chunk, make_document, seed_tenant

pytestmark = pytest.mark.postgres

WORDS = ("library", "catalogue", "reader", "journal", "paper", "index", "rocket", "satellite")


async def add_document(factory: PostgresUnitOfWorkFactory, tenant_id: uuid.UUID, n: int) -> uuid.UUID:
    document = make_document(tenant_id)
    chunks = []
    for ordinal in range(5):
        content = " ".join(WORDS[(n + i) % len(WORDS)] for i in range(ordinal + n % 4 + 1))
        chunk = make_chunk(document, ordinal, basis(ordinal))
        chunks.append(attrs.evolve(chunk, content=content, content_sha256=sha256_hex(content)))
    async with factory.tenant(tenant_id) as uow:
        await uow.documents.add(document)
        await uow.chunks.add_many(chunks)
        await asyncio.sleep(0.01)  # hold the transaction open while the others write
        await uow.commit()
    return document.id


async def statistics(
    raw: AsyncEngine,
) -> tuple[dict[uuid.UUID, tuple[int, int]], dict[uuid.UUID, tuple[int, int]]]:
    """(what tenant_text_stats says, what the chunks add up to), per tenant, as a superuser."""
    async with raw.connect() as connection:
        kept = await connection.execute(
            text("SELECT tenant_id, chunk_count, term_count FROM tenant_text_stats")
        )
        counted = await connection.execute(
            text(
                "SELECT c.tenant_id, count(*), sum(f.term_count) FROM chunks c"
                " JOIN chunks_fts f ON f.tenant_id = c.tenant_id AND f.chunk_id = c.id GROUP BY c.tenant_id"
            )
        )
        said = {row[0]: (row[1], row[2]) for row in kept if row[1] or row[2]}
        return said, {row[0]: (row[1], row[2]) for row in counted}


async def test_concurrent_writers_and_deletes_keep_the_statistics_exact(
    factory: PostgresUnitOfWorkFactory, raw: AsyncEngine
) -> None:
    one, two = (await seed_tenant(factory)).tenant.id, (await seed_tenant(factory)).tenant.id
    documents = await asyncio.gather(*(add_document(factory, one if n % 3 else two, n) for n in range(12)))

    async def delete(tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        async with factory.tenant(tenant_id) as uow:
            await uow.documents.delete(document_id)
            await uow.commit()

    owners = [one if n % 3 else two for n in range(12)]
    await asyncio.gather(
        *(delete(owners[n], documents[n]) for n in range(0, 12, 4)),
        *(add_document(factory, one, n) for n in range(12, 16)),
    )
    said, counted = await statistics(raw)
    assert said == counted
    assert set(counted) == {one, two}
    assert all(terms > chunks > 0 for chunks, terms in counted.values())


async def test_a_failed_transaction_and_a_deleted_tenant_leave_no_counts(
    factory: PostgresUnitOfWorkFactory, raw: AsyncEngine
) -> None:
    tenant = (await seed_tenant(factory)).tenant
    await add_document(factory, tenant.id, 1)
    document = make_document(tenant.id)

    async def die_before_commit() -> None:
        async with factory.tenant(tenant.id) as uow:
            await uow.documents.add(document)
            await uow.chunks.add_many([make_chunk(document, 0, basis(0))])
            raise RuntimeError("the worker died before commit")

    with pytest.raises(RuntimeError):
        await die_before_commit()
    said, counted = await statistics(raw)
    assert said == counted
    async with factory.tenant(tenant.id) as uow:
        await uow.tenant.delete()
        await uow.commit()
    said, counted = await statistics(raw)
    assert tenant.id not in said
    assert said == counted
