"""tenantrag's LangChain store over the HTTP API of a remote ``tenantrag serve``.

``TenantRagHttpVectorStore`` is the LangChain store of ``langchain.py`` with its records kept
by a server, through ``AsyncTenantragClient`` (``integrations/http_client_async.py``), as
whatever the client's credential may do in one tenant: an API key caps the role and never
leaves its tenant, and the server's authorization decides every call.

The mapping is the library store's (a record is a document whose ``source_key`` is the
LangChain id), with what HTTP changes:

- the API has no lookup by source key, so each record also carries the tag
  ``langchain-id:<digest>``, and a record is found by listing its tag;
- the server chunks and embeds: a text longer than its chunk size becomes several chunks
  (``get_by_ids`` joins them; a search returns the chunk found), and there is no
  ``embedding=``; max-marginal relevance by query text needs the query's vector, which the
  API does not give, so only ``max_marginal_relevance_search_by_vector`` is offered;
- every search is recorded as a query log, as the server records all of them.

The client's ``httpx.AsyncClient`` belongs to the loop it is used on: the store runs every
call on its own loop thread (or ``runner=``), and ``close()`` closes the client there.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Self

import attrs
from langchain_core.embeddings import Embeddings

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput, NotFound
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.grouping import ResultUnit
from tenantrag.domain.search import SearchFilter, SearchMode
from tenantrag.domain.usecases.document_metadata import explicit_part
from tenantrag.entrypoints.http.schemas import DocumentOut
from tenantrag.integrations._loop import LoopThread, Runner
from tenantrag.integrations._tenant_store import (
    FILENAME,
    PLAIN_TEXT,
    Record,
    Vector,
    check_key,
    check_record,
    is_uuid,
)
from tenantrag.integrations.http_client_async import AsyncTenantragClient
from tenantrag.integrations.langchain import TenantRagVectorStore

__all__ = ["HttpRecords", "TenantRagHttpVectorStore", "id_tag"]


def id_tag(key: str) -> str:
    """The tag that finds the record ``key`` over HTTP (tags hold 64 characters)."""
    return "langchain-id:" + hashlib.sha256(key.encode()).hexdigest()[:40]


@attrs.define
class HttpRecords:
    """The records of one tenant of a remote server, through the HTTP client."""

    client: AsyncTenantragClient
    tenant_id: uuid.UUID | str  # the tenant's id or slug

    async def put(
        self,
        key: str,
        text: str,
        metadata: Mapping[str, Any],
        tags: Iterable[str] = (),
        vector: Sequence[float] | None = None,
    ) -> DocumentOut:
        key = check_record(key, text)
        if vector is not None:
            raise InvalidInput("embedding", "over HTTP the server embeds every text; no vector can be given")
        wanted = v.json_object("metadata", dict(metadata))
        labels = list(v.tags("tags", [id_tag(key), *tags]))

        async def add() -> DocumentOut:
            submission = await self.client.add_text(
                self.tenant_id, filename=FILENAME, text=text, media_type=PLAIN_TEXT, metadata=wanted,
                tags=labels, source_key=key, wait=True,
            )  # fmt: skip
            return submission.document

        document = await add()
        if explicit_part(document.metadata) != wanted or sorted(document.tags) != labels:
            await self.client.delete_document(self.tenant_id, document.id)
            document = await add()
        return document

    async def _find(self, key: str) -> DocumentOut | None:
        page = await self.client.list_documents(self.tenant_id, tag=id_tag(key))
        for document in page.items:
            if document.source_key == key:
                return document
        if is_uuid(key):  # a document uploaded to tenantrag itself is known by its id
            try:
                return await self.client.get_document(self.tenant_id, key)
            except NotFound:
                return None
        return None

    async def read(self, keys: Iterable[str]) -> list[Record]:
        found: list[Record] = []
        for key in dict.fromkeys(check_key(key) for key in keys):
            document = await self._find(key)
            if document is None:
                continue
            chunks = (await self.client.document_chunks(self.tenant_id, document.id)).items
            text = "\n\n".join(chunk.content for chunk in sorted(chunks, key=lambda chunk: chunk.ordinal))
            found.append(_record(document, text))
        return found

    async def delete(self, keys: Iterable[str]) -> int:
        deleted = 0
        for key in dict.fromkeys(check_key(key) for key in keys):
            document = await self._find(key)
            if document is not None:
                await self.client.delete_document(self.tenant_id, document.id)
                deleted += 1
        return deleted

    async def search(
        self,
        *,
        text: str | None = None,
        embedding: Sequence[float] | None = None,
        k: int = 4,
        filter: object = None,
        mode: SearchMode | str | None = None,
        group: ResultUnit | str = ResultUnit.CHUNKS,
        match: str | None = None,
        fusion: Fusion | None = None,
        **options: Any,
    ) -> list[Record]:
        if options:
            raise InvalidInput("search", f"unknown search options: {', '.join(sorted(options))}")
        hybrid = None
        if fusion is not None:
            hybrid = {
                "method": fusion.method.value, "rrf_k": fusion.rrf_k,
                "vector_weight": fusion.vector_weight, "text_weight": fusion.text_weight,
            }  # fmt: skip
        answer = await self.client.search(
            self.tenant_id, text, embedding=None if embedding is None else list(embedding),
            mode=str(SearchMode.parse(mode or SearchMode.VECTOR)), k=k, filter=_filter_json(filter),
            match=match, group=str(ResultUnit.parse(group)), hybrid=hybrid,
        )  # fmt: skip
        # Grouped, ``hits`` holds each document's best chunk in the documents' order.
        scores = [d.score for d in answer.documents] if answer.documents else [h.score for h in answer.hits]
        documents: dict[uuid.UUID, DocumentOut] = {}
        for hit in answer.hits:
            if hit.document_id not in documents:
                try:
                    documents[hit.document_id] = await self.client.get_document(
                        self.tenant_id, hit.document_id
                    )
                except NotFound:  # deleted since the search: left out
                    continue
        return [
            _record(documents[hit.document_id], hit.content, score=score, chunk_id=hit.chunk_id)
            for hit, score in zip(answer.hits, scores, strict=True)
            if hit.document_id in documents
        ]

    async def vectors(self, found: Sequence[Record]) -> list[tuple[Record, Vector]]:
        by_chunk: dict[uuid.UUID, Vector] = {}
        for document_id in dict.fromkeys(record.document_id for record in found):
            try:
                chunks = await self.client.document_chunks(self.tenant_id, document_id, embeddings=True)
            except NotFound:
                continue
            by_chunk |= {chunk.id: tuple(chunk.embedding or ()) for chunk in chunks.items}
        return [(record, by_chunk[record.chunk_id]) for record in found if record.chunk_id in by_chunk]

    async def embed_query(self, text: str) -> Vector:
        raise InvalidInput(
            "query",
            "over HTTP the server embeds queries and does not return their vectors: "
            "use max_marginal_relevance_search_by_vector with a vector of the server's embedder",
        )


class TenantRagHttpVectorStore(TenantRagVectorStore):
    """The LangChain store over a remote server's HTTP API, in one tenant (id or slug)."""

    def __init__(
        self, client: AsyncTenantragClient, *, tenant: uuid.UUID | str, runner: Runner | None = None
    ) -> None:
        if not isinstance(client, AsyncTenantragClient):
            raise InvalidInput("client", f"must be an AsyncTenantragClient, not {type(client).__name__}")
        self._embedding = None
        self._own_runner = LoopThread("tenantrag-langchain-http") if runner is None else None
        self._runner = runner or self._own_runner  # type: ignore[assignment]
        self._on_close = client.aclose
        self._store = HttpRecords(client, tenant)

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> Self:
        """A store (``client``, ``tenant``) holding ``texts``; the server embeds (``embedding``
        must be None)."""
        if embedding is not None:
            raise InvalidInput("embedding", "over HTTP the server embeds every text: pass None")
        store = cls(**kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store


def _record(
    document: DocumentOut, text: str, *, score: float = 0.0, chunk_id: uuid.UUID | None = None
) -> Record:
    key = document.source_key or str(document.id)
    return Record(key, text, explicit_part(document.metadata), document.id, score, chunk_id)


def _filter_json(value: object) -> dict[str, Any] | None:
    """The filter language's JSON, as the API takes it."""
    if value is None:
        return None
    if isinstance(value, SearchFilter):
        return None if value.where is None else value.where.to_json()
    if isinstance(value, Mapping):
        SearchFilter.from_json(value)  # refused here, by path, before any request
        return dict(value)
    raise InvalidInput("filter", f"must be a filter-language object (a dict), not {type(value).__name__}")
