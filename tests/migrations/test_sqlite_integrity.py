"""The schema the migrations build on SQLite enforces its foreign keys, and migrations keep it so.

- Rows inserted through SQLAlchemy Core: a dangling reference is refused, and deleting a
  tenant (document, chat session, user) cascades as schema.py says.
- Check constraints match schema.py (``alembic check`` does not compare them).
- env.py switches foreign keys off for the migration transaction, because batch mode's table
  rebuilds would otherwise cascade deletes; it checks every reference before committing and
  switches them back on after.
"""

from __future__ import annotations

import shutil
import sqlite3
import textwrap
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.migrations import (
    MigrationError,
    configure_sqlite_engine,
    create_migration_engine,
    head,
    make_config,
    packaged_script_location,
    upgrade,
    upgrade_async,
)

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def _file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await upgrade_async(database_url)
    engine = create_migration_engine(database_url)  # foreign keys on, on every connection
    yield engine
    await engine.dispose()


# --- rows ------------------------------------------------------------------------------------------


def _tenant() -> dict[str, Any]:
    tenant_id = uuid.uuid4()
    return {
        "id": tenant_id,
        "name": "Acme",
        "slug": f"acme-{tenant_id.hex[:8]}",
        "settings": {},
        "created_at": NOW,
        "updated_at": NOW,
    }


def _user() -> dict[str, Any]:
    user_id = uuid.uuid4()
    return {
        "id": user_id,
        "email": f"{user_id.hex[:8]}@example.com",
        "full_name": "Ada",
        "password_hash": None,
        "is_active": True,
        "is_superuser": False,
        "last_login_at": None,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _document(tenant_id: uuid.UUID, user_id: uuid.UUID | None) -> dict[str, Any]:
    document_id = uuid.uuid4()
    return {
        "tenant_id": tenant_id,
        "id": document_id,
        "uploaded_by": user_id,
        "filename": "cats.md",
        "title": "Cats",
        "media_type": "text/markdown",
        "size_bytes": 10,
        "status": "completed",
        "error_message": None,
        "storage_key": f"{tenant_id}/{document_id}",
        "content_sha256": None,
        "version": 1,
        "metadata": {},
        "tags": ["demo"],
        "chunk_count": 1,
        "processed_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _chunk(tenant_id: uuid.UUID, document_id: uuid.UUID) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": uuid.uuid4(),
        "document_id": document_id,
        "ordinal": 0,
        "content": "Cats purr.",
        "content_sha256": "0" * 64,
        "embedding": (1.0,) + (0.0,) * (schema.DEFAULT_DIMENSION - 1),
        "token_count": 2,
        "metadata": {},
        "created_at": NOW,
    }


def _job(tenant_id: uuid.UUID, document_id: uuid.UUID | None) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "id": uuid.uuid4(),
        "document_id": document_id,
        "kind": "ingest",
        "status": "succeeded",
        "progress": 100,
        "summary": "",
        "attempts": 1,
        "lease_expires_at": None,
        "error": None,
        "created_at": NOW,
        "updated_at": NOW,
        "started_at": NOW,
        "finished_at": NOW,
    }


