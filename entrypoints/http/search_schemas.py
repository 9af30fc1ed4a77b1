"""Search and query-log bodies (see schemas.py for the conventions every body follows)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from tenantrag.domain.filtering import Filter, from_legacy
from tenantrag.domain.fusion import MAX_CANDIDATES, MAX_WEIGHT, FusionMethod
from tenantrag.domain.grouping import DocumentHit
from tenantrag.domain.model.document import Document
from tenantrag.domain.model.query_log import Feedback, QueryLog
from tenantrag.domain.search import EmptyReason, SearchHit
from tenantrag.entrypoints.http.schemas import (
    Count,
    Fraction,
    JsonObject,
    Page,
    RequestBody,
    Resource,
    Tags,
)

# --- search and query logs ----------------------------------------------------------------


class SearchFilterIn(RequestBody):
    """The earlier filter form, still accepted as ``filter`` (it is told apart by its keys,
    checked here, and translated into the filter language by ``filtering.from_legacy``)."""

    document_ids: list[uuid.UUID] | None = None
    tags_any: Tags | None = Field(default=None, description="Documents with at least one of these tags.")
    tags_all: Tags | None = Field(default=None, description="Documents with every one of these tags.")
    metadata: JsonObject = Field(default_factory=dict, description="Top-level keys that must be equal.")

    def to_filter(self) -> Filter | None:
        """The same conditions in the filter language (None: no condition)."""
        return from_legacy(self.model_dump(exclude_unset=True))


FILTER_DESCRIPTION = """Which chunks may be returned, in every mode: a JSON object of the filter
language, whose keys are ANDed (`{}` matches everything).

