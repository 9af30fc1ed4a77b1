"""What the MCP tools answer: one pydantic model per tool (the structured output, whose JSON
schema the server publishes as the tool's ``outputSchema``), and its text for the model.

An agent's LLM reads the text content; its host program reads the structured content. So
the text is written for reading (sources first, then the passage, numbered, with the ids
needed to follow up with another tool), and the structure carries every field.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field

from tenantrag.domain.grouping import DocumentHit
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.search import EmptyReason, SearchHit
from tenantrag.domain.usecases.search import SearchOutcome


class DocumentInfo(BaseModel):
    """A document, without its text (``read_document`` gives the text)."""

    id: uuid.UUID
    filename: str
    title: str
    media_type: str
    status: str = Field(description="pending, processing, completed (searchable) or failed.")
    tags: list[str]
    metadata: dict[str, Any]
    source_key: str | None
    version: int
    chunk_count: int
    size_bytes: int
    error_message: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, document: Document) -> Self:
        return cls(
            id=document.id, filename=document.filename, title=document.title,
            media_type=document.media_type, status=document.status.value, tags=list(document.tags),
            metadata=dict(document.metadata), source_key=document.source_key, version=document.version,
            chunk_count=document.chunk_count, size_bytes=document.size_bytes,
            error_message=document.error_message, created_at=document.created_at,
            updated_at=document.updated_at,
        )  # fmt: skip

    def line(self) -> str:
        """One line: id, name, title, status, size, tags."""
        title = f' "{self.title}"' if self.title else ""
        tags = f", tags: {', '.join(self.tags)}" if self.tags else ""
        error = f", error: {self.error_message}" if self.error_message else ""
        return f"{self.id} {self.filename}{title} [{self.status}, {self.chunk_count} chunks{tags}{error}]"


class Hit(BaseModel):
    """One chunk found, with where it comes from."""

    chunk_id: uuid.UUID
    document_id: uuid.UUID
    document_version: int
    ordinal: int = Field(description="The chunk's place in its document (0 first).")
    score: float = Field(description="vector: cosine; text: BM25; hybrid: the fused score.")
    content: str
    metadata: dict[str, Any]
    vector_rank: int | None = Field(default=None, description="hybrid: its place in the vector ranking.")
    text_rank: int | None = Field(default=None, description="hybrid: its place in the text ranking.")
    filename: str | None = Field(default=None, description="Its document's file name.")
    title: str | None = Field(default=None, description="Its document's title.")

    @classmethod
    def of(cls, hit: SearchHit, documents: Mapping[uuid.UUID, Document]) -> Self:
        document = documents.get(hit.document_id)
        return cls(
            chunk_id=hit.chunk_id, document_id=hit.document_id, document_version=hit.document_version,
            ordinal=hit.ordinal, score=hit.score, content=hit.content, metadata=dict(hit.metadata),
            vector_rank=hit.vector_rank, text_rank=hit.text_rank,
            filename=None if document is None else document.filename,
            title=None if document is None else document.title,
        )  # fmt: skip

    def source(self) -> str:
        name = self.filename or "(deleted document)"
        title = f' "{self.title}"' if self.title else ""
        return f"{name}{title}, document {self.document_id}"


class DocumentResult(BaseModel):
    """A document found (``group="documents"``), ranked at its best chunk."""

    document_id: uuid.UUID
    document_version: int
    score: float
    vector_rank: int | None = None
    text_rank: int | None = None
    filename: str | None = None
    title: str | None = None
    chunks: list[Hit] = Field(description="Its matching chunks, best first.")

    @classmethod
    def of(cls, found: DocumentHit, documents: Mapping[uuid.UUID, Document]) -> Self:
        document = documents.get(found.document_id)
        return cls(
            document_id=found.document_id, document_version=found.document_version, score=found.score,
            vector_rank=found.vector_rank, text_rank=found.text_rank,
            filename=None if document is None else document.filename,
            title=None if document is None else document.title,
            chunks=[Hit.of(hit, documents) for hit in found.chunks],
        )  # fmt: skip


class Reason(BaseModel):
    """Why a search found nothing."""

    code: str = Field(description="no_chunks, filter_excludes_all, no_matching_words or only_stop_words.")
    message: str

    @classmethod
    def of(cls, reason: EmptyReason | None) -> Self | None:
        return None if reason is None else cls(code=reason.code.value, message=reason.message)


class SearchResult(BaseModel):
    """The answer of ``search``."""

    tenant_id: uuid.UUID
    query: str
    mode: str
    group: str
    match: str | None
    hits: list[Hit] = Field(description="The chunks found, best first (grouped: each document's best).")
    documents: list[DocumentResult] = Field(description="group=documents: the documents found, best first.")
    empty_reason: Reason | None = Field(description="Why nothing was found (null when something was).")
    text_empty_reason: Reason | None = Field(
        description="hybrid: why the text ranking placed none of the hits (null otherwise)."
    )
    query_log_id: uuid.UUID | None = Field(description="The search's query log.")

    @classmethod
    def of(
        cls, tenant_id: uuid.UUID, query: str, outcome: SearchOutcome, documents: Mapping[uuid.UUID, Document]
    ) -> Self:
        return cls(
            tenant_id=tenant_id, query=query, mode=outcome.mode.value, group=outcome.group.value,
            match=None if outcome.match is None else outcome.match.value,
            hits=[Hit.of(hit, documents) for hit in outcome.hits],
            documents=[DocumentResult.of(found, documents) for found in outcome.documents],
            empty_reason=Reason.of(outcome.empty_reason), text_empty_reason=Reason.of(outcome.text_empty),
            query_log_id=outcome.query_log_id,
        )  # fmt: skip

    def text(self) -> str:
        how = f"{self.mode} search" + (f", match {self.match}" if self.match else "")
        if self.empty_reason is not None:
            reason = self.empty_reason
            return f"Nothing found for {self.query!r} ({how}): {reason.message} [{reason.code}]."
        lines: list[str] = []
        if self.group == "documents":
            lines.append(f"{len(self.documents)} documents for {self.query!r} ({how}), best first:")
            for rank, found in enumerate(self.documents, 1):
                best = found.chunks[0]
                matching = f"{len(found.chunks)} matching chunks"
                lines.append(f"\n[{rank}] {best.source()} (score {found.score:.4g}, {matching})")
                lines.extend(
                    f"--- chunk {hit.ordinal} (score {hit.score:.4g}) ---\n{hit.content}"
                    for hit in found.chunks
                )
        else:
            lines.append(f"{len(self.hits)} passages for {self.query!r} ({how}), best first:")
            for rank, hit in enumerate(self.hits, 1):
                lines.append(
                    f"\n[{rank}] {hit.source()}, chunk {hit.ordinal} (score {hit.score:.4g})\n{hit.content}"
                )
        if self.text_empty_reason is not None:
            lines.append(f"\n(The text ranking found none of these: {self.text_empty_reason.message}.)")
        return "\n".join(lines)


class DocumentList(BaseModel):
    """The answer of ``list_documents``."""

    documents: list[DocumentInfo]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page (null: no more).")

    def text(self) -> str:
        if not self.documents:
            return "No documents."
        lines = [f"{len(self.documents)} documents (id, file name, title, status):"]
        lines.extend(f"- {document.line()}" for document in self.documents)
        if self.next_cursor is not None:
            lines.append(f"More: call list_documents again with cursor={self.next_cursor!r}.")
        return "\n".join(lines)


class ChunkInfo(BaseModel):
    """One chunk of a document: a passage of its text."""

    id: uuid.UUID
    ordinal: int
    content: str
    metadata: dict[str, Any]

    @classmethod
    def of(cls, chunk: Chunk) -> Self:
        return cls(id=chunk.id, ordinal=chunk.ordinal, content=chunk.content, metadata=dict(chunk.metadata))


class DocumentContent(BaseModel):
    """The answer of ``read_document``: the document and a range of its chunks, in order."""

    document: DocumentInfo
    chunks: list[ChunkInfo]
    total_chunks: int
    next_chunk: int | None = Field(description="Pass as `first_chunk` to read on (null: the end).")

    def text(self) -> str:
        lines = [f"Document {self.document.line()}"]
        if self.document.metadata:
            lines.append(f"metadata: {json.dumps(self.document.metadata, ensure_ascii=False, default=str)}")
        if not self.chunks:
            lines.append(
                "(no chunks in this range)" if self.total_chunks else "(no text: nothing ingested yet)"
            )
        lines.extend(
            f"--- chunk {chunk.ordinal} of {self.total_chunks} ---\n{chunk.content}" for chunk in self.chunks
        )
        if self.next_chunk is not None:
            lines.append(f"More: call read_document again with first_chunk={self.next_chunk}.")
        return "\n".join(lines)


class AddedDocument(BaseModel):
    """The answer of ``add_text_document``."""

    document: DocumentInfo

    def text(self) -> str:
        searchable = "searchable now" if self.document.status == "completed" else self.document.status
        return f"Added document {self.document.line()}: {searchable}."
