"""The audit log's table (adapters/sql/schema.audit_entries): the tenant's entries, filtered."""

from __future__ import annotations

from tenantrag.adapters.sql import rows
from tenantrag.adapters.sql.repository import TableRepository
from tenantrag.domain.model.audit_entry import AuditEntry
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.ports.audit_log import AuditFilter


class SqlAuditLog(TableRepository[AuditEntry]):
    mapper = rows.AUDIT_ENTRIES

    async def list(self, page: PageRequest, where: AuditFilter | None = None) -> Page[AuditEntry]:
        f = where or AuditFilter()
        conditions = self.equal(
            action=f.action, actor_kind=f.actor_kind, actor_id=f.actor_id, outcome=f.outcome
        )
        if f.since is not None:
            conditions.append(self.c.created_at >= f.since)
        if f.until is not None:
            conditions.append(self.c.created_at < f.until)
        return await self.rows.page(page, *conditions)
