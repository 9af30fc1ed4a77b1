"""The contenders: one module each, behind the small :class:`Contender` Protocol.

``prepare`` (untimed) creates the contender's database, file or table; ``ingest``
(timed) loads every row from the NumPy corpus, converting it to what the contender's API
takes, and leaves the store searchable, indexes included; ``search`` returns the ids of
the top ``k`` rows of one tenant; ``close`` releases everything.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from bench.corpus import Corpus
from bench.server import Databases


class Contender(Protocol):
    name: str
    # What the contender is, for the report.
    description: str

    def prepare(self, corpus: Corpus) -> None: ...
    def ingest(self, corpus: Corpus) -> None: ...
    def search(self, tenant: uuid.UUID, vector: list[float], k: int) -> list[uuid.UUID]: ...
    def close(self) -> None: ...


def all_contenders(databases: Databases, workdir: str) -> list[Contender]:
    """Every contender, in the order they run."""
    from bench.contenders.langchain_pgvector import LangchainPgvector
    from bench.contenders.numpy_brute import NumpyBruteForce
    from bench.contenders.raw_pgvector import ExactCopy, RawHnsw
    from bench.contenders.tenantrag_postgres import TenantragPostgres
    from bench.contenders.tenantrag_sqlite import TenantragSqlite

    return [
        ExactCopy(databases),
        RawHnsw(databases, iterative=False),
        RawHnsw(databases, iterative=True),
        TenantragPostgres(databases),
        LangchainPgvector(databases),
        TenantragSqlite(workdir),
        NumpyBruteForce(),
    ]
