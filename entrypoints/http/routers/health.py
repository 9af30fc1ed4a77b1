"""``/health`` (liveness: the process answers; no database), ``/health/ready`` (readiness: the
database answers, 503 otherwise; no credentials, for load balancers) and ``/health/detailed``
(superusers).

The detailed report shows the deployment's internals (backend, versions, pool), so
it is for operators: superusers only, and never to API keys, which are tenant-bound.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from tenantrag.domain.errors import PermissionDenied
from tenantrag.entrypoints.http.context import get_context
from tenantrag.entrypoints.http.dependencies import App, Config, CurrentPrincipal
from tenantrag.entrypoints.http.errors import RETRY_AFTER, problem_response
from tenantrag.entrypoints.http.health import HealthDetail, Liveness, Readiness, probe, readiness
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router

router = api_router(prefix="/health", tag="health")


@router.get("", responses=problems(database=False))
async def liveness() -> Liveness:
    return Liveness()


@router.get("/ready", responses=problems(database=True), response_model=Readiness)
async def health_ready(request: Request) -> JSONResponse:
    """200 when this instance can serve (the database answers), else 503 with `Retry-After`."""
    context = getattr(request.app.state, "tenantrag", None)
    if context is None:  # starting or stopping: the lifespan has no backend open
        return problem_response(
            request.url.path, status=503, code="not_ready", detail="the service is starting or stopping",
            headers=RETRY_AFTER,
        )  # fmt: skip
    ready = await readiness(get_context(request).rag)
    if ready.status != "ready":
        return problem_response(
            request.url.path, status=503, code="database_unavailable",
            detail="the database does not answer; retry shortly", headers=RETRY_AFTER,
        )  # fmt: skip
    return JSONResponse(ready.model_dump(mode="json"))


@router.get("/detailed", responses=problems(401, 403))
async def health_detailed(actor: CurrentPrincipal, rag: App, config: Config) -> HealthDetail:
    """Database reachability and latency, migration state, pool statistics, versions."""
    if not actor.is_superuser:
        raise PermissionDenied("the detailed health report is for superusers")
    return await probe(rag, backend=config.backend, database_url=config.database_url)
