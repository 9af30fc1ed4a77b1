"""Ingesting a document's content: idempotent by content, versioned, run as a job.

``submit`` refuses what could never be indexed (an empty file; with ``wait``, a file that
does not parse or holds no text) before anything is written, then stores the bytes and
records a pending version and an ``ingest`` job in one transaction:

- the same content as the document's latest version (by SHA-256), active or in flight
  with a job that will run it, is a no-op: no job, no embedding;
- the same content as a latest version nothing will finish (failed, or pending or
  processing without a live job) re-queues that version with a new job;
- other content under a known document (its id, or the caller's ``source_key``) is a
  new version beside the active one, which search keeps serving meanwhile.

Concurrency: the decision is made twice, first without a lock (the common "unchanged"
answer writes nothing), then in the write transaction with the document locked
(``uow.documents.lock``), so concurrent submits of one document run one after the other
and number their versions from what the one before committed. Two submits creating the
document of one ``source_key`` meet in its unique index: the loser runs again
(``retrying.retried``) and finds the winner's document (identical content: unchanged).

Blobs: each submit writes its bytes under a key of its own,
``documents/<document>/<upload id>/<name>`` (``blob_key``), before the transaction,
so two writers never share one and a row never names bytes that are not stored. If the
transaction does not commit (or decides "unchanged"), the submit deletes what it wrote;
a crash in between leaves a stray blob that ``tenantrag blobs check --repair`` sweeps.

The job runs in a worker (``run``, ingest_job.py), or at once in the caller with
``wait=True``. Parsing, chunking and embedding happen outside any transaction; the swap is
one transaction (see ingest_job.py): no moment with both versions' chunks, none with
neither, no stale chunks. A document deleted meanwhile stays deleted.
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
from tenantrag.domain.model.document import Document, sha256_hex
from tenantrag.domain.model.document_version import DocumentVersion, VersionStatus
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.blob_store import blob_key
from tenantrag.domain.ports.parser import ParsedDocument
from tenantrag.domain.usecases import document_metadata
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import as_id
from tenantrag.domain.usecases.documents import get_document
from tenantrag.domain.usecases.ingest_job import INGEST_JOB, IngestJob, check_not_empty, parse_checked
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.retrying import retried
from tenantrag.domain.usecases.submission_plan import (
    Plan,
    Step,
    checked_source_key,
    existing,
    plan,
    relabelled,
)
from tenantrag.domain.usecases.worker import describe

__all__ = ["INGEST_JOB", "IngestionService", "Submission", "SubmitOutcome"]

LEASE = timedelta(minutes=10)
GENERIC_MEDIA_TYPE = "application/octet-stream"
PLAIN_TEXT = "text/plain"
# Formats a text (not bytes) may be read as, by its name; anything else is plain text.
_TEXT_FORMATS = frozenset({"text/markdown", "text/html"})

logger = logging.getLogger(__name__)


class SubmitOutcome(enum.StrEnum):
    CREATED = "created"  # a new document
    NEW_VERSION = "new_version"  # new content for a known document
    RETRIED = "retried"  # the content of a version nothing would finish, queued again
    UNCHANGED = "unchanged"  # the content the document already has (or is ingesting)


@attrs.frozen
class Submission:
    outcome: SubmitOutcome
    document: Document
    job: Job | None  # None when unchanged


@attrs.define
class _Request:
    """One submit's input: what each run of ``_submit_once`` works from."""

    actor: Principal
    tenant: uuid.UUID
    document_id: uuid.UUID | None
    source_key: str | None
    filename: str
    data: bytes
    media_type: str
    digest: str
    title: str | None
    metadata: Mapping[str, Any] | None
    tags: Iterable[str] | None
    wait: bool
    parsed: ParsedDocument | None = None  # with wait, the content as _check read it


@attrs.frozen
class _Submitted:
    outcome: SubmitOutcome
    document: Document
    job: Job | None = None
    version: DocumentVersion | None = None
    replaced: str | None = None  # the blob key a retried version named before (now unused)


def _lost_creation(error: BaseException) -> bool:
    """Another submit created the document of this source key first: look again."""
    return isinstance(error, Conflict) and error.details.get("rule") == "documents.source_key"


