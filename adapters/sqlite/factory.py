"""The SQLite backend's factory, and ``open_sqlite`` which also migrates the database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from tenantrag.adapters.sqlite.dialect import SqliteDialect
from tenantrag.adapters.sqlite.embeddings import Float32Blobs
from tenantrag.adapters.sqlite.engine import DEFAULT_BUSY_TIMEOUT, create_sqlite_engine, sqlite_url
from tenantrag.adapters.sqlite.search import SqliteChunkSearch
from tenantrag.adapters.sqlite.vector_cache import DEFAULT_VECTOR_CACHE_MB, VectorCache


class SqliteUnitOfWorkFactory(SqlUnitOfWorkFactory):
    """Units of work on a SQLite file. Build the engine with ``create_sqlite_engine``:
    the transaction handling depends on its pragmas and BEGIN events.

    ``vector_cache_mb``: the memory (MiB) for tenants' embeddings kept between vector
    searches (see vector_cache.py); 0 turns the cache off.
    """

    def __init__(
        self, engine: AsyncEngine, dimension: int, *, vector_cache_mb: float = DEFAULT_VECTOR_CACHE_MB
    ) -> None:
        codec = Float32Blobs(dimension)
        self._vector_cache = VectorCache.of_megabytes(vector_cache_mb)
        search = SqliteChunkSearch(codec, self._vector_cache)
        # No writer: executemany of one INSERT is SQLite's fastest way already.
        super().__init__(engine, dimension, SqliteDialect(codec), search=search)

    @property
    def vector_cache(self) -> VectorCache:
        return self._vector_cache

    async def dispose(self) -> None:
        await super().dispose()
        self._vector_cache.clear()


async def open_sqlite(
    url: str,
    dimension: int,
    *,
    migrate: bool = True,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    vector_cache_mb: float = DEFAULT_VECTOR_CACHE_MB,
) -> SqliteUnitOfWorkFactory:
    """The SQLite backend on the database file at ``url``.

    With ``migrate`` (the default) the schema is first brought up to date with the
    Alembic migrations (``alembic upgrade head``), creating the file if needed.
    ``vector_cache_mb`` bounds the vector cache (MiB; 0 turns it off).
    """
    url = sqlite_url(url)
    VectorCache.of_megabytes(vector_cache_mb)  # a bad value is refused before migrating
    if migrate:
        from tenantrag.adapters.sql import migrations

        await migrations.upgrade_async(url, embedding_dimension=dimension)
    return SqliteUnitOfWorkFactory(
        create_sqlite_engine(url, busy_timeout=busy_timeout), dimension, vector_cache_mb=vector_cache_mb
    )
