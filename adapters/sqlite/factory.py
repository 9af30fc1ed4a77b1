"""The SQLite backend's factory, and ``open_sqlite`` which also migrates the database."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from tenantrag.adapters.sqlite.dialect import SqliteDialect
from tenantrag.adapters.sqlite.engine import DEFAULT_BUSY_TIMEOUT, create_sqlite_engine, sqlite_url


class SqliteUnitOfWorkFactory(SqlUnitOfWorkFactory):
    """Units of work on a SQLite file. Build the engine with ``create_sqlite_engine``:
    the transaction handling depends on its pragmas and BEGIN events."""

    def __init__(self, engine: AsyncEngine, dimension: int) -> None:
        super().__init__(engine, dimension, SqliteDialect(dimension))


async def open_sqlite(
    url: str, dimension: int, *, migrate: bool = True, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> SqliteUnitOfWorkFactory:
    """The SQLite backend on the database file at ``url``.

    With ``migrate`` (the default) the schema is first brought up to date with the
    Alembic migrations (``alembic upgrade head``), creating the file if needed.
    """
    url = sqlite_url(url)
    if migrate:
        from tenantrag.adapters.sql import migrations

        await migrations.upgrade_async(url, embedding_dimension=dimension)
    return SqliteUnitOfWorkFactory(create_sqlite_engine(url, busy_timeout=busy_timeout), dimension)
