"""The engines migrations run on, and the SQLite rules batch migrations need.

- ``create_migration_engine``: no pool (each ``asyncio.run`` of env.py is a new event loop,
  and async driver connections must not outlive theirs), SQLite's connection rules applied.
- ``sqlite_foreign_keys_off`` / ``check_sqlite_foreign_keys``: how env.py rebuilds tables in
  batch mode without cascading deletes, and refuses to commit dangling references.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tenantrag.adapters.sql.urls import normalize_database_url, redact
from tenantrag.domain.errors import TenantRagError

# A migration waits this long for a running application's writer on SQLite.
SQLITE_BUSY_TIMEOUT_MS = 30_000


class MigrationError(TenantRagError):
    """The database could not be migrated, or is not in the state a migration needs."""

    code = "migration_failed"


def create_migration_engine(url: str) -> AsyncEngine:
    """An async engine for running migrations: no pool, SQLite rules applied.

    No pool, because each ``asyncio.run`` of env.py is a new event loop and async driver
    connections must not outlive theirs.
    """
    normalized = normalize_database_url(url, field="url")
    _require_sqlite_folder(normalized)
    engine = create_async_engine(normalized, poolclass=NullPool, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        configure_sqlite_engine(engine.sync_engine)
    return engine


def _require_sqlite_folder(url: str) -> None:
    # SQLite creates a missing database file but not its folder. Said here, before connecting,
    # it is clearer than "unable to open database file" (and spares aiosqlite's failed-connect
    # path, which can report an error from its worker thread after the event loop has closed).
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    if database.startswith("file:"):
        return
    folder = Path(database).absolute().parent
    if not folder.is_dir():
        raise MigrationError(f"cannot migrate {redact(url)}: the folder {folder} does not exist")


def configure_sqlite_engine(engine: Engine) -> None:
    """The SQLite connection rules every tenantrag engine follows (``adapters/sqlite/engine.py``),
    with a longer busy timeout: a migration waits for a running application's writer."""
    from tenantrag.adapters.sqlite.engine import configure_sqlite_engine as configure

    configure(engine, busy_timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)


@contextmanager
def sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Switch SQLite's foreign key enforcement off for a migration run, and back on after.

    Batch migrations rebuild a table as "create new, copy, DROP old, rename new". With foreign
    keys enforced, SQLite's DROP TABLE first deletes every row, which fires ON DELETE CASCADE
    (or SET NULL) in the referencing tables: rebuilding ``tenants`` would delete every tenant's
    documents, chunks, keys... SQLite's own procedure for schema changes (and Alembic's batch
    documentation) is to switch enforcement off outside the transaction, change the schema,
    run ``PRAGMA foreign_key_check`` before committing, and switch it back on. env.py does the
    check (``check_sqlite_foreign_keys``), so a migration that leaves dangling references is
    rolled back rather than committed.

    The pragma cannot change inside a transaction, so a connection that already has one open
    with enforcement on is refused. Does nothing on other databases.
    """
    if connection.dialect.name != "sqlite" or not _raw_pragma(connection, "foreign_keys"):
        yield
        return
    if connection.in_transaction():
        raise MigrationError(
            "cannot switch SQLite foreign keys off inside the transaction already open on the"
            " connection given to the migrations, and batch migrations would cascade deletes with"
            " them on: pass an engine, or a connection with no transaction begun"
        )
    _raw_execute(connection, "PRAGMA foreign_keys=OFF")
    if _raw_pragma(connection, "foreign_keys"):  # pragma: no cover - a transaction the driver began
        raise MigrationError("SQLite refused to switch foreign keys off for the migration")
    try:
        yield
    finally:
        _raw_execute(connection, "PRAGMA foreign_keys=ON")


def check_sqlite_foreign_keys(connection: Connection, *, limit: int = 10) -> None:
    """Raise ``MigrationError`` if any row of the database references a row that is not there.

    Run inside the migration transaction, before commit, so that the migration is rolled back.
    """
    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if not violations:
        return
    shown = "; ".join(f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in violations[:limit])
    more = f" (and {len(violations) - limit} more)" if len(violations) > limit else ""
    raise MigrationError(
        f"the migration leaves {len(violations)} row(s) referencing rows that do not exist: {shown}{more};"
        " it was rolled back"
    )


def _raw_execute(connection: Connection, sql: str) -> None:
    # Straight to the driver: through SQLAlchemy, the statement would begin a transaction
    # first, and PRAGMA foreign_keys is a no-op inside one.
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def _raw_pragma(connection: Connection, name: str) -> int:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA {name}")
        row = cursor.fetchone()
    finally:
        cursor.close()
    return int(row[0]) if row else 0
