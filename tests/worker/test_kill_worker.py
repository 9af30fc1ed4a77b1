"""Killing a worker mid-job loses nothing and completes nothing twice, on SQLite and PostgreSQL.

Worker processes (tests/worker/worker_process.py) run ``sleepy`` jobs: each notes its
start and end in a log file and, in its final transaction, commits a completion marker
with the job. One worker is killed with SIGKILL while a job is in hand; others start
and, once that job's lease runs out, take it over. Every job must end succeeded with
exactly one marker, and the killed worker's job must have been run again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pytest

from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tests.contract.factories import DIMENSION, Seeded, at, make_job, seed_tenant
from tests.worker.worker_process import KIND, marker

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
JOBS = 6
LEASE = 1.5  # seconds: renewed every 0.5 s while a worker lives
WORK = 0.5  # seconds per job
T = TypeVar("T")


@attrs.frozen
class Database:
    url: str
    factory: UnitOfWorkFactory
    later_workers: int  # started after the kill: PostgreSQL shares the queue between several


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    factory: Any
    if request.param == "sqlite":
        from tenantrag.adapters.sqlite import open_sqlite

        url = f"sqlite:///{tmp_path / 'queue.sqlite'}"
        factory = await open_sqlite(url, DIMENSION)  # migrates the new file
        later = 1
    else:
        from tenantrag.adapters.postgres import open_postgres

        new_database: Callable[[int], str] = request.getfixturevalue("postgres_database")
        url = new_database(DIMENSION)
        factory = await open_postgres(url, DIMENSION, migrate=False)
        later = 2
    try:
        yield Database(url, factory, later)
    finally:
        await factory.dispose()


@attrs.frozen
class Event:
    kind: str  # start, done, give_up
    job_id: str
    attempt: int
    pid: int


def events(log: Path) -> list[Event]:
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8").splitlines()
    return [Event(kind, job, int(attempt), int(pid)) for kind, job, attempt, pid, *_ in map(str.split, lines)]


async def eventually(probe: Callable[[], Awaitable[T | None]], *, seconds: float, what: str) -> T:
    """Poll ``probe`` until it gives something, for at most ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                found = await probe()
                if found is not None:
                    return found
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"gave up waiting for {what}") from None


@contextmanager
def workers() -> Iterator[Callable[[str, Path], subprocess.Popen[bytes]]]:
    """Start worker processes; any still running at the end is killed."""
    started: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:

        def start(url: str, log: Path) -> subprocess.Popen[bytes]:
            stderr = stack.enter_context((log.parent / f"worker-{len(started)}.stderr").open("wb"))
            options = ["--lease", str(LEASE), "--work", str(WORK)]
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.worker.worker_process", url, str(log), *options],
                cwd=REPO_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            started.append(process)
            return process

        try:
            yield start
        finally:
            for process in started:
                if process.poll() is None:
                    process.kill()
                    process.wait()


def stderr_of(folder: Path) -> str:
    return "\n".join(f"{path.name}:\n{path.read_text()}" for path in sorted(folder.glob("*.stderr")))


async def add_jobs(factory: UnitOfWorkFactory, tenants: list[Seeded]) -> list[Job]:
    jobs = [
        attrs.evolve(make_job(tenants[i % len(tenants)].tenant.id, created_at=at(i)), kind=KIND)
        for i in range(JOBS)
    ]
    for tenant in tenants:
        async with factory.tenant(tenant.tenant.id) as uow:
            for job in jobs:
                if job.tenant_id == tenant.tenant.id:
                    await uow.jobs.add(job)
            await uow.commit()
    return jobs


async def stored_jobs(factory: UnitOfWorkFactory, jobs: list[Job]) -> dict[str, Job]:
    found: dict[str, Job] = {}
    for job in jobs:
        async with factory.tenant(job.tenant_id) as uow:
            current = await uow.jobs.get(job.id)
        assert current is not None
        found[str(job.id)] = current
    return found


async def markers(factory: UnitOfWorkFactory, tenants: list[Seeded]) -> list[str]:
    texts: list[str] = []
    for tenant in tenants:
        async with factory.tenant(tenant.tenant.id) as uow:
            texts.extend(log.query for log in (await uow.query_logs.list(PageRequest(limit=1000))).items)
    return texts


async def test_a_worker_killed_mid_job_loses_nothing_and_completes_nothing_twice(
    database: Database, tmp_path: Path
) -> None:
    factory = database.factory
    tenants = [await seed_tenant(factory), await seed_tenant(factory)]
    jobs = await add_jobs(factory, tenants)
    log = tmp_path / "events.log"

    with workers() as start:
        doomed = start(database.url, log)

        async def job_in_hand() -> str | None:
            mine = [event for event in events(log) if event.pid == doomed.pid]
            done = {event.job_id for event in mine if event.kind == "done"}
            open_jobs = [e.job_id for e in mine if e.kind == "start" and e.job_id not in done]
            # Once it has finished one job, kill it in the middle of the next.
            return open_jobs[0] if done and open_jobs else None

        killed_job = await eventually(
            job_in_hand, seconds=30, what=f"a worker mid-job\n{stderr_of(tmp_path)}"
        )
        os.kill(doomed.pid, signal.SIGKILL)
        assert doomed.wait(timeout=10) == -signal.SIGKILL

        abandoned = (await stored_jobs(factory, jobs))[killed_job]
        assert (abandoned.status, abandoned.attempts) == (JobStatus.RUNNING, 1)
        assert abandoned.lease_expires_at is not None
        assert not any(e.kind == "done" and e.job_id == killed_job for e in events(log))

        later = [start(database.url, log) for _ in range(database.later_workers)]

        async def all_settled() -> dict[str, Job] | None:
            current = await stored_jobs(factory, jobs)
            return current if all(job.is_terminal for job in current.values()) else None

        final = await eventually(all_settled, seconds=60, what="every job to be settled")
        for process in later:
            process.send_signal(signal.SIGTERM)
        for process in later:
            assert process.wait(timeout=30) == 0, stderr_of(tmp_path)

    history = events(log)
    assert {job.status for job in final.values()} == {JobStatus.SUCCEEDED}
    # Exactly one completion per job: in the database (markers commit with the job) and in the log.
    assert sorted(await markers(factory, tenants)) == sorted(marker(job.id) for job in jobs)
    done = [event.job_id for event in history if event.kind == "done"]
    assert sorted(done) == sorted(str(job.id) for job in jobs)
    assert not [event for event in history if event.kind == "give_up"]
    # The killed worker's job was run again, by a later worker, as attempt 2.
    starts = [(e.attempt, e.pid) for e in history if e.kind == "start" and e.job_id == killed_job]
    assert starts[0] == (1, doomed.pid)
    assert [attempt for attempt, _ in starts] == [1, 2]
    assert starts[1][1] in {process.pid for process in later}
    assert final[killed_job].attempts == 2
    assert final[killed_job].summary == f"pid {starts[1][1]}"
    assert all(job.attempts == 1 for job_id, job in final.items() if job_id != killed_job)
