"""Recording retrievals (query logs) and the feedback users give on them.

A search's log goes through the ``QueryLogWriter`` (``record_later``: written in the
background, so the search never waits for the write); reading logs, or giving feedback,
first writes what waits for the tenant, so a caller always sees its own searches.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from tenantrag.domain.errors import NotFound
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.model.query_log import Feedback, QueryLog, SourceRef
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission, Role, allows, require
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.usecases.access import authorize, effective_role
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.query_log_writer import QueryLogWriter


@attrs.define
class QueryLogService(Service):
    # None: every log is written at once, in its own transaction (``record``).
    writer: QueryLogWriter | None = None

    async def record_later(
        self,
        actor: Principal,
        tenant_id: uuid.UUID,
        *,
        role: Role,
        query: str,
        sources: Iterable[SourceRef | tuple[uuid.UUID, float]] = (),
        latency_ms: float | None = None,
        metadata: Mapping[str, Any] | None = None,
        request_id: str | None = None,
    ) -> QueryLog:
        """A search's log, built (so validated, its id allocated) now and written by the writer
        shortly; ``role`` is the actor's, as the search's own unit of work authorized it."""
        if self.writer is None:
            return await self.record(
                actor,
                tenant_id,
                query=query,
                sources=sources,
                latency_ms=latency_ms,
                metadata=metadata,
                request_id=request_id,
            )
        require(role, Permission.QUERY_LOG_WRITE)
        log = QueryLog(
            id=new_id(), tenant_id=tenant_id, user_id=actor.user_id, query=query, sources=tuple(sources),
            latency_ms=latency_ms, metadata=dict(metadata or {}), created_at=self.clock.now(),
            request_id=request_id,
        )  # fmt: skip
        self.writer.submit(log)
        return log

    async def _written(self, tenant_id: uuid.UUID) -> None:
        """Write the tenant's waiting logs first, so a reader sees its own searches (if the
        database refuses the write now, they show up once it is written)."""
        if self.writer is not None and self.writer.waiting:
            await self.writer.flush(tenant_id)

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
        request_id: str | None = None,
    ) -> QueryLog:
        """Record a retrieval; ``request_id`` names the HTTP request that made it, if any."""
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.QUERY_LOG_WRITE)
            log = QueryLog(
                id=new_id(), tenant_id=uow.tenant_id, user_id=actor.user_id, query=query,
                response=response, sources=tuple(sources), latency_ms=latency_ms,
                token_count=token_count, quality_score=quality_score, metadata=dict(metadata or {}),
                created_at=self.clock.now(), request_id=request_id,
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
        tenant = as_id("tenant_id", tenant_id)
        await self._written(tenant)
        async with self.uow.tenant(tenant) as uow:
            await authorize(uow, actor, Permission.QUERY_LOG_WRITE)
            log = await self._visible(uow, actor, as_id("log_id", log_id), own_only=True)
            log = attrs.evolve(
                log,
                feedback=Feedback.parse(feedback),
                quality_score=log.quality_score if quality_score is None else quality_score,
            )
            if log.tenant_id == tenant and self.writer is not None and await self.writer.amend(log):
                return log  # still waiting to be written: it will be written with the feedback
            await uow.query_logs.update(log)
            await uow.commit()
        return log

    async def get(self, actor: Principal, tenant_id: uuid.UUID | str, log_id: uuid.UUID | str) -> QueryLog:
        tenant = as_id("tenant_id", tenant_id)
        await self._written(tenant)
        async with self.uow.tenant(tenant) as uow:
            await authorize(uow, actor, Permission.QUERY_LOG_WRITE)
            return await self._visible(uow, actor, as_id("log_id", log_id), own_only=False)

    async def list(
        self, actor: Principal, tenant_id: uuid.UUID | str, page: PageRequest | None = None
    ) -> Page[QueryLog]:
        """Every query log of the tenant: for admins, who evaluate retrieval quality."""
        tenant = as_id("tenant_id", tenant_id)
        await self._written(tenant)
        async with self.uow.tenant(tenant, read_only=True) as uow:
            await authorize(uow, actor, Permission.QUERY_LOG_READ)
            return await uow.query_logs.list(page or PageRequest())

    async def _visible(
        self, uow: TenantUnitOfWork, actor: Principal, log_id: uuid.UUID, *, own_only: bool
    ) -> QueryLog:
        log = await uow.query_logs.get(log_id)
        if log is None and self.writer is not None:
            waiting = self.writer.pending(log_id)  # the flush could not write it yet
            log = waiting if waiting is not None and waiting.tenant_id == uow.tenant_id else None
        if log is None:
            raise NotFound("query log", log_id)
        if log.user_id == actor.user_id or actor.is_privileged:
            return log
        if not own_only and allows(await effective_role(uow, actor), Permission.QUERY_LOG_READ):
            return log
        raise NotFound("query log", log_id)