async def _seed(connection: AsyncConnection) -> dict[str, Any]:
    """One tenant with a row in every tenant table, owned by one user."""
    tenant, user = _tenant(), _user()
    t, u = tenant["id"], user["id"]
    document = _document(t, u)
    session_id = uuid.uuid4()
    rows: list[tuple[sa.Table, dict[str, Any]]] = [
        (schema.tenants, tenant),
        (schema.users, user),
        (
            schema.memberships,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "user_id": u,
                "role": "owner",
                "is_active": True,
                "created_at": NOW,
                "updated_at": NOW,
            },
        ),
        (schema.documents, document),
        (
            schema.document_versions,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "document_id": document["id"],
                "version": 1,
                "status": "active",
                "content_sha256": "0" * 64,
                "size_bytes": 0,
                "media_type": "text/plain",
                "storage_key": f"documents/{document['id']}/v1/a.txt",
                "chunk_count": 1,
                "reused_chunks": 0,
                "error": None,
                "created_at": NOW,
                "updated_at": NOW,
            },
        ),
        (schema.chunks, _chunk(t, document["id"])),
        (schema.jobs, _job(t, document["id"])),
        (schema.jobs, _job(t, None)),
        (
            schema.api_keys,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "user_id": u,
                "name": "ci",
                "prefix": uuid.uuid4().hex[:12],
                "secret_hash": "0" * 64,
                "role_cap": "member",
                "created_at": NOW,
                "last_used_at": None,
                "usage_count": 0,
                "expires_at": None,
                "revoked_at": None,
            },
        ),
        (
            schema.query_logs,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "user_id": u,
                "query": "why do cats purr?",
                "response": None,
                "sources": [],
                "latency_ms": None,
                "token_count": None,
                "quality_score": None,
                "feedback": None,
                "metadata": {},
                "created_at": NOW,
            },
        ),
        (
            schema.chat_sessions,
            {
                "tenant_id": t,
                "id": session_id,
                "user_id": u,
                "title": "Cats",
                "created_at": NOW,
                "updated_at": NOW,
            },
        ),
        (
            schema.messages,
            {
                "tenant_id": t,
                "id": uuid.uuid4(),
                "session_id": session_id,
                "role": "user",
                "content": "hello",
                "created_at": NOW,
            },
        ),
    ]
    for table, row in rows:
        await connection.execute(table.insert().values(row))
    return {"tenant_id": t, "user_id": u, "document_id": document["id"], "session_id": session_id}


async def _count(connection: AsyncConnection, table: sa.Table, tenant_id: uuid.UUID) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
    return int((await connection.execute(query)).scalar_one())


async def _counts(connection: AsyncConnection, tenant_id: uuid.UUID) -> dict[str, int]:
    return {table.name: await _count(connection, table, tenant_id) for table in schema.TENANT_TABLES}


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


# --- foreign keys while migrating -----------------------------------------------------------------


