"""``/v1/tenants/{tenant}/jobs``: background work and its status (ingestion records one per run)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from tenantrag.entrypoints.http.dependencies import App, CurrentPrincipal, Paging, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import JobOut, JobPage

router = api_router(prefix="/tenants/{tenant}/jobs", tag="jobs")


@router.get("", responses=problems(401, 404, 422))
async def list_jobs(
    tenant: TenantId,
    page: Paging,
    actor: CurrentPrincipal,
    rag: App,
    document_id: Annotated[uuid.UUID | None, Query(description="Only this document's jobs.")] = None,
) -> JobPage:
    result = await rag.jobs.list(actor, tenant, page, document_id=document_id)
    return JobPage(items=[JobOut.of(j) for j in result.items], next_cursor=result.next_cursor)


@router.get("/{job_id}", responses=problems(401, 404, 422))
async def get_job(tenant: TenantId, job_id: uuid.UUID, actor: CurrentPrincipal, rag: App) -> JobOut:
    return JobOut.of(await rag.jobs.get(actor, tenant, job_id))
