"""Recording retrievals (query logs) and the feedback users give on them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tenantrag.domain.errors import NotFound
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.model.query_log import Feedback, QueryLog, SourceRef
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission, allows
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.usecases.access import authorize, effective_role
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal


@attrs.define
class QueryLogService(Service):
    async def record(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        query: str,
        response: str | None = None,
        sources: Iterable[SourceRef | tuple[uuid.UUID, float]] = (),
        latency_ms: float | None = None,
        token_count: int | None = None,
        quality_score: float | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> QueryLog:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.QUERY_LOG_WRITE)
            log = QueryLog(
                id=new_id(), tenant_id=uow.tenant_id, user_id=actor.user_id, query=query,
                response=response, sources=tuple(sources), latency_ms=latency_ms,
                token_count=token_count, quality_score=quality_score, metadata=dict(metadata or {}),
                created_at=self.clock.now(),
            )  # fmt: skip
            await uow.query_logs.add(log)
            await uow.commit()
        return log

    async def give_feedback(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        log_id: uuid.UUID | str,
        *,
        feedback: Feedback | str,
        quality_score: float | None = None,
    ) -> QueryLog:
        """Thumbs up or down (and optionally a 0-1 quality score) on one's own query."""
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.QUERY_LOG_WRITE)
            log = await self._visible(uow, actor, as_id("log_id", log_id), own_only=True)
            log = attrs.evolve(
                log,
                feedback=Feedback.parse(feedback),
                quality_score=log.quality_score if quality_score is None else quality_score,
            )
            await uow.query_logs.update(log)
            await uow.commit()
        return log

    async def get(self, actor: Principal, tenant_id: uuid.UUID | str, log_id: uuid.UUID | str) -> QueryLog:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.QUERY_LOG_WRITE)
            return await self._visible(uow, actor, as_id("log_id", log_id), own_only=False)

    async def list(
        self, actor: Principal, tenant_id: uuid.UUID | str, page: PageRequest | None = None
    ) -> Page[QueryLog]:
        """Every query log of the tenant: for admins, who evaluate retrieval quality."""
        async with self.uow.tenant(as_id("tenant_id", tenant_id), read_only=True) as uow:
            await authorize(uow, actor, Permission.QUERY_LOG_READ)
            return await uow.query_logs.list(page or PageRequest())

    @staticmethod
    async def _visible(
        uow: TenantUnitOfWork, actor: Principal, log_id: uuid.UUID, *, own_only: bool
    ) -> QueryLog:
        log = await uow.query_logs.get(log_id)
        if log is None:
            raise NotFound("query log", log_id)
        if log.user_id == actor.user_id or actor.is_privileged:
            return log
        if not own_only and allows(await effective_role(uow, actor), Permission.QUERY_LOG_READ):
            return log
        raise NotFound("query log", log_id)
