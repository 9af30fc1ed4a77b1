"""What the tenantrag contenders share: the corpus as tenantrag entities, ingest, search.

Both go through the public API: ``factory.system()`` creates the tenants,
``factory.tenant(t)`` adds each tenant's document and its chunks with
``chunks.add_many`` (in batches, one unit of work each) and searches with
``chunks.search(VectorQuery(...))``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Generic, TypeVar

import numpy as np

from bench.corpus import Corpus
from tenantrag.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, sha256_hex
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.search import VectorQuery

BATCH = 2000
NOW = datetime(2026, 1, 1, tzinfo=UTC)
F = TypeVar("F", bound=SqlUnitOfWorkFactory)


def tenants(corpus: Corpus) -> list[Tenant]:
    return [
        Tenant(id=t, name=f"Bench {i}", slug=f"bench-{i}", created_at=NOW, updated_at=NOW)
        for i, t in enumerate(corpus.tenants)
    ]


def document(tenant: uuid.UUID) -> Document:
    return Document(
        id=uuid.uuid5(tenant, "document"),
        tenant_id=tenant,
        filename="bench.txt",
        storage_key=f"bench/{tenant}",
        created_at=NOW,
        updated_at=NOW,
    )


def chunks(corpus: Corpus, owner: Document, rows: Sequence[int], first_ordinal: int) -> list[Chunk]:
    vectors = corpus.vectors[np.asarray(rows, dtype=np.int64)].tolist()
    return [
        Chunk(
            id=corpus.ids[row],
            tenant_id=owner.tenant_id,
            document_id=owner.id,
            ordinal=first_ordinal + offset,
            content=corpus.texts[row],
            content_sha256=sha256_hex(corpus.texts[row]),
            embedding=vector,
            created_at=NOW,
        )
        for offset, (row, vector) in enumerate(zip(rows, vectors, strict=True))
    ]


async def ingest(factory: UnitOfWorkFactory, corpus: Corpus) -> None:
    """Every row, from the NumPy corpus: the entities are built batch by batch (timed, as
    a caller of the API has to), so memory stays bounded at any scale."""
    async with factory.system() as uow:
        for tenant in tenants(corpus):
            await uow.tenants.add(tenant)
        await uow.commit()
    for index, tenant_id in enumerate(corpus.tenants):
        owner = document(tenant_id)
        async with factory.tenant(tenant_id) as uow:
            await uow.documents.add(owner)
            await uow.commit()
        rows = corpus.rows_of(index).tolist()
        for start in range(0, len(rows), BATCH):
            batch = chunks(corpus, owner, rows[start : start + BATCH], start)
            async with factory.tenant(tenant_id) as uow:
                await uow.chunks.add_many(batch)
                await uow.commit()


async def search(
    factory: UnitOfWorkFactory, tenant: uuid.UUID, vector: list[float], k: int
) -> list[uuid.UUID]:
    async with factory.tenant(tenant, read_only=True) as uow:
        hits = await uow.chunks.search(VectorQuery(embedding=vector, k=k))
    return [hit.chunk_id for hit in hits]


class TenantragContender(Generic[F]):
    """What the tenantrag contenders share: one event loop for the contender's whole life
    (so the pool survives between calls), the factory ``_open`` returns, the default load
    (``ingest`` above), search and close. A backend's module says how to open it."""

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._factory: F | None = None

    @property
    def factory(self) -> F:
        assert self._factory is not None, "prepare() first"
        return self._factory

    async def _open(self, corpus: Corpus) -> F:
        raise NotImplementedError

    async def _load(self, corpus: Corpus) -> None:
        await ingest(self.factory, corpus)

    def prepare(self, corpus: Corpus) -> None:
        self._factory = self._runner.run(self._open(corpus))

    def ingest(self, corpus: Corpus) -> None:
        self._runner.run(self._load(corpus))

    def search(self, tenant: uuid.UUID, vector: list[float], k: int) -> list[uuid.UUID]:
        return self._runner.run(search(self.factory, tenant, vector, k))

    def close(self) -> None:
        if self._factory is not None:
            self._runner.run(self._factory.dispose())
        self._runner.close()
