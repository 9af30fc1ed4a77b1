"""Copying a store's rows into another database: the table layer of ``tenantrag copy``.

Rows are copied table by table in the MetaData's dependency order, every column of every
table, so ids, versions, embeddings, query logs and whatever a later revision adds travel
unchanged without a port method per table. Tables that triggers keep (the full-text
postings and ``tenant_text_stats``) are not copied: the target's triggers rebuild them
from the chunks, in the transactions that write those.

Resumable: each tenant's rows of a table are read in primary-key order in batches, one
transaction per batch, starting after the last key the target already holds, and every
row is written with ``ON CONFLICT (primary key) DO NOTHING`` (users and tenants, which a
target may hold others of, are sent again whole). A copy stopped at any point (a killed
process, a lost connection) goes on where it stopped when run again; nothing is written
twice. Any other unique key already taken in the target (a slug, an email) is refused,
naming the row, rather than skipped.

On PostgreSQL both connections are the owner's (the URL the operator gives) and bind the
tenant being copied, so row-level security admits its rows (the tables FORCE it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
from sqlalchemy import ColumnElement, Select, Table, bindparam, func, select, tuple_, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.types import Embedding
from tenantrag.domain.errors import Conflict, InvalidInput, NotFound

#: Called after each batch: (table name, rows in that batch).
Progress = Callable[[str, int], None]

MAX_BATCH_SIZE = 10_000
_USER_REFERENCES_PER_QUERY = 500


def copied_tables() -> list[Table]:
    """Every table a copy writes, parents before children."""
    return [table for table in schema.metadata.sorted_tables if table.name not in schema.TRIGGER_MAINTAINED]


@attrs.frozen
class EmbedderRecord:
    name: str
    dimension: int


async def embedder_record(engine: AsyncEngine) -> EmbedderRecord | None:
    """Which embedder made the store's vectors (``embedding_models``), if it says."""
    table = schema.embedding_models
    async with engine.connect() as connection:
        row = (await connection.execute(select(table.c.name, table.c.dimension).limit(1))).first()
    return None if row is None else EmbedderRecord(row.name, row.dimension)


async def resolve_tenants(engine: AsyncEngine, refs: Sequence[str]) -> list[uuid.UUID]:
    """The ids of the tenants named by slug or id; every name must exist."""
    table = schema.tenants
    ids: list[uuid.UUID] = []
    async with engine.connect() as connection:
        for ref in refs:
            try:
                condition = table.c.id == uuid.UUID(ref)
            except ValueError:
                condition = table.c.slug == ref
            found = (await connection.execute(select(table.c.id).where(condition))).scalar()
            if found is None:
                raise NotFound(f"the source has no tenant {ref!r}")
            if found not in ids:
                ids.append(found)
    return ids


async def all_tenants(engine: AsyncEngine) -> list[uuid.UUID]:
    async with engine.connect() as connection:
        return list(
            (await connection.scalars(select(schema.tenants.c.id).order_by(schema.tenants.c.id))).all()
        )


