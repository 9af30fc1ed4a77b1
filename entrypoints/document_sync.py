"""Ingesting files so that running the same ingest twice changes nothing.

A document is known by its filename within its tenant: the same name with the same
content (SHA-256) and a completed ingestion is left alone; with other content (or a
failed or pending ingestion) it is ingested again in place, keeping its id; a new name
becomes a new document. ``tenantrag ingest`` and the demo's sample documents rely on this
to be re-runnable, and both read the tenant's documents once per run (``DocumentIndex``),
not once per file.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tenantrag.domain.model.document import Document, DocumentStatus, sha256_hex
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal


class SyncStatus(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@attrs.frozen
class SyncResult:
    status: SyncStatus
    document: Document


@attrs.define
class DocumentIndex:
    """One tenant's documents by filename (the newest, where a name repeats)."""

    rag: TenantRag
    actor: Principal
    tenant_id: uuid.UUID
    by_filename: dict[str, Document] = attrs.field(factory=dict)

    @classmethod
    async def load(
        cls, rag: TenantRag, actor: Principal, tenant_id: uuid.UUID, *, page_size: int = 500
    ) -> DocumentIndex:
        index = cls(rag, actor, tenant_id)
        cursor: str | None = None
        while True:
            page = await rag.documents.list(actor, tenant_id, PageRequest(limit=page_size, after=cursor))
            for document in page.items:  # oldest first: a later one with the same name wins
                index.by_filename[document.filename] = document
            cursor = page.next_cursor
            if cursor is None:
                return index

    async def sync(
        self,
        *,
        filename: str,
        text: str,
        media_type: str = "text/plain",
        tags: Iterable[str] = (),
        metadata: Mapping[str, Any] | None = None,
    ) -> SyncResult:
        """Make the tenant's document ``filename`` hold ``text``, ingesting only if needed."""
        existing = self.by_filename.get(filename)
        if existing is None:
            document = await self.rag.ingestion.add_text(
                self.actor, self.tenant_id, filename=filename, text=text, media_type=media_type,
                tags=tags, metadata=metadata,
            )  # fmt: skip
            status = SyncStatus.CREATED
        elif existing.content_sha256 == sha256_hex(text) and existing.status is DocumentStatus.COMPLETED:
            return SyncResult(SyncStatus.UNCHANGED, existing)
        else:
            document = await self.rag.ingestion.ingest_text(self.actor, self.tenant_id, existing.id, text)
            status = SyncStatus.UPDATED
        self.by_filename[filename] = document
        return SyncResult(status, document)
