"""``tenantrag init`` and ``tenantrag reset``: create the schema, and drop everything.

``init`` is what an operator runs first and after every upgrade: it is idempotent. On
PostgreSQL it also creates the pgvector extension and the runtime role that row-level
security applies to (the connecting user needs the rights to; the error says what a
superuser must run otherwise).

``reset`` undoes every migration, dropping all data. It asks for ``--yes``, and outside
development for ``--force`` as well, because a production database is never reset by a
command typed from memory.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from tenantrag.adapters.sql import migrations
from tenantrag.domain.errors import PermissionDenied
from tenantrag.entrypoints.backends import create_schema
from tenantrag.entrypoints.cli.db import print_state
from tenantrag.entrypoints.cli.output import print_result
from tenantrag.entrypoints.cli.runtime import DatabaseUrl, Json, guarded, load_settings
from tenantrag.entrypoints.settings import Settings

Force = Annotated[bool, typer.Option("--force", help="Allow it outside development (ENVIRONMENT).")]


def require_development(settings: Settings, action: str, *, force: bool) -> None:
    """Refuse ``action`` outside development unless ``--force`` was given."""
    if not settings.is_development and not force:
        raise PermissionDenied(
            f"refusing to {action} when ENVIRONMENT={settings.environment}; add --force if you mean it"
        )


def init(database_url: DatabaseUrl = None, json: Json = False) -> None:
    """Create the schema or bring it up to date (idempotent); on PostgreSQL also the extension and role."""
    with guarded(json_output=json):
        settings = load_settings(database_url)
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
        bool, typer.Option("--yes", help="Confirm: every tenant, user and document is dropped.")
    ] = False,
    force: Force = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Drop everything (every migration undone); `tenantrag init` recreates the schema."""
    if not yes:
        raise typer.BadParameter(
            "it drops every tenant, user and document; add --yes to confirm", param_hint="--yes"
        )
    with guarded(json_output=json):
        settings = load_settings(database_url)
        require_development(settings, "reset the database", force=force)
        path = settings.sqlite_path
        if settings.backend == "memory" or (path is not None and not path.exists()):
            print_result(
                json, {"database_url": settings.redacted_database_url, "reset": False}, "nothing to reset"
            )
            return
        migrations.downgrade(settings.database_url, "base")
        print_result(
            json,
            {"database_url": settings.redacted_database_url, "reset": True},
            f"dropped everything in {settings.redacted_database_url}; `tenantrag init` recreates the schema",
        )
