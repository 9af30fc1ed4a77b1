"""Blobs as files on a local disk: ``<root>/<tenant_id>/<key>``.

Plain files under readable names, so an operator can back the folder up, inspect it
or restore one document with ordinary tools. Each tenant has its own folder, named
after its id (a UUID, so it is safe as a name), and keys are validated by the port
before they get here; every path is still resolved and checked to stay inside the
tenant's folder, in case a symlink was planted under the root.

Checksums: the SHA-256 of each blob is stored beside it in a hidden file,
``.<name>.sha256``, in the format ``sha256sum`` prints, and checked on every read.
Chosen over a header inside the blob file so that the file under the key stays the
exact original (``sha256sum -c .<name>.sha256`` checks it by hand), and over
re-hashing against the database so that the store can vouch for its bytes alone.
Keys may not have a segment starting with '.', so no key can name a checksum or a
temporary file.

Writes are atomic: the blob and its checksum are written to temporary files in the
same folder and flushed to disk before either is renamed over its final name
(``os.replace``), so a crash or a full disk never leaves a half-written blob under a
key. The checksum is renamed first: a crash between the two renames then leaves,
for a new key, a checksum without a blob, which reads as absent, and for a replaced
blob the old bytes with the new checksum, which reads as corrupted until the write
is retried. Never silently wrong bytes. Writes to one key are serialised within a
process; two processes writing the same key at once are not supported (keys carry
the document version, so the ingestion never does).

Files are created readable by the service's user only (``mkstemp``'s 0600): they
are tenants' documents. Blocking I/O runs in ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from tenantrag.domain.model.document import sha256_hex
from tenantrag.domain.ports.blob_store import (
    BlobCorrupted,
    BlobEntry,
    StoredBlob,
    check_tenant_id,
    validate_key,
    validate_prefix,
)

CHECKSUM_SUFFIX = ".sha256"
_TEMP_PREFIX = "."
_TEMP_SUFFIX = ".tmp"
# Locks per key would grow without bound; a fixed set, chosen by the key's hash, only
# ever makes two unrelated writes wait for each other.
_LOCK_STRIPES = 64
# A concurrent delete may remove a folder a write has just created (it was empty).
_WRITE_ATTEMPTS = 3
# A read that lands between the two renames of a write sees a checksum that does not
# match yet: it looks again after this pause before calling the blob corrupted.
_REREAD_PAUSE_SECONDS = 0.05
_SHA256_HEX_LENGTH = 64
_HEX_DIGITS = frozenset("0123456789abcdef")


class LocalBlobStore:
    """A :class:`~tenantrag.domain.ports.blob_store.BlobStore` in a folder of the local disk."""

    def __init__(self, root: Path) -> None:
        # Absolute now, so that a later chdir cannot move the store. Nothing is created
        # until the first write: building the store does no I/O.
        self._root = Path(root).absolute()
        self._locks = tuple(threading.Lock() for _ in range(_LOCK_STRIPES))

    @property
    def root(self) -> Path:
        return self._root

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self._root)!r})"

    async def put(self, tenant_id: uuid.UUID, key: str, data: bytes) -> StoredBlob:
        tenant_id, key = check_tenant_id(tenant_id), validate_key(key)
        # Copied before the thread starts: another task must not change what is written.
        return await asyncio.to_thread(self._put, tenant_id, key, bytes(data))

    async def get(self, tenant_id: uuid.UUID, key: str) -> bytes:
        tenant_id, key = check_tenant_id(tenant_id), validate_key(key)
        return await asyncio.to_thread(self._get, tenant_id, key)

    async def exists(self, tenant_id: uuid.UUID, key: str) -> bool:
        tenant_id, key = check_tenant_id(tenant_id), validate_key(key)
        return await asyncio.to_thread(self._exists, tenant_id, key)

    async def delete(self, tenant_id: uuid.UUID, key: str) -> bool:
        tenant_id, key = check_tenant_id(tenant_id), validate_key(key)
        return await asyncio.to_thread(self._delete, tenant_id, key)

    async def delete_prefix(self, tenant_id: uuid.UUID, prefix: str) -> int:
        tenant_id, prefix = check_tenant_id(tenant_id), validate_prefix(prefix)
        return await asyncio.to_thread(self._delete_prefix, tenant_id, prefix)

    async def entries(self, tenant_id: uuid.UUID) -> list[BlobEntry]:
        tenant_id = check_tenant_id(tenant_id)
        return await asyncio.to_thread(self._entries, tenant_id)

    async def tenant_ids(self) -> list[uuid.UUID]:
        return await asyncio.to_thread(self._tenant_ids)

    # --- paths --------------------------------------------------------------------

    def _locate(self, tenant_id: uuid.UUID, key: str, field: str = "key") -> tuple[Path, Path]:
        """(the tenant's folder, the key's file), both resolved, the file checked to be inside."""
        tenant_folder = self._root / str(tenant_id)
        try:
            base = tenant_folder.resolve()
            path = (tenant_folder / key).resolve()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop, on Python 3.11
            path = base = tenant_folder
        if path == base or not path.is_relative_to(base):
            raise InvalidInput(field, f"{key!r} does not resolve to a path inside the tenant's folder")
        return base, path

    def _lock(self, tenant_id: uuid.UUID, key: str) -> threading.Lock:
        return self._locks[hash((tenant_id, key)) % _LOCK_STRIPES]

    # --- operations, run in a worker thread -----------------------------------------

    def _put(self, tenant_id: uuid.UUID, key: str, data: bytes) -> StoredBlob:
        blob = StoredBlob(key, len(data), sha256_hex(data))
        _base, path = self._locate(tenant_id, key)
        checksum_line = f"{blob.sha256}  {path.name}\n".encode()
        with self._lock(tenant_id, key), _os_errors("write", key):
            if path.is_dir():
                raise _clash(key)
            data_temp, checksum_temp = _stage(path.parent, key, data, checksum_line)
            try:
                os.replace(checksum_temp, _checksum_path(path))
                os.replace(data_temp, path)
            except BaseException as error:
                for temp in (checksum_temp, data_temp):
                    temp.unlink(missing_ok=True)
                if isinstance(error, IsADirectoryError):
                    raise _clash(key) from None
                raise
            _fsync_folder(path.parent)
        return blob

    def _get(self, tenant_id: uuid.UUID, key: str) -> bytes:
        _base, path = self._locate(tenant_id, key)
        with _os_errors("read", key):
            data, expected = _read(path, key)
            actual = sha256_hex(data)
            if expected != actual:
                time.sleep(_REREAD_PAUSE_SECONDS)
                data, expected = _read(path, key)
                actual = sha256_hex(data)
        if expected is None:
            raise BlobCorrupted(key, "its checksum file is missing or unreadable", actual=actual)
        if expected != actual:
            raise BlobCorrupted(
                key,
                f"its SHA-256 is {actual}, not the {expected} recorded when it was written",
                expected=expected,
                actual=actual,
            )
        return data

    def _exists(self, tenant_id: uuid.UUID, key: str) -> bool:
        _base, path = self._locate(tenant_id, key)
        with _os_errors("check", key):
            return path.is_file()

    def _delete(self, tenant_id: uuid.UUID, key: str) -> bool:
        base, path = self._locate(tenant_id, key)
        with self._lock(tenant_id, key), _os_errors("delete", key):
            removed = _remove_blob(path)
            _prune(path.parent, base)
        return removed

    def _entries(self, tenant_id: uuid.UUID) -> list[BlobEntry]:
        folder = self._root / str(tenant_id)
        found: list[BlobEntry] = []
        with _os_errors("list", str(tenant_id)):
            for parent, folders, files in os.walk(folder):
                folders[:] = [name for name in folders if not name.startswith(".")]
                for name in files:
                    if name.startswith("."):
                        continue  # a checksum or a temporary file: the store's own
                    path = Path(parent, name)
                    with suppress(FileNotFoundError):  # deleted while we looked
                        stat = path.stat()
                        key = path.relative_to(folder).as_posix()
                        found.append(BlobEntry(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
        return sorted(found, key=lambda entry: entry.key)

    def _tenant_ids(self) -> list[uuid.UUID]:
        tenants: list[uuid.UUID] = []
        with _os_errors("list", "the tenants"):
            if not self._root.is_dir():
                return []
            for child in self._root.iterdir():
                with suppress(ValueError):
                    ident = uuid.UUID(child.name)
                    if child.is_dir() and str(ident) == child.name:
                        tenants.append(ident)
        return sorted(tenants)

    def _delete_prefix(self, tenant_id: uuid.UUID, prefix: str) -> int:
        base, top = self._locate(tenant_id, prefix, "prefix")
        with _os_errors("delete", prefix):
            # A prefix may name one blob as well as a folder of them.
            removed = _remove_tree(top) if top.is_dir() else int(_remove_blob(top))
            _prune(top.parent, base)
        return removed


# --- file helpers -------------------------------------------------------------------


@contextmanager
def _os_errors(action: str, key: str) -> Iterator[None]:
    """Storage failures (a full disk, a permission, an I/O error) become Unavailable."""
    try:
        yield
    except OSError as error:
        raise Unavailable(f"blob store could not {action} {key!r}: {error.strerror or error}") from error


def _clash(key: str) -> Conflict:
    return Conflict(f"blob key {key!r} clashes with another blob: a key is a blob or a folder, not both")


def _checksum_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{CHECKSUM_SUFFIX}")


def _write_temp(folder: Path, content: bytes) -> Path:
    """A flushed, fsynced temporary file in ``folder`` holding ``content``."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _stage(folder: Path, key: str, data: bytes, checksum_line: bytes) -> tuple[Path, Path]:
    """Both temporary files, written and flushed, ready to be renamed into place."""
    for attempt in range(1, _WRITE_ATTEMPTS + 1):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            data_temp = _write_temp(folder, data)
            try:
                return data_temp, _write_temp(folder, checksum_line)
            except BaseException:
                data_temp.unlink(missing_ok=True)
                raise
        except (FileExistsError, NotADirectoryError):
            raise _clash(key) from None  # a folder on the way is a blob
        except FileNotFoundError:
            if attempt == _WRITE_ATTEMPTS:
                raise
    raise AssertionError("unreachable: the last attempt returns or raises")


