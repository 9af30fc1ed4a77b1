"""Building the job worker a deployment runs: ``tenantrag worker``, and the one the HTTP
service runs in-process (``EMBEDDED_WORKER``) so uploads are ingested without a second
process. Both take the same settings and run the same job kinds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

from tenantrag.adapters.clock import SystemClock
from tenantrag.domain.model.job import Job
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.worker import JobHandler, Worker
from tenantrag.entrypoints.observability import metrics, tracing
from tenantrag.entrypoints.settings import Settings

logger = logging.getLogger(__name__)


def handlers(rag: TenantRag) -> dict[str, JobHandler]:
    """The job kinds this deployment runs, and who runs each."""
    return {"ingest": rag.ingestion}


def make_worker(
    rag: TenantRag, settings: Settings, *, on_job: Callable[[Job], Awaitable[None] | None] | None = None
) -> Worker:
    """A worker for ``settings``; every job it runs is a span (when tracing), every job it
    settles is counted in the metrics, then given to ``on_job``."""

    async def settled(job: Job) -> None:
        await metrics.record_settled_job(
            rag, job, backend=settings.backend, tenant_labels=settings.metrics_tenant_labels
        )
        reported = None if on_job is None else on_job(job)
        if reported is not None:
            await reported

    return Worker(
        uow=rag.uow,
        clock=SystemClock(),
        handlers={kind: tracing.TracedJobHandler(handler) for kind, handler in handlers(rag).items()},
        lease=timedelta(seconds=settings.worker_lease_seconds),
        max_attempts=settings.worker_max_attempts,
        poll_interval=settings.worker_poll_interval,
        retry_delay=timedelta(seconds=settings.worker_retry_delay_seconds),
        on_job=settled,
    )


@contextlib.asynccontextmanager
async def background_worker(rag: TenantRag, settings: Settings) -> AsyncIterator[None]:
    """Run a worker beside the caller while inside; on leaving, let it finish its job and stop."""
    if not settings.embedded_worker:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(make_worker(rag, settings).run(stop), name="tenantrag-embedded-worker")
    try:
        yield
    finally:
        stop.set()
        try:
            await task
        except Exception:  # its failures are logged; they must not hide the caller's
            logger.exception("the embedded worker stopped with an error")
