"""Attacks on another tenant's rows, in raw SQL, as the runtime role: each fails on a leak.

Every statement runs the way a unit of work's do: in a transaction begun by the
dialect (role and signed tenant binding), on a connection that logged in as a
superuser. Row-level security, not the repositories' WHERE clauses, is what is under
test here, so the SQL deliberately names the other tenant. What SQL inside such a
transaction cannot do to escape it is in test_hardening.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tenantrag.adapters.postgres import PostgresUnitOfWorkFactory
from tenantrag.adapters.postgres.binding import bind, load_key
from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.schema import TENANT_TABLES
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.search import SearchFilter, VectorQuery
from tests.contract.factories import basis
from tests.postgres.conftest import ROLE, World

pytestmark = pytest.mark.postgres

TABLES = [table.name for table in TENANT_TABLES]


async def as_tenant(connection: AsyncConnection, tenant_id: object | None) -> None:
    """The project's binding (what dialect.begin sends), by hand: role, then signed tenant."""
    key = await load_key(connection)
    await connection.execute(text("SELECT set_config('role', :role, true)"), {"role": ROLE})
    await bind(connection, key, current_tenant_id="" if tenant_id is None else str(tenant_id))


@pytest.fixture
async def bound_to_a(raw: AsyncEngine, world: World) -> AsyncIterator[AsyncConnection]:
    async with raw.connect() as connection:
        await connection.begin()
        await as_tenant(connection, world.a.seeded.tenant.id)
        yield connection
        await connection.rollback()


async def count(connection: AsyncConnection, table: str, where: str = "true", **params: object) -> int:
    result = await connection.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params)
    return int(result.scalar_one())


async def test_the_connection_logs_in_as_a_superuser_who_would_see_everything(
    raw: AsyncEngine, world: World
) -> None:
    async with raw.connect() as connection:
        assert (
            await connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        ).scalar()
        for table in TABLES:
            assert await count(connection, table) >= 2, table


@pytest.mark.parametrize("table", TABLES)
async def test_another_tenants_rows_cannot_be_read(
    bound_to_a: AsyncConnection, world: World, table: str
) -> None:
    b = world.b.seeded.tenant.id
    assert await count(bound_to_a, table, "tenant_id = :b", b=b) == 0
    assert await count(bound_to_a, table) == await count(
        bound_to_a, table, "tenant_id = :a", a=world.a.seeded.tenant.id
    )
    assert await count(bound_to_a, table) >= 1


@pytest.mark.parametrize("table", TABLES)
async def test_another_tenants_rows_cannot_be_updated_or_deleted(
    bound_to_a: AsyncConnection, world: World, table: str
) -> None:
    b = world.b.seeded.tenant.id
    update = f"UPDATE {table} SET tenant_id = tenant_id WHERE tenant_id = :b"
    delete = f"DELETE FROM {table} WHERE tenant_id = :b"
    if table in schema.APPEND_ONLY:  # not even the tenant's own rows (test_audit_append_only.py)
        for sql in (update, delete):
            with pytest.raises(ProgrammingError, match="permission denied"):
                async with bound_to_a.begin_nested():
                    await bound_to_a.execute(text(sql), {"b": b})
        return
    updated = await bound_to_a.execute(text(update), {"b": b})
    deleted = await bound_to_a.execute(text(delete), {"b": b})
    assert (updated.rowcount, deleted.rowcount) == (0, 0)


@pytest.mark.parametrize("table", TABLES)
async def test_rows_cannot_be_written_into_or_moved_to_another_tenant(
    bound_to_a: AsyncConnection, world: World, table: str
) -> None:
    a, b = world.a.seeded.tenant.id, world.b.seeded.tenant.id
    # Copy one of A's own rows with B's tenant id: refused by WITH CHECK.
    # The schema's columns: generated ones (chunks.search_vector) cannot be written.
    columns = ", ".join(f"r.{column.name}" for column in schema.metadata.tables[table].columns)
    with pytest.raises(ProgrammingError, match="row-level security"):
        async with bound_to_a.begin_nested():
            await bound_to_a.execute(
                text(
                    f"INSERT INTO {table} ({columns.replace('r.', '')}) SELECT {columns}"
                    f" FROM {table} t, jsonb_populate_record(NULL::{table},"
                    " to_jsonb(t) || jsonb_build_object('tenant_id', CAST(:b AS uuid),"
                    " 'id', gen_random_uuid())) AS r"
                    " WHERE t.tenant_id = :a LIMIT 1"
                ),
                {"a": a, "b": b},
            )
    moving = "permission denied" if table in schema.APPEND_ONLY else "row-level security"
    with pytest.raises(ProgrammingError, match=moving):
        async with bound_to_a.begin_nested():
            await bound_to_a.execute(
                text(f"UPDATE {table} SET tenant_id = :b WHERE tenant_id = :a"), {"a": a, "b": b}
            )


