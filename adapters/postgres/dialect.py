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
  refuses its writes (on a replica it is read-only anyway).

Commit or rollback discards all of it, so nothing survives on the pooled connection.
"""

from __future__ import annotations

import uuid
from typing import Any

import attrs
from sqlalchemy import ColumnElement, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.adapters.postgres import errors
from tenantrag.adapters.postgres.embeddings import PgVectors
from tenantrag.adapters.postgres.options import PostgresOptions
from tenantrag.adapters.sql.dialect import Problem

TENANT_SETTING = "app.current_tenant_id"
# The values the narrow system paths bind (see adapters/sql/system_repositories.py).
ACTING_SETTINGS = {
    "current_tenant_id": TENANT_SETTING,
    "directory_user_id": "app.directory_user_id",
    "directory_api_key_prefix": "app.directory_api_key_prefix",
    "directory_invitee_email": "app.directory_invitee_email",
    "job_queue": "app.job_queue",
}

_BEGIN = text(
    "SELECT set_config('role', :role, true), set_config('app.current_tenant_id', :tenant, true),"
    " set_config('statement_timeout', :timeout, true),"
    " set_config('transaction_read_only', :read_only, true)"
)


def _timeout(options: PostgresOptions) -> str:
    timeout = options.command_timeout
    return "0" if timeout is None else f"{max(1, round(timeout * 1000))}ms"


@attrs.frozen
class PostgresDialect:
    embeddings: PgVectors
    options: PostgresOptions
    name: str = attrs.field(default="postgresql", init=False)
    # An error aborts the whole transaction: every write runs in a SAVEPOINT.
    statement_atomic: bool = attrs.field(default=False, init=False)
    timeout: str = attrs.field(init=False, default=attrs.Factory(lambda self: _timeout(self.options), True))

    async def begin(
        self, connection: AsyncConnection, tenant_id: uuid.UUID | None, *, read_only: bool = False
    ) -> None:
        params = {
            "role": self.options.runtime_role,
            "tenant": "" if tenant_id is None else str(tenant_id),
            "timeout": self.timeout,
            "read_only": "on" if read_only else "off",
        }
        await connection.execute(_BEGIN, params)

    async def act_for(self, connection: AsyncConnection, **values: str) -> None:
        unknown = set(values) - set(ACTING_SETTINGS)
        if unknown:  # pragma: no cover - a programming error in this package
            raise ValueError(f"no such isolation value: {sorted(unknown)}")
        assignments = ", ".join(f"set_config('{ACTING_SETTINGS[name]}', :{name}, true)" for name in values)
        await connection.execute(text(f"SELECT {assignments}"), values)

    def finish(self, connection: AsyncConnection) -> None:
        return None

    async def prepare_write(self, connection: AsyncConnection) -> None:
        return None  # PostgreSQL locks rows as it writes them

    def classify(self, error: DBAPIError) -> Problem | None:
        return errors.classify(error)

    def array_contains(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        contains: ColumnElement[bool] = type_coerce(column, JSONB).has_key(value)
        return contains