- `"$and": [...]`, `"$or": [...]`, `"$not": {...}`;
- `"metadata.<path>"` (dot-separated keys into the chunk's metadata, which holds its
  document's): `$eq`, `$ne`, `$in`, `$nin`, `$lt`, `$lte`, `$gt`, `$gte`, `$exists`; a bare
  value means `$eq`;
- `"document_id"`: `$eq`, `$ne`, `$in`, `$nin`; `"status"`: the same, of document statuses;
- `"tags"`: `$any`, `$all` (a bare tag means `$all` of it); `"created_at"`: the ranges, of
  ISO-8601 times with an offset.

Equality is JSON equality (`true` is not `1`); ranges compare numbers with numbers and
strings with strings (by code point). A malformed filter is a 422 whose `field` is the
offending part, e.g. `filter.$and[0].metadata.year.$gt`. The earlier form, an object of
`document_ids`, `tags_any`, `tags_all` and `metadata` (top-level equality) only, is still
accepted."""

FILTER_EXAMPLE = {
    "$and": [{"tags": {"$any": ["pets", "vets"]}}, {"metadata.year": {"$gte": 2020}}],
    "status": "completed",
}


class HybridIn(RequestBody):
    """How a hybrid search fuses its two rankings."""

    method: FusionMethod | None = Field(
        default=None,
        description="`relative_score`: each list's scores scaled to [0, 1] over its candidates, "
        "then weighted and summed; `rrf`: reciprocal rank fusion. The default is a setting "
        "(HYBRID_FUSION, relative_score).",
    )
    rrf_k: StrictInt | None = Field(
        default=None, ge=1, le=100_000, description="RRF's k; the default is a setting (HYBRID_RRF_K, 60)."
    )
    vector_weight: StrictFloat = Field(
        default=1.0, ge=0, le=MAX_WEIGHT, description="Weight of the vector list."
    )
    text_weight: StrictFloat = Field(default=1.0, ge=0, le=MAX_WEIGHT, description="Weight of the text list.")
    candidates: StrictInt | None = Field(
        default=None,
        ge=1,
        le=MAX_CANDIDATES,
        description="Candidates each ranking contributes; by default max(4k, 50).",
    )


class SearchRequest(RequestBody):
    text: str | None = Field(
        default=None,
        description="The query: natural language (`match` `any`), or the full-text syntax "
        '(`match` `websearch`: words are ANDed, `"quoted words"` is a phrase, `-word` excludes, '
        "`or` separates alternatives).",
    )
    embedding: list[StrictFloat] | None = Field(
        default=None, description="A query vector: instead of `text` (vector mode), or with it (hybrid)."
    )
    mode: Literal["vector", "text", "hybrid"] | None = Field(
        default=None,
        description="`vector` (cosine), `text` (full-text relevance) or `hybrid` (both, fused by "
        "reciprocal rank). Default: `hybrid` when `text` is given alone, `vector` when `embedding` is.",
    )
    match: Literal["any", "websearch"] = Field(
        default="any",
        description="How text and hybrid searches read `text`: `any` (natural language: a chunk "
        "holding any of its words matches; stop words dropped, words stemmed) or `websearch` "
        "(the precise syntax: every word needed, phrases, exclusions, `or`).",
    )
    group: Literal["chunks", "documents"] = Field(
        default="chunks",
        description="`chunks`: the k best chunks (`hits`). `documents`: the k best documents "
        "(`documents`), each ranked at its best chunk, with its other matching chunks; hybrid "
        "fuses the two rankings per document. `hits` then holds each document's best chunk.",
    )
    k: StrictInt = Field(
        default=10, ge=1, description="How many hits (or documents); the maximum is a setting (MAX_K)."
    )
    filter: JsonObject | None = Field(default=None, description=FILTER_DESCRIPTION, examples=[FILTER_EXAMPLE])
    hybrid: HybridIn | None = Field(default=None, description="Fusion parameters (mode `hybrid` only).")
    record: StrictBool = Field(
        default=True,
        deprecated=True,
        description="Ignored: every search is recorded as a query log, whose id is returned.",
    )


class SearchHitOut(Resource):
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    document_version: int
    ordinal: int
    content: str
    metadata: dict[str, Any]
    score: float = Field(
        description="vector: cosine similarity (-1 to 1); text: the backend's relevance (higher is "
        "better, not comparable across backends); hybrid: the fused reciprocal-rank score."
    )
    vector_rank: int | None = Field(
        default=None, description="hybrid: the hit's place in the vector ranking."
    )
    text_rank: int | None = Field(default=None, description="hybrid: the hit's place in the text ranking.")
    filename: str | None = Field(
        default=None, description="Its document's file name (null if the document was deleted meanwhile)."
    )
    title: str | None = Field(default=None, description="Its document's title (null likewise).")

    @classmethod
    def of(cls, hit: SearchHit, documents: Mapping[uuid.UUID, Document]) -> Self:
        document = documents.get(hit.document_id)
        return cls(
            chunk_id=hit.chunk_id, document_id=hit.document_id, document_version=hit.document_version,
            ordinal=hit.ordinal, content=hit.content, metadata=dict(hit.metadata), score=hit.score,
            vector_rank=hit.vector_rank, text_rank=hit.text_rank,
            filename=None if document is None else document.filename,
            title=None if document is None else document.title,
        )  # fmt: skip


class DocumentHitOut(Resource):
    document_id: uuid.UUID
    document_version: int
    score: float = Field(
        description="Its best chunk's score; hybrid: the fused reciprocal-rank score of its places "
        "in the two document rankings."
    )
    vector_rank: int | None = Field(
        default=None, description="hybrid: the document's place among documents in the vector ranking."
    )
    text_rank: int | None = Field(
        default=None, description="hybrid: the document's place among documents in the text ranking."
    )
    filename: str | None = Field(default=None, description="The document's file name.")
    title: str | None = Field(default=None, description="The document's title.")
    best: SearchHitOut = Field(description="Its best chunk.")
    chunks: list[SearchHitOut] = Field(description="Its matching chunks, best first (`best` first).")

    @classmethod
    def of(cls, found: DocumentHit, documents: Mapping[uuid.UUID, Document]) -> Self:
        best = SearchHitOut.of(found.best, documents)
        return cls(
            document_id=found.document_id, document_version=found.document_version,
            score=found.score, vector_rank=found.vector_rank, text_rank=found.text_rank,
            filename=best.filename, title=best.title, best=best,
            chunks=[SearchHitOut.of(hit, documents) for hit in found.chunks],
        )  # fmt: skip


class EmptyReasonOut(Resource):
    code: Literal["no_chunks", "filter_excludes_all", "no_matching_words", "only_stop_words"]
    message: str

    @classmethod
    def of(cls, reason: EmptyReason | None) -> Self | None:
        return None if reason is None else cls(code=reason.code.value, message=reason.message)


class SearchResponse(Resource):
    hits: list[SearchHitOut] = Field(
        description="The chunks found, best first; grouped by document, each document's best chunk."
    )
    documents: list[DocumentHitOut] | None = Field(
        default=None, description="`group` `documents`: the documents found, best first; null otherwise."
    )
    mode: Literal["vector", "text", "hybrid"] = Field(description="The mode the search ran in.")
    group: Literal["chunks", "documents"] = Field(description="What `k` counted.")
    match: Literal["any", "websearch"] | None = Field(
        default=None, description="How the text was read (text and hybrid modes); null for vector."
    )
    empty_reason: EmptyReasonOut | None = Field(
        default=None,
        description="Why nothing was found (null when something was): `no_chunks` (the tenant has "
        "none), `filter_excludes_all`, `no_matching_words`, `only_stop_words`.",
    )
    text_empty_reason: EmptyReasonOut | None = Field(
        default=None,
        description="hybrid: why the text ranking placed none of the hits (`no_matching_words`, "
        "`only_stop_words`), the vector ranking alone having ranked them; null otherwise.",
    )
    query_log_id: uuid.UUID | None = Field(
        description="The query log this search was recorded as (every search is): give feedback on it."
    )


class SourceIn(RequestBody):
    chunk_id: uuid.UUID
    score: StrictFloat


class QueryLogCreate(RequestBody):
    query: Annotated[str, Field(max_length=20_000)]
    response: Annotated[str, Field(max_length=200_000)] | None = None
    sources: list[SourceIn] = Field(default_factory=list, max_length=1000)
    latency_ms: Annotated[StrictFloat, Field(ge=0)] | None = None
    token_count: Count | None = None
    quality_score: Fraction | None = None
    metadata: JsonObject = Field(default_factory=dict)


class FeedbackIn(RequestBody):
    feedback: Feedback
    quality_score: Fraction | None = None


class SourceOut(Resource):
    chunk_id: uuid.UUID
    score: float


class QueryLogOut(Resource):
    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    query: str
    response: str | None
    sources: list[SourceOut]
    latency_ms: float | None
    token_count: int | None
    quality_score: float | None
    feedback: Feedback | None
    metadata: dict[str, Any]
    created_at: datetime
    request_id: str | None = Field(
        default=None, description="The HTTP request that made it (its `X-Request-ID`); null outside HTTP."
    )

    @classmethod
    def of(cls, log: QueryLog) -> Self:
        return cls(
            id=log.id, tenant_id=log.tenant_id, user_id=log.user_id, query=log.query, response=log.response,
            sources=[SourceOut(chunk_id=s.chunk_id, score=s.score) for s in log.sources],
            latency_ms=log.latency_ms, token_count=log.token_count, quality_score=log.quality_score,
            feedback=log.feedback, metadata=log.metadata, created_at=log.created_at,
            request_id=log.request_id,
        )  # fmt: skip


class QueryLogPage(Page[QueryLogOut]):
    pass
