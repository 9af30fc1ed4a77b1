"""The audit log of a tenant (a tenant unit of work's): added to, listed, never changed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Protocol

import attrs

from tenantrag.domain.model.audit_entry import ActorKind, AuditAction, AuditEntry, Outcome
from tenantrag.domain.pagination import Page, PageRequest


@attrs.frozen(kw_only=True)
class AuditFilter:
    """What a listing keeps; None means any. ``since`` is inclusive, ``until`` exclusive."""

    action: AuditAction | None = None
    actor_kind: ActorKind | None = None
    actor_id: uuid.UUID | None = None
    outcome: Outcome | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditLog(Protocol):
    async def add(self, entry: AuditEntry) -> None: ...

    async def list(self, page: PageRequest, where: AuditFilter | None = None) -> Page[AuditEntry]:
        """The tenant's entries matching ``where``, oldest first, a page at a time."""
        ...
