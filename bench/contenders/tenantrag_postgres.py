"""tenantrag on PostgreSQL through its public Python API, with row-level security on.

``open_postgres`` migrates the database and provisions the runtime role; every unit of
work then runs as that role (no BYPASSRLS) with the tenant bound, as in production.

Ingest is the documented way to load a large corpus (README, "Loading a large corpus"):
drop the HNSW index, load through the API, build the index (all timed). Kept during the
load, the index is maintained row by row, which costs several times more (see
bench/RESULTS.md); searches are exact, and so correct, while it is away.
"""

from __future__ import annotations

from bench.contenders._tenantrag import TenantragContender, ingest
from bench.corpus import Corpus
from bench.server import Databases
from tenantrag.adapters.postgres import PostgresUnitOfWorkFactory, open_postgres


class TenantragPostgres(TenantragContender[PostgresUnitOfWorkFactory]):
    name = "tenantrag_postgres"
    description = "tenantrag PostgreSQL backend, public API, row-level security on, HNSW built after the load"

    def __init__(self, databases: Databases) -> None:
        super().__init__()
        self._databases = databases

    async def _open(self, corpus: Corpus) -> PostgresUnitOfWorkFactory:
        return await open_postgres(self._databases.create(self.name), corpus.dimension)

    async def _load(self, corpus: Corpus) -> None:
        await self.factory.drop_vector_index(concurrently=False)
        await ingest(self.factory, corpus)
        await self.factory.build_vector_index(concurrently=False)
