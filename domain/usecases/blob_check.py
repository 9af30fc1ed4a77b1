"""Checking that the blob store and the database agree (``tenantrag blobs check``), and repairing.

What can disagree, although every path is written to avoid it:

- a **stray** blob: bytes no version (and no document) names. A submit writes its blob
  before its transaction and deletes it unless that transaction commits; a crash (or a
  failed delete) in between leaves one behind, and so can a delete whose blob removal
  failed after its commit, or a restored database older than its blobs;
- a **missing** blob: a version names a key with no bytes under it (a lost disk, a partial
  restore);
- a **corrupted** blob: bytes under the key that are not the version's content (the store's
  own checksum fails, or the bytes hash to something other than ``content_sha256``).

Repair deletes strays, but only those older than ``grace`` (a younger one may belong to a
submit whose transaction has not committed yet), and rewrites a missing or corrupted
version's blob from another version of the tenant with the same content, when one is
intact. What cannot be repaired is reported with the way back: submitting the content
again re-queues the version under a new blob (IngestionService.submit).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import attrs

from tenantrag.domain.errors import NotFound, PermissionDenied
from tenantrag.domain.model.document import Document, sha256_hex
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.pagination import MAX_LIMIT, Page, PageRequest
from tenantrag.domain.ports.blob_store import BlobCorrupted, BlobStore
from tenantrag.domain.usecases.base import Service
from tenantrag.domain.usecases.principal import Principal

T = TypeVar("T")

#: How old a stray blob must be before repair deletes it.
DEFAULT_GRACE = timedelta(hours=1)


class ProblemKind(enum.StrEnum):
    STRAY = "stray"
    MISSING = "missing"
    CORRUPTED = "corrupted"


@attrs.frozen
class BlobProblem:
    kind: ProblemKind
    tenant_id: uuid.UUID
    key: str
    detail: str
    document_id: uuid.UUID | None = None
    version: int | None = None
    repaired: bool = False


@attrs.frozen
class BlobReport:
    tenants: int
    blobs: int
    versions: int
    problems: tuple[BlobProblem, ...]
    # Strays younger than the grace period: perhaps a submit still in progress, left alone.
    recent_strays: int = 0

    @property
    def unrepaired(self) -> tuple[BlobProblem, ...]:
        return tuple(problem for problem in self.problems if not problem.repaired)

    @property
    def consistent(self) -> bool:
        """Nothing is left to repair (problems found and repaired count as consistent now)."""
        return not self.unrepaired


@attrs.define
class _Tally:
    repair: bool
    cutoff: datetime
    blobs: int = 0
    versions: int = 0
    recent: int = 0
    problems: list[BlobProblem] = attrs.Factory(list)


@attrs.define
class BlobCheck(Service):
    blobs: BlobStore

    async def check(
        self, actor: Principal, *, repair: bool = False, grace: timedelta = DEFAULT_GRACE
    ) -> BlobReport:
        """Compare every tenant's blobs with its versions; with ``repair``, fix what can be fixed."""
        if not actor.is_privileged:
            raise PermissionDenied("only operators (the system or a superuser) check the blob store")
        async with self.uow.system() as uow:
            known = {tenant.id for tenant in await _every(uow.tenants.list)}
        tenants = sorted(known | set(await self.blobs.tenant_ids()))
        tally = _Tally(repair=repair, cutoff=self.clock.now() - grace)
        for tenant in tenants:
            await self._check_tenant(tenant, tenant in known, tally)
        return BlobReport(len(tenants), tally.blobs, tally.versions, tuple(tally.problems), tally.recent)

    async def _check_tenant(self, tenant: uuid.UUID, exists: bool, tally: _Tally) -> None:
        versions: list[DocumentVersion] = []
        documents: list[Document] = []
        if exists:
            async with self.uow.tenant(tenant, read_only=True) as uow:
                versions = await _every(uow.repository(DocumentVersion).list)
                documents = await _every(uow.documents.list)
        tally.versions += len(versions)
        named = {version.storage_key for version in versions}
        named |= {document.storage_key for document in documents}
        await self._strays(
            tenant, named, "no version names it" if exists else "its tenant does not exist", tally
        )
        intact: dict[str, bytes] = {}
        broken: list[tuple[DocumentVersion, ProblemKind, str]] = []
        for version in versions:
            found = await self._verify(tenant, version)
            if isinstance(found, bytes):
                intact.setdefault(version.content_sha256, found)
            else:
                broken.append((version, *found))
        for version, kind, problem in broken:
            twin = intact.get(version.content_sha256)
            fixed = tally.repair and twin is not None
            if fixed and twin is not None:
                await self.blobs.put(tenant, version.storage_key, twin)
                detail = f"{problem}; rewritten from another version with the same content"
            elif twin is None:
                detail = f"{problem}; no intact copy: submit the content again to re-queue the version"
            else:
                detail = f"{problem}; another version holds the same content (--repair rewrites it)"
            tally.problems.append(
                BlobProblem(
                    kind, tenant, version.storage_key, detail, version.document_id, version.version, fixed
                )
            )

    async def _strays(self, tenant: uuid.UUID, named: set[str], why: str, tally: _Tally) -> None:
        entries = await self.blobs.entries(tenant)
        tally.blobs += len(entries)
        for entry in entries:
            if entry.key in named:
                continue
            if entry.modified_at > tally.cutoff:
                tally.recent += 1
                continue
            removed = tally.repair and await self.blobs.delete(tenant, entry.key)
            tally.problems.append(BlobProblem(ProblemKind.STRAY, tenant, entry.key, why, repaired=removed))

    async def _verify(self, tenant: uuid.UUID, version: DocumentVersion) -> bytes | tuple[ProblemKind, str]:
        """The version's bytes, if they are its content; else what is wrong."""
        try:
            data = await self.blobs.get(tenant, version.storage_key)
        except NotFound:
            return ProblemKind.MISSING, f"version {version.version}'s blob is missing"
        except BlobCorrupted as error:
            return ProblemKind.CORRUPTED, error.message
        actual = sha256_hex(data)
        if actual != version.content_sha256:
            return (
                ProblemKind.CORRUPTED,
                f"version {version.version}'s blob hashes to {actual}, not its {version.content_sha256}",
            )
        return data


async def _every(fetch: Callable[[PageRequest], Awaitable[Page[T]]]) -> list[T]:
    found: list[T] = []
    page = await fetch(PageRequest(limit=MAX_LIMIT))
    while True:
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        page = await fetch(PageRequest(limit=MAX_LIMIT, after=page.next_cursor))