class TableCopier:
    """Copies the chosen tenants' rows (and the users and tenants they need) from
    ``source`` to ``target``, both at the same schema revision."""

    def __init__(
        self,
        source: AsyncEngine,
        target: AsyncEngine,
        *,
        dimension: int,
        tenants: Sequence[uuid.UUID],
        whole_store: bool,
        batch_size: int = 500,
        progress: Progress | None = None,
    ) -> None:
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, int)
            or not 1 <= batch_size <= MAX_BATCH_SIZE
        ):
            raise InvalidInput(
                "batch_size", f"must be a whole number from 1 to {MAX_BATCH_SIZE}, got {batch_size!r}"
            )
        self._source = source
        self._target = target
        self._types = {"embedding": Embedding(dimension)}
        self._tenants = list(tenants)
        self._whole_store = whole_store
        self._batch_size = batch_size
        self._progress = progress or (lambda _table, _rows: None)

    async def run(self) -> dict[str, int]:
        """Copy everything; the rows sent per table (rows already there count as sent)."""
        sent: dict[str, int] = {}
        shared = [table for table in copied_tables() if "tenant_id" not in table.c]
        for table in shared:
            keys = await self._shared_keys(table)
            sent[table.name] = await self._copy(table, None, keys)
        for tenant in self._tenants:
            for table in copied_tables():
                if "tenant_id" in table.c:
                    sent[table.name] = sent.get(table.name, 0) + await self._copy(table, tenant, None)
        return sent

    async def _shared_keys(self, table: Table) -> list[uuid.UUID] | None:
        """Which rows of a table without tenant_id to copy: all of them for a whole store;
        for chosen tenants, those tenants and the users their rows refer to."""
        if self._whole_store or table is schema.embedding_models:
            return None
        if table is schema.tenants:
            return self._tenants
        if table is schema.users:
            return sorted(await self._referenced_users())
        raise InvalidInput("tenants", f"cannot choose the rows of table {table.name} by tenant")

    async def _referenced_users(self) -> set[uuid.UUID]:
        users: set[uuid.UUID] = set()
        async with self._source.connect() as connection:
            for tenant in self._tenants:
                await bind_tenant(connection, tenant)
                for table in copied_tables():
                    for column in _user_references(table):
                        query = (
                            select(column).where(table.c.tenant_id == tenant, column.is_not(None)).distinct()
                        )
                        users.update((await connection.scalars(query)).all())
                await connection.rollback()
        return users

    async def _copy(self, table: Table, tenant: uuid.UUID | None, keys: list[uuid.UUID] | None) -> int:
        if keys is not None:
            total = 0
            for start in range(0, len(keys), _USER_REFERENCES_PER_QUERY):
                chosen = keys[start : start + _USER_REFERENCES_PER_QUERY]
                total += await self._copy_where(table, tenant, [table.c.id.in_(chosen)])
            return total
        return await self._copy_where(table, tenant, [])

    async def _copy_where(
        self, table: Table, tenant: uuid.UUID | None, conditions: list[ColumnElement[bool]]
    ) -> int:
        scope = [] if tenant is None else [table.c.tenant_id == tenant]
        order = [
            column for column in table.primary_key.columns if tenant is None or column.name != "tenant_id"
        ]
        # Only a tenant's rows resume from the target's greatest key: they come from this
        # source alone. Users and tenants are few, and a target may hold others of its own.
        after = None if tenant is None else await self._last_key(table, tenant, scope, order)
        total = 0
        while True:
            query = self._select(table).where(*scope, *conditions)
            if after is not None:
                query = query.where(_after(order, after))
            query = query.order_by(*order).limit(self._batch_size)
            async with self._source.connect() as connection:
                await bind_tenant(connection, tenant)
                rows = [dict(row) for row in (await connection.execute(query)).mappings()]
                await connection.rollback()
            if not rows:
                return total
            await self._write(table, tenant, rows)
            total += len(rows)
            self._progress(table.name, len(rows))
            after = tuple(rows[-1][column.name] for column in order)

    async def _last_key(
        self, table: Table, tenant: uuid.UUID, conditions: list[ColumnElement[bool]], order: list[Any]
    ) -> tuple[Any, ...] | None:
        """Where an interrupted copy of a tenant's rows stopped: the target's greatest key."""
        query = select(*order).where(*conditions).order_by(*(column.desc() for column in order)).limit(1)
        async with self._target.connect() as connection:
            await bind_tenant(connection, tenant)
            row = (await connection.execute(query)).first()
            await connection.rollback()
        return None if row is None else tuple(row)

    def _select(self, table: Table) -> Select[Any]:
        columns = [
            type_coerce(column, self._types[column.name]).label(column.name)
            if column.name in self._types
            else column
            for column in table.columns
        ]
        return select(*columns)

    async def _write(self, table: Table, tenant: uuid.UUID | None, rows: list[dict[str, Any]]) -> None:
        overrides = {name: kind for name, kind in self._types.items() if name in table.c}
        params = [
            {(f"{key}_" if key in overrides else key): value for key, value in row.items()} for row in rows
        ]
        try:
            async with self._target.begin() as connection:
                await bind_tenant(connection, tenant)
                statement = _insert_ignoring_present(connection, table)
                if overrides:  # bound under another name: a VALUES key cannot be a bindparam's name
                    statement = statement.values(
                        {name: bindparam(f"{name}_", type_=t) for name, t in overrides.items()}
                    )
                await connection.execute(statement, params)
        except IntegrityError as error:
            first = rows[0].get("id")
            raise Conflict(
                f"the target already holds other {table.name} rows with the same keys as the source's"
                f" (from id {first}): {' '.join(str(error.orig).split())[:300]}",
                details={"table": table.name},
            ) from None


