"""Ingesting text into a document's chunks, with the status lifecycle and a job record.

The slow part (chunking and embedding) runs between two short transactions, so no
transaction is held open while an embedder is called:

1. pending -> processing, and a running ``ingest`` job;
2. chunk and embed outside any transaction;
3. replace the document's chunks, processing -> completed, job succeeded.

Any failure in 2 or 3 marks the document failed with the error, and the job failed.
A document deleted meanwhile stays deleted: step 3 finds it gone and stops.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, TenantRagError
from tenantrag.domain.model.chunk import Chunk, check_dimension
from tenantrag.domain.model.document import Document, DocumentStatus, sha256_hex
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.chunker import Chunker
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.documents import DocumentService, get_document
from tenantrag.domain.usecases.principal import Principal

INGEST_JOB = "ingest"
LEASE = timedelta(minutes=10)


@attrs.define
class IngestionService(Service):
    embedder: Embedder
    chunker: Chunker
    documents: DocumentService

    async def add_text(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        filename: str,
        text: str,
        media_type: str = "text/plain",
        title: str = "",
        metadata: Mapping[str, Any] | None = None,
        tags: Iterable[str] | None = None,
    ) -> Document:
        """Register a document for ``text`` and ingest it; returns the completed document."""
        v.text("text", text, max_length=v.MAX_TEXT_LENGTH, allow_empty=True)
        document = await self.documents.add(
            actor, tenant_id, filename=filename, media_type=media_type, title=title,
            size_bytes=len(text.encode()), content_sha256=sha256_hex(text),
            metadata=metadata, tags=tags,
        )  # fmt: skip
        return await self.ingest_text(actor, document.tenant_id, document.id, text)

    async def ingest_text(
        self, actor: Principal, tenant_id: uuid.UUID | str, document_id: uuid.UUID | str, text: str
    ) -> Document:
        v.text("text", text, max_length=v.MAX_TEXT_LENGTH, allow_empty=True)
        tenant = as_id("tenant_id", tenant_id)
        document, job = await self._start(actor, tenant, as_id("document_id", document_id), text)
        try:
            chunks = await self._chunk_and_embed(document, text)
            return await self._complete(document, job, chunks)
        except NotFound:
            raise
        except Exception as exc:
            await self._fail(document, job, exc)
            raise

    async def _start(
        self, actor: Principal, tenant_id: uuid.UUID, document_id: uuid.UUID, text: str
    ) -> tuple[Document, Job]:
        now = self.clock.now()
        async with self.uow.tenant(tenant_id) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_WRITE)
            document = await get_document(uow, document_id)
            if document.status is DocumentStatus.PROCESSING:
                raise Conflict(f"document {document.id} is already being ingested")
            if document.status is not DocumentStatus.PENDING:
                document = document.transition(DocumentStatus.PENDING, now=now)
            document = document.transition(DocumentStatus.PROCESSING, now=now)
            document = attrs.evolve(document, content_sha256=sha256_hex(text), size_bytes=len(text.encode()))
            await uow.documents.update(document)
            job = Job(
                id=new_id(), tenant_id=tenant_id, document_id=document.id, kind=INGEST_JOB,
                created_at=now, updated_at=now,
            ).start(now=now, lease_until=now + LEASE)  # fmt: skip
            await uow.jobs.add(job)
            await uow.commit()
        return document, job

    async def _chunk_and_embed(self, document: Document, text: str) -> list[Chunk]:
        spans = [span for span in self.chunker.split(text) if span.text.strip()]
        vectors = await self.embedder.embed_documents([span.text for span in spans])
        if len(vectors) != len(spans):
            raise InvalidInput("embedder", f"returned {len(vectors)} vectors for {len(spans)} chunks")
        now = self.clock.now()
        chunks = []
        for ordinal, (span, vector) in enumerate(zip(spans, vectors, strict=True)):
            check_dimension(vector, self.uow.dimension)
            chunks.append(
                Chunk(
                    id=new_id(),
                    tenant_id=document.tenant_id,
                    document_id=document.id,
                    ordinal=ordinal,
                    content=span.text,
                    content_sha256=sha256_hex(span.text),
                    embedding=vector,
                    token_count=len(span.text.split()),
                    metadata={**document.metadata, "char_start": span.start, "char_end": span.end},
                    created_at=now,
                )
            )
        return chunks

    async def _complete(self, document: Document, job: Job, chunks: list[Chunk]) -> Document:
        now = self.clock.now()
        async with self.uow.tenant(document.tenant_id) as uow:
            current = await get_document(uow, document.id)
            await uow.chunks.delete_for_document(current.id)
            await uow.chunks.add_many(chunks)
            completed = attrs.evolve(
                current.transition(DocumentStatus.COMPLETED, now=now), chunk_count=len(chunks)
            )
            await uow.documents.update(completed)
            await uow.jobs.update(
                job.finish(JobStatus.SUCCEEDED, now=now, summary=f"{len(chunks)} chunks embedded")
            )
            await uow.commit()
        return completed

    async def _fail(self, document: Document, job: Job, exc: Exception) -> None:
        reason = exc.message if isinstance(exc, TenantRagError) else f"{type(exc).__name__}: {exc}"
        now = self.clock.now()
        async with self.uow.tenant(document.tenant_id) as uow:
            current = await uow.documents.get(document.id)
            if current is None or current.status is not DocumentStatus.PROCESSING:
                return
            await uow.documents.update(
                current.transition(DocumentStatus.FAILED, now=now, error=reason[:4000])
            )
            await uow.jobs.update(job.finish(JobStatus.FAILED, now=now, error=reason[:4000]))
            await uow.commit()
