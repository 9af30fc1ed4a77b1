"""What each MCP tool does, on the library's use cases, with no MCP in sight.

Every method takes the ``Caller`` (the TenantRag and the principal of the API key that
called) and passes the principal to the use cases, so the domain's one gate
(``usecases/access.py``) decides: the key's tenant only (any other answers ``NotFound``,
as a tenant that does not exist), never above its role cap (a viewer's write is
``PermissionDenied``). ``server.py`` turns these methods into tools and their errors into
tool errors; the deployment's limits (``MAX_K``, ``MAX_PAGE_SIZE``, ``MAX_UPLOAD_BYTES``)
apply as over HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tenantrag.domain.errors import InvalidInput, NotFound
from tenantrag.domain.model.document import Document
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.search import SearchFilter
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.http.limits import Limits
from tenantrag.entrypoints.mcp.results import (
    AddedDocument,
    ChunkInfo,
    DocumentContent,
    DocumentInfo,
    DocumentList,
    SearchResult,
)
from tenantrag.entrypoints.settings import Settings

DEFAULT_K = 5  # an agent's context is small: a few passages, more on request
DEFAULT_CHUNKS = 20


@attrs.frozen
class Caller:
    """Who calls a tool, and the library it acts on."""

    rag: TenantRag
    principal: Principal


def limits_of(settings: Settings) -> Limits:
    """The deployment's limits, as the HTTP API reads them."""
    return Limits(
        max_page_size=settings.max_page_size, max_k=settings.max_k, max_upload_bytes=settings.max_upload_bytes
    )


@attrs.frozen(kw_only=True)
class Tools:
    limits: Limits

    async def tenant_id(self, caller: Caller, tenant: str | None) -> uuid.UUID:
        """The key's own tenant, or the one named (slug or id), which must be the key's."""
        if tenant is None or not tenant.strip():
            if caller.principal.tenant_id is None:
                raise InvalidInput("tenant", "name the tenant (a slug or an id)")
            return caller.principal.tenant_id
        return (await caller.rag.tenants.resolve(caller.principal, tenant)).id

    async def search(
        self,
        caller: Caller,
        *,
        query: str,
        mode: str = "hybrid",
        k: int = DEFAULT_K,
        filter: Mapping[str, Any] | None = None,
        group: str = "chunks",
        match: str = "any",
        tenant: str | None = None,
    ) -> SearchResult:
        tenant_id = await self.tenant_id(caller, tenant)
        outcome = await caller.rag.search.run(
            caller.principal, tenant_id, text=query, mode=mode, k=self.limits.k(k),
            filter=None if filter is None else SearchFilter.from_json(filter), match=match, group=group,
        )  # fmt: skip
        found = [hit.document_id for hit in outcome.hits]
        found += [document.document_id for document in outcome.documents]
        documents = await self._documents(caller, tenant_id, found)
        return SearchResult.of(tenant_id, query, outcome, documents)

    async def list_documents(
        self,
        caller: Caller,
        *,
        status: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        tenant: str | None = None,
    ) -> DocumentList:
        tenant_id = await self.tenant_id(caller, tenant)
        page = await caller.rag.documents.list(
            caller.principal, tenant_id, PageRequest(limit=self.limits.page_size(limit), after=cursor),
            status=status, tag=tag,
        )  # fmt: skip
        return DocumentList(documents=[DocumentInfo.of(d) for d in page.items], next_cursor=page.next_cursor)

    async def read_document(
        self,
        caller: Caller,
        *,
        document_id: str,
        first_chunk: int = 0,
        max_chunks: int = DEFAULT_CHUNKS,
        tenant: str | None = None,
    ) -> DocumentContent:
        if first_chunk < 0:
            raise InvalidInput("first_chunk", f"must be 0 or more, got {first_chunk}")
        if not 1 <= max_chunks <= self.limits.max_page_size:
            raise InvalidInput(
                "max_chunks", f"must be from 1 to {self.limits.max_page_size}, got {max_chunks}"
            )
        tenant_id = await self.tenant_id(caller, tenant)
        document = await caller.rag.documents.get(caller.principal, tenant_id, document_id)
        chunks = await caller.rag.documents.chunks(caller.principal, tenant_id, document.id)
        shown = chunks[first_chunk : first_chunk + max_chunks]
        end = first_chunk + len(shown)
        return DocumentContent(
            document=DocumentInfo.of(document),
            chunks=[ChunkInfo.of(chunk) for chunk in shown],
            total_chunks=len(chunks),
            next_chunk=end if shown and end < len(chunks) else None,
        )

    async def add_text_document(
        self,
        caller: Caller,
        *,
        text: str,
        filename: str,
        title: str = "",
        tags: Iterable[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        source_key: str | None = None,
        tenant: str | None = None,
    ) -> AddedDocument:
        size = len(text.encode(errors="replace"))
        if size > self.limits.max_upload_bytes:
            raise InvalidInput(
                "text",
                f"is {size} bytes; at most {self.limits.max_upload_bytes} are accepted (MAX_UPLOAD_BYTES)",
            )
        tenant_id = await self.tenant_id(caller, tenant)
        document = await caller.rag.ingestion.add_text(
            caller.principal, tenant_id, filename=filename, text=text, title=title, tags=tags,
            metadata=metadata, source_key=source_key,
        )  # fmt: skip
        return AddedDocument(document=DocumentInfo.of(document))

    async def _documents(
        self, caller: Caller, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, Document]:
        """The hits' documents, for their names (one deleted since the search is left out)."""
        documents: dict[uuid.UUID, Document] = {}
        for document_id in dict.fromkeys(ids):
            try:
                documents[document_id] = await caller.rag.documents.get(
                    caller.principal, tenant_id, document_id
                )
            except NotFound:
                continue
        return documents
