"""``tenantrag worker``: one job with --once, its options and settings, and stopping on signals.

The job handlers are the deployment's (``entrypoints.workers.handlers(rag)``); the test that runs a
job replaces them with one that only finishes the job, so it tests the command, not
ingestion.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import attrs
import pytest

from tenantrag.adapters.clock import SystemClock
from tenantrag.adapters.sqlite import open_sqlite
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.worker import JobHandler
from tenantrag.entrypoints import workers
from tenantrag.entrypoints.cli import worker as worker_command
from tenantrag.entrypoints.container import container_for, running
from tenantrag.entrypoints.settings import Settings
from tests.cli.conftest import Cli, Console, error_json
from tests.contract.factories import make_job, seed_tenant


@pytest.fixture
def url(cli: Cli, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    assert cli("init", "--database-url", url).exit_code == 0
    return url


@attrs.define
class Finisher:
    uow: UnitOfWorkFactory
    ran: list[Job] = attrs.field(factory=list)

    async def run(self, job: Job) -> None:
        self.ran.append(job)
        async with self.uow.tenant(job.tenant_id) as uow:
            current = await uow.jobs.get(job.id)
            assert current is not None
            done = current.finish(JobStatus.SUCCEEDED, now=SystemClock().now(), summary="done")
            await uow.jobs.update(done, if_attempt=job.attempts)
            await uow.commit()

    async def give_up(self, job: Job, error: str) -> None:
        raise AssertionError(f"gave up on {job.id}: {error}")


async def enqueue(url: str) -> Job:
    # The dimension does not matter on SQLite: no chunk is written here.
    factory = await open_sqlite(url, 384, migrate=False)
    try:
        tenant = await seed_tenant(factory)
        job = make_job(tenant.tenant.id, created_at=SystemClock().now())
        async with factory.tenant(tenant.tenant.id) as uow:
            await uow.jobs.add(job)
            await uow.commit()
        return job
    finally:
        await factory.dispose()


def test_once_on_an_empty_queue_says_so(cli: Cli, url: str) -> None:
    text = cli("worker", "--once", "--database-url", url)
    assert text.exit_code == 0, text.output
    assert text.stdout.strip() == "no job is waiting"
    as_json = cli("worker", "--once", "--json", "--database-url", url)
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) is None


def test_once_runs_one_job_and_prints_it(cli: Cli, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    job = asyncio.run(enqueue(url))
    handlers: list[Finisher] = []

    def fake_handlers(rag: TenantRag) -> dict[str, JobHandler]:
        handlers.append(Finisher(rag.uow))
        return {"ingest": handlers[-1]}

    monkeypatch.setattr(workers, "handlers", fake_handlers)

    result = cli("worker", "--once", "--json", "--database-url", url)

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert (printed["id"], printed["status"], printed["attempts"]) == (str(job.id), "succeeded", 1)
    assert printed["summary"] == "done"
    assert [ran.id for ran in handlers[0].ran] == [job.id]
    again = cli("worker", "--once", "--database-url", url)
    assert again.stdout.strip() == "no job is waiting"


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_the_poll_interval_must_be_a_positive_number_of_seconds(cli: Cli, url: str, value: str) -> None:
    result = cli("worker", "--poll-interval", value, "--database-url", url)
    assert result.exit_code == 2
    assert "positive number of seconds" in result.stderr


def test_a_memory_database_is_refused(cli: Cli) -> None:
    result = cli("worker", "--once", "--json", "--database-url", "memory://")
    assert result.exit_code == 6
    assert error_json(result)["details"]["field"] == "database_url"


def test_worker_settings_are_checked(cli: Cli, url: str) -> None:
    result = cli("worker", "--once", "--database-url", url, env={"WORKER_MAX_ATTEMPTS": "0"})
    assert result.exit_code == 8
    assert "WORKER_MAX_ATTEMPTS" in result.stderr


def test_a_missing_database_is_not_created(cli: Cli, tmp_path: Path) -> None:
    result = cli("worker", "--once", "--database-url", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.exit_code == 9
    assert not (tmp_path / "none.db").exists()


async def test_a_first_signal_asks_to_stop_and_a_second_cancels_at_once() -> None:
    stop = asyncio.Event()
    reached: list[str] = []

    async def body() -> list[bool]:
        with worker_command.stop_on_signals(stop) as hard:
            os.kill(os.getpid(), signal.SIGTERM)
            await stop.wait()
            reached.append("stop requested")
            os.kill(os.getpid(), signal.SIGTERM)
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                reached.append("cancelled")
                return hard
        raise AssertionError("the second signal did not cancel")

    async with asyncio.timeout(5):
        hard = await asyncio.create_task(body())

    assert reached == ["stop requested", "cancelled"]
    assert hard == [True]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers removed


@pytest.mark.slow
def test_the_console_script_stops_on_sigterm(console: Console, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    assert console("init", "--database-url", url).returncode == 0
    process = console.start("worker", "--poll-interval", "0.1", "--database-url", url)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert banner.startswith("tenantrag worker: "), banner
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "stopping after the current job" in stderr
    assert "jobs: ingest; lease 300 s, at most 3 attempts" in banner


async def test_the_deployment_runs_ingest_jobs_with_its_ingestion_service(cli: Cli) -> None:
    async with running(container_for(Settings(database_url="memory://"))) as rag:
        assert workers.handlers(rag) == {"ingest": rag.ingestion}
