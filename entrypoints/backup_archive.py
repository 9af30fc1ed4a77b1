"""The backup archive: one ``.tar`` holding a store's database, its originals and its secret.

Layout (members in this order; ``manifest.json`` last, since it holds every other
member's checksum)::

    database.sqlite | database.pgdump    the database (SQLite's backup API, or pg_dump)
    blobs/<tenant_id>/<key>...           the blob folder's files as they are (checksum sidecars too)
    jwt-secret                           the development JWT secret, in development only
    manifest.json                        what is inside: counts per table, sizes and SHA-256s

A plain, uncompressed tar: ``tar tf`` lists it and ``tar xf`` unpacks it with ordinary
tools, and reading it back needs no second pass to find the manifest.

``read_archive`` unpacks into a staging folder and checks everything before the caller
touches the target: every member listed in the manifest is present, of its size and
SHA-256, and nothing else is there; member names are checked to stay inside the staging
folder, and only regular files are read (no links, devices or absolute paths).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from tenantrag.domain.errors import InvalidInput

FORMAT = "tenantrag-backup"
VERSION = 1
MANIFEST = "manifest.json"
BLOBS = "blobs"
SECRET = "jwt-secret"  # noqa: S105 - a member name, not a secret
DATABASE_MEMBERS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
_CHUNK = 1024 * 1024
_MAX_MANIFEST_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    sha256: str
    size: int


@dataclass(slots=True)
class Manifest:
    backend: str
    revision: str | None
    tables: dict[str, int]
    database: Member
    blobs: list[Member] = field(default_factory=list)
    secret: Member | None = None
    schema: str | None = None  # PostgreSQL: the schema the tables were dumped from
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "created_at": self.created_at,
            "backend": self.backend,
            "revision": self.revision,
            "schema": self.schema,
            "tables": self.tables,
            "database": _member_json(self.database),
            "blobs": {
                "count": len(self.blobs),
                "bytes": sum(blob.size for blob in self.blobs),
                "files": [_member_json(blob) for blob in self.blobs],
            },
            "jwt_secret": None if self.secret is None else _member_json(self.secret),
        }

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        try:
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise InvalidInput(
                    "file", "is not a tenantrag backup archive (its manifest names no such format)"
                )
            if data.get("version") != VERSION:
                raise InvalidInput(
                    "file",
                    f"is a backup archive of version {data.get('version')!r}; this tenantrag reads {VERSION}",
                )
            backend = str(data["backend"])
            database = _member(data["database"])
            if DATABASE_MEMBERS.get(backend) != database.name:
                raise InvalidInput("file", f"its manifest names a {backend!r} database in {database.name!r}")
            secret = data.get("jwt_secret")
            return cls(
                backend=backend,
                revision=data["revision"],
                tables={str(name): int(count) for name, count in data["tables"].items()},
                database=database,
                blobs=[_member(blob) for blob in data["blobs"]["files"]],
                secret=None if secret is None else _member(secret),
                schema=data.get("schema"),
                created_at=str(data["created_at"]),
            )
        except InvalidInput:
            raise
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InvalidInput("file", "its manifest is malformed: the archive is damaged") from None

    def members(self) -> list[Member]:
        return [self.database, *self.blobs, *([self.secret] if self.secret else [])]


def _member_json(member: Member) -> dict[str, Any]:
    return {"name": member.name, "sha256": member.sha256, "bytes": member.size}


def _member(data: Any) -> Member:
    return Member(name=_safe_name(str(data["name"])), sha256=str(data["sha256"]), size=int(data["bytes"]))


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or not path.parts or any(part in ("", ".", "..") for part in path.parts):
        raise InvalidInput("file", f"the archive names a member outside itself: {name!r:.200}")
    return str(path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- writing ------------------------------------------------------------------------------


def blob_files(folder: Path | None) -> Iterator[tuple[Path, str]]:
    """Every regular file under the blob folder with its archive name, in a stable order;
    the blob store's temporary files (``.*.tmp``, half-written) are left out."""
    if folder is None or not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if path.name.startswith(".") and path.name.endswith(".tmp"):
            continue
        yield path, f"{BLOBS}/{path.relative_to(folder).as_posix()}"


