"""Opening the storage backend the settings select, and closing it again.

``DATABASE_URL`` picks the backend: ``memory://`` (SQLite in memory), a SQLite file, or
PostgreSQL. Each is
opened here and nowhere else, so the container, the CLI and the HTTP API agree on what
"the database" is. The PostgreSQL adapter is imported only when PostgreSQL is selected,
so its driver stays an optional dependency.

With ``Settings.migrates_on_start`` (development and test, or ``AUTO_MIGRATE=true``) the
schema is brought up to date first, unless ``tenantrag db downgrade`` pinned it (then it is
refused, saying so: see ``refuse_pinned_schema``); otherwise an outdated schema is refused with a message
saying which command to run, rather than failing later on a missing column.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tenantrag.adapters.sql import migrations
from tenantrag.adapters.sqlite import SqliteUnitOfWorkFactory, create_sqlite_engine, open_memory_sqlite_async
from tenantrag.domain.errors import TenantRagError
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.entrypoints.settings import Settings

if TYPE_CHECKING:
    from tenantrag.adapters.postgres import PostgresOptions


class DatabaseUnavailable(TenantRagError):
    """The database cannot be reached, does not exist, or its schema is not the code's."""

    code = "database_unavailable"


async def open_backend(settings: Settings) -> UnitOfWorkFactory:
    """The unit-of-work factory for ``settings.backend``; close it with ``close_backend``."""
    if settings.backend == "memory":
        return await open_memory_sqlite_async(
            settings.embedding_dimension, vector_cache_mb=settings.sqlite_vector_cache_mb
        )
    if settings.backend == "postgresql":
        return await _open_postgres(settings)
    await _prepare_schema(settings)
    echo_sql_to_stderr(settings)
    engine = create_sqlite_engine(settings.database_url)
    return SqliteUnitOfWorkFactory(
        engine, settings.embedding_dimension, vector_cache_mb=settings.sqlite_vector_cache_mb
    )


async def close_backend(factory: UnitOfWorkFactory) -> None:
    """Dispose of the backend's engine (its pooled connections), if it has one."""
    dispose = getattr(factory, "dispose", None)
    if dispose is not None:
        await dispose()


async def backend_resource(settings: Settings) -> AsyncIterator[UnitOfWorkFactory]:
    """The container's resource: open on ``init_resources``, dispose on ``shutdown_resources``."""
    factory = await open_backend(settings)
    try:
        yield factory
    finally:
        await close_backend(factory)


def plain_engine(settings: Settings) -> AsyncEngine:
    """A pool-less engine on the settings' SQL database, for one-off looks (status, backup checks).

    Unlike the backend's engine it assumes nothing about the schema (no pgvector types are
    registered), so it can look at a database that was never initialised. SQLite files it
    is pointed at must exist: ``sqlite3`` would create an empty one.
    """
    connect_args: dict[str, object] = {}
    if settings.backend == "postgresql":
        _require_driver()
        libpq = {
            "connect_timeout": max(1, round(settings.db_connect_timeout)),
            "application_name": settings.db_application_name,
            "sslmode": settings.db_ssl_mode,
            "sslrootcert": settings.db_ssl_root_cert,
            "sslcert": settings.db_ssl_cert,
            "sslkey": settings.db_ssl_key,
        }
        connect_args = {key: value for key, value in libpq.items() if value is not None}
    return create_async_engine(
        settings.database_url, poolclass=NullPool, connect_args=connect_args, hide_parameters=True
    )


def migration_attributes(settings: Settings) -> dict[str, object]:
    """What the migrations build from settings beyond the dimension: PostgreSQL's vector index
    and full-text column."""
    if settings.backend != "postgresql":
        return {}
    return {
        "vector_distance": settings.vector_distance,
        "hnsw_m": settings.hnsw_m,
        "hnsw_ef_construction": settings.hnsw_ef_construction,
        "text_search_config": settings.text_search_config,
    }


def upgrade_schema(settings: Settings, revision: str = "head") -> None:
    """Migrate the settings' database to ``revision`` with the settings' dimension and index."""
    migrations.upgrade(
        settings.database_url,
        revision,
        embedding_dimension=settings.embedding_dimension,
        attributes=migration_attributes(settings),
    )


async def refuse_pinned_schema(settings: Settings) -> None:
    """Before migrating on start: a database ``tenantrag db downgrade`` left behind on purpose
    is refused, not silently migrated back up."""
    pinned = await migrations.downgrade_pin_async(settings.database_url)
    if pinned is not None:
        raise DatabaseUnavailable(
            f"the database {settings.redacted_database_url} was downgraded to {pinned} on purpose"
            " (`tenantrag db downgrade`), so it is not migrated up on start: run `tenantrag db upgrade`"
            " (or `tenantrag init`) when you are done"
        )


