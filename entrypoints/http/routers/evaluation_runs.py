"""``/v1/tenants/{tenant}/evaluation-runs``: a tenant's retrieval-quality measurements.

Admins and owners list and read the runs (``evaluation:read``) and start one
(``evaluation:run``): the body carries the test collection as the files' text (BEIR JSONL
queries; BEIR TSV or TREC qrels), read by the same parsers as ``tenantrag eval``, and the
run is measured within the request. The list leaves out each run's per-query metrics; a
single run has them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

from fastapi import status
from pydantic import Field, StrictInt

from tenantrag.adapters.evaluation_files import parse_qrels, parse_queries
from tenantrag.domain.model.evaluation_run import EvaluationRun
from tenantrag.domain.search import SearchMode
from tenantrag.domain.usecases.evaluation import DEFAULT_K
from tenantrag.entrypoints.http.dependencies import App, Config, CurrentPrincipal, Paging, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import Page, RequestBody, Resource

router = api_router(prefix="/tenants/{tenant}/evaluation-runs", tag="evaluation runs")


class EvaluationRunIn(RequestBody):
    queries: str = Field(
        min_length=1,
        description='The queries file\'s text: BEIR JSON Lines, {"_id": ..., "text": ...} a line.',
    )
    qrels: str = Field(
        min_length=1,
        description="The qrels file's text: BEIR TSV (query-id, corpus-id, score, with its header) or TREC"
        " (qid 0 docid rel). Document ids are the documents' source keys, or their ids.",
    )
    modes: list[SearchMode] = Field(default=[SearchMode.HYBRID], min_length=1, max_length=3)
    k: StrictInt = Field(
        default=DEFAULT_K, description="Documents retrieved per query (Recall@100 needs 100)."
    )
    queries_name: str = Field(default="queries", min_length=1, max_length=255, description="Named in errors.")
    qrels_name: str = Field(default="qrels", min_length=1, max_length=255, description="Named in errors.")


class EvaluationRunSummary(Resource):
    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    modes: list[str]
    parameters: dict[str, Any] = Field(
        description="Modes, k, grouping, embedder, files and their digests, warnings."
    )
    metrics: dict[str, Any] = Field(
        description="Per mode: mean ndcg@10, recall@100 and mrr@10 over the judged queries, and their count."
    )
    created_at: datetime

    @classmethod
    def of(cls, run: EvaluationRun) -> Self:
        return cls(
            id=run.id, tenant_id=run.tenant_id, user_id=run.user_id, modes=list(run.modes),
            parameters=run.parameters, metrics=run.metrics, created_at=run.created_at,
        )  # fmt: skip


class EvaluationRunOut(EvaluationRunSummary):
    per_query: dict[str, Any] = Field(
        description="Per mode, per query id: ndcg@10, recall@100, mrr@10, hits."
    )

    @classmethod
    def of(cls, run: EvaluationRun) -> Self:
        return cls(**EvaluationRunSummary.of(run).model_dump(), per_query=run.per_query)


class EvaluationRunPage(Page[EvaluationRunSummary]):
    pass


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(400, 401, 403, 404, 413, 422))
async def run_evaluation(
    tenant: TenantId, body: EvaluationRunIn, actor: CurrentPrincipal, rag: App, config: Config
) -> EvaluationRunOut:
    """Measure retrieval on a test collection in each mode and store the run (admins and owners)."""
    k = config.limits.k(body.k)
    queries = parse_queries(body.queries, name=body.queries_name)
    qrels = parse_qrels(body.qrels, name=body.qrels_name)
    run = await rag.evaluations.run(actor, tenant, queries=queries, qrels=qrels, modes=body.modes, k=k)
    return EvaluationRunOut.of(run)


@router.get("", responses=problems(401, 403, 404, 422))
async def list_evaluation_runs(
    tenant: TenantId, page: Paging, actor: CurrentPrincipal, rag: App
) -> EvaluationRunPage:
    """The tenant's evaluation runs, oldest first, without per-query metrics (admins and owners)."""
    result = await rag.evaluations.list(actor, tenant, page)
    return EvaluationRunPage(
        items=[EvaluationRunSummary.of(run) for run in result.items], next_cursor=result.next_cursor
    )


@router.get("/{run_id}", responses=problems(401, 403, 404, 422))
async def get_evaluation_run(
    tenant: TenantId, run_id: uuid.UUID, actor: CurrentPrincipal, rag: App
) -> EvaluationRunOut:
    """One run with its per-query metrics (admins and owners)."""
    return EvaluationRunOut.of(await rag.evaluations.get(actor, tenant, run_id))
