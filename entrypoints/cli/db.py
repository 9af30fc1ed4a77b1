"""``tenantrag db ...``: the schema's migrations (Alembic), without an alembic.ini.

``upgrade``, ``downgrade``, ``current`` and ``history`` go through
``tenantrag.adapters.sql.migrations``, so they work from an installed wheel. ``revision``
writes a new migration file into the source tree, so it only makes sense in a checkout:
from an installed package it is refused, since the file would land in site-packages.

``downgrade`` can drop tables and columns, so it asks for ``--yes`` as ``reset`` does, and
outside development for ``--force`` as well. It pins the revision it reached
(``migrations.downgrade_pin``): in development, where commands migrate the schema up when
they start, they refuse a pinned database instead of silently undoing the downgrade, until
``db upgrade`` (or ``init``) clears the pin. Schema commands sign no tokens, so they do not
ask for ``JWT_SECRET_KEY`` (``schema_settings``).
"""

from __future__ import annotations

import contextlib
import enum
import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from alembic import command
from alembic.config import Config
from alembic.util.exc import CommandError

from tenantrag.adapters.sql import migrations, schema
from tenantrag.domain.errors import InvalidInput, PermissionDenied
from tenantrag.entrypoints import jwt_secret
from tenantrag.entrypoints.backends import close_backend, open_backend, upgrade_schema
from tenantrag.entrypoints.cli.output import print_json, print_table
from tenantrag.entrypoints.cli.runtime import DatabaseUrl, Json, execute, guarded, load_settings
from tenantrag.entrypoints.settings import Settings

Yes = Annotated[bool, typer.Option("--yes", help="Confirm: a downgrade may drop tables and their data.")]
Force = Annotated[bool, typer.Option("--force", help="Allow it outside development (ENVIRONMENT).")]

app = typer.Typer(
    help="Migrate the schema: upgrade, downgrade, current, history, revision; vector-index.",
    no_args_is_help=True,
)

# The checkout's alembic.ini names new revisions so, and formats them with ruff.
FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d-%%(rev)s_%%(slug)s"


def schema_settings(database_url: str | None) -> Settings:
    """The settings, for a command that changes or reads the schema: it signs no tokens, so a
    throwaway JWT secret stands in for ``JWT_SECRET_KEY`` (which production would demand) and
    development writes no secret file as a side effect."""
    if database_url is None:
        return Settings(jwt_secret_key=jwt_secret.generate_secret())
    return Settings(database_url=database_url, jwt_secret_key=jwt_secret.generate_secret())


def require_development(settings: Settings, action: str, *, force: bool) -> None:
    """Refuse ``action`` outside development unless ``--force`` was given."""
    if not settings.is_development and not force:
        raise PermissionDenied(
            f"refusing to {action} when ENVIRONMENT={settings.environment}; add --force if you mean it"
        )


def require_yes(yes: bool, what: str) -> None:
    if not yes:
        raise typer.BadParameter(f"{what}; add --yes to confirm", param_hint="--yes")


def require_sql(settings: Settings) -> None:
    if settings.backend == "memory":
        raise InvalidInput("database_url", "memory:// keeps nothing, so it has no schema to migrate")


def print_state(settings: Settings, *, json_output: bool) -> None:
    """Where the database is in the history, against the newest revision, and any pin."""
    current = migrations.current(settings.database_url)
    newest = migrations.head()
    pinned = migrations.downgrade_pin(settings.database_url)
    if json_output:
        print_json(
            {
                "database_url": settings.redacted_database_url,
                "revision": current,
                "head": newest,
                "up_to_date": current == newest,
                "pinned": pinned is not None,
            }
        )
        return
    if current is None:
        typer.echo(f"{settings.redacted_database_url}: no schema (the newest revision is {newest})")
    elif current == newest:
        typer.echo(f"{settings.redacted_database_url}: at revision {current} (the newest)")
    else:
        typer.echo(f"{settings.redacted_database_url}: at revision {current}; the newest is {newest}")
    if pinned is not None:
        typer.echo(
            "downgraded on purpose: commands will not migrate it up on their own;"
            " `tenantrag db upgrade` brings it back"
        )


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Migrate the database up to REVISION (default: the newest); ends a deliberate downgrade."""
    with guarded(json_output=json):
        settings = schema_settings(database_url)
        require_sql(settings)
        upgrade_schema(settings, revision)
        print_state(settings, json_output=json)


@app.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision: an id, -1, or base (drops everything).")],
    yes: Yes = False,
    force: Force = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Migrate the database down to REVISION (asks --yes; outside development also --force).

    The embedder record survives; commands will not migrate the database up again on their
    own until `tenantrag db upgrade`.
    """
    require_yes(yes, f"downgrading to {revision} drops what later revisions added, data included")
    with guarded(json_output=json):
        settings = schema_settings(database_url)
        require_sql(settings)
        require_development(settings, "downgrade the schema", force=force)
        migrations.downgrade(settings.database_url, revision, pin=True)
        print_state(settings, json_output=json)


@app.command()
def current(database_url: DatabaseUrl = None, json: Json = False) -> None:
    """Show the revision the database is at (a missing SQLite file is not created)."""
    with guarded(json_output=json):
        settings = schema_settings(database_url)
        require_sql(settings)
        print_state(settings, json_output=json)


