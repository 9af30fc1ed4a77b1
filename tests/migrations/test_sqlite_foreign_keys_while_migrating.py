"""Foreign keys while migrating SQLite: why they cannot stay on while batch mode rebuilds a
referenced table, and how env.py handles it: it switches them off for the migration transaction,
so a rebuild keeps the rows referencing the table, rolls back a migration that leaves dangling
references, and switches them back on on a connection handed in (refusing one already inside a
transaction)."""

from __future__ import annotations

import shutil
import sqlite3
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from tenantrag.adapters.sql import schema
from tenantrag.adapters.sql.migrations import (
    MigrationError,
    configure_sqlite_engine,
    create_migration_engine,
    head,
    make_config,
    packaged_script_location,
    upgrade_async,
)
from tests.migrations.sqlite_rows import _counts, _file, _seed

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