def _fsync_folder(folder: Path) -> None:
    # A rename is durable only once the folder's entries are on disk (POSIX). Windows
    # cannot open a folder, and its renames need no such step.
    if os.name != "posix":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _read(path: Path, key: str) -> tuple[bytes, str | None]:
    """The blob's bytes and its recorded SHA-256 (None if missing or unreadable)."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise NotFound("blob", repr(key)) from None
    try:
        recorded = _checksum_path(path).read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return data, None
    digest = recorded[:_SHA256_HEX_LENGTH]
    return data, digest if len(digest) == _SHA256_HEX_LENGTH and set(digest) <= _HEX_DIGITS else None


def _remove_blob(path: Path) -> bool:
    """Remove one blob and its checksum: True if the blob was there."""
    if path.is_dir():
        return False  # a folder of blobs, not a blob
    try:
        path.unlink()
        removed = True
    except (FileNotFoundError, NotADirectoryError):
        removed = False
    # After the blob: a crash in between leaves a checksum alone, which reads as absent.
    with suppress(FileNotFoundError, NotADirectoryError):
        _checksum_path(path).unlink()
    return removed


def _remove_tree(top: Path) -> int:
    """Remove everything under ``top`` (left-over checksums and temporary files too),
    returning how many blobs went."""
    removed = 0
    for folder, folders, files in os.walk(top, topdown=False):
        for name in files:
            Path(folder, name).unlink(missing_ok=True)
            if not name.startswith("."):  # the others are the store's own files
                removed += 1
        for name in folders:
            child = Path(folder, name)
            if child.is_symlink():
                child.unlink()  # os.walk does not follow links, and neither does a delete
            else:
                _remove_empty(child)
    _remove_empty(top)
    return removed


def _remove_empty(folder: Path) -> bool:
    # A write may have just created something in it; then the folder stays.
    try:
        folder.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _prune(folder: Path, base: Path) -> None:
    """Remove ``folder`` and its parents while they are empty, up to but not including ``base``."""
    while folder != base and folder.is_relative_to(base) and _remove_empty(folder):
        folder = folder.parent
