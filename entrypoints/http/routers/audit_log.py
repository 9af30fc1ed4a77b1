"""``/v1/tenants/{tenant}/audit-log``: the tenant's audit log, for admins and owners.

What it holds and why it is append-only: domain/usecases/audit.py. Filters are query
parameters; entries come oldest first, a page at a time (``cursor``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import Query

from tenantrag.domain.model.audit_entry import ActorKind, AuditAction, AuditEntry, Outcome
from tenantrag.domain.usecases.audit import audit_filter
from tenantrag.entrypoints.http.dependencies import App, CurrentPrincipal, Paging, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import Page, Resource

router = api_router(prefix="/tenants/{tenant}/audit-log", tag="audit")


class AuditEntryOut(Resource):
    id: uuid.UUID
    tenant_id: uuid.UUID
    actor_kind: ActorKind
    actor_id: uuid.UUID | None
    action: AuditAction
    target_kind: str
    target_id: uuid.UUID | None
    outcome: Outcome
    details: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> Self:
        return cls(
            id=entry.id, tenant_id=entry.tenant_id, actor_kind=entry.actor_kind, actor_id=entry.actor_id,
            action=entry.action, target_kind=entry.target_kind, target_id=entry.target_id,
            outcome=entry.outcome, details=entry.details, created_at=entry.created_at,
        )  # fmt: skip


class AuditEntryPage(Page[AuditEntryOut]):
    pass


# The listing's filters, each optional (query parameters).
ActionQuery = Annotated[AuditAction | None, Query(description="Only this action.")]
ActorKindQuery = Annotated[ActorKind | None, Query(description="Only a user, an API key or the system.")]
ActorIdQuery = Annotated[uuid.UUID | None, Query(description="Only this user or API key.")]
OutcomeQuery = Annotated[Outcome | None, Query(description="Only succeeded or refused operations.")]
SinceQuery = Annotated[datetime | None, Query(description="From this time on (inclusive; with a zone).")]
UntilQuery = Annotated[datetime | None, Query(description="Before this time (exclusive; with a zone).")]


@router.get("", responses=problems(401, 403, 404, 422))
async def list_audit_log(
    *,
    tenant: TenantId,
    page: Paging,
    actor: CurrentPrincipal,
    rag: App,
    action: ActionQuery = None,
    actor_kind: ActorKindQuery = None,
    actor_id: ActorIdQuery = None,
    outcome: OutcomeQuery = None,
    since: SinceQuery = None,
    until: UntilQuery = None,
) -> AuditEntryPage:
    """The tenant's audit log, oldest first (admins and owners)."""
    where = audit_filter(
        action=action, actor_kind=actor_kind, actor_id=actor_id, outcome=outcome, since=since, until=until
    )
    result = await rag.audit.list(actor, tenant, page, where)
    return AuditEntryPage(items=[AuditEntryOut.of(e) for e in result.items], next_cursor=result.next_cursor)