class ArchiveWriter:
    """Adds files to a new tar, recording each one's size and SHA-256 for the manifest."""

    def __init__(self, target: BinaryIO) -> None:
        self._tar = tarfile.open(fileobj=target, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115

    def add(self, path: Path, name: str) -> Member:
        digest = hashlib.sha256()
        with path.open("rb") as source:
            info = tarfile.TarInfo(name)
            info.size = os.fstat(source.fileno()).st_size
            info.mtime = int(os.fstat(source.fileno()).st_mtime)
            info.mode = 0o600
            self._tar.addfile(info, _Hashing(source, digest))
        return Member(name=name, sha256=digest.hexdigest(), size=info.size)

    def finish(self, manifest: Manifest) -> None:
        data = json.dumps(manifest.to_json(), indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        info.mtime = int(datetime.now(UTC).timestamp())
        info.mode = 0o600
        self._tar.addfile(info, io.BytesIO(data))
        self._tar.close()


class _Hashing:
    """A file object that hashes what tarfile reads from it."""

    def __init__(self, source: BinaryIO, digest: Any) -> None:
        self._source = source
        self._digest = digest

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._digest.update(data)
        return data


# --- reading ------------------------------------------------------------------------------


def is_archive(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def read_archive(path: Path, staging: Path) -> Manifest:
    """Unpack the archive at ``path`` into the empty folder ``staging``, checking every
    member against the manifest; ``InvalidInput`` (field ``file``) saying what is wrong."""
    try:
        with tarfile.open(path, mode="r:") as tar:
            members = tar.getmembers()
            manifest = _read_manifest(tar, members)
            expected = {member.name: member for member in manifest.members()}
            seen: set[str] = set()
            for info in members:
                if info.name == MANIFEST:
                    continue
                wanted = expected.get(_safe_name(info.name))
                if wanted is None or not info.isfile():
                    raise InvalidInput(
                        "file", f"the archive holds {info.name!r:.200}, which its manifest does not list"
                    )
                _extract(tar, info, wanted, staging)
                seen.add(wanted.name)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise InvalidInput(
            "file", f"cannot read the archive {path}: {error} (is it damaged or cut short?)"
        ) from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise InvalidInput(
            "file", f"the archive lacks {len(missing)} file(s) its manifest lists, e.g. {missing[0]!r}"
        )
    return manifest


def _read_manifest(tar: tarfile.TarFile, members: list[tarfile.TarInfo]) -> Manifest:
    found = [info for info in members if info.name == MANIFEST]
    if len(found) != 1 or not found[0].isfile() or found[0].size > _MAX_MANIFEST_BYTES:
        raise InvalidInput("file", "is not a tenantrag backup archive (no manifest.json)")
    extracted = tar.extractfile(found[0])
    assert extracted is not None
    try:
        data = json.loads(extracted.read())
    except ValueError:
        raise InvalidInput("file", "its manifest is not JSON: the archive is damaged") from None
    return Manifest.from_json(data)


def _extract(tar: tarfile.TarFile, info: tarfile.TarInfo, wanted: Member, staging: Path) -> None:
    if info.size != wanted.size:
        raise InvalidInput("file", f"{wanted.name} is {info.size} bytes, its manifest says {wanted.size}")
    target = staging.joinpath(*PurePosixPath(wanted.name).parts)
    if not target.resolve().is_relative_to(staging.resolve()):
        raise InvalidInput("file", f"the archive names a member outside itself: {wanted.name!r:.200}")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    source = tar.extractfile(info)
    assert source is not None
    digest = hashlib.sha256()
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != wanted.sha256:
        raise InvalidInput(
            "file", f"{wanted.name} does not match its checksum in the manifest: the archive is damaged"
        )


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
