"""tenantrag on SQLite (one file, exact search per tenant), through its public Python API."""

from __future__ import annotations

import uuid
from pathlib import Path

from bench.contenders._tenantrag import Loop, ingest, search
from bench.corpus import Corpus
from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, open_sqlite


class TenantragSqlite:
    name = "tenantrag_sqlite"
    description = "tenantrag SQLite backend, public API, exact search per tenant"

    def __init__(self, workdir: str) -> None:
        self._workdir = Path(workdir)
        self._loop = Loop()
        self._factory: SqliteUnitOfWorkFactory | None = None

    @property
    def factory(self) -> SqliteUnitOfWorkFactory:
        assert self._factory is not None, "prepare() first"
        return self._factory

    def prepare(self, corpus: Corpus) -> None:
        path = self._workdir / f"bench-{corpus.dimension}-{uuid.uuid4().hex[:8]}.db"
        self._factory = self._loop.runner.run(open_sqlite(f"sqlite:///{path}", corpus.dimension))

    def ingest(self, corpus: Corpus) -> None:
        self._loop.runner.run(ingest(self.factory, corpus))

    def search(self, tenant: uuid.UUID, vector: list[float], k: int) -> list[uuid.UUID]:
        return self._loop.runner.run(search(self.factory, tenant, vector, k))

    def close(self) -> None:
        if self._factory is not None:
            self._loop.runner.run(self._factory.dispose())
        self._loop.close()
