"""The PostgreSQL engine: psycopg 3 (async) under SQLAlchemy, with pgvector's binary types.

On every new connection pgvector's ``vector`` type is looked up and registered, so
embeddings travel as pgvector's binary format in both directions; and results are
requested in binary (a cursor factory), so UUIDs, timestamps and vectors are never
formatted to text and parsed back.

Options given explicitly (``PostgresOptions``) are passed to libpq; anything they
leave as ``None`` is left to the URL's query string (``?sslmode=require&
connect_timeout=5`` keep working) and then to libpq's defaults.

``pool_pre_ping`` checks a pooled connection before use only when it sat idle for
``PRE_PING_IDLE`` seconds or more. SQLAlchemy's own pre-ping checks every checkout: one
more round trip per unit of work (measured: 130 of a primary-key read's 1 200 us), to
learn about a connection that was handed back alive a moment ago. A server that drops
connections in that moment (a restart) fails the statement with a disconnect error
instead, and SQLAlchemy then replaces every pooled connection.
"""

from __future__ import annotations

import time
from typing import Any

from psycopg import AsyncConnection, AsyncCursor, pq
from psycopg.types import TypeInfo
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from tenantrag.adapters.postgres.options import PostgresOptions
from tenantrag.adapters.sql.urls import normalize_database_url, redact
from tenantrag.domain.errors import InvalidInput


class BinaryCursor(AsyncCursor[Any]):
    """A cursor that asks for results in binary (psycopg's default is text)."""

    def __init__(self, connection: AsyncConnection[Any], **kwargs: Any) -> None:
        super().__init__(connection, **kwargs)
        self.format = pq.Format.BINARY


def postgres_url(url: str, *, field: str = "url") -> str:
    """The psycopg form of a PostgreSQL URL (``postgres://`` and asyncpg URLs included)."""
    normalized = normalize_database_url(url, field=field)
    parsed = make_url(normalized)
    if parsed.get_backend_name() != "postgresql":
        raise InvalidInput(field, f"is not a PostgreSQL URL: {redact(parsed)}")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def connect_args(options: PostgresOptions) -> dict[str, Any]:
    args: dict[str, Any] = {
        "application_name": options.application_name,
        "cursor_factory": BinaryCursor,
        # psycopg prepares a statement after 5 executions; None never prepares (PgBouncer).
        "prepare_threshold": 5 if options.prepared_statements else None,
    }
    if options.connect_timeout is not None:
        args["connect_timeout"] = max(1, round(options.connect_timeout))
    libpq = {
        "sslmode": options.ssl_mode,
        "sslrootcert": options.ssl_root_cert,
        "sslcert": options.ssl_cert,
        "sslkey": options.ssl_key,
    }
    args.update({key: value for key, value in libpq.items() if value is not None})
    return args


def create_postgres_engine(url: str, options: PostgresOptions | None = None) -> AsyncEngine:
    options = options or PostgresOptions()
    engine = create_async_engine(
        postgres_url(url),
        pool_size=options.pool_size,
        max_overflow=options.max_overflow,
        pool_timeout=options.pool_timeout,
        pool_recycle=round(options.pool_recycle),
        echo=options.echo,
        # Logs and error messages never show bound values: they include password and key hashes.
        hide_parameters=True,
        connect_args=connect_args(options),
    )
    if options.pool_pre_ping:
        ping_when_idle(engine)

    @event.listens_for(engine.sync_engine, "connect")
    def _register_vector(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.run_async(register_vector)

    return engine


PRE_PING_IDLE = 1.0  # seconds in the pool after which a connection is checked before use
_CHECKED_IN = "tenantrag.checked_in_at"


def ping_when_idle(engine: AsyncEngine, idle: float = PRE_PING_IDLE) -> None:
    """Check a pooled connection before use when it sat idle ``idle`` seconds or more
    (SQLAlchemy's "pessimistic disconnect handling", with the dialect's own ping)."""
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < idle:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool discards this connection and checks out another (or connects).
            raise DisconnectionError(f"a pooled connection is gone: {error}") from error


class VectorTypeMissing(RuntimeError):
    """The database has no pgvector ``vector`` type: the schema was never created here."""


async def register_vector(connection: AsyncConnection[Any]) -> None:
    from pgvector.psycopg.vector import register_vector_info

    from tenantrag.adapters.postgres.embeddings import register_binary_vectors

    info = await TypeInfo.fetch(connection, "vector")
    if info is None:
        raise VectorTypeMissing(
            "the database has no pgvector `vector` type: run `tenantrag init` (or"
            " `tenantrag db upgrade`) against it first"
        )
    register_vector_info(connection, info)
    register_binary_vectors(connection)
