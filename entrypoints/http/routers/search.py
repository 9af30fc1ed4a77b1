"""``POST /v1/tenants/{tenant}/search``: exact top-k by cosine, from text or a vector."""

from __future__ import annotations

import time

from fastapi import status

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.search import SearchFilter
from tenantrag.entrypoints.http.dependencies import App, Config, CurrentPrincipal, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import SearchHitOut, SearchRequest, SearchResponse

router = api_router(prefix="/tenants/{tenant}/search", tag="search")


@router.post("", status_code=status.HTTP_200_OK, responses=problems(400, 401, 403, 404, 422))
async def search(
    tenant: TenantId, body: SearchRequest, actor: CurrentPrincipal, rag: App, config: Config
) -> SearchResponse:
    """The `k` chunks most similar to `text` or `embedding`, filtered by documents, tags and metadata.

    With `record`, the query and its hits are also kept as a query log, whose id is
    returned so that feedback can be given on it.
    """
    # Without `k`, the default is the smaller of 10 and MAX_K (which the OpenAPI document shows).
    k = config.limits.k(body.k if "k" in body.model_fields_set else None)
    if body.record and body.text is None:
        raise InvalidInput("record", "only a text query can be recorded")
    query_filter = None
    if body.filter is not None:
        query_filter = SearchFilter(
            document_ids=body.filter.document_ids, tags_any=body.filter.tags_any,
            tags_all=body.filter.tags_all, metadata=body.filter.metadata,
        )  # fmt: skip
    started = time.perf_counter()
    hits = await rag.search.search(
        actor, tenant, text=body.text, embedding=body.embedding, k=k, filter=query_filter
    )
    log_id = None
    if body.record and body.text is not None:
        log = await rag.query_logs.record(
            actor, tenant, query=body.text, sources=[(hit.chunk_id, hit.score) for hit in hits],
            latency_ms=(time.perf_counter() - started) * 1000,
        )  # fmt: skip
        log_id = log.id
    return SearchResponse(hits=[SearchHitOut.of(hit) for hit in hits], query_log_id=log_id)
