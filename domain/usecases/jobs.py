"""Reading background jobs (ingestion records their progress here)."""

from __future__ import annotations

import uuid

import attrs

from tenantrag.domain.errors import NotFound, PermissionDenied
from tenantrag.domain.model.job import Job
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.job_queue import QueueDepth
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal


@attrs.define
class JobService(Service):
    async def get(self, actor: Principal, tenant_id: uuid.UUID | str, job_id: uuid.UUID | str) -> Job:
        ident = as_id("job_id", job_id)
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.JOB_READ)
            job = await uow.jobs.get(ident)
        if job is None:
            raise NotFound("job", ident)
        return job

    async def list(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        page: PageRequest | None = None,
        *,
        document_id: uuid.UUID | str | None = None,
    ) -> Page[Job]:
        document = None if document_id is None else as_id("document_id", document_id)
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.JOB_READ)
            return await uow.jobs.list(page or PageRequest(), document_id=document)

    async def queue_depth(self, actor: Principal) -> QueueDepth:
        """Queued and running jobs across every tenant (counts only): for operators' metrics."""
        if not actor.is_privileged:
            raise PermissionDenied("only operators see the whole job queue")
        async with self.uow.system() as uow:
            return await uow.job_queue.depth()
