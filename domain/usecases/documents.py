"""Reading, listing and deleting documents and reading their versions and chunks."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput, NotFound
from tenantrag.domain.model.audit_entry import AuditAction
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import MAX_SOURCE_KEY_LENGTH, Document, DocumentStatus
from tenantrag.domain.model.document_version import DocumentVersion
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.blob_store import BlobStore, document_prefix
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.audit import record
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal

# How many documents one read_many may name: a batch for a framework's page of ids.
MAX_READ_MANY = 1000


@attrs.frozen
class StoredDocument:
    """A document and, when asked for, its chunks (``DocumentService.read_many``)."""

    document: Document
    chunks: tuple[Chunk, ...] = ()


@attrs.frozen
class Original:
    """A document version's bytes as uploaded, with what serving them needs."""

    version: DocumentVersion
    filename: str  # the document's
    data: bytes = attrs.field(repr=False)

    @property
    def media_type(self) -> str:
        return self.version.media_type


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

    async def read_many(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        ids: Iterable[uuid.UUID | str] = (),
        source_keys: Iterable[str] = (),
        chunks: bool = False,
    ) -> list[StoredDocument]:
        """The documents with these ids, then those with these source keys, each once and in
        the order named; a missing one is left out. With ``chunks``, each with its chunks.
        One read, for integrations that address documents by their own keys."""
        wanted = [as_id("ids", value) for value in ids]
        keys = [v.text("source_keys", key, max_length=MAX_SOURCE_KEY_LENGTH).strip() for key in source_keys]
        if len(wanted) + len(keys) > MAX_READ_MANY:
            raise InvalidInput("ids", f"name at most {MAX_READ_MANY} documents at a time")
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_READ)
            found: dict[uuid.UUID, Document] = {}
            for document_id in wanted:
                if (document := await uow.documents.get(document_id)) is not None:
                    found.setdefault(document.id, document)
            for key in keys:
                if (document := await uow.documents.get_by_source_key(key)) is not None:
                    found.setdefault(document.id, document)
            if not chunks:
                return [StoredDocument(document) for document in found.values()]
            return [
                StoredDocument(document, tuple(await uow.chunks.list_for_document(document.id)))
                for document in found.values()
            ]

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
            deleted = {"title": document.title, "source_key": document.source_key}
            now = self.clock.now()
            await record(
                uow, actor, AuditAction.DOCUMENT_DELETE, ("document", document.id), at=now, details=deleted
            )
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

    async def original(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        document_id: uuid.UUID | str,
        *,
        version: int | None = None,
    ) -> Original:
        """A version's original bytes (the latest version's without ``version``), checked
        against the checksum stored with them."""
        if version is not None:
            v.positive("version", version)
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_READ)
            document = await get_document(uow, as_id("document_id", document_id))
            versions = await uow.versions.list_for_document(document.id)
        wanted = versions[-1:] if version is None else [x for x in versions if x.version == version]
        if not wanted:
            raise NotFound("document version", f"{document.id} v{version}")
        data = await self.blobs.get(document.tenant_id, wanted[0].storage_key)
        return Original(wanted[0], document.filename, data)

    async def chunks(
        self, actor: Principal, tenant_id: uuid.UUID | str, document_id: uuid.UUID | str
    ) -> Sequence[Chunk]:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_READ)
            document = await get_document(uow, as_id("document_id", document_id))
            return await uow.chunks.list_for_document(document.id)
