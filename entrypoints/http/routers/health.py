"""``/health`` (liveness: the process answers; no database) and ``/health/detailed`` (superusers).

The detailed report shows the deployment's internals (backend, versions, pool), so
it is for operators: superusers only, and never to API keys, which are tenant-bound.
"""

from __future__ import annotations

from tenantrag.domain.errors import PermissionDenied
from tenantrag.entrypoints.http.dependencies import App, Config, CurrentPrincipal
from tenantrag.entrypoints.http.health import HealthDetail, Liveness, probe
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router

router = api_router(prefix="/health", tag="health")


@router.get("", responses=problems(database=False))
async def liveness() -> Liveness:
    return Liveness()


@router.get("/detailed", responses=problems(401, 403))
async def health_detailed(actor: CurrentPrincipal, rag: App, config: Config) -> HealthDetail:
    """Database reachability and latency, migration state, pool statistics, versions."""
    if not actor.is_superuser:
        raise PermissionDenied("the detailed health report is for superusers")
    return await probe(rag, backend=config.backend, database_url=config.database_url)