async def _prepare_schema(settings: Settings) -> None:
    if settings.migrates_on_start:
        await refuse_pinned_schema(settings)
        await migrations.upgrade_async(
            settings.database_url, embedding_dimension=settings.embedding_dimension
        )
        return
    await require_current_schema(
        settings, "run `tenantrag init` (or `tenantrag db upgrade`), or set AUTO_MIGRATE=true"
    )


async def require_current_schema(settings: Settings, advice: str) -> None:
    """Refuse a database whose schema is not this tenantrag's (``advice`` says what to do)."""
    current = await migrations.current_async(settings.database_url)
    newest = migrations.head()
    if current != newest:
        state = "has no tenantrag schema" if current is None else f"is at revision {current}"
        raise DatabaseUnavailable(
            f"the database {settings.redacted_database_url} {state},"
            f" but this tenantrag needs {newest}: {advice}"
        )


def echo_sql_to_stderr(settings: Settings) -> None:
    """``DATABASE_ECHO``: log every statement, to standard error.

    SQLAlchemy's own ``echo=True`` prints to standard output, where it would corrupt
    the CLI's ``--json`` output; its engine logger, set up here, says the same on stderr.
    """
    if not settings.database_echo:
        return
    logger = logging.getLogger("sqlalchemy.engine")
    logger.setLevel(logging.INFO)
    if not any(isinstance(handler, _StderrHandler) for handler in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        logger.addHandler(handler)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time, not the stream it started with
    (which a test runner or a daemonising server may have replaced and closed)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return None


async def _open_postgres(settings: Settings) -> UnitOfWorkFactory:
    _require_driver()
    echo_sql_to_stderr(settings)
    from tenantrag.adapters.postgres import open_postgres

    if settings.migrates_on_start:
        await refuse_pinned_schema(settings)
    return await open_postgres(
        settings.database_url,
        settings.embedding_dimension,
        migrate=settings.migrates_on_start,
        options=postgres_options(settings),
        replica_url=settings.database_replica_url,
    )


async def create_schema(settings: Settings) -> None:
    """Create the schema or bring it up to date (idempotent): ``tenantrag init``.

    On PostgreSQL also the pgvector extension and the runtime role. memory:// has no schema.
    """
    if settings.backend == "postgresql":
        await provision_postgres(settings)
    elif settings.backend == "sqlite":
        await asyncio.to_thread(upgrade_schema, settings)


async def provision_postgres(settings: Settings) -> None:
    """Create or upgrade the schema, the extension and the runtime role."""
    _require_driver()
    from tenantrag.adapters.postgres import provision

    await provision(settings.database_url, settings.embedding_dimension, postgres_options(settings))


def postgres_options(settings: Settings) -> PostgresOptions:
    """The PostgreSQL adapter's options, from the settings: the one place they are mapped."""
    _require_driver()
    from tenantrag.adapters.postgres import PostgresOptions

    return PostgresOptions(
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        pool_recycle=settings.db_pool_recycle,
        pool_pre_ping=settings.db_pool_pre_ping,
        connect_timeout=settings.db_connect_timeout,
        command_timeout=settings.db_command_timeout,
        ssl_mode=settings.db_ssl_mode,
        ssl_root_cert=settings.db_ssl_root_cert,
        ssl_cert=settings.db_ssl_cert,
        ssl_key=settings.db_ssl_key,
        application_name=settings.db_application_name,
        prepared_statements=settings.db_prepared_statements,
        runtime_role=settings.postgres_runtime_role,
        runtime_url=settings.database_runtime_url,
        hnsw_m=settings.hnsw_m,
        hnsw_ef_construction=settings.hnsw_ef_construction,
        hnsw_ef_search=settings.hnsw_ef_search,
        distance=settings.vector_distance,
        exact_search_limit=settings.exact_search_limit,
        text_search_config=settings.text_search_config,
        replica_max_lag=settings.database_replica_max_lag,
        replica_check_interval=settings.database_replica_check_interval,
    )


def _require_driver() -> None:
    """Say what to install when the PostgreSQL extra is missing, instead of an ImportError."""
    for module in ("psycopg", "pgvector"):
        if importlib.util.find_spec(module) is None:
            raise DatabaseUnavailable(
                f"DATABASE_URL names PostgreSQL, but {module} is not installed:"
                " pip install 'tenantrag[postgres]'"
            )
