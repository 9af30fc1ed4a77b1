"""Vector search values, filters, and the exact brute-force reference.

Every backend must return what :func:`brute_force_top_k` returns for the same
rows; the contract suite holds them to it.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document

MAX_K = 1000


def _k(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_K:
        raise InvalidInput("k", f"must be an integer from 1 to {MAX_K}, got {value!r}")
    return value


def _document_ids(values: Iterable[uuid.UUID | str] | None) -> frozenset[uuid.UUID] | None:
    field = "filter.document_ids"
    if values is None:
        return None
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInput(field, "must be a list of UUIDs")
    return frozenset(v.identifier(field, x) for x in values)


def _tags_any(values: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if values is None else v.tags("filter.tags_any", values)


def _tags_all(values: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if values is None else v.tags("filter.tags_all", values)


def _metadata_equals(values: Mapping[str, Any] | None) -> dict[str, Any]:
    return v.json_object("filter.metadata", values)


def _query_embedding(values: Iterable[float]) -> tuple[float, ...]:
    return v.embedding("embedding", values)


@attrs.frozen(kw_only=True)
class SearchFilter:
    """Which chunks may be returned. Every given condition must hold (AND).

    ``metadata`` matches chunk metadata by equality of top-level keys; ingestion
    stamps the document's metadata onto its chunks, so document-level keys match too.
    """

    document_ids: frozenset[uuid.UUID] | None = attrs.field(default=None, converter=_document_ids)
    tags_any: tuple[str, ...] | None = attrs.field(default=None, converter=_tags_any)
    tags_all: tuple[str, ...] | None = attrs.field(default=None, converter=_tags_all)
    metadata: dict[str, Any] = attrs.field(factory=dict, converter=_metadata_equals, hash=False)

    def matches(self, chunk: Chunk, document: Document) -> bool:
        if self.document_ids is not None and chunk.document_id not in self.document_ids:
            return False
        if self.tags_any is not None and not set(self.tags_any) & set(document.tags):
            return False
        if self.tags_all is not None and not set(self.tags_all) <= set(document.tags):
            return False
        meta = chunk.metadata
        return all(key in meta and meta[key] == want for key, want in self.metadata.items())


@attrs.frozen(kw_only=True)
class VectorQuery:
    embedding: tuple[float, ...] = attrs.field(converter=_query_embedding)
    k: int = attrs.field(default=10, converter=_k)
    filter: SearchFilter = attrs.field(factory=SearchFilter)

    def __attrs_post_init__(self) -> None:
        if norm(self.embedding) == 0.0:
            raise InvalidInput("embedding", "must not be the zero vector (cosine is undefined)")


@attrs.frozen(kw_only=True)
class SearchHit:
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    document_version: int
    ordinal: int
    content: str
    metadata: Mapping[str, Any] = attrs.field(hash=False)
    score: float


def norm(vector: Sequence[float]) -> float:
    return math.sqrt(math.fsum(x * x for x in vector))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    na, nb = norm(a), norm(b)
    if na == 0.0 or nb == 0.0:
        return 0.0
    return math.fsum(x * y for x, y in zip(a, b, strict=True)) / (na * nb)


def hit_order(hit: SearchHit) -> tuple[float, str]:
    """Best score first; ties broken by chunk id so every backend agrees on order."""
    return (-hit.score, str(hit.chunk_id))


def to_hit(chunk: Chunk, document: Document, score: float) -> SearchHit:
    return SearchHit(
        chunk_id=chunk.id,
        document_id=chunk.document_id,
        document_version=document.version,
        ordinal=chunk.ordinal,
        content=chunk.content,
        metadata=chunk.metadata,
        score=score,
    )


def brute_force_top_k(query: VectorQuery, rows: Iterable[tuple[Chunk, Document]]) -> list[SearchHit]:
    hits = [
        to_hit(chunk, document, cosine(query.embedding, chunk.embedding))
        for chunk, document in rows
        if query.filter.matches(chunk, document)
    ]
    hits.sort(key=hit_order)
    return hits[: query.k]
