"""The job queue (``SystemUnitOfWork.job_queue``): what a claim takes, and what it never takes.

Every claim here is compared with the domain's ``Job.claimed``, so each backend's claim
statement is held to the job's own rules.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

import attrs
import pytest

from tenantrag.domain.errors import Conflict, InvalidInput, NotFound
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory as Backend
from tests.contract.factories import Seeded, at, make_document, make_job

ALL = PageRequest(limit=1000)


async def add_jobs(backend: Backend, jobs: Sequence[Job]) -> None:
    for tenant_id in {job.tenant_id for job in jobs}:
        async with backend.tenant(tenant_id) as uow:
            for job in jobs:
                if job.tenant_id == tenant_id:
                    await uow.jobs.add(job)
            await uow.commit()


async def claim(
    backend: Backend, now: datetime, lease_until: datetime, kinds: Collection[str] | None = None
) -> Job | None:
    async with backend.system() as uow:
        job = await uow.job_queue.claim(now=now, lease_until=lease_until, kinds=kinds)
        await uow.commit()
    return job


async def stored(backend: Backend, job: Job) -> Job | None:
    async with backend.tenant(job.tenant_id) as uow:
        return await uow.jobs.get(job.id)


def job_of(tenant: Seeded, *, seconds: int, kind: str = "ingest") -> Job:
    job = make_job(tenant.tenant.id, created_at=at(seconds))
    return attrs.evolve(job, kind=kind, payload={"version": 1, "blob": f"b/{job.id}"})


async def test_an_empty_queue_gives_nothing(backend: Backend, tenant_a: Seeded) -> None:
    assert await claim(backend, at(10), at(70)) is None


async def test_claims_take_the_oldest_job_first_across_tenants(
    backend: Backend, tenant_a: Seeded, tenant_b: Seeded
) -> None:
    jobs = [job_of(tenant_a, seconds=2), job_of(tenant_b, seconds=1), job_of(tenant_a, seconds=0)]
    # Same created_at: the id decides, as it does for paging.
    twins = [job_of(tenant_b, seconds=3), job_of(tenant_a, seconds=3)]
    await add_jobs(backend, [*jobs, *twins])
    expected = [jobs[2], jobs[1], jobs[0], *sorted(twins, key=lambda job: job.id)]

    taken = [await claim(backend, at(10), at(70)) for _ in expected]

    assert taken == [job.claimed(now=at(10), lease_until=at(70)) for job in expected]
    assert all(job is not None and job.status is JobStatus.RUNNING for job in taken)
    assert await claim(backend, at(10), at(70)) is None
    for job in taken:
        assert job is not None
        assert await stored(backend, job) == job


async def test_a_claim_sets_the_job_running_for_one_more_attempt_under_a_lease(
    backend: Backend, tenant_a: Seeded
) -> None:
    document = make_document(tenant_a.tenant.id)
    job = attrs.evolve(
        make_job(tenant_a.tenant.id, document_id=document.id), payload={"version": 3}, progress=5
    )
    async with backend.tenant(tenant_a.tenant.id) as uow:
        await uow.documents.add(document)
        await uow.jobs.add(job)
        await uow.commit()

    taken = await claim(backend, at(10), at(70))

    assert taken is not None
    assert (taken.status, taken.attempts, taken.lease_expires_at) == (JobStatus.RUNNING, 1, at(70))
    assert (taken.started_at, taken.updated_at, taken.error) == (at(10), at(10), None)
    assert (taken.document_id, taken.payload, taken.progress) == (document.id, {"version": 3}, 5)


async def test_a_claimed_job_is_not_claimable_again_while_its_lease_runs(
    backend: Backend, tenant_a: Seeded
) -> None:
    job = job_of(tenant_a, seconds=0)
    await add_jobs(backend, [job])
    async with backend.system() as uow:
        first = await uow.job_queue.claim(now=at(10), lease_until=at(70))
        # Not even by the unit of work that took it.
        assert await uow.job_queue.claim(now=at(10), lease_until=at(70)) is None
        await uow.commit()

    assert first == job.claimed(now=at(10), lease_until=at(70))
    assert await claim(backend, at(40), at(100)) is None
    # The lease runs until lease_expires_at inclusive.
    assert await claim(backend, at(70), at(130)) is None


async def test_a_job_whose_lease_ran_out_is_claimed_again_for_another_attempt(
    backend: Backend, tenant_a: Seeded
) -> None:
    job = job_of(tenant_a, seconds=0)
    await add_jobs(backend, [job])
    first = await claim(backend, at(10), at(70))
    assert first is not None

    second = await claim(backend, at(71), at(131))

    assert second == first.claimed(now=at(71), lease_until=at(131))
    assert second is not None
    assert (second.status, second.attempts, second.lease_expires_at) == (JobStatus.RUNNING, 2, at(131))
    assert second.started_at == at(71)
    assert await stored(backend, job) == second


async def test_a_claim_not_committed_takes_nothing(backend: Backend, tenant_a: Seeded) -> None:
    job = job_of(tenant_a, seconds=0)
    await add_jobs(backend, [job])
    async with backend.system() as uow:
        assert await uow.job_queue.claim(now=at(10), lease_until=at(70)) is not None
        await uow.rollback()

    assert await stored(backend, job) == job
    assert await claim(backend, at(10), at(70)) == job.claimed(now=at(10), lease_until=at(70))


async def test_kinds_narrow_what_is_claimed(backend: Backend, tenant_a: Seeded) -> None:
    ingest, reindex = job_of(tenant_a, seconds=0), job_of(tenant_a, seconds=1, kind="reindex")
    await add_jobs(backend, [ingest, reindex])

    assert await claim(backend, at(10), at(70), kinds=()) is None
    assert await claim(backend, at(10), at(70), kinds={"export"}) is None
    assert await claim(backend, at(10), at(70), kinds={"reindex"}) == reindex.claimed(
        now=at(10), lease_until=at(70)
    )
    assert await claim(backend, at(10), at(70), kinds=["reindex", "export"]) is None
    assert await claim(backend, at(10), at(70), kinds=("ingest", "reindex")) == ingest.claimed(
        now=at(10), lease_until=at(70)
    )


async def test_finished_jobs_and_running_jobs_without_a_lease_are_never_claimed(
    backend: Backend, tenant_a: Seeded
) -> None:
    running = job_of(tenant_a, seconds=0).start(now=at(1), lease_until=at(2))
    finished = [
        running.finish(JobStatus.SUCCEEDED, now=at(3)),
        running.finish(JobStatus.FAILED, now=at(3), error="it broke"),
        running.finish(JobStatus.CANCELLED, now=at(3)),
        # Run by someone who did not take it from the queue, so nobody can take it over.
        attrs.evolve(running, lease_expires_at=None),
    ]
    jobs = [attrs.evolve(job, id=uuid.uuid4()) for job in finished]
    await add_jobs(backend, jobs)

    assert await claim(backend, at(1000), at(2000)) is None
    for job in jobs:
        assert await stored(backend, job) == job


async def test_a_lease_must_end_after_the_claim(backend: Backend, tenant_a: Seeded) -> None:
    job = job_of(tenant_a, seconds=0)
    await add_jobs(backend, [job])
    async with backend.system() as uow:
        with pytest.raises(InvalidInput, match="lease_until"):
            await uow.job_queue.claim(now=at(10), lease_until=at(10))
    assert await stored(backend, job) == job


async def test_the_worker_that_lost_its_lease_can_no_longer_finish_the_job(
    backend: Backend, tenant_a: Seeded
) -> None:
    job = job_of(tenant_a, seconds=0)
    await add_jobs(backend, [job])
    first = await claim(backend, at(10), at(70))
    second = await claim(backend, at(80), at(140))
    assert first is not None
    assert second is not None

    async with backend.tenant(tenant_a.tenant.id) as uow:
        with pytest.raises(Conflict) as lost:
            await uow.jobs.update(first.finish(JobStatus.SUCCEEDED, now=at(90)), if_attempt=first.attempts)
        assert lost.value.details["rule"] == "jobs.lease"
        done = second.finish(JobStatus.SUCCEEDED, now=at(90))
        await uow.jobs.update(done, if_attempt=second.attempts)
        await uow.commit()

    assert await stored(backend, job) == done
    assert await claim(backend, at(1000), at(2000)) is None


async def test_a_tenant_still_sees_only_its_own_jobs_after_claims(
    backend: Backend, tenant_a: Seeded, tenant_b: Seeded
) -> None:
    a_job, b_job = job_of(tenant_a, seconds=0), job_of(tenant_b, seconds=1)
    await add_jobs(backend, [a_job, b_job])
    taken = [await claim(backend, at(10), at(70)), await claim(backend, at(10), at(70))]
    assert [job.tenant_id for job in taken if job is not None] == [tenant_a.tenant.id, tenant_b.tenant.id]

    async with backend.tenant(tenant_b.tenant.id) as uow:
        assert await uow.jobs.get(a_job.id) is None
        assert [job.id for job in (await uow.jobs.list(ALL)).items] == [b_job.id]
        with pytest.raises(NotFound):
            await uow.jobs.update(a_job.claimed(now=at(10), lease_until=at(70)), if_attempt=1)


async def test_a_job_queued_again_waits_for_its_retry_delay(backend: Backend, tenant_a: Seeded) -> None:
    # A failed attempt queues the job again with lease_expires_at = the earliest next start.
    delayed = attrs.evolve(job_of(tenant_a, seconds=1), attempts=1, lease_expires_at=at(30), error="down")
    await add_jobs(backend, [delayed])
    assert await claim(backend, at(29), at(90)) is None
    taken = await claim(backend, at(30), at(90))
    assert taken == delayed.claimed(now=at(30), lease_until=at(90))
    assert (taken.attempts, taken.status) == (2, JobStatus.RUNNING)
