"""``tenantrag backup FILE`` and ``tenantrag restore FILE``: a whole store, to one archive and back.

The archive (``entrypoints/backup_archive.py``) is a tar of the database (SQLite's backup API
or pg_dump), the blob folder (the originals) and, in development, the generated JWT secret,
with a manifest of row counts and checksums that a restore verifies before it writes anything.
A backup never overwrites a file, and a restore never overwrites a database holding rows or
a blob folder holding files, without ``--force``. Backups made before archives (a SQLite file
or a pg_dump archive) still restore, the database only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tenantrag.adapters.sql import migrations
from tenantrag.domain.errors import InvalidInput
from tenantrag.entrypoints import backup as backups
from tenantrag.entrypoints import backup_store
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
    file: Annotated[Path, typer.Argument(help="Where to write the archive (a .tar).", dir_okay=False)],
    force: Force = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Back the whole store up into one archive: the database, the originals and, in development,
    the JWT secret, with row counts and checksums."""

    async def body() -> tuple[Settings, backup_store.Outcome]:
        settings = load_settings(database_url)
        _require_persistent(settings)
        backups.refuse_overwrite(file, force=force)
        require_existing_database(settings)
        return settings, await backup_store.back_up(settings, file)

    settings, outcome = execute(body, json_output=json)
    size = file.stat().st_size
    rows = sum(outcome.tables.values())
    secret = ", the development JWT secret" if outcome.jwt_secret else ""
    print_result(
        json,
        {"database_url": settings.redacted_database_url, "bytes": size, **outcome.as_json()},
        f"backed up {settings.redacted_database_url} to {file} ({size} bytes): {rows} rows in"
        f" {len(outcome.tables)} tables, {outcome.blobs} blob files{secret}",
    )


def restore(
    file: Annotated[
        Path, typer.Argument(help="An archive made by `tenantrag backup`.", exists=True, dir_okay=False)
    ],
    force: Annotated[
        bool,
        typer.Option("--force", help="Restore over a database holding rows or a blob folder holding files."),
    ] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Restore an archive into the store, after checking its checksums and row counts
    (refused over existing data unless --force)."""

    async def body() -> tuple[Settings, backup_store.Outcome]:
        settings = load_settings(database_url)
        _require_persistent(settings)
        return settings, await backup_store.restore(settings, file, force=force)

    settings, outcome = execute(body, json_output=json)
    newest = migrations.head()
    revision = outcome.revision
    advice = (
        "" if revision == newest else f"; it is at revision {revision}: run `tenantrag init` to upgrade it"
    )
    checked = (
        ""
        if outcome.legacy
        else f" (verified: {len(outcome.tables)} tables' row counts, {outcome.blobs} blob files)"
    )
    lines = [f"restored {file} into {settings.redacted_database_url}{checked}{advice}", *outcome.notes]
    print_result(
        json,
        {"database_url": settings.redacted_database_url, "head": newest, **outcome.as_json()},
        "\n".join(lines),
    )
