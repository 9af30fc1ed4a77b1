"""The SQLite engine: pragmas on every connection, and BEGIN under our control.

Every connection gets ``foreign_keys=ON`` (SQLite leaves foreign keys off per
connection; cascades and ``NotFound`` for missing parents depend on them),
``journal_mode=WAL`` (readers never block the writer, and the writer never blocks
readers), ``synchronous=NORMAL`` (durable under WAL except on power loss, much
faster than FULL) and a ``busy_timeout``, so a second writer waits for the first
instead of failing at once.

The sqlite3 driver's own transaction handling is switched off (``isolation_level
= None``), as SQLAlchemy's SQLite docs recommend, and the ``begin`` event emits
BEGIN itself, so that SAVEPOINT works and reads are repeatable. A unit of work
reads in a deferred transaction and writes in an IMMEDIATE one: upgrading a read
transaction to a write one cannot wait for the lock (SQLite returns SQLITE_BUSY at
once to avoid deadlocks), whereas BEGIN IMMEDIATE waits up to the busy timeout.
"""

from __future__ import annotations

import functools
import os
import urllib.parse
from collections.abc import Callable, MutableMapping
from typing import Any

import aiosqlite
import attrs
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState
from sqlalchemy.util import await_only

from tenantrag.adapters.sql.text_analysis import index_terms
from tenantrag.adapters.sql.urls import normalize_database_url, redact
from tenantrag.domain.errors import InvalidInput

# The SQL function the full-text triggers call (revision a7d4c1e9b250).
INDEX_TERMS_FUNCTION = "tenantrag_terms"
DEFAULT_BUSY_TIMEOUT = 10.0  # seconds; long enough for a burst of writers to queue up
_STATE = "tenantrag.sqlite.transaction"


@attrs.define
class TransactionState:
    """What the ``begin`` event needs to know about the unit of work on a connection."""

    # The next BEGIN takes the write lock (BEGIN IMMEDIATE).
    immediate: bool = False


# ``info`` is the connection's own dict (SQLAlchemy's Connection.info, shared by its
# AsyncConnection): it lives as long as the DBAPI connection, across pool checkouts.
Info = MutableMapping[Any, Any]


def transaction_state(info: Info) -> TransactionState | None:
    state = info.get(_STATE)
    return state if isinstance(state, TransactionState) else None


def track_transaction(info: Info) -> TransactionState:
    """Start tracking a new unit of work on this connection (forgetting any earlier one)."""
    state = TransactionState()
    info[_STATE] = state
    return state


def untrack_transaction(info: Info) -> None:
    info.pop(_STATE, None)


def sqlite_url(url: str, *, field: str = "url") -> str:
    """The aiosqlite form of a SQLite URL; other databases, and ``:memory:`` (one database per
    connection, which a pool cannot share), are refused."""
    normalized = normalize_database_url(url, field=field)
    parsed = make_url(normalized)
    if parsed.get_backend_name() != "sqlite":
        raise InvalidInput(field, f"is not a SQLite URL: {redact(parsed)}")
    database = parsed.database or ""
    # memory:// uses SQLite's memdb VFS instead (memory.py), which every connection shares.
    if database in ("", ":memory:") or database.startswith("file::memory:") or "mode=memory" in normalized:
        raise InvalidInput(
            field,
            "an in-memory SQLite database cannot be shared between connections: give a file"
            " (sqlite:///./tenantrag.db), or memory:// for a store in memory",
        )
    return normalized


def create_sqlite_engine(
    url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, **kwargs: Any
) -> AsyncEngine:
    """An AsyncEngine on a SQLite file with the pragmas and BEGIN handling above."""
    _timeout_ms(busy_timeout)  # a bad value is refused before an engine exists
    # Reset on return is ours (_on_reset): the default rolls back every connection coming
    # back, which costs a round trip to aiosqlite's thread even when nothing is open.
    kwargs.setdefault("pool_reset_on_return", None)
    # Logs (DATABASE_ECHO) and error messages never show bound values: they include hashes.
    kwargs.setdefault("hide_parameters", True)
    engine = create_async_engine(sqlite_url(url), **kwargs)
    configure_sqlite_engine(engine.sync_engine, busy_timeout=busy_timeout)

    if kwargs["pool_reset_on_return"] is None:

        @event.listens_for(engine.sync_engine.pool, "reset")
        def _on_reset(dbapi_connection: Any, _record: ConnectionPoolEntry, state: PoolResetState) -> None:
            # What the default does (roll back, unless the transaction was already ended or
            # the connection is being discarded outside the event loop), skipped when the
            # driver says no transaction is open: a unit of work ends its own.
            if state.asyncio_safe and not state.transaction_was_reset and _in_transaction(dbapi_connection):
                dbapi_connection.rollback()

    return engine