@pytest.mark.parametrize("tenant", [None, ""])
async def test_without_a_tenant_every_tenant_table_reads_empty(
    raw: AsyncEngine, world: World, tenant: str | None
) -> None:
    async with raw.connect() as connection:
        await connection.begin()
        if tenant is None:
            await connection.execute(text("SELECT set_config('role', :role, true)"), {"role": ROLE})
        else:
            await as_tenant(connection, None)
        for table in TABLES:
            assert await count(connection, table) == 0, table


async def test_a_pooled_connection_keeps_no_tenant_after_a_transaction(
    factory: PostgresUnitOfWorkFactory, world: World
) -> None:
    engine = factory.runtime_engine
    probe = text(
        "SELECT pg_backend_pid(), session_user, coalesce(current_setting('app.current_tenant_id', true), ''),"
        " tenantrag_claim('current_tenant_id')"
    )
    async with factory.tenant(world.a.seeded.tenant.id) as uow:
        inside = (await uow._session.connection().execute(probe)).one()
        assert inside[1] == ROLE  # the service logs in as the runtime role
        assert inside[3] == str(world.a.seeded.tenant.id)
        await uow.query_logs.list(PageRequest())
        await uow.commit()
    # Every pooled connection, the one just used included, is clean.
    connections = [await engine.connect() for _ in range(engine.pool.checkedin())]  # type: ignore[attr-defined]
    try:
        after = [(await connection.execute(probe)).one() for connection in connections]
    finally:
        for connection in connections:
            await connection.close()
    assert inside[0] in {row[0] for row in after}
    assert all(row[2] == "" and row[3] is None for row in after), after


async def test_vector_and_filtered_search_never_return_another_tenants_chunks(
    factory: PostgresUnitOfWorkFactory, world: World
) -> None:
    filters = [SearchFilter(), SearchFilter.from_json({"tags": {"$any": ["shared"]}})]
    filters.append(SearchFilter.from_json({"metadata.team": "x"}))
    documents = [str(world.b.document_id), str(world.a.document_id)]
    filters.append(SearchFilter.from_json({"document_id": {"$in": documents}}))
    async with factory.tenant(world.a.seeded.tenant.id) as uow:
        for where in filters:
            hits = await uow.chunks.search(VectorQuery(embedding=basis(0), k=50, filter=where))
            assert [hit.chunk_id for hit in hits] == [world.a.chunk_id], where


async def test_full_text_queries_never_see_another_tenants_chunks(
    bound_to_a: AsyncConnection, world: World
) -> None:
    matched = await bound_to_a.execute(
        text(
            "SELECT tenant_id FROM chunks"
            " WHERE to_tsvector('simple', content) @@ plainto_tsquery('simple', 'chunk')"
        )
    )
    assert {row[0] for row in matched} == {world.a.seeded.tenant.id}


async def test_a_foreign_key_violation_does_not_reveal_that_another_tenants_row_exists(
    bound_to_a: AsyncConnection, world: World
) -> None:
    async def refusal(document_id: object) -> str:
        with pytest.raises(DBAPIError) as caught:
            async with bound_to_a.begin_nested():
                await bound_to_a.execute(
                    text(
                        "INSERT INTO jobs (tenant_id, id, document_id, kind, status, progress, summary,"
                        " attempts, created_at, updated_at) VALUES (:a, gen_random_uuid(), :d, 'ingest',"
                        " 'queued', 0, '', 0, now(), now())"
                    ),
                    {"a": world.a.seeded.tenant.id, "d": document_id},
                )
        return str(caught.value.orig).replace(str(document_id), "<id>")

    assert await refusal(world.b.document_id) == await refusal(uuid.uuid4())


async def test_a_unique_key_can_only_clash_with_ones_own_rows(
    bound_to_a: AsyncConnection, world: World
) -> None:
    # B's document id, reused in A: a different row, since every key leads with tenant_id.
    await bound_to_a.execute(
        text(
            "INSERT INTO documents (tenant_id, id, filename, title, media_type, size_bytes, status,"
            " storage_key, version, metadata, tags, chunk_count, created_at, updated_at)"
            " VALUES (:a, :d, 'x', 'x',"
            " 'text/plain', 0, 'pending', 'k', 1, '{}', '[]', 0, now(), now())"
        ),
        {"a": world.a.seeded.tenant.id, "d": world.b.document_id},
    )
    assert await count(bound_to_a, "documents", "id = :d", d=world.b.document_id) == 1
