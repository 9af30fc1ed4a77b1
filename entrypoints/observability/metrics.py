"""tenantrag's Prometheus metrics, defined once, and their exposition.

Every metric is named ``tenantrag_*``. Labels never carry tenant content (no text, no file
name, no slug): routes are templates (``/v1/tenants/{tenant}/search``), errors their stable
``code``. The ``tenant`` label of search and ingest metrics is the tenant's id, and only with
``METRICS_TENANT_LABELS`` on (one series per tenant: mind the cardinality); off, it is empty,
which Prometheus treats as no label at all.

Several processes (``uvicorn --workers N``, ``tenantrag worker``s on the same host): set
``PROMETHEUS_MULTIPROC_DIR`` to an empty folder for all of them (prometheus_client's
multi-process mode); every process writes its values there and ``/metrics`` adds them up.
Counters and histograms are summed; the queue gauges show the latest reading (any process's:
they read the shared database); the pool gauges are summed over live processes.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from tenantrag.domain.errors import TenantRagError
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal

logger = logging.getLogger(__name__)

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED_ROUTE = "<unmatched>"
# Seconds: HTTP answers and searches run from about a millisecond to tens of seconds.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HTTP_REQUESTS = Counter(
    "tenantrag_http_requests", "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)  # fmt: skip
HTTP_DURATION = Histogram(
    "tenantrag_http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
    ["method", "route"], buckets=_LATENCY_BUCKETS,
)  # fmt: skip
ERRORS = Counter(
    "tenantrag_errors", "Error answers by their stable problem code (not_found, invalid_input...).",
    ["code"],
)  # fmt: skip
SEARCH_DURATION = Histogram(
    "tenantrag_search_duration_seconds",
    "Search latency in the use case (embedding the query, searching, explaining an empty answer), "
    "by mode, grouping and backend.",
    ["mode", "group", "backend", "tenant"], buckets=_LATENCY_BUCKETS,
)  # fmt: skip
INGESTED_DOCUMENTS = Counter(
    "tenantrag_ingested_documents", "Document versions ingested (made searchable).", ["backend", "tenant"]
)
INGESTED_CHUNKS = Counter(
    "tenantrag_ingested_chunks", "Chunks of the document versions ingested.", ["backend", "tenant"]
)
JOBS_SETTLED = Counter(
    "tenantrag_jobs_settled", "Job attempts settled by this process's workers, by kind and outcome.",
    ["kind", "status"],
)  # fmt: skip
JOBS_QUEUED = Gauge(
    "tenantrag_jobs_queued", "Jobs waiting in the queue (every tenant).", multiprocess_mode="mostrecent"
)
JOBS_RUNNING = Gauge(
    "tenantrag_jobs_running", "Jobs being run by a worker (every tenant).", multiprocess_mode="mostrecent"
)
JOBS_OLDEST_AGE = Gauge(
    "tenantrag_jobs_oldest_queued_age_seconds",
    "How long the longest-waiting queued job has waited (0 when none waits).",
    multiprocess_mode="mostrecent",
)
POOL_CHECKED_OUT = Gauge(
    "tenantrag_db_pool_checked_out", "Database connections in use, by engine (primary, replica).",
    ["engine"], multiprocess_mode="livesum",
)  # fmt: skip
POOL_SIZE = Gauge(
    "tenantrag_db_pool_size", "Connections the pool keeps (its configured size), by engine.",
    ["engine"], multiprocess_mode="livesum",
)  # fmt: skip
POOL_OVERFLOW = Gauge(
    "tenantrag_db_pool_overflow", "Connections open beyond the pool's size, by engine.",
    ["engine"], multiprocess_mode="livesum",
)  # fmt: skip


def tenant_label(tenant_id: object, *, enabled: bool) -> str:
    """The ``tenant`` label's value: the id when per-tenant labels are on, else empty."""
    return str(tenant_id) if enabled and tenant_id is not None else ""


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
    HTTP_DURATION.labels(method=method, route=route).observe(seconds)


def record_error(code: str) -> None:
    ERRORS.labels(code=code).inc()


def record_search(*, mode: str, group: str, backend: str, tenant: str, seconds: float) -> None:
    SEARCH_DURATION.labels(mode=mode, group=group, backend=backend, tenant=tenant).observe(seconds)


def record_ingested(*, backend: str, tenant: str, chunks: int) -> None:
    INGESTED_DOCUMENTS.labels(backend=backend, tenant=tenant).inc()
    INGESTED_CHUNKS.labels(backend=backend, tenant=tenant).inc(chunks)


async def record_settled_job(rag: TenantRag, job: Job, *, backend: str, tenant_labels: bool) -> None:
    """A worker's job, as it stands once settled; a succeeded ingest counts its chunks."""
    JOBS_SETTLED.labels(kind=job.kind, status=job.status.value).inc()
    if job.kind != "ingest" or job.status is not JobStatus.SUCCEEDED or job.document_id is None:
        return
    try:
        document = await rag.documents.get(Principal.system(), job.tenant_id, job.document_id)
    except TenantRagError:  # deleted since, or the database is away: the count is not worth failing for
        return
    record_ingested(
        backend=backend,
        tenant=tenant_label(job.tenant_id, enabled=tenant_labels),
        chunks=document.chunk_count,
    )


async def refresh_gauges(rag: TenantRag, now: datetime) -> None:
    """Read the queue and the pools into their gauges (at scrape time)."""
    try:
        depth = await rag.jobs.queue_depth(Principal.system())
    except TenantRagError as error:
        logger.warning("the job queue could not be read for /metrics: %s", error.code)
        record_error(error.code)
    else:
        JOBS_QUEUED.set(depth.queued)
        JOBS_RUNNING.set(depth.running)
        oldest = depth.oldest_queued_at
        JOBS_OLDEST_AGE.set(0.0 if oldest is None else max(0.0, (now - oldest).total_seconds()))
    refresh_pools(rag)


def refresh_pools(rag: TenantRag) -> None:
    """The SQL backends' pools, read without I/O (SQLAlchemy's counters)."""
    engines = {"primary": getattr(rag.uow, "engine", None), "replica": getattr(rag.uow, "replica", None)}
    for name, engine in engines.items():
        pool = getattr(engine, "pool", None)
        # Pools that do not pool (SQLite's in-memory StaticPool) have no counters.
        if pool is None or not callable(getattr(pool, "checkedout", None)):
            continue
        POOL_CHECKED_OUT.labels(engine=name).set(pool.checkedout())
        POOL_SIZE.labels(engine=name).set(pool.size())
        POOL_OVERFLOW.labels(engine=name).set(max(0, pool.overflow()))


def exposition() -> bytes:
    """The metrics in Prometheus' text format: this process's, or every process's in
    multi-process mode."""
    if os.environ.get(MULTIPROCESS_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
