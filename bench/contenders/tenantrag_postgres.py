"""tenantrag on PostgreSQL through its public Python API, with row-level security on.

``open_postgres`` migrates the database and provisions the runtime role; every unit of
work then runs as that role (no BYPASSRLS) with the tenant bound, as in production.

Ingest is the documented way to load a large corpus (README, "Loading a large corpus"):
drop the HNSW index, load through the API, build the index (all timed). Kept during the
load, the index is maintained row by row, which costs several times more (see
bench/RESULTS.md); searches are exact, and so correct, while it is away.
"""

from __future__ import annotations

import uuid

from bench.contenders._tenantrag import Loop, ingest, search
from bench.corpus import Corpus
from bench.server import Databases
from tenantrag.adapters.postgres import PostgresUnitOfWorkFactory, open_postgres


class TenantragPostgres:
    name = "tenantrag_postgres"
    description = "tenantrag PostgreSQL backend, public API, row-level security on, HNSW built after the load"

    def __init__(self, databases: Databases) -> None:
        self._databases = databases
        self._loop = Loop()
        self._factory: PostgresUnitOfWorkFactory | None = None

    @property
    def factory(self) -> PostgresUnitOfWorkFactory:
        assert self._factory is not None, "prepare() first"
        return self._factory

    def prepare(self, corpus: Corpus) -> None:
        url = self._databases.create(self.name)
        self._factory = self._loop.runner.run(open_postgres(url, corpus.dimension))

    def ingest(self, corpus: Corpus) -> None:
        self._loop.runner.run(self._load(corpus))

    async def _load(self, corpus: Corpus) -> None:
        await self.factory.drop_vector_index(concurrently=False)
        await ingest(self.factory, corpus)
        await self.factory.build_vector_index(concurrently=False)

    def search(self, tenant: uuid.UUID, vector: list[float], k: int) -> list[uuid.UUID]:
        return self._loop.runner.run(search(self.factory, tenant, vector, k))

    def close(self) -> None:
        if self._factory is not None:
            self._loop.runner.run(self._factory.dispose())
        self._loop.close()
