"""Two workers with short leases ingest real documents on both backends: the lease renewals run
while the swaps commit, and every job still ends succeeded, reported as such, with nothing
taken for a failure (the race that turned succeeded jobs into failed ones)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import attrs
import pytest

from tenantrag.adapters.clock import SystemClock
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.worker import Worker
from tests.unit.usecases.disk_blobs import check_no_orphans, disk_app
from tests.unit.usecases.workspace import DIMENSION, Workspace

JOBS = 16
LEASE = timedelta(milliseconds=450)  # renewed every 150 ms
EMBEDDING = 0.15  # seconds per job's embedding: the swap commits about when a renewal is due


class SlowEmbedder(HashingEmbedder):
    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        await asyncio.sleep(EMBEDDING)
        return await super().embed_documents(texts)


@pytest.fixture
def app(store: UnitOfWorkFactory, hasher: PwdlibPasswordHasher, tmp_path: Path) -> TenantRag:
    # The real clock: leases must run out and be renewed in real time.
    rag = disk_app(store, SystemClock(), hasher, tmp_path / "blobs")
    rag.ingestion = attrs.evolve(rag.ingestion, embedder=SlowEmbedder(dimension=DIMENSION))
    return rag


async def test_short_leases_never_turn_a_success_into_a_failure(
    app: TenantRag, workspace: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    for n in range(JOBS):
        await app.ingestion.submit(member, tenant, filename=f"{n}.txt", data=f"Document number {n}.".encode())
    settled: list[Job] = []
    stop = asyncio.Event()

    def record(job: Job) -> None:
        settled.append(job)
        if len({job.id for job in settled if job.status is JobStatus.SUCCEEDED}) == JOBS:
            stop.set()

    workers = [
        Worker(
            uow=app.uow,
            clock=SystemClock(),
            handlers={"ingest": app.ingestion},
            lease=LEASE,
            poll_interval=0.02,
            on_job=record,
        )
        for _ in range(2)
    ]
    with caplog.at_level(logging.WARNING):
        async with asyncio.timeout(60):
            await asyncio.gather(*(worker.run(stop) for worker in workers))

    async with app.uow.tenant(tenant) as uow:
        jobs = (await uow.jobs.list(PageRequest(limit=100))).items
    assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * JOBS
    assert all(job.status is JobStatus.SUCCEEDED for job in settled), [j for j in settled if j.error]
    assert "InvalidTransition" not in caplog.text
    assert "cannot move" not in caplog.text
    assert all(
        document.status.value == "completed" for document in (await app.documents.list(member, tenant)).items
    )
    await check_no_orphans(app, tenant)
