"""``tenantrag backup FILE`` and ``tenantrag restore FILE``: the whole database, to a file and back.

SQLite backups are SQLite files (open them with ``sqlite3``); PostgreSQL backups are
``pg_dump`` custom-format archives. A backup never overwrites a file, and a restore never
overwrites a database holding rows, without ``--force``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tenantrag.adapters.sql import migrations
from tenantrag.domain.errors import Conflict, InvalidInput
from tenantrag.entrypoints import backup as backups
from tenantrag.entrypoints.cli.output import print_result
from tenantrag.entrypoints.cli.runtime import (
    DatabaseUrl,
    Json,
    execute,
    load_settings,
    require_existing_database,
)
from tenantrag.entrypoints.settings import Settings

Force = Annotated[bool, typer.Option("--force", help="Replace what is there.")]


def _require_persistent(settings: Settings) -> None:
    if settings.backend == "memory":
        raise InvalidInput(
            "database_url", "memory:// keeps nothing, so there is nothing to back up or restore"
        )


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup.", dir_okay=False)],
    force: Force = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Back the database up into FILE (SQLite's online backup, or pg_dump)."""

    async def body() -> Settings:
        settings = load_settings(database_url)
        _require_persistent(settings)
        backups.refuse_overwrite(file, force=force)
        if settings.sqlite_path is not None:
            require_existing_database(settings)
            backups.sqlite_backup(settings.sqlite_path, file)
        else:
            await backups.pg_dump(settings, file)
        return settings

    settings = execute(body, json_output=json)
    size = file.stat().st_size
    print_result(
        json,
        {"database_url": settings.redacted_database_url, "file": str(file), "bytes": size},
        f"backed up {settings.redacted_database_url} to {file} ({size} bytes)",
    )


def restore(
    file: Annotated[
        Path, typer.Argument(help="A backup made by `tenantrag backup`.", exists=True, dir_okay=False)
    ],
    force: Annotated[bool, typer.Option("--force", help="Restore over a database that holds rows.")] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Restore FILE into the database (refused over existing rows unless --force)."""

    async def body() -> tuple[Settings, str | None]:
        settings = load_settings(database_url)
        _require_persistent(settings)
        path = settings.sqlite_path
        if path is not None:
            backups.check_sqlite_backup(file)
            if not force and backups.sqlite_holds_rows(path):
                raise Conflict(f"{settings.redacted_database_url} holds data; add --force to replace it")
            backups.sqlite_restore(file, path)
        else:
            if not force and await backups.postgres_holds_rows(settings):
                raise Conflict(f"{settings.redacted_database_url} holds data; add --force to replace it")
            await backups.pg_restore(settings, file)
        return settings, await migrations.current_async(settings.database_url)

    settings, revision = execute(body, json_output=json)
    newest = migrations.head()
    advice = (
        "" if revision == newest else f"; it is at revision {revision}: run `tenantrag init` to upgrade it"
    )
    print_result(
        json,
        {
            "database_url": settings.redacted_database_url,
            "file": str(file),
            "revision": revision,
            "head": newest,
        },
        f"restored {file} into {settings.redacted_database_url}{advice}",
    )
