"""The schema the migrations build on SQLite enforces its foreign keys: rows inserted through
SQLAlchemy Core cascade as schema.py says when a tenant, document, chat session or user is deleted,
a dangling reference is refused, and the built check constraints and foreign keys with their
actions match schema.py (which ``alembic check`` does not compare)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.migrations import create_migration_engine, upgrade, upgrade_async
from tests.migrations.sqlite_rows import _chunk, _count, _counts, _document, _file, _seed


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await upgrade_async(database_url)
    engine = create_migration_engine(database_url)  # foreign keys on, on every connection
    yield engine
    await engine.dispose()


# --- foreign keys and cascades ---------------------------------------------------------------------


async def test_deleting_a_tenant_deletes_everything_it_owns(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        seeded = await _seed(connection)
        other = await _seed(connection)
        assert all(await _counts(connection, seeded["tenant_id"]))

    async with engine.begin() as connection:
        await connection.execute(schema.tenants.delete().where(schema.tenants.c.id == seeded["tenant_id"]))

    async with engine.connect() as connection:
        assert await _counts(connection, seeded["tenant_id"]) == dict.fromkeys(
            (t.name for t in schema.TENANT_TABLES), 0
        )
        assert all(await _counts(connection, other["tenant_id"])), "another tenant's rows went too"


async def test_deleting_a_document_deletes_its_chunks_and_jobs_only(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        seeded = await _seed(connection)
        t = seeded["tenant_id"]
        await connection.execute(
            schema.documents.delete().where(
                schema.documents.c.tenant_id == t, schema.documents.c.id == seeded["document_id"]
            )
        )

        assert await _count(connection, schema.chunks, t) == 0
        assert await _count(connection, schema.jobs, t) == 1  # the job of no document stays
        assert await _count(connection, schema.memberships, t) == 1


async def test_deleting_a_chat_session_deletes_its_messages(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        seeded = await _seed(connection)
        t = seeded["tenant_id"]
        await connection.execute(
            schema.chat_sessions.delete().where(
                schema.chat_sessions.c.tenant_id == t, schema.chat_sessions.c.id == seeded["session_id"]
            )
        )

        assert await _count(connection, schema.messages, t) == 0


async def test_deleting_a_user_cascades_or_forgets_them_as_declared(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        seeded = await _seed(connection)
        t = seeded["tenant_id"]
        await connection.execute(schema.users.delete().where(schema.users.c.id == seeded["user_id"]))

        for table in (schema.memberships, schema.api_keys, schema.chat_sessions, schema.messages):
            assert await _count(connection, table, t) == 0, table.name
        uploader = await connection.execute(sa.select(schema.documents.c.uploaded_by))
        assert uploader.scalar_one() is None
        asker = await connection.execute(sa.select(schema.query_logs.c.user_id))
        assert asker.scalar_one() is None


@pytest.mark.parametrize(
    "make_row",
    [
        pytest.param(lambda: (schema.documents, _document(uuid.uuid4(), None)), id="document-of-no-tenant"),
        pytest.param(lambda: (schema.chunks, _chunk(uuid.uuid4(), uuid.uuid4())), id="chunk-of-no-document"),
    ],
)
async def test_a_reference_to_nothing_is_refused(engine: AsyncEngine, make_row: Any) -> None:
    table, row = make_row()

    async with engine.begin() as connection:
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            await connection.execute(table.insert().values(row))


async def test_a_chunk_cannot_point_at_another_tenants_document(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        mine = await _seed(connection)
        theirs = await _seed(connection)

    async with engine.begin() as connection:
        chunk = _chunk(mine["tenant_id"], theirs["document_id"]) | {"ordinal": 1}
        with pytest.raises(IntegrityError, match="FOREIGN KEY"):
            await connection.execute(schema.chunks.insert().values(chunk))


# --- the DDL matches schema.py where alembic check does not look -----------------------------------


def test_check_constraints_match_the_schema(database_url: str) -> None:
    upgrade(database_url)
    engine = sa.create_engine(f"sqlite:///{_file(database_url)}")
    try:
        inspector = sa.inspect(engine)
        for table in schema.metadata.sorted_tables:
            declared = {
                (str(c.name), str(c.sqltext)) for c in table.constraints if isinstance(c, sa.CheckConstraint)
            }
            built = {(c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table.name)}
            assert built == declared, table.name
    finally:
        engine.dispose()


def test_foreign_keys_match_the_schema_with_their_actions(database_url: str) -> None:
    upgrade(database_url)
    engine = sa.create_engine(f"sqlite:///{_file(database_url)}")
    try:
        inspector = sa.inspect(engine)
        for table in schema.metadata.sorted_tables:
            declared = {
                (
                    str(fk.name),
                    tuple(fk.column_keys),
                    fk.referred_table.name,
                    tuple(e.column.name for e in fk.elements),
                    fk.ondelete,
                )
                for fk in table.foreign_key_constraints
            }
            built = {
                (
                    fk["name"],
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    fk["options"].get("ondelete"),
                )
                for fk in inspector.get_foreign_keys(table.name)
            }
            assert built == declared, table.name
    finally:
        engine.dispose()
