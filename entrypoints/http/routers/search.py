"""``POST /v1/tenants/{tenant}/search``: vector, full-text or hybrid search, always recorded.

The body maps onto ``SearchService.run``: ``mode`` defaults to hybrid for a text alone
(the library's default stays vector), ``filter`` is the filter language (or the earlier
form, told apart by its keys), ``hybrid`` the fusion's parameters over the deployment's
defaults. Every search is recorded as a query log by the use case; its id is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import status
from pydantic import ValidationError

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering import is_legacy
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.grouping import ResultUnit
from tenantrag.domain.search import SearchFilter, SearchMode
from tenantrag.entrypoints.http.dependencies import App, Config, CurrentPrincipal, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.search_schemas import (
    DocumentHitOut,
    EmptyReasonOut,
    HybridIn,
    SearchFilterIn,
    SearchHitOut,
    SearchRequest,
    SearchResponse,
)
from tenantrag.entrypoints.observability import metrics, request_ids, tracing

router = api_router(prefix="/tenants/{tenant}/search", tag="search")


@router.post("", status_code=status.HTTP_200_OK, responses=problems(400, 401, 403, 404, 422))
async def search(
    tenant: TenantId, body: SearchRequest, actor: CurrentPrincipal, rag: App, config: Config
) -> SearchResponse:
    """The `k` best chunks (or, with `group` `documents`, documents) for `text` and/or
    `embedding`, in `mode`, among those `filter` admits.

    - `vector`: by cosine similarity to `embedding`, or to the embedding of `text`;
    - `text`: full-text matches of `text`, by relevance; `match` `any` (the default) reads it
      as natural language (any of its words), `websearch` as the precise syntax (words ANDed,
      `"a phrase"`, `-excluded`, `a or b`);
    - `hybrid` (the default for a text): both rankings fused (`hybrid.method`): by default each
      list's scores scaled to [0, 1] over its candidates, `w_vector * v + w_text * t`; or by
      reciprocal rank, `w_vector / (rrf_k + rank_vector) + w_text / (rrf_k + rank_text)`;
      per document when grouping by document.

    Each hit names its document's `filename` and `title`. An empty answer says why in
    `empty_reason`. Every search is recorded as a query log (query, mode, match, grouping,
    filter, latency, the hits' chunk ids and scores, the request's `X-Request-ID`); its id is
    returned, so that feedback can be given on it.
    """
    # Without `k`, the default is the smaller of 10 and MAX_K (which the OpenAPI document shows).
    k = config.limits.k(body.k if "k" in body.model_fields_set else None)
    mode = body.mode
    if mode is None and body.text is not None and body.embedding is None:
        mode = SearchMode.HYBRID.value
    with tracing.tracer().start_as_current_span("tenantrag.search") as span:
        span.set_attributes({"tenantrag.search.k": k, "tenantrag.search.group": body.group,
                             "db.system.name": config.backend})  # fmt: skip
        outcome = await rag.search.run(
            actor, tenant, text=body.text, embedding=body.embedding, k=k, filter=search_filter(body.filter),
            mode=mode, fusion=_fusion(body.hybrid, rag.search.fusion), match=body.match, group=body.group,
            request_id=request_ids.current(),
        )  # fmt: skip
        span.set_attributes(
            {"tenantrag.search.mode": outcome.mode.value, "tenantrag.search.hits": len(outcome.hits)}
        )
    metrics.record_search(
        mode=outcome.mode.value, group=outcome.group.value, backend=config.backend,
        tenant=metrics.tenant_label(tenant, enabled=config.metrics_tenant_labels),
        seconds=outcome.latency_ms / 1000,
    )  # fmt: skip
    # Each hit's file name and title, read in one transaction.
    ids = list(dict.fromkeys(hit.document_id for hit in outcome.hits))
    found = await rag.documents.read_many(actor, tenant, ids=ids) if ids else []
    documents = {stored.document.id: stored.document for stored in found}
    grouped = outcome.group is ResultUnit.DOCUMENTS
    return SearchResponse(
        hits=[SearchHitOut.of(hit, documents) for hit in outcome.hits],
        documents=[DocumentHitOut.of(each, documents) for each in outcome.documents] if grouped else None,
        mode=outcome.mode.value,
        group=outcome.group.value,
        match=None if outcome.match is None else outcome.match.value,
        empty_reason=EmptyReasonOut.of(outcome.empty_reason),
        text_empty_reason=EmptyReasonOut.of(outcome.text_empty),
        query_log_id=outcome.query_log_id,
    )


def search_filter(given: Mapping[str, Any] | None) -> SearchFilter | None:
    """The filter language, or the earlier form (told apart by its keys) translated into it."""
    if given is None:
        return None
    if not is_legacy(given):
        return SearchFilter.from_json(given)
    try:
        legacy = SearchFilterIn.model_validate(given)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in ("filter", *first["loc"]))
        raise InvalidInput(where, first["msg"]) from None
    return SearchFilter(where=legacy.to_filter())


def _fusion(given: HybridIn | None, default: Fusion) -> Fusion | None:
    if given is None:
        return None
    return Fusion(
        method=default.method if given.method is None else given.method,
        rrf_k=default.rrf_k if given.rrf_k is None else given.rrf_k,
        vector_weight=given.vector_weight,
        text_weight=given.text_weight,
        candidates=given.candidates,
    )
