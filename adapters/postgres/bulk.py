"""Bulk chunk ingest: binary COPY into a staging table, then INSERT ... SELECT.

``COPY FROM`` into a table with row-level security is refused for roles that do
not bypass it, and tenant transactions run as such a role. So chunks are COPYed
(binary, pgvector's binary vectors) into a temporary table of the connection's
own, and moved into ``chunks`` with one ``INSERT ... SELECT``, which the tenant
policy's WITH CHECK clause guards row by row like any insert.

It all happens in one SAVEPOINT of the unit of work's transaction: a failed batch
leaves nothing behind. A batch that breaks a constraint returns False, and the
repository replays it with plain INSERTs, whose errors name the offending row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tenantrag.adapters.postgres.embeddings import BinaryVector, PgVectors
from tenantrag.adapters.postgres.plan import TenantSizes
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.domain.model.chunk import Chunk

# Below this many rows, one multi-row INSERT costs less than creating and filling a staging table.
MIN_ROWS = 64
STAGING = "tenantrag_chunk_staging"
COLUMNS = (
    "tenant_id", "id", "document_id", "ordinal", "content", "content_sha256",
    "embedding", "token_count", "metadata", "created_at",
)  # fmt: skip
TYPES = ("uuid", "uuid", "uuid", "int4", "text", "varchar", "vector", "int4", "jsonb", "timestamptz")

# ON COMMIT DELETE ROWS: the table stays for the connection's next batch, empty.
_CREATE = text(
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING}"
    " (LIKE chunks INCLUDING DEFAULTS EXCLUDING CONSTRAINTS) ON COMMIT DELETE ROWS"
)
_MOVE = text(
    f"WITH moved AS (DELETE FROM {STAGING} RETURNING *)"  # noqa: S608 - constants only
    f" INSERT INTO chunks ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM moved"
)


class PostgresChunkWriter:
    """The backend's ``ChunkWriter``: COPY for a batch of ``MIN_ROWS`` or more. A tenant
    that grew is forgotten by the search's ``sizes``, so its next plan counts it again."""

    def __init__(self, codec: PgVectors, sizes: TenantSizes) -> None:
        self._codec = codec
        self._sizes = sizes

    async def add_many(self, session: SqlSession, tenant_id: uuid.UUID, chunks: Sequence[Chunk]) -> bool:
        added = await add_chunks(session, chunks, self._codec)
        if added:
            self._sizes.forget(tenant_id)
        return added


async def add_chunks(session: SqlSession, chunks: Sequence[Chunk], codec: PgVectors) -> bool:
    if len(chunks) < MIN_ROWS:
        return False
    vectors = codec.binary_rows([chunk.embedding for chunk in chunks])
    rows = [_row(chunk, vector) for chunk, vector in zip(chunks, vectors, strict=True)]
    connection = session.writable_connection()
    try:
        async with connection.begin_nested():
            await connection.execute(text("SELECT set_config('client_min_messages', 'warning', true)"))
            await connection.execute(_CREATE)
            raw = await connection.get_raw_connection()
            driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
            async with driver.cursor() as cursor:
                copy_sql = f"COPY {STAGING} ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
                async with cursor.copy(copy_sql) as copy:
                    copy.set_types(list(TYPES))
                    for row in rows:
                        await copy.write_row(row)
            await connection.execute(_MOVE)
    except DBAPIError as error:
        if await session.violation(error) is not None:
            return False  # the plain INSERT path explains which row broke which rule
        raise await session.fail(error) from error
    return True


def _row(chunk: Chunk, vector: BinaryVector) -> tuple[Any, ...]:
    return (
        chunk.tenant_id,
        chunk.id,
        chunk.document_id,
        chunk.ordinal,
        chunk.content,
        chunk.content_sha256,
        vector,
        chunk.token_count,
        Jsonb(chunk.metadata),
        chunk.created_at,
    )
