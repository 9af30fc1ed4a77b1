"""Ingesting a document's content: idempotent by content, versioned, run as a job.

``submit`` stores the bytes (blob store first, so no row ever names a missing blob)
and records a pending version and an ``ingest`` job in one transaction:

- the same content as the document's latest version (by SHA-256) is a no-op: no job,
  no embedding; a failed version with that content is retried instead;
- other content under a known document (its id, or the caller's ``source_key``) is a
  new version beside the active one, which search keeps serving meanwhile.

The job runs in a worker (``run``, the JobHandler for ``ingest``), or at once in the
caller with ``wait=True``. Parsing, chunking and embedding happen outside any
transaction; the swap is one transaction that first takes the job (a worker whose
lease ran out cannot finish it, see JobRepository.update), then replaces the chunks,
marks the version active and the one before superseded, and completes the document:
no moment with both versions' chunks, none with neither, no stale chunks. A document
deleted meanwhile stays deleted: the swap finds it gone and writes nothing.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import Conflict, InvalidInput, NotFound
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import MAX_SOURCE_KEY_LENGTH, Document, DocumentStatus, sha256_hex
from tenantrag.domain.model.document_version import DocumentVersion, VersionStatus
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.blob_store import BlobStore, blob_key
from tenantrag.domain.ports.chunker import Chunker
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.ports.parser import MediaTypeParser
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.usecases import document_metadata
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.chunk_builder import BuiltChunks, build_chunks
from tenantrag.domain.usecases.documents import get_document
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.worker import describe

INGEST_JOB = "ingest"
LEASE = timedelta(minutes=10)
GENERIC_MEDIA_TYPE = "application/octet-stream"
PLAIN_TEXT = "text/plain"
# Formats a text (not bytes) may be read as, by its name; anything else is plain text.
_TEXT_FORMATS = frozenset({"text/markdown", "text/html"})
_LIVE = (VersionStatus.PENDING, VersionStatus.PROCESSING, VersionStatus.ACTIVE)

logger = logging.getLogger(__name__)


class SubmitOutcome(enum.StrEnum):
    CREATED = "created"  # a new document
    NEW_VERSION = "new_version"  # new content for a known document
    RETRIED = "retried"  # the content of a failed version, queued again
    UNCHANGED = "unchanged"  # the content the document already has (or is ingesting)


@attrs.frozen
class Submission:
    outcome: SubmitOutcome
    document: Document
    job: Job | None  # None when unchanged


@attrs.define
class IngestionService(Service):
    embedder: Embedder
    chunker: Chunker
    parser: MediaTypeParser
    blobs: BlobStore
    lease: timedelta = LEASE

    # --- submitting -----------------------------------------------------------------

    async def submit(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        filename: str,
        data: bytes,
        media_type: str | None = None,
        source_key: str | None = None,
        document_id: uuid.UUID | str | None = None,
        title: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        wait: bool = False,
    ) -> Submission:
        """Add content as a document (or a new version of the one ``document_id`` or
        ``source_key`` names) and queue its ingestion; with ``wait``, ingest it here."""
        if not isinstance(data, bytes):
            raise InvalidInput("data", f"must be bytes, got {type(data).__name__}")
        document_metadata.check_explicit(metadata)
        tenant = as_id("tenant_id", tenant_id)
        known = None if document_id is None else as_id("document_id", document_id)
        resolved = self.parser.resolve(media_type or GENERIC_MEDIA_TYPE, filename)
        digest = sha256_hex(data)
        async with self.uow.tenant(tenant) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_WRITE)
            existing = await _existing(uow, known, source_key)
            versions = [] if existing is None else list(await uow.versions.list_for_document(existing.id))
        latest = versions[-1] if versions else None
        retry = False
        if existing is not None and latest is not None and latest.content_sha256 == digest:
            if latest.status in _LIVE:
                return Submission(SubmitOutcome.UNCHANGED, existing, None)
            retry = latest.status is VersionStatus.FAILED
        number = (latest.version if retry else latest.version + 1) if latest is not None else 1
        ident = existing.id if existing is not None else new_id()
        key = blob_key(ident, number, filename)
        now = self.clock.now()
        # Built (so validated) before the blob is stored: bad input leaves nothing behind.
        if existing is None:
            draft = Document(
                id=ident, tenant_id=tenant, uploaded_by=actor.user_id, filename=filename,
                title=title or filename, media_type=resolved, size_bytes=len(data),
                storage_key=key, source_key=source_key, content_sha256=digest,
                metadata=dict(metadata or {}), tags=tuple(tags or ()), created_at=now, updated_at=now,
            )  # fmt: skip
        else:
            draft = _relabelled(existing, title=title, metadata=metadata, tags=tags)
        if latest is not None and retry:
            version = latest.transition(VersionStatus.PENDING, now=now)
        else:
            version = DocumentVersion(
                id=new_id(), tenant_id=tenant, document_id=ident, version=number, content_sha256=digest,
                size_bytes=len(data), media_type=resolved, storage_key=key, created_at=now, updated_at=now,
            )  # fmt: skip
        job = Job(
            id=new_id(), tenant_id=tenant, document_id=ident, kind=INGEST_JOB,
            payload={"version": number}, created_at=now, updated_at=now,
        )  # fmt: skip
        if wait:
            # Ours from the start: no worker can take the job while we hold the lease, so the
            # version (and below the document) start processing here: run's first transaction.
            job = job.start(now=now, lease_until=now + self.lease)
            version = version.transition(VersionStatus.PROCESSING, now=now)
        await self.blobs.put(tenant, key, data)

        async with self.uow.tenant(tenant) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_WRITE)
            if existing is None:
                document = draft.started(now=now) if wait else draft
                await uow.documents.add(document)
                outcome = SubmitOutcome.CREATED
            else:
                current = (await get_document(uow, existing.id)).queued(now=now)
                current = current.started(now=now) if wait else current
                document = attrs.evolve(current, title=draft.title, metadata=draft.metadata, tags=draft.tags)
                await uow.documents.update(document)
                outcome = SubmitOutcome.RETRIED if retry else SubmitOutcome.NEW_VERSION
            await (uow.versions.update if retry else uow.versions.add)(version)
            await uow.jobs.add(job)
            await uow.commit()
        if not wait:
            return Submission(outcome, document, job)
        return Submission(outcome, *await self._run_here(job, document, version, new=existing is None))

    async def add_text(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        filename: str,
        text: str,
        media_type: str | None = None,
        title: str = "",
        metadata: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
        source_key: str | None = None,
    ) -> Document:
        """Add a document holding ``text`` and ingest it here; returns the completed document.

        Without ``media_type`` the text is read as its ``filename`` (else ``source_key``)
        says: Markdown for ``.md``, HTML for ``.html``, plain text otherwise.
        """
        v.text("text", text, max_length=v.MAX_TEXT_LENGTH, allow_empty=True)
        media_type = media_type or self.text_media_type(filename, source_key)
        submission = await self.submit(
            actor, tenant_id, filename=filename, data=text.encode(), media_type=media_type,
            title=title, metadata=metadata, tags=tags, source_key=source_key, wait=True,
        )  # fmt: skip
        return submission.document

    def text_media_type(self, *names: str | None) -> str:
        """How a text named ``names`` is read: the first name's format that is a text format
        (Markdown, HTML), else plain text. A ``.pdf`` name does not make a text a PDF."""
        for name in names:
            if name:
                resolved = self.parser.resolve(GENERIC_MEDIA_TYPE, name)
                if resolved in _TEXT_FORMATS:
                    return resolved
        return PLAIN_TEXT

    async def ingest_text(
        self, actor: Principal, tenant_id: uuid.UUID | str, document_id: uuid.UUID | str, text: str
    ) -> Document:
        """Give a known document the content ``text`` (a new version, unless it is the same)."""
        v.text("text", text, max_length=v.MAX_TEXT_LENGTH, allow_empty=True)
        tenant = as_id("tenant_id", tenant_id)
        async with self.uow.tenant(tenant) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_WRITE)
            document = await get_document(uow, as_id("document_id", document_id))
        submission = await self.submit(
            actor, tenant, filename=document.filename, data=text.encode(), media_type=document.media_type,
            document_id=document.id, wait=True,
        )  # fmt: skip
        return submission.document

    async def _run_here(
        self, job: Job, document: Document, version: DocumentVersion, *, new: bool
    ) -> tuple[Document, Job]:
        """Run ``job``, submitted with ``document`` and ``version`` already processing (a
        ``new`` document has no chunks yet), here; its outcome as stored."""
        try:
            stored = await self._ingest(job, document, version, new=new)
        except Exception as exc:
            await self._fail_here(job, exc)
            raise
        if stored is not None:
            return stored
        async with self.uow.tenant(job.tenant_id) as uow:  # superseded or deleted: read back
            current = await uow.documents.get(job.document_id) if job.document_id else None
            finished = await uow.jobs.get(job.id)
        if current is None or finished is None:
            raise NotFound("document", job.document_id)
        return current, finished

    async def _fail_here(self, job: Job, exc: Exception) -> None:
        reason = v.error_text(describe(exc))
        async with self.uow.tenant(job.tenant_id) as uow:
            try:
                await uow.jobs.update(
                    job.finish(JobStatus.FAILED, now=self.clock.now(), error=reason), if_attempt=job.attempts
                )
            except (Conflict, NotFound):
                return  # another worker took it over, or the document is gone
            await uow.commit()
        await self.give_up(job, reason)

    # --- the job (JobHandler) -------------------------------------------------------

    async def run(self, job: Job) -> None:
        """Ingest the version ``job`` names; finishes the job in the swap's transaction."""
        number = job.payload.get("version")
        if isinstance(number, bool) or not isinstance(number, int) or job.document_id is None:
            raise InvalidInput(
                "job.payload", f"an ingest job names a document version, got {job.payload!r:.80}"
            )
        started = await self._start(job, number)
        if started is not None:
            await self._ingest(job, *started, new=False)

    async def _ingest(
        self, job: Job, document: Document, version: DocumentVersion, *, new: bool
    ) -> tuple[Document, Job] | None:
        """Parse, chunk, embed and swap the processing ``version``; the document and the job
        as the swap stored them (None if it stored no document)."""
        number = version.version
        data = await self.blobs.get(job.tenant_id, version.storage_key)
        # In a worker thread: a parse may take seconds (a PDF waits for its child process).
        parsed = await asyncio.to_thread(self.parser.parse, data, version.media_type, document.filename)
        # Checked (its size) before anything is embedded; the swap merges again, into the
        # document as it is then.
        metadata = document_metadata.merged(document.metadata, parsed.declared)
        current: list[Chunk] = []
        if not new:  # a document created with this version has no chunks to reuse
            async with self.uow.tenant(job.tenant_id) as uow:
                current = list(await uow.chunks.list_for_document(document.id))
        built = await build_chunks(
            attrs.evolve(document, metadata=document_metadata.for_chunks(metadata)), parsed,
            chunker=self.chunker, embedder=self.embedder, current=current,
            dimension=self.uow.dimension, now=self.clock.now(),
        )  # fmt: skip
        return await self._swap(job, number, built, parsed.title, parsed.declared)

    async def give_up(self, job: Job, error: str) -> None:
        """The job will not be retried: its version, and the document, failed with ``error``."""
        number = job.payload.get("version")
        if job.document_id is None or not isinstance(number, int):
            return
        now = self.clock.now()
        async with self.uow.tenant(job.tenant_id) as uow:
            document = await uow.documents.get(job.document_id)
            version = await uow.versions.get(job.document_id, number)
            if document is None or version is None or not version.in_flight:
                return
            await uow.versions.update(version.transition(VersionStatus.FAILED, now=now, error=error))
            others = [x for x in await uow.versions.list_for_document(document.id) if x.version != number]
            if document.status is not DocumentStatus.FAILED and not any(x.in_flight for x in others):
                await uow.documents.update(document.failed(now=now, error=error))
            await uow.commit()

    async def _start(self, job: Job, number: int) -> tuple[Document, DocumentVersion] | None:
        now = self.clock.now()
        assert job.document_id is not None
        async with self.uow.tenant(job.tenant_id) as uow:
            document = await uow.documents.get(job.document_id)
            version = await uow.versions.get(job.document_id, number)
            if document is None or version is None:
                return None  # deleted: the cascade took the job too
            if not version.in_flight:
                await uow.jobs.update(
                    job.finish(JobStatus.CANCELLED, now=now, summary=f"version {number} is {version.status}"),
                    if_attempt=job.attempts,
                )
                await uow.commit()
                return None
            if version.status is VersionStatus.PENDING:
                version = version.transition(VersionStatus.PROCESSING, now=now)
                await uow.versions.update(version)
            if document.status is not DocumentStatus.PROCESSING:
                document = document.started(now=now)
                await uow.documents.update(document)
            await uow.commit()
        return document, version

    async def _swap(
        self, job: Job, number: int, built: BuiltChunks, title: str | None, declared: Mapping[str, Any]
    ) -> tuple[Document, Job] | None:
        now = self.clock.now()
        chunks, reused = built.chunks, built.reused
        assert job.document_id is not None
        async with self.uow.tenant(job.tenant_id) as uow:
            summary = f"version {number}: {len(chunks)} chunks, {len(chunks) - reused} embedded"
            # First, so that a worker whose lease ran out stops here, holding nothing.
            finished = job.finish(JobStatus.SUCCEEDED, now=now, summary=summary)
            await uow.jobs.update(finished, if_attempt=job.attempts)
            document = await uow.documents.get(job.document_id)
            versions = {x.version: x for x in await uow.versions.list_for_document(job.document_id)}
            version = versions.get(number)
            if document is None or version is None:
                return None  # deleted meanwhile: roll back, write nothing
            if any(x.status is VersionStatus.ACTIVE and x.version > number for x in versions.values()):
                # A newer version finished first (several workers): this one is history already.
                await uow.versions.update(version.transition(VersionStatus.SUPERSEDED, now=now))
                await uow.commit()
                return None
            await uow.chunks.delete_for_document(document.id)
            await uow.chunks.add_many(chunks)
            for other in versions.values():
                if other.status is VersionStatus.ACTIVE:
                    await uow.versions.update(other.transition(VersionStatus.SUPERSEDED, now=now))
            active = version.activate(now=now, chunk_count=len(chunks), reused_chunks=reused)
            await uow.versions.update(active)
            newer_queued = any(x.in_flight and x.version > number for x in versions.values())
            activated = document.activate(active, now=now, parsed_title=title, newer_queued=newer_queued)
            metadata = document_metadata.merged(activated.metadata, declared)
            completed = attrs.evolve(activated, metadata=metadata)
            await uow.documents.update(completed)
            await uow.commit()
        return completed, finished


async def _existing(
    uow: TenantUnitOfWork, document_id: uuid.UUID | None, source_key: str | None
) -> Document | None:
    if document_id is not None:
        document = await get_document(uow, document_id)
        if source_key is not None and document.source_key not in (None, source_key):
            raise InvalidInput(
                "source_key", f"document {document_id} has the source key {document.source_key!r}"
            )
        return document
    if source_key is None:
        return None
    return await uow.documents.get_by_source_key(
        v.text("source_key", source_key, max_length=MAX_SOURCE_KEY_LENGTH).strip()
    )


def _relabelled(
    document: Document,
    *,
    title: str | None,
    metadata: Mapping[str, Any] | None,
    tags: Iterable[str] | None,
) -> Document:
    """``document`` with the title, metadata and tags given with its new content (None: kept)."""
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = title or document.filename
    if metadata is not None:
        changes["metadata"] = dict(metadata)
    if tags is not None:
        changes["tags"] = tuple(tags)
    return attrs.evolve(document, **changes)
