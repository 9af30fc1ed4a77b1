"""A worker process for tests/worker: ``python -m tests.worker.worker_process URL LOG``.

It runs the real ``Worker`` on the SQLite or PostgreSQL database at URL with one
handler, for jobs of kind ``sleepy``: it notes ``start`` in the LOG file, works (sleeps)
for ``--work`` seconds, then, in one transaction, records a completion marker (a query
log whose text is ``completed <job id>``) and finishes the job guarded by its attempt,
and notes ``done``. The marker commits with the job or not at all, as an ingestion's
chunks do, so counting markers counts completions. SIGTERM stops the worker gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from tenantrag.adapters.clock import SystemClock
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.model.query_log import QueryLog
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.worker import Worker

KIND = "sleepy"
DIMENSION = 8  # tests.contract.factories.DIMENSION: the test databases are made for it


def marker(job_id: uuid.UUID) -> str:
    return f"completed {job_id}"


class SleepyHandler:
    def __init__(self, uow: UnitOfWorkFactory, log: Path, work: float) -> None:
        self._uow = uow
        self._clock = SystemClock()
        self._log_file = log
        self._work = work

    def note(self, event: str, job: Job, extra: str = "") -> None:
        # One short O_APPEND write per line: lines of several processes never interleave.
        line = f"{event} {job.id} {job.attempts} {os.getpid()} {extra}".rstrip() + "\n"
        with self._log_file.open("a", encoding="utf-8") as log:
            log.write(line)
            log.flush()
            os.fsync(log.fileno())

    async def run(self, job: Job) -> None:
        self.note("start", job)
        await asyncio.sleep(self._work)
        async with self._uow.tenant(job.tenant_id) as uow:
            current = await uow.jobs.get(job.id)
            assert current is not None
            now = self._clock.now()
            await uow.query_logs.add(
                QueryLog(id=uuid.uuid4(), tenant_id=job.tenant_id, query=marker(job.id), created_at=now)
            )
            done = current.finish(JobStatus.SUCCEEDED, now=now, summary=f"pid {os.getpid()}")
            await uow.jobs.update(done, if_attempt=job.attempts)
            await uow.commit()
        self.note("done", job)

    async def give_up(self, job: Job, error: str) -> None:
        self.note("give_up", job, error)


async def open_backend(url: str) -> UnitOfWorkFactory:
    if url.startswith("postgresql"):
        from tenantrag.adapters.postgres import open_postgres

        return await open_postgres(url, DIMENSION, migrate=False)
    from tenantrag.adapters.sqlite import open_sqlite

    return await open_sqlite(url, DIMENSION, migrate=False)


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("log", type=Path)
    parser.add_argument("--lease", type=float, default=1.5)
    parser.add_argument("--work", type=float, default=0.5)
    args = parser.parse_args(argv)
    factory = await open_backend(args.database_url)
    try:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        worker = Worker(
            uow=factory,
            clock=SystemClock(),
            handlers={KIND: SleepyHandler(factory, args.log, args.work)},
            lease=timedelta(seconds=args.lease),
            max_attempts=3,
            poll_interval=0.05,
        )
        await worker.run(stop)
    finally:
        dispose = getattr(factory, "dispose", None)
        if dispose is not None:
            await dispose()


if __name__ == "__main__":
    asyncio.run(main())