@attrs.define
class IngestionService(IngestJob):
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
        request = _Request(
            actor=actor, tenant=as_id("tenant_id", tenant_id),
            document_id=None if document_id is None else as_id("document_id", document_id),
            source_key=checked_source_key(source_key), filename=filename, data=data,
            media_type=self.parser.supported(media_type or GENERIC_MEDIA_TYPE, filename),  # 415 early
            digest=sha256_hex(data), title=title, metadata=metadata,
            tags=None if tags is None else tuple(tags), wait=wait,
        )  # fmt: skip
        done = await retried(
            lambda: self._submit_once(request), what=f"submitting {filename!r}", also=_lost_creation
        )
        if done.job is None or done.version is None or request.parsed is None:
            return Submission(done.outcome, done.document, done.job)
        new = done.outcome is SubmitOutcome.CREATED
        stored = await self._run_here(done.job, done.document, done.version, new, request.parsed)
        return Submission(done.outcome, *stored)

    async def _check(self, request: _Request) -> None:
        """Refuse what could never be indexed, naming the file, before anything is written:
        an empty file; with ``wait``, one that does not parse or holds no text (parsed once,
        here, and kept for the ingest)."""
        check_not_empty(request.data, request.filename)
        if request.wait and request.parsed is None:
            # In a worker thread: a parse may take seconds (a PDF waits for its child process).
            parsed = await asyncio.to_thread(
                parse_checked, self.parser, request.data, request.media_type, request.filename
            )
            document_metadata.merged(dict(request.metadata or {}), parsed.declared)  # its size, checked
            request.parsed = parsed

    async def _submit_once(self, request: _Request) -> _Submitted:
        """One run of submit: read, store the bytes, then decide again and write under the lock."""
        async with self.uow.tenant(request.tenant) as uow:
            await authorize(uow, request.actor, Permission.DOCUMENT_WRITE)
            found = await existing(uow, request.document_id, request.source_key)
            first = None if found is None else await plan(uow, found, request.digest)
        await self._check(request)  # after authorize: who may not write learns nothing more
        if found is not None and first is not None and first.step is Step.UNCHANGED:
            return _Submitted(SubmitOutcome.UNCHANGED, found)
        ident = found.id if found is not None else new_id()
        key = blob_key(ident, new_id(), request.filename)
        # Built (so validated) before the blob is stored: bad input leaves nothing behind.
        draft = self._draft(request, ident, key) if found is None else None
        labels = None if found is None else relabelled(
            found, title=request.title, metadata=request.metadata, tags=request.tags
        )  # fmt: skip
        try:
            # Inside: a put cancelled halfway may still finish in its thread.
            await self.blobs.put(request.tenant, key, request.data)
            async with self.uow.tenant(request.tenant) as uow:
                await authorize(uow, request.actor, Permission.DOCUMENT_WRITE)
                if draft is not None:
                    done = await self._create(uow, request, draft)
                else:
                    assert labels is not None
                    done = await self._add_version(uow, request, labels, key)
                if done.job is not None:
                    await uow.commit()
        except BaseException:
            await self._discard(request.tenant, key)
            raise
        if done.outcome is SubmitOutcome.UNCHANGED:
            await self._discard(request.tenant, key)  # decided under the lock: not needed after all
        if done.replaced is not None and done.replaced != key:
            await self._discard(request.tenant, done.replaced)
        return done

    def _draft(self, request: _Request, ident: uuid.UUID, key: str) -> Document:
        now = self.clock.now()
        return Document(
            id=ident, tenant_id=request.tenant, uploaded_by=request.actor.user_id, filename=request.filename,
            title=request.title or request.filename, media_type=request.media_type,
            size_bytes=len(request.data), storage_key=key, source_key=request.source_key,
            content_sha256=request.digest, metadata=dict(request.metadata or {}),
            tags=tuple(request.tags or ()), created_at=now, updated_at=now,
        )  # fmt: skip

    def _job(self, request: _Request, document_id: uuid.UUID, number: int) -> Job:
        now = self.clock.now()
        job = Job(
            id=new_id(), tenant_id=request.tenant, document_id=document_id, kind=INGEST_JOB,
            payload={"version": number}, created_at=now, updated_at=now,
        )  # fmt: skip
        # With wait, ours from the start: no worker can take the job while we hold the lease.
        return job.start(now=now, lease_until=now + self.lease) if request.wait else job

    async def _create(self, uow: Any, request: _Request, draft: Document) -> _Submitted:
        now = self.clock.now()
        document = draft.started(now=now) if request.wait else draft
        version = DocumentVersion(
            id=new_id(), tenant_id=request.tenant, document_id=draft.id, version=1,
            content_sha256=request.digest, size_bytes=len(request.data), media_type=request.media_type,
            storage_key=draft.storage_key, created_at=now, updated_at=now,
        )  # fmt: skip
        if request.wait:  # run's first transaction, done here
            version = version.transition(VersionStatus.PROCESSING, now=now)
        job = self._job(request, draft.id, 1)
        await uow.documents.add(document)  # a source key taken meanwhile: Conflict, run again
        await uow.versions.add(version)
        await uow.jobs.add(job)
        return _Submitted(SubmitOutcome.CREATED, document, job, version)

    async def _add_version(self, uow: Any, request: _Request, labels: Document, key: str) -> _Submitted:
        now = self.clock.now()
        current = await uow.documents.lock(labels.id)
        if current is None:
            raise NotFound("document", labels.id)
        decided: Plan = await plan(uow, current, request.digest)  # for good, under the lock
        if decided.step is Step.UNCHANGED:
            return _Submitted(SubmitOutcome.UNCHANGED, current)
        if decided.retried is not None:
            version = decided.retried
            if version.status is not VersionStatus.PENDING:
                version = version.transition(VersionStatus.PENDING, now=now)
            version = attrs.evolve(version, storage_key=key, updated_at=now)
        else:
            version = DocumentVersion(
                id=new_id(), tenant_id=request.tenant, document_id=current.id, version=decided.number,
                content_sha256=request.digest, size_bytes=len(request.data), media_type=request.media_type,
                storage_key=key, created_at=now, updated_at=now,
            )  # fmt: skip
        if request.wait:
            version = version.transition(VersionStatus.PROCESSING, now=now)
        queued = current.queued(now=now)
        queued = queued.started(now=now) if request.wait else queued
        document = attrs.evolve(queued, title=labels.title, metadata=labels.metadata, tags=labels.tags)
        job = self._job(request, current.id, decided.number)
        await uow.documents.update(document)
        await (uow.versions.add if decided.retried is None else uow.versions.update)(version)
        await uow.jobs.add(job)
        if decided.retried is None:
            return _Submitted(SubmitOutcome.NEW_VERSION, document, job, version)
        return _Submitted(SubmitOutcome.RETRIED, document, job, version, decided.retried.storage_key)

    async def _discard(self, tenant: uuid.UUID, key: str) -> None:
        """Delete a blob no committed row names (best effort: a stray is swept later)."""
        try:
            await self.blobs.delete(tenant, key)
        except Exception:
            logger.warning("could not delete the unused blob %r of tenant %s", key, tenant, exc_info=True)

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
        self, job: Job, document: Document, version: DocumentVersion, new: bool, parsed: ParsedDocument
    ) -> tuple[Document, Job]:
        """Run ``job``, submitted with ``document`` and ``version`` already processing (a
        ``new`` document has no chunks yet) and its content ``parsed``, here; its outcome as stored."""
        try:
            stored = await self._ingest(job, document, version, new=new, parsed=parsed)
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
        try:
            await retried(lambda: self._fail_job(job, reason), what=f"failing job {job.id}")
        except (Conflict, NotFound):
            return  # another worker took it over, or the document is gone
        await self.give_up(job, reason)

    async def _fail_job(self, job: Job, reason: str) -> None:
        async with self.uow.tenant(job.tenant_id) as uow:
            failed = job.finish(JobStatus.FAILED, now=self.clock.now(), error=reason)
            await uow.jobs.update(failed, if_attempt=job.attempts)
            await uow.commit()
