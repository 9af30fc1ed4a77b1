"""What a SQL dialect adds to the shared SQL code: a small immutable value.

The repositories of this package are plain SQLAlchemy Core and run unchanged on
SQLite and PostgreSQL. The few things that differ between the two (how a transaction
begins and binds its tenant, how constraint errors read, how a JSON array is searched,
how embeddings are stored) go through this Protocol. Search and bulk chunk writes are not
here: they are strategies the backend's factory gives the chunk repository
(``chunk_repository.ChunkSearch``, ``ChunkWriter``), and filters compile in filters.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal, Protocol

import attrs
from sqlalchemy import ColumnElement
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

# "unavailable": the server is gone, refused the connection, or is shutting down (a retry
# later may succeed); never a statement's own fault.
ProblemKind = Literal["unique", "foreign_key", "check", "not_null", "locked", "timeout", "unavailable"]


@attrs.frozen
class Problem:
    """A database error, read: which rule of which table, or a lock that was not granted."""

    kind: ProblemKind
    table: str | None = None
    columns: tuple[str, ...] = ()
    message: str = ""


class EmbeddingCodec(Protocol):
    """How embeddings are bound and read (a float32 BLOB on SQLite, vector on PostgreSQL)."""

    @property
    def column_type(self) -> TypeEngine[Any]: ...
    def encode(self, embedding: Sequence[float]) -> object: ...
    def decode(self, value: object) -> tuple[float, ...]: ...


class SqlDialect(Protocol):
    @property
    def name(self) -> str:
        """SQLAlchemy's name of the dialect ("sqlite", "postgresql"): filters.py compiles by it."""

    @property
    def embeddings(self) -> EmbeddingCodec: ...

    @property
    def statement_atomic(self) -> bool:
        """A failed statement undoes itself and leaves the transaction usable (SQLite's
        ABORT), so one statement with one row of parameters needs no SAVEPOINT of its own.
        False where an error aborts the whole transaction (PostgreSQL)."""

    async def begin(
        self, connection: AsyncConnection, tenant_id: uuid.UUID | None, *, read_only: bool = False
    ) -> None:
        """A unit of work begins on ``connection`` (checked out for it alone), for one
        tenant or (``None``) for system work: bind whatever the database enforces it by,
        and make the transaction read-only if the database can."""

    async def act_for(self, connection: AsyncConnection, **values: str) -> None:
        """Bind (or, with ``""``, unbind) transaction-local values that the database's
        isolation rules read, for the narrow system paths (see system_repositories)."""

    def finish(self, connection: AsyncConnection) -> None:
        """The unit of work on ``connection`` is over; the connection goes back to the pool."""

    async def prepare_write(self, connection: AsyncConnection) -> None:
        """Called before every write, so the dialect can take its write lock lazily."""

    def classify(self, error: DBAPIError) -> Problem | None:
        """Read a driver error; None when it is none of the known problems."""

    def array_contains(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        """``value`` is an element of the JSON array in ``column``."""
