"""The PostgreSQL side of the shared SQL code (see adapters/sql/dialect.py).

Every unit of work starts with ONE statement that binds, for its transaction only
(``set_config(..., true)``, bound parameters, never a session ``SET``):

- ``search_path``: the store's schema, then ``pg_temp`` (last, so no temporary table can
  shadow a table of the store, whatever a session setting says);
- ``role``: the runtime role (``SET LOCAL ROLE``), which has neither SUPERUSER nor
  BYPASSRLS. The service connects as that role (factory.py), so nothing can ``RESET ROLE``
  back to anyone stronger; on a connection that logged in as someone else (tests, tools)
  it is what makes row-level security apply;
- the signed binding (binding.py): the tenant the policies admit rows of
  (``current_tenant_id``), or ``system`` for system work (users, tenants), through
  ``tenantrag_bind``, which SQL lacking the key cannot forge;
- ``statement_timeout``: the per-transaction command timeout;
- ``transaction_read_only``: on for a read-only unit of work, so the database itself
  refuses its writes (on a replica it is read-only anyway).

Commit or rollback discards all of it, so nothing survives on the pooled connection.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

import attrs
from sqlalchemy import ColumnElement, text, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.adapters.postgres import errors
from tenantrag.adapters.postgres.binding import NAMES, BindingKey, bind_call, bind_params, load_key
from tenantrag.adapters.postgres.embeddings import PgVectors
from tenantrag.adapters.postgres.options import PostgresOptions
from tenantrag.adapters.sql.dialect import Problem

# The values the narrow system paths bind (see adapters/sql/system_repositories.py).
ACTING_SETTINGS = NAMES - {"system"}


@attrs.define
class KeyHolder:
    """The binding key, given when the factory opens (factory.py), or read on the first
    connection that may (tests and tools that log in as the owner)."""

    key: BindingKey | None = None

    async def get(self, connection: AsyncConnection) -> BindingKey:
        if self.key is None:
            self.key = await load_key(connection)
        return self.key


@functools.lru_cache(maxsize=8)
def _begin(key: BindingKey) -> Any:
    return text(
        "SELECT pg_catalog.set_config('search_path', :search_path, true),"
        f" pg_catalog.set_config('role', :role, true), {bind_call(key)},"
        " pg_catalog.set_config('statement_timeout', :timeout, true),"
        " pg_catalog.set_config('transaction_read_only', :read_only, true)"
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
    keys: KeyHolder = attrs.field(factory=KeyHolder)

    async def begin(
        self, connection: AsyncConnection, tenant_id: uuid.UUID | None, *, read_only: bool = False
    ) -> None:
        key = await self.keys.get(connection)
        # Every claim is bound or cleared: a session-level value someone set on this pooled
        # connection must not outlive into this transaction (see binding.py).
        binding = dict.fromkeys(NAMES, "")
        binding.update({"system": "on"} if tenant_id is None else {"current_tenant_id": str(tenant_id)})
        params = {
            "search_path": f"{key.quoted_schema}, pg_temp",
            "role": self.options.runtime_role,
            "timeout": self.timeout,
            "read_only": "on" if read_only else "off",
            **bind_params(key, binding),
        }
        await connection.execute(_begin(key), params)

    async def act_for(self, connection: AsyncConnection, **values: str) -> None:
        unknown = set(values) - ACTING_SETTINGS
        if unknown:  # pragma: no cover - a programming error in this package
            raise ValueError(f"no such isolation value: {sorted(unknown)}")
        key = await self.keys.get(connection)
        await connection.execute(text(f"SELECT {bind_call(key)}"), bind_params(key, values))

    def finish(self, connection: AsyncConnection) -> None:
        return None

    async def prepare_write(self, connection: AsyncConnection) -> None:
        return None  # PostgreSQL locks rows as it writes them

    def classify(self, error: DBAPIError) -> Problem | None:
        return errors.classify(error)

    def array_contains(self, column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
        contains: ColumnElement[bool] = type_coerce(column, JSONB).has_key(value)
        return contains
