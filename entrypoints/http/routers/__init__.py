"""One router per resource. ``include_v1`` mounts them under ``/v1``; health stays outside it."""

from __future__ import annotations

from fastapi import FastAPI

from tenantrag.entrypoints.http.routers import (
    accounts,
    api_keys,
    audit_log,
    auth,
    chat,
    documents,
    evaluation_runs,
    invitations,
    jobs,
    me,
    members,
    my_invitations,
    query_logs,
    search,
    tenants,
)

_V1 = (
    auth,
    accounts,
    me,
    my_invitations,
    tenants,
    members,
    invitations,
    api_keys,
    documents,
    search,
    query_logs,
    jobs,
    chat,
    evaluation_runs,
    audit_log,
)


def include_v1(app: FastAPI) -> None:
    """Each router straight into the app (not through a /v1 router: FastAPI would build every route twice)."""
    for module in _V1:
        app.include_router(module.router, prefix="/v1")