def configure_sqlite_engine(engine: Engine, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
    """tenantrag's SQLite connection rules, for every engine that opens a tenantrag database
    (the backend's, the migrations', tools'); idempotent. Call it before the first connection.

    - Every new connection: the driver's own transaction handling off (we emit BEGIN, so that
      DDL is transactional and SAVEPOINT works), the busy timeout, ``foreign_keys=ON`` (a
      no-op inside a transaction, so it is set on connect), WAL and ``synchronous=NORMAL``,
      and the SQL function ``tenantrag_terms(tenant_id, text)`` (``text_analysis.index_terms``), which
      the full-text triggers index a new chunk's content with: a connection without it
      cannot insert chunks.
    - Before a connection opens a database file that does not exist yet, the file is created
      empty with mode 0600: it will hold password and key hashes, and SQLite would otherwise
      create it as the umask allows (usually 0644, world-readable). SQLite gives its WAL and
      shared-memory files the database file's mode.
    - BEGIN: deferred, or IMMEDIATE for a unit of work that is about to write (see
      ``track_transaction``).
    """
    listeners = (
        ("do_connect", _create_privately),
        ("connect", _connect_listener(_timeout_ms(busy_timeout))),
        ("begin", _on_begin),
    )
    for name, listener in listeners:
        if not event.contains(engine, name, listener):
            event.listen(engine, name, listener)


def _create_privately(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
    path = _database_path(str(cargs[0]) if cargs else "", uri=bool(cparams.get("uri")))
    if path is None:
        return
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # an existing database keeps the mode its owner gave it
    except OSError:
        return  # a missing folder or no permission: SQLite's own open says so more clearly
    os.close(descriptor)


def _database_path(target: str, *, uri: bool) -> str | None:
    """The file a connection target names, or None for one that names no file (memory, memdb)."""
    if uri:
        parsed = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(parsed.query)
        if query.get("vfs") == ["memdb"] or query.get("mode") in (["memory"], ["ro"]):
            return None
        target = urllib.parse.unquote(parsed.path)
    if target in ("", ":memory:"):
        return None
    return target


def register_functions(connection: Any) -> None:
    """Give a connection (sqlite3's, or the driver's adapted one) the SQL functions tenantrag's
    triggers call. A tool writing chunks through a connection of its own must call it first
    ("no such function: tenantrag_terms" otherwise)."""
    connection.create_function(INDEX_TERMS_FUNCTION, 2, _tenant_terms, deterministic=True)


def _tenant_terms(tenant_id: str | None, content: str | None) -> str:
    # A tenant's stems start with its id (32 hex digits, as the column stores it), so each
    # tenant has posting lists of its own (see adapters/sqlite/fulltext.py).
    return index_terms(content, prefix=tenant_id or "")


def _timeout_ms(busy_timeout: float) -> int:
    if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float) or busy_timeout < 0:
        raise InvalidInput("busy_timeout", f"must be a non-negative number of seconds, got {busy_timeout!r}")
    return round(busy_timeout * 1000)


@functools.cache
def _connect_listener(timeout_ms: int) -> Callable[[Any, ConnectionPoolEntry], None]:
    # One function per timeout, so that configuring an engine twice finds its listener.
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        register_functions(dbapi_connection)
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first: switching to WAL may itself have to wait for a lock.
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms:d}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")  # an in-memory database stays 'memory'
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    return on_connect


def _on_begin(connection: Connection) -> None:
    state = transaction_state(connection.info)
    if state is None:  # not a unit of work (migrations, tooling, tests): a plain deferred BEGIN
        connection.exec_driver_sql("BEGIN")
        return
    if not state.immediate:
        _begin_deferred(connection)
        return
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_deferred(connection: Connection) -> None:
    """BEGIN for a unit of work, through aiosqlite's own ``execute``: one round trip to its
    thread, where a SQLAlchemy cursor takes three (open, execute, close). A deferred BEGIN
    takes no lock, so it has no error for the session to translate."""
    driver = connection.connection.driver_connection
    if not isinstance(driver, aiosqlite.Connection):
        connection.exec_driver_sql("BEGIN")
        return
    await_only(driver.execute("BEGIN"))


def _in_transaction(dbapi_connection: Any) -> bool:
    """Whether sqlite3 has a transaction open on the connection (True when it cannot tell).
    aiosqlite reads the flag without a round trip to its thread."""
    driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    return bool(getattr(driver, "in_transaction", True))
