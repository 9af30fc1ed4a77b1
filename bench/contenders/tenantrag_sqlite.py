"""tenantrag on SQLite (one file, exact search per tenant), through its public Python API."""

from __future__ import annotations

import uuid
from pathlib import Path

from bench.contenders._tenantrag import TenantragContender
from bench.corpus import Corpus
from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, open_sqlite


class TenantragSqlite(TenantragContender[SqliteUnitOfWorkFactory]):
    name = "tenantrag_sqlite"
    description = "tenantrag SQLite backend, public API, exact search per tenant"

    def __init__(self, workdir: str) -> None:
        super().__init__()
        self._workdir = Path(workdir)

    async def _open(self, corpus: Corpus) -> SqliteUnitOfWorkFactory:
        path = self._workdir / f"bench-{corpus.dimension}-{uuid.uuid4().hex[:8]}.db"
        return await open_sqlite(f"sqlite:///{path}", corpus.dimension)
