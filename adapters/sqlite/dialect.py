"""The SQLite side of the shared SQL code (see adapters/sql/dialect.py).

Transactions: a unit of work starts reading in a deferred transaction. At its
first write it drops that read transaction (nothing is lost: it has not written
yet) and begins again with BEGIN IMMEDIATE, which waits for the write lock up to
the busy timeout. Upgrading in place cannot wait: SQLite refuses at once with
SQLITE_BUSY when another connection writes, or SQLITE_BUSY_SNAPSHOT when one has
committed since the read began. Reads therefore see committed data as of their
transaction, and writes are checked against the latest committed data, which is
the memory backend's READ COMMITTED behaviour.

``PRAGMA data_version`` tells whether another connection committed between the
unit of work's first statement and its write lock (see engine.py); a constraint
broken then may be that concurrent commit's, and ends the unit of work.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.adapters.sql.dialect import Problem
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.adapters.sqlite import errors, search
from tenantrag.adapters.sqlite.embeddings import Float32Blobs
from tenantrag.adapters.sqlite.engine import track_transaction, transaction_state, untrack_transaction
from tenantrag.adapters.sqlite.vector_cache import VectorCache
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.search import SearchHit, SearchQuery


class SqliteDialect:
    def __init__(self, dimension: int, vector_cache: VectorCache | None = None) -> None:
        self._embeddings = Float32Blobs(dimension)
        self._vector_cache = VectorCache() if vector_cache is None else vector_cache

    @property
    def embeddings(self) -> Float32Blobs:
        return self._embeddings

    @property
    def vector_cache(self) -> VectorCache:
        return self._vector_cache

    async def begin(
        self, connection: AsyncConnection, tenant_id: uuid.UUID | None, *, read_only: bool = False
    ) -> None:
        # Isolation on SQLite is the repositories' tenant predicate alone, and read-only
        # units of work are held to it by the session (no per-transaction switch here).
        track_transaction(connection.info, read_only=read_only)

    async def act_for(self, connection: AsyncConnection, **values: str) -> None:
        return None

    def finish(self, connection: AsyncConnection) -> None:
        untrack_transaction(connection.info)

    async def prepare_write(self, connection: AsyncConnection) -> None:
        state = transaction_state(connection.info)
        if state is None or state.immediate:
            return
        if connection.in_transaction():
            await connection.rollback()  # only reads so far: drop them, then BEGIN IMMEDIATE
        state.immediate = True

    async def saw_concurrent_commit(self, connection: AsyncConnection) -> bool:
        state = transaction_state(connection.info)
        return state is not None and state.concurrent_commit

    def classify(self, error: DBAPIError) -> Problem | None:
        return errors.classify(error)

    def array_contains(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        return search.json_array_contains(column, value)

    async def search(
        self, session: SqlSession, tenant_id: uuid.UUID, query: SearchQuery
    ) -> Sequence[SearchHit]:
        return await search.search(session, tenant_id, query, self._embeddings, self._vector_cache)

    async def add_chunks(self, session: SqlSession, tenant_id: uuid.UUID, chunks: Sequence[Chunk]) -> bool:
        return False  # executemany of one INSERT is SQLite's fastest way already
