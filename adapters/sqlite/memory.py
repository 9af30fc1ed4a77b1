"""``memory://``: the SQLite backend on a database that lives in this process's memory.

Nothing is written to disk and nothing outlives the factory, which makes it the store for
tests, notebooks and experiments. It is SQLite itself, not an imitation: the same schema,
statements, constraints and search as a SQLite file.

How:

- SQLite's ``memdb`` VFS names an in-memory database that every connection of the process
  opening ``file:/<name>?vfs=memdb`` shares (unlike ``:memory:``, one database per
  connection), so the pooled connections of one factory see one database.
- The schema comes from the migrations, run once per process and embedding dimension into a
  template database; each new store is a copy of it through SQLite's backup API (well under a
  millisecond), so opening a store costs no migration.
- A memdb database disappears with its last connection. The factory holds one plain sqlite3
  connection for its lifetime (closed by ``dispose`` or when the factory is collected), so the
  pool may close its connections freely.

memdb has no write-ahead log: a write transaction makes readers wait (up to the busy
timeout) instead of reading the last committed state beside it. Results are the same as on a
file; only concurrency is coarser, which a throwaway store does not need.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
import weakref
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.sqlite.engine import DEFAULT_BUSY_TIMEOUT, create_sqlite_engine
from tenantrag.adapters.sqlite.factory import SqliteUnitOfWorkFactory
from tenantrag.adapters.sqlite.vector_cache import DEFAULT_VECTOR_CACHE_MB, VectorCache

_templates: dict[int, sqlite3.Connection] = {}
_templates_lock = threading.Lock()


def _uri(name: str) -> str:
    return f"file:/{name}?vfs=memdb"


def _template(dimension: int) -> sqlite3.Connection:
    """The migrated template for ``dimension``, built on first use and kept for the process."""
    with _templates_lock:
        found = _templates.get(dimension)
        if found is not None:
            return found
        name = f"tenantrag-template-{dimension}-{uuid.uuid4().hex}"
        keeper = sqlite3.connect(_uri(name), uri=True, check_same_thread=False)
        from tenantrag.adapters.sql import migrations

        url = f"sqlite+aiosqlite:///{_uri(name)}&uri=true"
        # Alembic's env.py runs its own event loop, so it cannot run on a caller's running
        # loop; a thread of its own works from sync and async code alike.
        with ThreadPoolExecutor(1, thread_name_prefix="tenantrag-memory-template") as pool:
            pool.submit(migrations.upgrade, url, embedding_dimension=dimension).result()
        _templates[dimension] = keeper
        return keeper


class MemorySqliteUnitOfWorkFactory(SqliteUnitOfWorkFactory):
    """A SQLite backend whose database is in memory and ends with the factory."""

    def __init__(
        self, engine: AsyncEngine, keeper: sqlite3.Connection, dimension: int, *, vector_cache_mb: float
    ) -> None:
        super().__init__(engine, dimension, vector_cache_mb=vector_cache_mb)
        self._release = weakref.finalize(self, keeper.close)

    async def dispose(self) -> None:
        await super().dispose()
        self._release()


def open_memory_sqlite(
    dimension: int,
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    vector_cache_mb: float = DEFAULT_VECTOR_CACHE_MB,
) -> MemorySqliteUnitOfWorkFactory:
    """A new, empty, migrated store in memory (``memory://``). Synchronous: it needs no I/O
    but the first migration of the process, which runs in a thread of its own."""
    from tenantrag.adapters.sql.migrations import validate_embedding_dimension

    # Bad values are refused before anything is built.
    dimension = validate_embedding_dimension(dimension)
    VectorCache.of_megabytes(vector_cache_mb)
    name = f"tenantrag-{uuid.uuid4().hex}"
    engine = create_sqlite_engine(f"sqlite+aiosqlite:///{_uri(name)}&uri=true", busy_timeout=busy_timeout)
    template = _template(dimension)
    keeper = sqlite3.connect(_uri(name), uri=True, check_same_thread=False)
    with _templates_lock:  # one backup from a template at a time
        template.backup(keeper)
    return MemorySqliteUnitOfWorkFactory(engine, keeper, dimension, vector_cache_mb=vector_cache_mb)


async def open_memory_sqlite_async(
    dimension: int,
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    vector_cache_mb: float = DEFAULT_VECTOR_CACHE_MB,
) -> MemorySqliteUnitOfWorkFactory:
    """``open_memory_sqlite`` without blocking the event loop on the process's first migration."""
    if dimension not in _templates:
        await asyncio.to_thread(_template, dimension)
    return open_memory_sqlite(dimension, busy_timeout=busy_timeout, vector_cache_mb=vector_cache_mb)
