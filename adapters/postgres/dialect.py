"""The PostgreSQL side of the shared SQL code (see adapters/sql/dialect.py).

Every unit of work starts with ONE statement that binds, for its transaction only
(``set_config(..., true)``, bound parameters, never a session ``SET``):

- ``role``: the runtime role (``SET LOCAL ROLE``), which has neither SUPERUSER nor
  BYPASSRLS, so row-level security holds even when DATABASE_URL logs in as a
  superuser or as the tables' owner;
- ``app.current_tenant_id``: the tenant the policies admit rows of ('' for system
  work, which the policies read as no tenant: no rows);
- ``statement_timeout``: the per-transaction command timeout;
- ``transaction_read_only``: on for a read-only unit of work, so the database itself
  refuses its writes (on a replica it is read-only anyway);

and reads ``pg_current_snapshot()``, against which a later constraint violation is
judged concurrent or not. Commit or rollback discards all of it, so nothing
survives on the pooled connection.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.adapters.postgres import bulk, errors, search
from tenantrag.adapters.postgres.embeddings import PgVectors
from tenantrag.adapters.postgres.options import PostgresOptions
from tenantrag.adapters.postgres.search import TenantSizes
from tenantrag.adapters.sql.dialect import Problem
from tenantrag.adapters.sql.session import SqlSession
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.search import SearchHit, SearchQuery

TENANT_SETTING = "app.current_tenant_id"
# The values the narrow system paths bind (see adapters/sql/system_repositories.py).
ACTING_SETTINGS = {
    "current_tenant_id": TENANT_SETTING,
    "directory_user_id": "app.directory_user_id",
    "directory_api_key_prefix": "app.directory_api_key_prefix",
    "job_queue": "app.job_queue",
}
_SNAPSHOT = "tenantrag.postgres.snapshot"
_XID_SCAN = 100_000
_CONCURRENT_COMMIT = text(
    "WITH span AS (SELECT pg_snapshot_xmin(CAST(:started AS pg_snapshot))::text::bigint AS low,"
    " pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS high)"
    " SELECT (SELECT high - low > :cap FROM span) OR EXISTS ("
    "SELECT 1 FROM span, generate_series(span.low, span.high - 1) AS x"
    " WHERE NOT pg_visible_in_snapshot(x::text::xid8, CAST(:started AS pg_snapshot))"
    " AND pg_xact_status(x::text::xid8) = 'committed')"
)

_BEGIN = text(
    "SELECT set_config('role', :role, true), set_config('app.current_tenant_id', :tenant, true),"
    " set_config('statement_timeout', :timeout, true), pg_current_snapshot()::text,"
    " set_config('transaction_read_only', :read_only, true)"
)


class PostgresDialect:
    def __init__(self, dimension: int, options: PostgresOptions) -> None:
        self._embeddings = PgVectors(dimension)
        self.options = options
        self.sizes = TenantSizes()
        # chunks.search_vector's text search configuration, read with a search's settings.
        self.text_search_config: str | None = None
        timeout = options.command_timeout
        self._timeout = "0" if timeout is None else f"{max(1, round(timeout * 1000))}ms"

    @property
    def embeddings(self) -> PgVectors:
        return self._embeddings

    async def begin(
        self, connection: AsyncConnection, tenant_id: uuid.UUID | None, *, read_only: bool = False
    ) -> None:
        params = {
            "role": self.options.runtime_role,
            "tenant": "" if tenant_id is None else str(tenant_id),
            "timeout": self._timeout,
            "read_only": "on" if read_only else "off",
        }
        row = (await connection.execute(_BEGIN, params)).one()
        connection.info[_SNAPSHOT] = row[3]

    async def act_for(self, connection: AsyncConnection, **values: str) -> None:
        unknown = set(values) - set(ACTING_SETTINGS)
        if unknown:  # pragma: no cover - a programming error in this package
            raise ValueError(f"no such isolation value: {sorted(unknown)}")
        assignments = ", ".join(f"set_config('{ACTING_SETTINGS[name]}', :{name}, true)" for name in values)
        await connection.execute(text(f"SELECT {assignments}"), values)

    def finish(self, connection: AsyncConnection) -> None:
        connection.info.pop(_SNAPSHOT, None)

    async def prepare_write(self, connection: AsyncConnection) -> None:
        return None  # PostgreSQL locks rows as it writes them

    async def saw_concurrent_commit(self, connection: AsyncConnection) -> bool:
        """Whether another transaction committed something this one could not see when it began.

        Under READ COMMITTED a unique or foreign-key check sees rows committed after
        the unit of work read what it decided on; a violation then may be another
        transaction's doing, and the unit of work ends, as on the other backends. The
        transaction ids assigned since it began are few; each is checked against its
        first snapshot and the commit log (this transaction's own savepoints are never
        'committed' while it runs). Past ``_XID_SCAN`` of them, assume so.
        """
        started = connection.info.get(_SNAPSHOT)
        if started is None:
            return False
        found = await connection.execute(_CONCURRENT_COMMIT, {"started": started, "cap": _XID_SCAN})
        return bool(found.scalar_one())

    def classify(self, error: DBAPIError) -> Problem | None:
        return errors.classify(error)

    def array_contains(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        contains: ColumnElement[bool] = type_coerce(column, JSONB).has_key(value)
        return contains

    async def search(
        self, session: SqlSession, tenant_id: uuid.UUID, query: SearchQuery
    ) -> Sequence[SearchHit]:
        return await search.search(session, tenant_id, query, self)

    async def add_chunks(self, session: SqlSession, tenant_id: uuid.UUID, chunks: Sequence[Chunk]) -> bool:
        added = await bulk.add_chunks(session, chunks, self._embeddings)
        if added:
            self.sizes.forget(tenant_id)
        return added