async def count_rows(engine: AsyncEngine, tenants: Iterable[uuid.UUID]) -> dict[str, dict[str, int]]:
    """Rows per copied tenant table, per tenant: what a copy's verification compares."""
    counts: dict[str, dict[str, int]] = {}
    async with engine.connect() as connection:
        for tenant in tenants:
            await bind_tenant(connection, tenant)
            for table in copied_tables():
                if "tenant_id" in table.c:
                    query = select(func.count()).select_from(table).where(table.c.tenant_id == tenant)
                    counts.setdefault(table.name, {})[str(tenant)] = (
                        await connection.execute(query)
                    ).scalar_one()
            await connection.rollback()
    return counts


async def count_present(engine: AsyncEngine, table: Table, keys: Sequence[uuid.UUID] | None) -> int:
    """How many of the given rows (all, with None) of a table without tenant_id exist."""
    async with engine.connect() as connection:
        if keys is None:
            return (await connection.execute(select(func.count()).select_from(table))).scalar_one()
        total = 0
        for start in range(0, len(keys), _USER_REFERENCES_PER_QUERY):
            chosen = keys[start : start + _USER_REFERENCES_PER_QUERY]
            query = select(func.count()).select_from(table).where(table.c.id.in_(chosen))
            total += (await connection.execute(query)).scalar_one()
        return total


async def storage_keys(engine: AsyncEngine, tenant: uuid.UUID) -> list[str]:
    """Every blob key the tenant's documents and versions name, in order, once each."""
    keys: set[str] = set()
    async with engine.connect() as connection:
        await bind_tenant(connection, tenant)
        for table in (schema.documents, schema.document_versions):
            query = select(table.c.storage_key).where(table.c.tenant_id == tenant)
            keys.update((await connection.scalars(query)).all())
        await connection.rollback()
    return sorted(keys)


async def bind_tenant(connection: AsyncConnection, tenant: uuid.UUID | None) -> None:
    """On PostgreSQL, admit ``tenant``'s rows and the account tables for this transaction
    (row-level security is forced, owners included; the binding is signed, see
    adapters/postgres/binding.py); nothing on SQLite."""
    if connection.dialect.name != "postgresql":
        return
    from tenantrag.adapters.postgres.binding import bind, load_key

    value = "" if tenant is None else str(tenant)
    await bind(connection, await load_key(connection), current_tenant_id=value, system="on")


def _user_references(table: Table) -> list[Any]:
    return [
        foreign_key.parent
        for foreign_key in table.foreign_keys
        if foreign_key.column.table is schema.users and foreign_key.parent.table is table
    ]


def _after(order: list[Any], key: tuple[Any, ...]) -> ColumnElement[bool]:
    if len(order) == 1:
        condition: ColumnElement[bool] = order[0] > key[0]
        return condition
    return tuple_(*order) > tuple_(*key)


def _insert_ignoring_present(connection: AsyncConnection, table: Table) -> Any:
    primary_key = [column.name for column in table.primary_key.columns]
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=primary_key)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=primary_key)
