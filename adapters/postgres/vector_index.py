"""The shared HNSW index on ``chunks.embedding``: its state, and dropping and rebuilding it.

The migrations create the index, and PostgreSQL then maintains it row by row, which is
most of the cost of writing chunks (measured: 50 000 rows x 384 dimensions took 39 s with
the index, 4 s without and 6 s to build it after). For a large load (a first import, re-embedding every chunk
with a new model) pgvector's advice is to load first and build the index after: a bulk
build sorts its work and runs in parallel. So an operator can drop the index, load, and
build it again (``tenantrag db vector-index drop|build``, or the factory's methods).

Search never depends on the index being there: without a valid index every tenant gets
the exact plan (search.py), slower for large tenants but with recall 1, so the store stays
searchable throughout. A concurrent build that failed leaves an invalid index behind;
``build`` drops it first.

This is DDL on the table, so it runs as the connecting user (the tables' owner), never as
the runtime role, outside any unit of work.
"""

from __future__ import annotations

import enum
import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.postgres.options import PostgresOptions
from tenantrag.adapters.sql import schema
from tenantrag.domain.errors import InvalidInput

VECTOR_INDEX = schema.VECTOR_INDEX
SEARCH_INDEX = schema.FULL_TEXT_INDEX  # the full-text GIN index, tidied after a build
# Memory for the build: pgvector builds fastest when the graph fits (it says so when not).
DEFAULT_BUILD_MEMORY = "1GB"
_MEMORY = re.compile(r"[1-9][0-9]{0,6}(kB|MB|GB)")

# The index's validity (NULL when there is none): also read by search.py on its index path.
VALID = (
    "SELECT i.indisvalid FROM pg_catalog.pg_index i"  # noqa: S608 - a constant name
    f" WHERE i.indexrelid = to_regclass('{VECTOR_INDEX}')"
)


class VectorIndexState(enum.Enum):
    READY = "ready"
    MISSING = "missing"
    # Being built concurrently, or left behind by a concurrent build that failed.
    NOT_VALID = "not_valid"


async def state(engine: AsyncEngine) -> VectorIndexState:
    async with engine.connect() as connection:
        valid = (await connection.execute(text(VALID))).scalar()
    if valid is None:
        return VectorIndexState.MISSING
    return VectorIndexState.READY if valid else VectorIndexState.NOT_VALID


async def drop(engine: AsyncEngine, *, concurrently: bool = True) -> None:
    """Drop the index (nothing if there is none). ``concurrently`` waits for running
    transactions instead of blocking new ones."""
    how = " CONCURRENTLY" if concurrently else ""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text(f"DROP INDEX{how} IF EXISTS {VECTOR_INDEX}"))


async def build(
    engine: AsyncEngine,
    options: PostgresOptions,
    *,
    concurrently: bool = True,
    memory: str = DEFAULT_BUILD_MEMORY,
) -> VectorIndexState:
    """Build the index with the deployment's distance and HNSW options, unless a valid one
    exists; then merge the full-text index's pending list and ANALYZE chunks, so that a
    freshly loaded table searches at full speed at once. ``concurrently`` keeps writes
    flowing during the build (slower); without it, writes to chunks wait until it is done."""
    if not _MEMORY.fullmatch(memory):
        raise InvalidInput("memory", f"must look like 512MB or 2GB, got {memory!r}")
    current = await state(engine)
    if current is VectorIndexState.READY:
        return current
    if current is VectorIndexState.NOT_VALID:
        await drop(engine, concurrently=concurrently)
    how = " CONCURRENTLY" if concurrently else ""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text(f"SET maintenance_work_mem = '{memory}'"))
        try:
            await autocommit.execute(
                text(
                    f"CREATE INDEX{how} IF NOT EXISTS {VECTOR_INDEX} ON chunks USING hnsw"
                    f" (embedding {options.distance.operator_class})"
                    f" WITH (m = {options.hnsw_m:d}, ef_construction = {options.hnsw_ef_construction:d})"
                )
            )
            # The load also filled the full-text index's pending list, which every text
            # search reads until it is merged; and the planner needs the new statistics.
            await autocommit.execute(text(f"SELECT gin_clean_pending_list('{SEARCH_INDEX}')"))
            await autocommit.execute(text("ANALYZE chunks"))
        finally:
            await autocommit.execute(text("RESET maintenance_work_mem"))
    return await state(engine)
