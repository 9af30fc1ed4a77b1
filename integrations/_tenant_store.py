"""One tenant, seen by one principal, as a framework's vector store sees it: the part of the
LangChain and LlamaIndex stores that is not about either framework.

A framework's record (a LangChain ``Document``, a LlamaIndex node) is one tenantrag
document holding exactly one chunk:

- its id is the document's ``source_key`` (a document without one, added through tenantrag
  itself, is known by its document id);
- its text is the chunk, stored whole: frameworks split text themselves before it reaches a
  vector store, so the store's chunker is bypassed (``_WholeText``). Whitespace at either
  end is not kept (tenantrag's chunks never hold it), and a text with no words is refused;
- its metadata is the document's, copied onto the chunk, so the filter language's
  ``metadata.<key>`` reaches it.

Everything goes through the use cases as ``principal``: the tenant is fixed at binding, and
authorization is the domain's (a viewer cannot add, a key cannot leave its tenant).
Re-adding an id with the same text and metadata changes nothing; other text is a new
version of the document; the same text with other metadata replaces the document (deleted,
then added again: tenantrag keeps a version's metadata with its content).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.grouping import ResultUnit
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import MAX_SOURCE_KEY_LENGTH, Document
from tenantrag.domain.ports.chunker import TextSpan
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.search import SearchFilter, SearchMode
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.base import as_id
from tenantrag.domain.usecases.document_metadata import explicit_part
from tenantrag.domain.usecases.documents import StoredDocument
from tenantrag.domain.usecases.embedding_record import check_embedder
from tenantrag.domain.usecases.ingestion import IngestionService
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.search import SearchService

FILENAME = "record.txt"  # every record is read as plain text, whatever its id looks like
PLAIN_TEXT = "text/plain"

Vector = tuple[float, ...]


class _WholeText:
    """A chunker that keeps a text whole: the framework already split it."""

    def split(self, text: str) -> Sequence[TextSpan]:
        return [TextSpan(0, len(text), text)] if text else []


def check_record(key: object, text: object) -> str:
    """A record's id, checked with its text (which must hold some words)."""
    checked = check_key(key)
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("page_content", f"record {checked!r}: a record must hold some text")
    return checked


@attrs.frozen
class _Given:
    """The embedder of a record whose vector the framework already made (a LlamaIndex node's)."""

    vector: Vector
    name: str
    dimension: int

    async def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        if len(texts) != 1:  # _WholeText makes one chunk of a record
            raise InvalidInput("embedding", f"one vector was given for {len(texts)} texts")
        return [self.vector]

    async def embed_query(self, text: str) -> Vector:
        raise InvalidInput("embedding", "a record's given vector embeds no query")


@attrs.frozen
class Record:
    """A record as the stores hand it back: its id, text, the metadata it was given, its
    document, and for a search result its score and chunk."""

    key: str
    text: str
    metadata: dict[str, Any]
    document_id: uuid.UUID
    score: float = 0.0
    chunk_id: uuid.UUID | None = None


def record_of(
    document: Document, text: str, *, score: float = 0.0, chunk_id: uuid.UUID | None = None
) -> Record:
    return Record(key_of(document), text, metadata_of(document), document.id, score, chunk_id)


def key_of(document: Document) -> str:
    """A record's id: the document's source key, else its document id."""
    return document.source_key or str(document.id)


def metadata_of(document: Document) -> dict[str, Any]:
    """The metadata the record was given (without ingestion's bookkeeping)."""
    return explicit_part(document.metadata)


def search_filter(value: object) -> SearchFilter | None:
    """A filter of the filter language: its JSON form (a dict), a ``SearchFilter``, or None."""
    if value is None or isinstance(value, SearchFilter):
        return value
    if isinstance(value, Mapping):
        return SearchFilter.from_json(value)
    raise InvalidInput("filter", f"must be a filter-language object (a dict), not {type(value).__name__}")


