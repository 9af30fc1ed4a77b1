"""``tenantrag init`` and ``tenantrag reset``: create the schema, and drop everything.

``init`` is what an operator runs first and after every upgrade: it is idempotent. On
PostgreSQL it also creates the pgvector extension and the runtime role that row-level
security applies to (the connecting user needs the rights to; the error says what a
superuser must run otherwise).

``reset`` undoes every migration, dropping all data, what downgrades keep (the embedder
record) and the blob folder (the originals). It asks for ``--yes``, and outside development
for ``--force`` as well, because a production database is never reset by a command typed
from memory.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Annotated

import typer

from tenantrag.adapters.sql import migrations
from tenantrag.entrypoints.backends import create_schema
from tenantrag.entrypoints.cli.db import Force, print_state, require_development, require_yes, schema_settings
from tenantrag.entrypoints.cli.output import print_result
from tenantrag.entrypoints.cli.runtime import DatabaseUrl, Json, guarded

__all__ = ["Force", "init", "require_development", "reset"]


def init(database_url: DatabaseUrl = None, json: Json = False) -> None:
    """Create the schema or bring it up to date (idempotent); on PostgreSQL also the extension and role."""
    with guarded(json_output=json):
        settings = schema_settings(database_url)
        if settings.backend == "memory":
            print_result(
                json,
                {"database_url": settings.redacted_database_url, "revision": None},
                "memory:// keeps nothing: nothing to create",
            )
            return
        asyncio.run(create_schema(settings))
        print_state(settings, json_output=json)


def reset(
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: every tenant, user, document and original is dropped.")
    ] = False,
    force: Force = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Drop everything (every migration undone); `tenantrag init` recreates the schema."""
    require_yes(yes, "it drops every tenant, user, document and original")
    with guarded(json_output=json):
        settings = schema_settings(database_url)
        require_development(settings, "reset the database", force=force)
        path = settings.sqlite_path
        has_schema = settings.backend != "memory" and (path is None or path.exists())
        if has_schema:  # the database first: if it cannot be reset, the originals stay with it
            migrations.downgrade(settings.database_url, "base", forget_kept=True)
        blobs = settings.blob_store_folder
        removed_blobs = blobs is not None and blobs.exists()
        if blobs is not None and removed_blobs:
            shutil.rmtree(blobs)
        done = [f"dropped everything in {settings.redacted_database_url}"] if has_schema else []
        done += [f"removed the blob folder {blobs}"] if removed_blobs else []
        message = "; ".join(done) + "; `tenantrag init` recreates the schema" if done else "nothing to reset"
        report = {
            "database_url": settings.redacted_database_url,
            "reset": has_schema,
            "blobs_removed": removed_blobs,
        }
        print_result(json, report, message)
