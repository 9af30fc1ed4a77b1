"""The ``ingest`` job: one document version's bytes parsed, chunked, embedded and swapped in.

``IngestJob`` is the JobHandler a worker runs (``run``, ``give_up``); IngestionService
(ingestion.py) extends it with submitting, and runs the same steps in place for ``wait``.

Every unit of work here that writes a document's rows locks the document first
(``uow.documents.lock``): the submits and swaps of one document then run one after the
other, each deciding on what the one before committed, and always take their locks in the
same order (document, then job, then chunks), which is what keeps them free of deadlocks.
A unit of work that lost a race anyway (a deadlock, a lock not granted in time) is run
again (``retrying.retried``).

The bytes are checked against the version's SHA-256 before anything is parsed: a version
whose blob is missing or holds other bytes fails for good (``BlobCorrupted``, ``NotFound``),
naming the blob, rather than indexing content the version does not record. Submitting the
content again re-queues the version with a new blob (IngestionService.submit).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import attrs

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, DocumentStatus, sha256_hex
from tenantrag.domain.model.document_version import DocumentVersion, VersionStatus
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.ports.blob_store import BlobCorrupted, BlobStore
from tenantrag.domain.ports.chunker import Chunker
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.ports.parser import MediaTypeParser, ParsedDocument, UnparseableDocument
from tenantrag.domain.usecases import document_metadata
from tenantrag.domain.usecases.base import Service
from tenantrag.domain.usecases.chunk_builder import BuiltChunks, build_chunks
from tenantrag.domain.usecases.retrying import retried

INGEST_JOB = "ingest"


def check_not_empty(data: bytes, filename: str) -> None:
    """Refuse a file with no bytes, naming it, before anything is stored."""
    if not data:
        raise UnparseableDocument(filename, "is empty (0 bytes): there is no text to index")


def parse_checked(parser: MediaTypeParser, data: bytes, media_type: str, filename: str) -> ParsedDocument:
    """``data`` parsed, refused (naming the file) when it holds no text to index: a document
    with no chunks could never be found."""
    check_not_empty(data, filename)
    parsed = parser.parse(data, media_type, filename)
    if not parsed.text.strip():
        raise UnparseableDocument(filename, "has no text to index (only whitespace or markup)")
    return parsed


def verified(data: bytes, version: DocumentVersion) -> bytes:
    """``data`` if it is the content ``version`` records (its SHA-256), else BlobCorrupted."""
    actual = sha256_hex(data)
    if actual != version.content_sha256:
        raise BlobCorrupted(
            version.storage_key,
            f"its SHA-256 is {actual}, not the {version.content_sha256} of version {version.version}"
            " of the document; submit the content again to re-queue it",
            expected=version.content_sha256,
            actual=actual,
        )
    return data


@attrs.define
class IngestJob(Service):
    """The ``ingest`` JobHandler (see worker.JobHandler)."""

    embedder: Embedder
    chunker: Chunker
    parser: MediaTypeParser
    blobs: BlobStore

    async def run(self, job: Job) -> None:
        """Ingest the version ``job`` names; finishes the job in the swap's transaction."""
        number = job.payload.get("version")
        if isinstance(number, bool) or not isinstance(number, int) or job.document_id is None:
            raise InvalidInput(
                "job.payload", f"an ingest job names a document version, got {job.payload!r:.80}"
            )
        started = await retried(lambda: self._start(job, number), what=f"starting job {job.id}")
        if started is not None:
            await self._ingest(job, *started, new=False)

    async def _ingest(
        self,
        job: Job,
        document: Document,
        version: DocumentVersion,
        *,
        new: bool,
        parsed: ParsedDocument | None = None,
    ) -> tuple[Document, Job] | None:
        """Parse (unless ``parsed`` is given: the caller read the bytes it submitted), chunk,
        embed and swap the processing ``version``; the document and the job as the swap stored
        them (None if it stored no document)."""
        if parsed is None:
            data = verified(await self.blobs.get(job.tenant_id, version.storage_key), version)
            # In a worker thread: a parse may take seconds (a PDF waits for its child process).
            parsed = await asyncio.to_thread(
                parse_checked, self.parser, data, version.media_type, document.filename
            )
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
        return await retried(
            lambda: self._swap(job, version.version, built, parsed.title, parsed.declared),
            what=f"storing the chunks of job {job.id}",
        )

    async def give_up(self, job: Job, error: str) -> None:
        """The job will not be retried: its version, and the document, failed with ``error``."""
        number = job.payload.get("version")
        if job.document_id is None or not isinstance(number, int):
            return
        await retried(lambda: self._give_up(job, number, error), what=f"giving up job {job.id}")

    async def _give_up(self, job: Job, number: int, error: str) -> None:
        assert job.document_id is not None
        now = self.clock.now()
        async with self.uow.tenant(job.tenant_id) as uow:
            document = await uow.documents.lock(job.document_id)
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
            document = await uow.documents.lock(job.document_id)
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
            # The document first (the lock order of every writer of its rows), then the job:
            # a worker whose lease ran out stops there, holding nothing else.
            document = await uow.documents.lock(job.document_id)
            if document is None:
                return None  # deleted meanwhile (the cascade took the job too): write nothing
            summary = f"version {number}: {len(chunks)} chunks, {len(chunks) - reused} embedded"
            finished = job.finish(JobStatus.SUCCEEDED, now=now, summary=summary)
            await uow.jobs.update(finished, if_attempt=job.attempts)
            versions = {x.version: x for x in await uow.versions.list_for_document(job.document_id)}
            version = versions.get(number)
            if version is None:
                return None
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