@app.command()
def history(database_url: DatabaseUrl = None, json: Json = False) -> None:
    """List the migrations, oldest first."""
    with guarded(json_output=json):
        revisions = migrations.history()
        if json:
            print_json([_revision(migration) for migration in revisions])
            return
        rows = [
            (migration.id, ",".join(migration.down_revisions) or "-", "head" if migration.is_head else "",
             migration.message)
            for migration in revisions
        ]  # fmt: skip
        print_table(["revision", "after", "", "message"], rows)


class IndexAction(enum.StrEnum):
    status = "status"
    drop = "drop"
    build = "build"


@app.command("vector-index")
def vector_index(
    action: Annotated[
        IndexAction, typer.Argument(help="status, drop (before a large load) or build (after it).")
    ],
    blocking: Annotated[
        bool,
        typer.Option(
            "--blocking", help="Lock writes to chunks during the build or drop (faster than concurrently)."
        ),
    ] = False,
    memory: Annotated[
        str | None,
        typer.Option("--memory", help="maintenance_work_mem for the build, e.g. 512MB (default: 1GB)."),
    ] = None,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """The PostgreSQL HNSW index: drop it before a large load, build it after.

    Searches stay correct meanwhile: without a valid index every tenant is searched exactly.
    """

    async def body() -> str:
        settings = load_settings(database_url)
        if settings.backend != "postgresql":
            raise InvalidInput(
                "database_url", "only PostgreSQL has a vector index; SQLite searches are always exact"
            )
        factory = await open_backend(settings)  # says which extra to install if psycopg is missing
        # Imported here: the PostgreSQL adapter loads only when PostgreSQL is used (backends.py).
        from tenantrag.adapters.postgres import PostgresUnitOfWorkFactory
        from tenantrag.adapters.postgres.vector_index import DEFAULT_BUILD_MEMORY

        try:
            assert isinstance(factory, PostgresUnitOfWorkFactory)
            if action is IndexAction.drop:
                await factory.drop_vector_index(concurrently=not blocking)
            elif action is IndexAction.build:
                await factory.build_vector_index(
                    concurrently=not blocking, memory=memory or DEFAULT_BUILD_MEMORY
                )
            return (await factory.vector_index_state()).value
        finally:
            await close_backend(factory)

    found = execute(body, json_output=json)
    if json:
        print_json({"index": schema.VECTOR_INDEX, "state": found})
    else:
        typer.echo(f"{schema.VECTOR_INDEX}: {found}")


def _revision(migration: migrations.Revision) -> dict[str, object]:
    return {
        "id": migration.id,
        "down_revisions": list(migration.down_revisions),
        "message": migration.message,
        "is_head": migration.is_head,
    }


@app.command()
def revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration does.")],
    autogenerate: Annotated[
        bool, typer.Option("--autogenerate", help="Compare the database (at head) with the code's schema.")
    ] = False,
    database_url: DatabaseUrl = None,
    script_location: Annotated[
        Path | None, typer.Option("--script-location", hidden=True, help="Another migrations folder (tests).")
    ] = None,
) -> None:
    """Write a new migration into the source tree (review it by hand)."""
    with guarded():
        settings = load_settings(database_url)
        location = script_location or migrations.packaged_script_location()
        _require_source_tree(location)
        if autogenerate:
            require_sql(settings)
        config = migrations.make_config(
            settings.database_url if autogenerate else None,
            embedding_dimension=settings.embedding_dimension,
            script_location=location,
        )
        config.set_main_option("file_template", FILE_TEMPLATE)
        config.set_main_option("truncate_slug_length", "40")
        _format_with_ruff(config)
        try:
            with _stdout_to_stderr():
                scripts = command.revision(config, message=message, autogenerate=autogenerate)
        except CommandError as error:
            raise migrations.MigrationError(str(error)) from error
        for script in scripts if isinstance(scripts, list) else [scripts]:
            if script is not None:
                typer.echo(script.path)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Alembic's progress and its ruff hooks' output go to stderr: stdout carries only the path.

    The hooks are subprocesses writing to file descriptor 1, so it is redirected as well.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _require_source_tree(location: Path) -> None:
    if "site-packages" in location.parts or "dist-packages" in location.parts:
        raise InvalidInput(
            "revision",
            f"the migrations are installed in {location}; write new ones from a checkout"
            " (pip install -e .), where they belong in migrations/versions",
        )
    versions = location / "versions"
    if not os.access(versions, os.W_OK):
        raise InvalidInput("revision", f"cannot write to {versions}")


def _format_with_ruff(config: Config) -> None:
    # As alembic.ini does; skipped where ruff is not installed (it is a dev dependency).
    if importlib.util.find_spec("ruff") is None:
        return
    section = "post_write_hooks"
    options = {
        "hooks": "ruff_format, ruff_fix",
        "ruff_fix.type": "module",
        "ruff_fix.module": "ruff",
        "ruff_fix.options": "check --fix --exit-zero REVISION_SCRIPT_FILENAME",
        "ruff_format.type": "module",
        "ruff_format.module": "ruff",
        "ruff_format.options": "format REVISION_SCRIPT_FILENAME",
    }
    for name, value in options.items():
        config.set_section_option(section, name, value)
