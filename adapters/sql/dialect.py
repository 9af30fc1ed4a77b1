"""What a SQL dialect adds to the shared SQL code.

The repositories of this package are plain SQLAlchemy Core and run unchanged on
SQLite and PostgreSQL. The few things that differ between the two (how a write
transaction begins, how constraint errors read, how JSON arrays are searched, how
embeddings are stored, how vector, full-text and hybrid search run) go through this
Protocol, so a dialect package (``adapters/sqlite``, ``adapters/postgres``) is small.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

import attrs
from sqlalchemy import ColumnElement
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.search import SearchHit, SearchQuery

if TYPE_CHECKING:
    from tenantrag.adapters.sql.session import SqlSession

ProblemKind = Literal["unique", "foreign_key", "check", "not_null", "locked", "timeout"]


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
    def embeddings(self) -> EmbeddingCodec: ...

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

    async def saw_concurrent_commit(self, connection: AsyncConnection) -> bool:
        """Whether another transaction committed after this unit of work started and
        before it could write: a constraint its write then breaks may be that commit's."""

    def classify(self, error: DBAPIError) -> Problem | None:
        """Read a driver error; None when it is none of the known problems."""

    def array_contains(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        """``value`` is an element of the JSON array in ``column``."""

    async def search(
        self, session: SqlSession, tenant_id: uuid.UUID, query: SearchQuery
    ) -> Sequence[SearchHit]:
        """The tenant's top-k for a vector, text or hybrid query, with its filter applied in
        SQL (bound parameters only); what each mode means is in domain/search.py."""

    async def add_chunks(self, session: SqlSession, tenant_id: uuid.UUID, chunks: Sequence[Chunk]) -> bool:
        """Insert many chunks the dialect's fastest way; False to leave it to a plain INSERT."""
