"""A whole store to one archive and back: the database, the originals and, in development,
the JWT secret (``tenantrag backup`` / ``tenantrag restore``).

Backing up: the database first (a consistent snapshot, with its row counts), then the blob
folder. Blobs are written before any row names them and deleted after the rows that named
them, so a backup of a store in use holds every blob its database names, except a document
deleted during the backup (its bytes may be gone; its rows are in the snapshot). A blob
written after the snapshot is an extra file no row names, which a restore keeps harmlessly.

Restoring: everything is unpacked into a staging folder beside the blob folder and checked
there (every member's SHA-256 and size, and for SQLite every table's row count) before the
target is touched. Then the database (SQLite: an atomic replace or the backup API;
PostgreSQL: one transaction that checks the counts before it commits), then the blob folder
(renamed into place), then the secret. A damaged archive is refused with nothing written.

Older backups (a bare SQLite file, or a pg_dump archive, as ``tenantrag backup`` wrote
before archives) still restore: the database only, with nothing to check it against.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tenantrag.adapters.sql import migrations
from tenantrag.domain.errors import Conflict, InvalidInput
from tenantrag.entrypoints import backup as database
from tenantrag.entrypoints.backends import provision_postgres
from tenantrag.entrypoints.backup import BackupError
from tenantrag.entrypoints.backup_archive import (
    BLOBS,
    DATABASE_MEMBERS,
    SECRET,
    ArchiveWriter,
    Manifest,
    Member,
    blob_files,
    is_archive,
    read_archive,
    remove_tree,
)
from tenantrag.entrypoints.settings import Settings

_SQLITE_HEADER = b"SQLite format 3\x00"
_PGDUMP_HEADER = b"PGDMP"


@dataclass(slots=True)
class Outcome:
    """What a backup wrote or a restore put back."""

    file: Path
    backend: str
    revision: str | None
    tables: dict[str, int] = field(default_factory=dict)
    blobs: int = 0
    blob_bytes: int = 0
    jwt_secret: bool = False
    legacy: bool = False
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "file": str(self.file),
            "backend": self.backend,
            "revision": self.revision,
            "tables": self.tables,
            "blobs": self.blobs,
            "blob_bytes": self.blob_bytes,
            "jwt_secret": self.jwt_secret,
            "legacy_format": self.legacy,
            "notes": self.notes,
        }


# --- backup -------------------------------------------------------------------------------


async def back_up(settings: Settings, file: Path) -> Outcome:
    """Write the archive of the settings' store to ``file`` (replaced atomically)."""
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{file.name}.", dir=file.parent))
    except OSError as error:
        raise BackupError(f"cannot write a backup into {file.parent}: {error.strerror or error}") from error
    try:
        return await _back_up(settings, file, work)
    except OSError as error:
        raise BackupError(f"cannot back up to {file}: {error}") from error
    finally:
        remove_tree(work)


async def _back_up(settings: Settings, file: Path, work: Path) -> Outcome:
    dump = work / DATABASE_MEMBERS[settings.backend]
    schema_name = None
    if settings.sqlite_path is not None:
        database.sqlite_backup(settings.sqlite_path, dump)
        counts, revision = database.sqlite_table_counts(dump), database.sqlite_revision(dump)
    else:
        async with database.postgres_snapshot(settings) as snapshot:
            await database.pg_dump(settings, dump, snapshot=snapshot.id)
        counts, revision, schema_name = snapshot.counts, snapshot.revision, snapshot.schema
    partial = work / "archive.tar"
    with partial.open("wb") as out:
        writer = ArchiveWriter(out)
        stored = writer.add(dump, dump.name)
        blobs: list[Member] = []
        for path, name in blob_files(settings.blob_store_folder):
            try:
                blobs.append(writer.add(path, name))
            except FileNotFoundError:  # deleted since it was listed: its rows are gone too
                continue
        secret_file = settings.development_secret_file
        secret = None
        if settings.is_development and secret_file is not None and secret_file.is_file():
            secret = writer.add(secret_file, SECRET)
        manifest = Manifest(settings.backend, revision, counts, stored, blobs, secret, schema_name)
        writer.finish(manifest)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, file)
    return _outcome(file, manifest)


def _outcome(file: Path, manifest: Manifest) -> Outcome:
    return Outcome(
        file=file,
        backend=manifest.backend,
        revision=manifest.revision,
        tables=manifest.tables,
        blobs=len(manifest.blobs),
        blob_bytes=sum(blob.size for blob in manifest.blobs),
        jwt_secret=manifest.secret is not None,
    )


# --- restore ------------------------------------------------------------------------------


