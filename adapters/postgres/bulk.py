"""Bulk chunk ingest: binary COPY into a staging table, then INSERT ... SELECT.

``COPY FROM`` into a table with row-level security is refused for roles that do
not bypass it, and tenant transactions run as such a role. So chunks are COPYed
(binary, pgvector's binary vectors) into ``tenantrag_chunk_staging`` (revision
c4e8b2d6f913: unlogged, no row-level security; not a temporary table, since the runtime
role has no TEMP privilege), tagged with a random batch id, and moved into ``chunks`` with
one ``DELETE ... RETURNING`` / ``INSERT ... SELECT`` of that batch, which the tenant
policy's WITH CHECK clause guards row by row like any insert. The rows never outlive the
transaction, so no other transaction sees them, and rows someone else committed there
are never moved (nobody can guess a batch id).

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

_MOVE = text(
    f"WITH moved AS (DELETE FROM {STAGING} WHERE batch = :batch RETURNING *)"  # noqa: S608 - constants only
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
    batch = uuid.uuid4()
    rows = [(*_row(chunk, vector), batch) for chunk, vector in zip(chunks, vectors, strict=True)]
    connection = session.writable_connection()
    try:
        async with connection.begin_nested():
            raw = await connection.get_raw_connection()
            driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
            async with driver.cursor() as cursor:
                copy_sql = f"COPY {STAGING} ({', '.join(COLUMNS)}, batch) FROM STDIN (FORMAT BINARY)"
                async with cursor.copy(copy_sql) as copy:
                    copy.set_types([*TYPES, "uuid"])
                    for row in rows:
                        await copy.write_row(row)
            await connection.execute(_MOVE, {"batch": batch})
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
