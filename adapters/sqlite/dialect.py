"""The SQLite side of the shared SQL code (see adapters/sql/dialect.py).

Transactions: a unit of work starts reading in a deferred transaction. At its
first write it drops that read transaction (nothing is lost: it has not written
yet) and begins again with BEGIN IMMEDIATE, which waits for the write lock up to
the busy timeout. Upgrading in place cannot wait: SQLite refuses at once with
SQLITE_BUSY when another connection writes, or SQLITE_BUSY_SNAPSHOT when one has
committed since the read began. Reads therefore see committed data as of their
transaction, and writes are checked against the latest committed data (READ
COMMITTED, as on PostgreSQL).
"""

from __future__ import annotations

import uuid
from typing import Any

import attrs
from sqlalchemy import ColumnElement, exists, func, literal, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.adapters.sql.dialect import Problem
from tenantrag.adapters.sqlite import errors
from tenantrag.adapters.sqlite.embeddings import Float32Blobs
from tenantrag.adapters.sqlite.engine import track_transaction, transaction_state, untrack_transaction


@attrs.frozen
class SqliteDialect:
    embeddings: Float32Blobs
    name: str = attrs.field(default="sqlite", init=False)
    # SQLite's default conflict resolution (ABORT; the schema chooses no other, and no
    # trigger raises ROLLBACK or FAIL) backs out a failed statement, its triggers'
    # changes included, and keeps the transaction: a single write needs no SAVEPOINT.
    # executemany runs the statement once per row, so a batch still gets one.
    statement_atomic: bool = attrs.field(default=True, init=False)

    async def begin(
        self, connection: AsyncConnection, tenant_id: uuid.UUID | None, *, read_only: bool = False
    ) -> None:
        # Isolation on SQLite is the repositories' tenant predicate alone, and read-only
        # units of work are held to it by the session (no per-transaction switch here).
        track_transaction(connection.info)

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

    def classify(self, error: DBAPIError) -> Problem | None:
        return errors.classify(error)

    def array_contains(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        element = func.json_each(column).table_valued("value")
        return exists(select(literal(1)).select_from(element).where(element.c.value == value))
