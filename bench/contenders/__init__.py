"""The contenders: one module each, behind the small :class:`Contender` Protocol.

``prepare`` (untimed) creates the contender's database, file or table; ``ingest``
(timed) loads every row from the NumPy corpus, converting it to what the contender's API
takes, and leaves the store searchable, indexes included; ``search`` returns the ids of
the top ``k`` rows of one tenant; ``close`` releases everything.

Each contender is measured in a process of its own (``bench/isolated.py``), built there by
name with :func:`make_contender`, so that its peak memory is its own.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Protocol

from bench.corpus import Corpus

if TYPE_CHECKING:
    from bench.server import Databases

# Every contender, in the order they run.
NAMES = (
    "exact_copy",
    "pgvector_hnsw",
    "pgvector_hnsw_iterative",
    "tenantrag_postgres",
    "langchain_pgvector",
    "tenantrag_sqlite",
    "numpy_brute_force",
)


class Contender(Protocol):
    name: str
    # What the contender is, for the report.
    description: str

    def prepare(self, corpus: Corpus) -> None: ...
    def ingest(self, corpus: Corpus) -> None: ...
    def search(self, tenant: uuid.UUID, vector: list[float], k: int) -> list[uuid.UUID]: ...
    def close(self) -> None: ...


def make_contender(name: str, databases: Databases, workdir: str) -> Contender:
    """The contender called ``name``; only its own module is imported (and its libraries)."""
    if name == "exact_copy":
        from bench.contenders.raw_pgvector import ExactCopy

        return ExactCopy(databases)
    if name in ("pgvector_hnsw", "pgvector_hnsw_iterative"):
        from bench.contenders.raw_pgvector import RawHnsw

        return RawHnsw(databases, iterative=name == "pgvector_hnsw_iterative")
    if name == "tenantrag_postgres":
        from bench.contenders.tenantrag_postgres import TenantragPostgres

        return TenantragPostgres(databases)
    if name == "langchain_pgvector":
        from bench.contenders.langchain_pgvector import LangchainPgvector

        return LangchainPgvector(databases)
    if name == "tenantrag_sqlite":
        from bench.contenders.tenantrag_sqlite import TenantragSqlite

        return TenantragSqlite(workdir)
    if name == "numpy_brute_force":
        from bench.contenders.numpy_brute import NumpyBruteForce

        return NumpyBruteForce()
    raise ValueError(f"no such contender: {name!r}")


def all_contenders(databases: Databases, workdir: str) -> list[Contender]:
    """Every contender, in the order they run (all in this process)."""
    return [make_contender(name, databases, workdir) for name in NAMES]
