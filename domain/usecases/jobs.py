"""Background jobs: reading them (ingestion records its progress here), cancelling one, and
running a failed or cancelled ingestion again.

Cancelling marks a queued or running job cancelled; a worker holding it sees that at its
next heartbeat and stops. Its document version is left as it was (pending, or processing),
with no live job, which is exactly what ingestion re-queues when the same content is
submitted again: retrying is that submission, of the version's own original, so a retry
follows every rule a submit follows (``IngestionService.submit``).
"""

from __future__ import annotations

import uuid

import attrs

from tenantrag.domain.errors import Conflict, NotFound, PermissionDenied
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.job_queue import QueueDepth
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.documents import DocumentService
from tenantrag.domain.usecases.ingestion import IngestionService, Submission
from tenantrag.domain.usecases.principal import Principal

INGEST_KIND = "ingest"


@attrs.define
class JobService(Service):
    documents: DocumentService
    ingestion: IngestionService

    async def get(self, actor: Principal, tenant_id: uuid.UUID | str, job_id: uuid.UUID | str) -> Job:
        return await self._job(actor, tenant_id, job_id, Permission.JOB_READ)

    async def _job(
        self, actor: Principal, tenant_id: uuid.UUID | str, job_id: uuid.UUID | str, permission: Permission
    ) -> Job:
        ident = as_id("job_id", job_id)
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, permission)
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

    async def cancel(self, actor: Principal, tenant_id: uuid.UUID | str, job_id: uuid.UUID | str) -> Job:
        """Cancel a queued or running job (a finished one is refused, naming its state)."""
        ident = as_id("job_id", job_id)
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.DOCUMENT_WRITE)
            job = await uow.jobs.get(ident)
            if job is None:
                raise NotFound("job", ident)
            if job.is_terminal:
                raise Conflict(
                    f"job {ident} has {job.status.value}: only a queued or running job can be cancelled"
                )
            job = job.finish(JobStatus.CANCELLED, now=self.clock.now(), summary="cancelled")
            await uow.jobs.update(job)
            await uow.commit()
        return job

    async def retry(
        self, actor: Principal, tenant_id: uuid.UUID | str, job_id: uuid.UUID | str, *, wait: bool = False
    ) -> Submission:
        """Queue a failed or cancelled ingestion again (with ``wait``, run it here): its
        version's original submitted again, which re-queues that version with a new job."""
        tenant = as_id("tenant_id", tenant_id)
        job = await self._job(actor, tenant, job_id, Permission.DOCUMENT_WRITE)
        if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise Conflict(f"job {job.id} has {job.status.value}: only a failed or cancelled job is retried")
        version = job.payload.get("version")
        if job.kind != INGEST_KIND or job.document_id is None or not isinstance(version, int):
            raise Conflict(f"job {job.id} is a {job.kind!r} job: only ingestion is retried")
        document = await self.documents.get(actor, tenant, job.document_id)
        latest = (await self.documents.versions(actor, tenant, document.id))[-1].version
        if latest != version:
            raise Conflict(
                f"job {job.id} ingested version {version} of document {document.id}, whose latest is"
                f" version {latest} now: submit the content again instead"
            )
        original = await self.documents.original(actor, tenant, document.id, version=version)
        return await self.ingestion.submit(
            actor, tenant, document_id=document.id, filename=document.filename, data=original.data,
            media_type=original.media_type, wait=wait,
        )  # fmt: skip
