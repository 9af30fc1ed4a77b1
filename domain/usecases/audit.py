"""The audit log: recording sensitive operations, and admins reading them (issue 17).

``record`` is the one way an entry is built: the use case that makes a change calls it on
its own unit of work before committing, so the entry commits with the change or not at
all (a rolled-back change records nothing, and an entry never claims a change that did
not happen). Entries are append-only: nothing here updates or deletes one, and on
PostgreSQL the runtime role cannot either.

Reading needs ``audit:read`` (admins and owners).
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import PermissionDenied, TenantRagError
from tenantrag.domain.model.audit_entry import ActorKind, AuditAction, AuditEntry, Outcome
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.audit_log import AuditFilter
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal


@attrs.frozen
class Source:
    """Where a call came from, as far as the entrypoint knows: the client's address and the
    request's id (``X-Request-ID``). The HTTP layer binds it per request (``bind_source``)."""

    address: str | None = None
    request_id: str | None = None


_source: contextvars.ContextVar[Source | None] = contextvars.ContextVar(
    "tenantrag_audit_source", default=None
)


def bind_source(source: Source) -> contextvars.Token[Source | None]:
    """Make ``source`` the one entries record until ``reset_source`` with the token."""
    return _source.set(source)


def reset_source(token: contextvars.Token[Source | None]) -> None:
    _source.reset(token)


def actor_of(actor: Principal) -> tuple[ActorKind, uuid.UUID | None]:
    """Who an entry says acted: the API key when one was presented (it names its user),
    else the signed-in user, else the system (the CLI run by an operator)."""
    if actor.api_key_id is not None:
        return ActorKind.API_KEY, actor.api_key_id
    if actor.user_id is not None:
        return ActorKind.USER, actor.user_id
    return ActorKind.SYSTEM, None


async def record(
    uow: TenantUnitOfWork,
    actor: Principal,
    action: AuditAction,
    target: tuple[str, uuid.UUID | None],
    *,
    at: datetime,
    details: Mapping[str, Any] | None = None,
    outcome: Outcome = Outcome.SUCCEEDED,
) -> AuditEntry:
    """Add an entry to ``uow``'s tenant's log, to commit with the change it records:
    ``actor`` did ``action`` to ``target`` (its kind and id) at ``at``."""
    kind, actor_id = actor_of(actor)
    source = _source.get()
    if source is not None:  # details["source"]: where the call came from (see Source)
        details = {**(details or {}), "source": attrs.asdict(source)}
    entry = AuditEntry(
        id=new_id(), tenant_id=uow.tenant_id, actor_kind=kind, actor_id=actor_id, action=action,
        target_kind=target[0], target_id=target[1], outcome=outcome, details=dict(details or {}),
        created_at=at,
    )  # fmt: skip
    await uow.audit.add(entry)
    return entry


@asynccontextmanager
async def refusals_recorded(
    service: Service,
    actor: Principal,
    tenant_id: uuid.UUID,
    action: AuditAction,
    target: tuple[str, uuid.UUID | None],
) -> AsyncIterator[None]:
    """Record a ``PermissionDenied`` raised inside as a ``refused`` entry, in a small
    transaction of its own (the refused one rolled back), then let it through. Only a member
    is ever refused so (a non-member gets ``NotFound``), so the entry tells nobody anything
    new; a failure to record it does not hide the refusal."""
    try:
        yield
    except PermissionDenied as refusal:
        details = {"code": refusal.code, "reason": str(refusal)}
        try:
            async with service.uow.tenant(tenant_id) as uow:
                at = service.clock.now()
                await record(uow, actor, action, target, at=at, details=details, outcome=Outcome.REFUSED)
                await uow.commit()
        except TenantRagError:
            pass  # the refusal is the answer; the database's trouble shows on the next call
        raise


def audit_filter(
    *,
    action: AuditAction | str | None = None,
    actor_kind: ActorKind | str | None = None,
    actor_id: uuid.UUID | str | None = None,
    outcome: Outcome | str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditFilter:
    """A listing's filter from the edges' values, each checked and named when wrong."""
    return AuditFilter(
        action=None if action is None else v.choice("action", AuditAction, action),
        actor_kind=None if actor_kind is None else v.choice("actor_kind", ActorKind, actor_kind),
        actor_id=None if actor_id is None else as_id("actor_id", actor_id),
        outcome=None if outcome is None else v.choice("outcome", Outcome, outcome),
        since=None if since is None else v.timestamp("since", since),
        until=None if until is None else v.timestamp("until", until),
    )


@attrs.define
class AuditService(Service):
    async def list(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        page: PageRequest | None = None,
        where: AuditFilter | None = None,
    ) -> Page[AuditEntry]:
        """The tenant's log, oldest first, filtered by ``where``: admins and owners only."""
        async with self.uow.tenant(as_id("tenant_id", tenant_id), read_only=True) as uow:
            await authorize(uow, actor, Permission.AUDIT_READ)
            return await uow.audit.list(page or PageRequest(), where)