async def restore(settings: Settings, file: Path, *, force: bool) -> Outcome:
    """Restore the archive (or an older backup) at ``file`` into the settings' store."""
    if not is_archive(file):
        return await _restore_legacy(settings, file, force=force)
    folder = settings.blob_store_folder
    assert folder is not None  # memory:// is refused by the caller
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.restoring.", dir=folder.parent))
    try:
        manifest = read_archive(file, staging)
        if manifest.backend != settings.backend:
            raise InvalidInput(
                "file",
                f"is a backup of a {manifest.backend} store and DATABASE_URL names {settings.backend}:"
                " restore it into the same kind of database",
            )
        await _refuse_live_data(settings, folder, force=force)
        dump = staging / manifest.database.name
        await _restore_database(settings, dump, manifest)
        _swap_folder(staging / BLOBS, folder)
        outcome = _outcome(file, manifest)
        outcome.revision = manifest.revision
        if manifest.secret is not None:
            outcome.notes.append(_restore_secret(settings, staging / SECRET))
        return outcome
    finally:
        remove_tree(staging)


async def _refuse_live_data(settings: Settings, folder: Path, *, force: bool) -> None:
    if force:
        return
    path = settings.sqlite_path
    if path is not None:
        holds = database.sqlite_holds_rows(path)
    else:
        holds = await database.postgres_holds_rows(settings)
    if holds:
        raise Conflict(f"{settings.redacted_database_url} holds data; add --force to replace it")
    if _holds_files(folder):
        raise Conflict(f"the blob folder {folder} is not empty; add --force to replace it")


async def _restore_database(settings: Settings, dump: Path, manifest: Manifest) -> None:
    path = settings.sqlite_path
    if path is not None:
        database.check_sqlite_backup(dump)
        found = database.sqlite_table_counts(dump)
        if found != manifest.tables:
            wrong = sorted(
                name
                for name in found.keys() | manifest.tables.keys()
                if found.get(name) != manifest.tables.get(name)
            )
            raise InvalidInput(
                "file", f"the database's row counts differ from the manifest's ({', '.join(wrong)})"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            database.sqlite_restore(dump, path)
        else:
            database.sqlite_backup(dump, path)  # a new file, renamed into place whole
        return
    await database.pg_restore(settings, dump, schema_name=manifest.schema, counts=manifest.tables)
    await provision_restored(settings, manifest.revision)


async def provision_restored(settings: Settings, revision: str | None) -> None:
    """The runtime role and its grants, which restores leave out (they may name roles the target
    cluster lacks): what `tenantrag init` does, which at the newest revision migrates nothing.
    At an older revision the restore stays as it was, and `tenantrag init` upgrades and provisions."""
    if revision == migrations.head():
        await provision_postgres(settings)


def _holds_files(folder: Path) -> bool:
    return folder.is_dir() and any(folder.iterdir())


def _swap_folder(staged: Path, folder: Path) -> None:
    """Put the staged blob folder in the place of ``folder`` (renames on one file system)."""
    if not staged.exists():
        staged.mkdir(mode=0o700)
    aside = None
    if folder.exists():
        aside = folder.with_name(f".{folder.name}.replaced.{secrets.token_hex(4)}")
        folder.rename(aside)
    staged.rename(folder)
    if aside is not None:
        remove_tree(aside)


def _restore_secret(settings: Settings, staged: Path) -> str:
    target = settings.development_secret_file
    if not settings.is_development or target is None:
        return f"the archive's development JWT secret was not restored (ENVIRONMENT={settings.environment})"
    temporary = target.with_name(f".{target.name}.{os.getpid()}.restoring")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(staged.read_bytes())
    os.replace(temporary, target)
    return f"restored the development JWT secret to {target}: tokens it signed stay valid"


async def _restore_legacy(settings: Settings, file: Path, *, force: bool) -> Outcome:
    with file.open("rb") as source:
        header = source.read(len(_SQLITE_HEADER))
    kind = (
        "sqlite" if header == _SQLITE_HEADER else "postgresql" if header.startswith(_PGDUMP_HEADER) else None
    )
    if kind is None:
        if settings.sqlite_path is not None:
            raise InvalidInput("file", f"{file} is not a SQLite database nor a tenantrag backup archive")
        raise InvalidInput("file", f"{file} is neither a tenantrag backup archive nor a pg_dump archive")
    if kind != settings.backend:
        raise InvalidInput("file", f"is an older {kind} backup and DATABASE_URL names {settings.backend}")
    note = "an older backup: the database only (no originals, no secret, nothing to check it against)"
    path = settings.sqlite_path
    if path is not None:
        database.check_sqlite_backup(file)
        if not force and database.sqlite_holds_rows(path):
            raise Conflict(f"{settings.redacted_database_url} holds data; add --force to replace it")
        database.sqlite_restore(file, path)
    else:
        if not force and await database.postgres_holds_rows(settings):
            raise Conflict(f"{settings.redacted_database_url} holds data; add --force to replace it")
        await database.pg_restore(settings, file)
        await provision_restored(settings, await migrations.current_async(settings.database_url))
    revision = await migrations.current_async(settings.database_url)
    return Outcome(file=file, backend=kind, revision=revision, legacy=True, notes=[note])
