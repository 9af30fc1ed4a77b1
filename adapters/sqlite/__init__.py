"""The SQLite backend: every port on one SQLite file (or, for ``memory://``, one in-memory
database: ``open_memory_sqlite``), through aiosqlite and SQLAlchemy Core.

    factory = await open_sqlite("sqlite:///tenantrag.db", dimension=384)
    async with factory.tenant(tenant_id) as uow:
        await uow.documents.add(document)
        await uow.commit()
    await factory.dispose()

The statements are the shared ones of ``adapters/sql``; this package holds what is
SQLite's own: the engine (pragmas, BEGIN IMMEDIATE for writers), reading sqlite3's
errors, float32 BLOB embeddings and exact vector search with NumPy.
"""

from tenantrag.adapters.sqlite.engine import create_sqlite_engine
from tenantrag.adapters.sqlite.factory import SqliteUnitOfWorkFactory, open_sqlite
from tenantrag.adapters.sqlite.memory import (
    MemorySqliteUnitOfWorkFactory,
    open_memory_sqlite,
    open_memory_sqlite_async,
)

__all__ = [
    "MemorySqliteUnitOfWorkFactory",
    "SqliteUnitOfWorkFactory",
    "create_sqlite_engine",
    "open_memory_sqlite",
    "open_memory_sqlite_async",
    "open_sqlite",
]
