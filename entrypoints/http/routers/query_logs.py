"""``/v1/tenants/{tenant}/query-logs``: record retrievals, read them, give feedback.

Anyone in the tenant records and reads their own logs and gives feedback on them;
admins read every log of the tenant (to evaluate retrieval quality).
"""

from __future__ import annotations

import uuid

from fastapi import status

from tenantrag.entrypoints.http.dependencies import App, CurrentPrincipal, Paging, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.search_schemas import FeedbackIn, QueryLogCreate, QueryLogOut, QueryLogPage

router = api_router(prefix="/tenants/{tenant}/query-logs", tag="query logs")


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(400, 401, 403, 404, 422))
async def record_query_log(
    tenant: TenantId, body: QueryLogCreate, actor: CurrentPrincipal, rag: App
) -> QueryLogOut:
    log = await rag.query_logs.record(
        actor, tenant, query=body.query, response=body.response,
        sources=[(s.chunk_id, s.score) for s in body.sources], latency_ms=body.latency_ms,
        token_count=body.token_count, quality_score=body.quality_score, metadata=body.metadata,
    )  # fmt: skip
    return QueryLogOut.of(log)


@router.get("", responses=problems(401, 403, 404, 422))
async def list_query_logs(tenant: TenantId, page: Paging, actor: CurrentPrincipal, rag: App) -> QueryLogPage:
    """Every query log of the tenant (admins and owners)."""
    result = await rag.query_logs.list(actor, tenant, page)
    return QueryLogPage(items=[QueryLogOut.of(q) for q in result.items], next_cursor=result.next_cursor)


@router.get("/{log_id}", responses=problems(401, 403, 404, 422))
async def get_query_log(
    tenant: TenantId, log_id: uuid.UUID, actor: CurrentPrincipal, rag: App
) -> QueryLogOut:
    return QueryLogOut.of(await rag.query_logs.get(actor, tenant, log_id))


@router.post("/{log_id}/feedback", responses=problems(400, 401, 403, 404, 422))
async def give_feedback(
    tenant: TenantId, log_id: uuid.UUID, body: FeedbackIn, actor: CurrentPrincipal, rag: App
) -> QueryLogOut:
    """Thumbs up or down, and optionally a quality score, on one of your own queries."""
    log = await rag.query_logs.give_feedback(
        actor, tenant, log_id, feedback=body.feedback, quality_score=body.quality_score
    )
    return QueryLogOut.of(log)