def test_why_foreign_keys_cannot_stay_on_while_a_table_is_rebuilt(tmp_path: Path) -> None:
    # What batch mode does to a referenced table, with enforcement on: SQLite's DROP TABLE
    # deletes every row first, and ON DELETE CASCADE empties the referencing table.
    connection = sqlite3.connect(tmp_path / "why.db", isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        connection.execute(
            "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER"
            " REFERENCES parent (id) ON DELETE CASCADE)"
        )
        connection.execute("INSERT INTO parent VALUES (1)")
        connection.execute("INSERT INTO child VALUES (1, 1)")

        connection.execute("BEGIN")
        connection.execute("CREATE TABLE _tmp_parent (id INTEGER PRIMARY KEY, extra TEXT)")
        connection.execute("INSERT INTO _tmp_parent (id) SELECT id FROM parent")
        connection.execute("DROP TABLE parent")
        connection.execute("ALTER TABLE _tmp_parent RENAME TO parent")
        connection.execute("COMMIT")

        assert connection.execute("SELECT count(*) FROM child").fetchone() == (0,)
    finally:
        connection.close()


def _migrations_with(tmp_path: Path, name: str, body: str) -> Path:
    """A copy of the packaged migrations with one more revision on top of head."""
    location = tmp_path / "migrations"
    shutil.copytree(packaged_script_location(), location, ignore=shutil.ignore_patterns("__pycache__"))
    source = f'''
        """{name}"""

        import sqlalchemy as sa
        from alembic import op

        revision = "ffffffffffff"
        down_revision = "{head()}"
        branch_labels = None
        depends_on = None

    '''
    (location / "versions" / f"9999_12_31_2359-ffffffffffff_{name}.py").write_text(
        textwrap.dedent(source) + textwrap.dedent(body), encoding="utf-8"
    )
    return location


async def _seeded_database(url: str) -> uuid.UUID:
    await upgrade_async(url)
    engine = create_migration_engine(url)
    try:
        async with engine.begin() as connection:
            return uuid.UUID(str((await _seed(connection))["tenant_id"]))
    finally:
        await engine.dispose()


async def test_a_batch_rebuild_of_a_referenced_table_keeps_the_rows_referencing_it(
    database_url: str, tmp_path: Path
) -> None:
    tenant_id = await _seeded_database(database_url)
    location = _migrations_with(
        tmp_path,
        "tenant_plan",
        """
        def upgrade():
            with op.batch_alter_table("tenants", recreate="always") as batch:
                batch.add_column(sa.Column("plan", sa.String(16), nullable=True))


        def downgrade():
            with op.batch_alter_table("tenants", recreate="always") as batch:
                batch.drop_column("plan")
        """,
    )
    config = make_config(database_url, script_location=location)

    engine = create_migration_engine(database_url)
    try:
        async with engine.connect() as connection:
            before = await _counts(connection, tenant_id)

        await _in_thread(command.upgrade, config, "head")
        async with engine.connect() as connection:
            assert await _counts(connection, tenant_id) == before
            columns = await connection.run_sync(lambda c: sa.inspect(c).get_columns("tenants"))
            assert "plan" in {column["name"] for column in columns}

        await _in_thread(command.downgrade, config, "-1")
        async with engine.begin() as connection:
            assert await _counts(connection, tenant_id) == before
            # The references still lead to the rebuilt table: cascades work as before.
            await connection.execute(schema.tenants.delete().where(schema.tenants.c.id == tenant_id))
            assert not any((await _counts(connection, tenant_id)).values())
    finally:
        await engine.dispose()


async def test_a_migration_leaving_dangling_references_is_rolled_back(
    database_url: str, tmp_path: Path
) -> None:
    tenant_id = await _seeded_database(database_url)
    location = _migrations_with(
        tmp_path,
        "orphans",
        """
        def upgrade():
            op.create_table("scratch", sa.Column("id", sa.Integer(), primary_key=True))
            op.execute("DELETE FROM tenants")  # no cascade while foreign keys are off


        def downgrade():
            op.drop_table("scratch")
        """,
    )
    config = make_config(database_url, script_location=location)

    with pytest.raises(MigrationError, match=r"referencing rows that do not exist: .*-> tenants"):
        await _in_thread(command.upgrade, config, "head")

    engine = create_migration_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert all((await _counts(connection, tenant_id)).values()), "the deletion was committed"
            tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
            assert "scratch" not in tables, "the DDL was committed"
            version = await connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one() == head()
    finally:
        await engine.dispose()


def test_a_connection_handed_in_gets_its_foreign_keys_back_on(database_url: str) -> None:
    engine = sa.create_engine(f"sqlite:///{_file(database_url)}")
    configure_sqlite_engine(engine)
    try:
        with engine.connect() as connection:
            config = make_config()
            config.attributes["connection"] = connection

            command.upgrade(config, "head")

            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    finally:
        engine.dispose()
    assert not any(_file(database_url).parent.glob("tenantrag.db")), "the default database was used"


def test_a_connection_inside_a_transaction_with_foreign_keys_on_is_refused(database_url: str) -> None:
    engine = sa.create_engine(f"sqlite:///{_file(database_url)}")
    configure_sqlite_engine(engine)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("SELECT 1")  # BEGIN has been emitted
            config = make_config()
            config.attributes["connection"] = connection

            with pytest.raises(MigrationError, match="pass an engine, or a connection with no transaction"):
                command.upgrade(config, "head")
    finally:
        engine.dispose()


async def _in_thread(function: Any, *args: Any) -> None:
    # alembic.command runs env.py, which runs its own event loop: not on this one.
    import asyncio

    await asyncio.to_thread(function, *args)
