"""Reading, listing and deleting documents and reading their versions and chunks."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import attrs

from tenantrag.domain.errors import NotFound
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, DocumentStatus
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.blob_store import BlobStore, document_prefix
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal


async def get_document(uow: TenantUnitOfWork, document_id: uuid.UUID) -> Document:
    document = await uow.documents.get(document_id)
    if document is None:
        raise NotFound("document", document_id)
    return document


@attrs.define
class DocumentService(Service):
    blobs: BlobStore

    async def get(
        self, actor: Principal, tenant_id: uuid.UUID | str, document_id: uuid.UUID | str
    ) -> Document:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_READ)
            return await get_document(uow, as_id("document_id", document_id))

    async def list(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        page: PageRequest | None = None,
        *,
        status: DocumentStatus | str | None = None,
        tag: str | None = None,
    ) -> Page[Document]:
        wanted = None if status is None else DocumentStatus.parse(status)
        async with self.uow.tenant(as_id("tenant_id", tenant_id), read_only=True) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_READ)
            return await uow.documents.list(page or PageRequest(), status=wanted, tag=tag)

    async def delete(
        self, actor: Principal, tenant_id: uuid.UUID | str, document_id: uuid.UUID | str
    ) -> None:
        """Delete a document in any state, with its versions, chunks, jobs and stored originals."""
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_DELETE)
            document = await get_document(uow, as_id("document_id", document_id))
            await uow.documents.delete(document.id)
            await uow.commit()
        # After the commit: a failure here leaves unreferenced bytes, never a row without its blob.
        await self.blobs.delete_prefix(document.tenant_id, document_prefix(document.id))

    async def versions(
        self, actor: Principal, tenant_id: uuid.UUID | str, document_id: uuid.UUID | str
    ) -> Sequence[DocumentVersion]:
        """Every version of the document, oldest first; the active one has its chunks."""
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_READ)
            document = await get_document(uow, as_id("document_id", document_id))
            return await uow.versions.list_for_document(document.id)

    async def chunks(
        self, actor: Principal, tenant_id: uuid.UUID | str, document_id: uuid.UUID | str
    ) -> Sequence[Chunk]:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_READ)
            document = await get_document(uow, as_id("document_id", document_id))
            return await uow.chunks.list_for_document(document.id)
