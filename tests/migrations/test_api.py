"""The Python API the CLI calls: upgrade, downgrade, current, head, is_up_to_date, history, check.

It runs the packaged migrations without alembic.ini, from sync code and from inside a running
event loop, and turns bad input into InvalidInput naming the culprit.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from pathlib import Path

import pytest
from alembic import command

from tenantrag.adapters.sql import migrations
from tenantrag.adapters.sql.migrations import (
    MigrationError,
    check,
    check_async,
    current,
    current_async,
    downgrade,
    downgrade_async,
    head,
    history,
    is_up_to_date,
    is_up_to_date_async,
    make_config,
    upgrade,
    upgrade_async,
)
from tenantrag.adapters.sql.schema import metadata
from tenantrag.domain.errors import InvalidInput

# Beside the MetaData's tables: Alembic's, the FTS5 index and the vector cache's tokens.
SQLITE_ONLY = {"alembic_version", "chunks_fts", "chunk_generations"}


def _tables(url: str) -> set[str]:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        # FTS5's shadow tables (chunks_fts_data, ...) are its own business.
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'chunks_fts_%'"
        ).fetchall()
    connection.close()
    return {name for (name,) in rows}


def _database_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def test_upgrade_downgrade_and_upgrade_again(database_url: str) -> None:
    assert current(database_url) is None
    assert not is_up_to_date(database_url)

    upgrade(database_url)

    assert current(database_url) == head()
    assert is_up_to_date(database_url)
    assert _tables(database_url) == set(metadata.tables) | SQLITE_ONLY
    check(database_url)  # no drift

    downgrade(database_url, "base")

    assert current(database_url) is None
    assert not is_up_to_date(database_url)
    assert _tables(database_url) == {"alembic_version"}

    upgrade(database_url, "head")

    assert current(database_url) == head()
    assert _tables(database_url) == set(metadata.tables) | SQLITE_ONLY


def test_upgrading_an_up_to_date_database_changes_nothing(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)

    assert current(database_url) == head()


def test_current_does_not_create_a_missing_database_file(database_url: str) -> None:
    assert current(database_url) is None
    assert not is_up_to_date(database_url)
    assert not _database_file(database_url).exists()


def test_history_runs_from_the_first_revision_to_head() -> None:
    revisions = history()

    assert revisions, "the migrations package holds no revision"
    assert revisions[0].down_revisions == ()
    assert revisions[-1].id == head()
    assert [r.is_head for r in revisions] == [False] * (len(revisions) - 1) + [True]
    for earlier, later in itertools.pairwise(revisions):
        assert later.down_revisions == (earlier.id,)
    assert all(r.message for r in revisions)


def test_the_config_points_at_the_installed_package_and_needs_no_ini_file() -> None:
    config = make_config("sqlite:///x.db")

    assert config.config_file_name is None
    assert Path(config.get_main_option("script_location") or "") == migrations.packaged_script_location()
    assert (migrations.packaged_script_location() / "env.py").is_file()
    assert (migrations.packaged_script_location() / "script.py.mako").is_file()
    assert config.get_main_option("sqlalchemy.url") == "sqlite+aiosqlite:///x.db"


def test_percent_escapes_in_urls_survive_the_config() -> None:
    config = make_config("postgresql://user:p%40ss@db.example/rag")

    assert config.get_main_option("sqlalchemy.url") == "postgresql+psycopg://user:p%40ss@db.example/rag"


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        pytest.param("not a url", "not a database URL", id="garbage"),
        pytest.param("", "not a database URL", id="empty"),
        pytest.param("mysql://u@h/db", "unsupported database 'mysql'", id="other-database"),
        pytest.param("sqlite+pysqlite:///x.db", "not an async driver", id="sync-driver"),
    ],
)
def test_a_bad_url_is_invalid_input_naming_the_url(url: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as raised:
        upgrade(url)

    assert raised.value.field == "url"


def test_an_unknown_revision_is_invalid_input_naming_the_revision(database_url: str) -> None:
    with pytest.raises(InvalidInput, match="'nope'") as raised:
        upgrade(database_url, "nope")
    assert raised.value.field == "revision"

    upgrade(database_url)
    with pytest.raises(InvalidInput, match="'0123456789ab'") as raised:
        downgrade(database_url, "0123456789ab")
    assert raised.value.field == "revision"
    assert current(database_url) == head()


def test_a_database_in_a_missing_folder_is_a_migration_error_naming_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite'}"

    with pytest.raises(MigrationError, match=r"no-such-folder.* does not exist"):
        upgrade(url)


def test_a_database_that_cannot_be_opened_is_a_migration_error_naming_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}"  # a folder, not a file

    with pytest.raises(MigrationError, match=r"cannot migrate .*: unable to open database file"):
        upgrade(url)


def test_passwords_are_not_shown_in_errors() -> None:
    with pytest.raises(InvalidInput) as raised:
        upgrade("mysql://admin:hunter2@db.example/rag")

    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize("dimension", [0, -3, 16_001, True])
def test_a_bad_embedding_dimension_is_refused_before_touching_the_database(
    database_url: str, dimension: int
) -> None:
    with pytest.raises(InvalidInput, match="embedding_dimension") as raised:
        upgrade(database_url, embedding_dimension=dimension)

    assert raised.value.field == "embedding_dimension"
    assert not _database_file(database_url).exists()


def test_a_different_embedding_dimension_still_builds_the_sqlite_schema(database_url: str) -> None:
    # On SQLite an embedding is a BLOB whatever its dimension; the adapter checks the length.
    upgrade(database_url, embedding_dimension=768)

    assert is_up_to_date(database_url)
    check(database_url)


def test_drift_is_reported_as_schema_drift(database_url: str) -> None:
    upgrade(database_url)
    with sqlite3.connect(_database_file(database_url)) as connection:
        connection.execute("DROP INDEX ix_jobs_status_lease_expires_at")
    connection.close()

    with pytest.raises(migrations.SchemaDrift, match="ix_jobs_status_lease_expires_at"):
        check(database_url)


# --- sync and async callers -----------------------------------------------------------------------


async def test_the_async_variants_run_without_blocking_the_loop(database_url: str) -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    try:
        await upgrade_async(database_url)
        assert await current_async(database_url) == head()
        assert await is_up_to_date_async(database_url)
        await check_async(database_url)
        await downgrade_async(database_url, "base")
        assert await current_async(database_url) is None
    finally:
        ticker.cancel()

    assert ticks > 0, "the event loop was blocked while migrating"


async def test_the_sync_functions_also_work_inside_a_running_loop(database_url: str) -> None:
    upgrade(database_url)

    assert current(database_url) == head()
    assert is_up_to_date(database_url)
    downgrade(database_url, "base")
    assert current(database_url) is None


async def test_alembic_called_directly_inside_a_running_loop_says_what_to_do(database_url: str) -> None:
    with pytest.raises(MigrationError, match="_async functions"):
        command.upgrade(make_config(database_url), "head")


def test_concurrent_migrations_in_one_process_both_succeed(database_url: str, tmp_path: Path) -> None:
    other_url = f"sqlite:///{tmp_path / 'other.db'}"

    async def both() -> None:
        await asyncio.gather(upgrade_async(database_url), upgrade_async(other_url))

    asyncio.run(both())

    assert current(database_url) == current(other_url) == head()