def check_key(key: object, field: str = "ids") -> str:
    """A record id: a non-empty string, at most a source key long, without surrounding spaces."""
    checked = v.text(field, key, max_length=MAX_SOURCE_KEY_LENGTH)
    if checked != checked.strip():
        raise InvalidInput(field, f"{checked!r}: an id may not begin or end with whitespace")
    return checked


class Records(Protocol):
    """What a framework store needs of tenantrag: the library's ``TenantStore``, or the HTTP
    API's (``integrations/langchain_http.py``)."""

    @property
    def tenant_id(self) -> uuid.UUID | str: ...

    async def put(
        self,
        key: str,
        text: str,
        metadata: Mapping[str, Any],
        tags: Iterable[str] = (),
        vector: Sequence[float] | None = None,
    ) -> object: ...

    async def read(self, keys: Iterable[str]) -> list[Record]: ...

    async def delete(self, keys: Iterable[str]) -> int: ...

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
    ) -> list[Record]: ...

    async def vectors(self, found: Sequence[Record]) -> list[tuple[Record, Vector]]: ...

    async def embed_query(self, text: str) -> Vector: ...


@attrs.define
class TenantStore:
    """The library, bound to one tenant and one principal, with one embedder."""

    rag: TenantRag
    tenant_id: uuid.UUID
    principal: Principal
    embedder: Embedder
    record_searches: bool
    _ingestion: IngestionService
    _search: SearchService
    _checked: bool = False

    @classmethod
    def bind(
        cls,
        rag: TenantRag,
        tenant_id: uuid.UUID | str,
        principal: Principal,
        embedder: Embedder | None = None,
        *,
        record_searches: bool = True,
    ) -> TenantStore:
        if not isinstance(rag, TenantRag):
            raise InvalidInput(
                "rag", f"must be a TenantRag (bootstrap() makes one), not {type(rag).__name__}"
            )
        if not isinstance(principal, Principal):
            raise InvalidInput("principal", f"must be a Principal, not {type(principal).__name__}")
        chosen = embedder or rag.embedder
        if chosen.dimension != rag.uow.dimension:
            raise InvalidInput(
                "embedding",
                f"{chosen.name} makes {chosen.dimension}-dimensional vectors but the store holds "
                f"{rag.uow.dimension}-dimensional ones",
            )
        return cls(
            rag=rag,
            tenant_id=as_id("tenant_id", tenant_id),
            principal=principal,
            embedder=chosen,
            record_searches=record_searches,
            ingestion=attrs.evolve(rag.ingestion, embedder=chosen, chunker=_WholeText()),
            search=attrs.evolve(rag.search, embedder=chosen),
        )

    async def _check_embedder(self) -> None:
        """Hold the store to one model: the first use records it, another one is refused."""
        if not self._checked:
            await check_embedder(self.rag.uow, self.embedder, self.rag.ingestion.clock)
            self._checked = True

    async def put(
        self,
        key: str,
        text: str,
        metadata: Mapping[str, Any],
        tags: Iterable[str] = (),
        vector: Sequence[float] | None = None,
    ) -> Document:
        """Add or replace the record ``key`` (see the module for what changes what), embedded
        here unless its ``vector`` is given."""
        key = check_record(key, text)
        await self._check_embedder()
        wanted = dict(metadata)
        tags = v.tags("tags", tags)

        ingestion = self._ingestion
        if vector is not None:
            given = _Given(v.embedding("embedding", vector), self.embedder.name, self.embedder.dimension)
            ingestion = attrs.evolve(ingestion, embedder=given)

        async def add() -> Document:
            return await ingestion.add_text(
                self.principal, self.tenant_id, filename=FILENAME, text=text, media_type=PLAIN_TEXT,
                metadata=wanted, tags=tags, source_key=key,
            )  # fmt: skip

        document = await add()
        if metadata_of(document) != v.json_object("metadata", wanted) or document.tags != tags:
            await self.rag.documents.delete(self.principal, self.tenant_id, document.id)
            document = await add()
        return document

    async def read(self, keys: Iterable[str]) -> list[Record]:
        """The records with these ids (missing ones left out), in the order named; a document
        of several chunks (uploaded through tenantrag) gives them joined."""
        return [
            record_of(stored.document, "\n\n".join(c.content for c in sorted(stored.chunks, key=_ordinal)))
            for stored in await self._read(keys, chunks=True)
        ]

    async def _read(self, keys: Iterable[str], *, chunks: bool = False) -> list[StoredDocument]:
        wanted = [check_key(key) for key in keys]
        found = await self.rag.documents.read_many(
            self.principal, self.tenant_id, source_keys=wanted, chunks=chunks
        )
        known = {key_of(stored.document) for stored in found}
        by_id = [key for key in wanted if key not in known and is_uuid(key)]
        if by_id:
            found += await self.rag.documents.read_many(
                self.principal, self.tenant_id, ids=by_id, chunks=chunks
            )
        order = {key: place for place, key in enumerate(dict.fromkeys(wanted))}
        return sorted(found, key=lambda stored: order.get(key_of(stored.document), len(order)))

    async def delete(self, keys: Iterable[str]) -> int:
        """Delete the records with these ids; a missing one is no error. How many were deleted."""
        found = await self._read(keys)
        for stored in found:
            await self.rag.documents.delete(self.principal, self.tenant_id, stored.document.id)
        return len(found)

    async def delete_tagged(self, tag: str) -> int:
        """Delete every record carrying ``tag``; how many were deleted."""
        deleted = 0
        while True:  # each pass deletes what it listed, so the first page is always fresh
            page = await self.rag.documents.list(self.principal, self.tenant_id, tag=tag)
            for document in page:
                await self.rag.documents.delete(self.principal, self.tenant_id, document.id)
            deleted += len(page)
            if page.next_cursor is None:
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
        """Search the tenant (the library's ``search.run``); each result with its document."""
        if options:
            raise InvalidInput("search", f"unknown search options: {', '.join(sorted(options))}")
        await self._check_embedder()
        outcome = await self._search.run(
            self.principal, self.tenant_id, text=text, embedding=embedding, k=k, filter=search_filter(filter),
            mode=mode, match=match, group=group, fusion=fusion, record=self.record_searches,
        )  # fmt: skip
        if outcome.documents:
            ranked = [(document.best, document.score) for document in outcome.documents]
        else:
            ranked = [(hit, hit.score) for hit in outcome.hits]
        ids = list(dict.fromkeys(hit.document_id for hit, _ in ranked))
        stored = await self.rag.documents.read_many(self.principal, self.tenant_id, ids=ids) if ids else []
        documents = {entry.document.id: entry.document for entry in stored}
        # A document deleted between the search and the read is left out.
        return [
            record_of(documents[hit.document_id], hit.content, score=score, chunk_id=hit.chunk_id)
            for hit, score in ranked
            if hit.document_id in documents
        ]

    async def vectors(self, found: Sequence[Record]) -> list[tuple[Record, Vector]]:
        """These results with their chunks' stored embeddings (for max-marginal-relevance);
        a result whose chunk is gone meanwhile is left out."""
        ids = list(dict.fromkeys(entry.document_id for entry in found))
        stored = await self.rag.documents.read_many(self.principal, self.tenant_id, ids=ids, chunks=True)
        by_chunk = {chunk.id: chunk.embedding for entry in stored for chunk in entry.chunks}
        return [(entry, tuple(by_chunk[entry.chunk_id])) for entry in found if entry.chunk_id in by_chunk]

    async def embed_query(self, text: str) -> Vector:
        return tuple(await self.embedder.embed_query(text))


def _ordinal(chunk: Chunk) -> int:
    return chunk.ordinal


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
