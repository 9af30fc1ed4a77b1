"""``tenantrag worker``: run queued jobs (ingestion) until stopped.

Any number of workers may run against one PostgreSQL database, on any number of
machines: each claims jobs with FOR UPDATE SKIP LOCKED and none waits for another. On
SQLite, workers take turns at the database's write lock; one is the sensible number.

Ctrl-C or SIGTERM stops the worker once the job in hand is finished (exit 0); a second
one stops it at once (exit 130), and that job is retried by a worker when its lease
runs out. Each job attempted is printed as it is settled (JSON Lines with ``--json``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.job import Job
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.worker import Worker
from tenantrag.entrypoints import workers
from tenantrag.entrypoints.cli.output import print_json_line
from tenantrag.entrypoints.cli.runtime import DatabaseUrl, Json, execute, open_rag
from tenantrag.entrypoints.settings import Settings


def _positive_seconds(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter("must be a positive number of seconds")
    return value


Once = Annotated[bool, typer.Option("--once", help="Run at most one job, then exit.")]
PollInterval = Annotated[
    float | None,
    typer.Option(
        "--poll-interval",
        help="Seconds to wait when the queue is empty (default: $WORKER_POLL_INTERVAL, else 1).",
        callback=_positive_seconds,
        show_default=False,
    ),
]


def build_worker(rag: TenantRag, settings: Settings, *, json_output: bool) -> Worker:
    return workers.make_worker(rag, settings, on_job=lambda job: print_job(job, json_output=json_output))


def print_job(job: Job, *, json_output: bool) -> None:
    if json_output:
        print_json_line(job)
        return
    attempts = f"{job.attempts} attempt{'s' if job.attempts != 1 else ''}"
    line = f"job {job.id} ({job.kind}, tenant {job.tenant_id}): {job.status.value} after {attempts}"
    typer.echo(f"{line}: {job.error}" if job.error else line)


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[list[bool]]:
    """SIGINT and SIGTERM set ``stop``; a second one cancels the running task at once.

    Yields a one-item list that turns true when the second signal came, so the caller can
    tell that cancellation from any other. Outside the main thread (an embedding service)
    no handler can be installed, and the caller's own signal handling applies.
    """
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    hard = [False]

    def on_signal() -> None:
        if not stop.is_set():
            typer.echo("tenantrag worker: stopping after the current job (again to stop now)", err=True)
            stop.set()
        elif task is not None:
            hard[0] = True
            task.cancel()

    installed = []
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, on_signal)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            continue
        installed.append(number)
    try:
        yield hard
    finally:
        for number in installed:
            loop.remove_signal_handler(number)


def worker(
    once: Once = False,
    poll_interval: PollInterval = None,
    database_url: DatabaseUrl = None,
    json_output: Json = False,
) -> None:
    """Run queued jobs (document ingestion) until Ctrl-C or SIGTERM."""

    async def body() -> None:
        overrides: dict[str, Any] = {}
        if database_url is not None:
            overrides["database_url"] = database_url
        if poll_interval is not None:
            overrides["worker_poll_interval"] = poll_interval
        settings = Settings(**overrides)
        if settings.backend == "memory":
            raise InvalidInput(
                "database_url",
                "memory:// lives inside one process; a worker needs the database the API writes to",
            )
        async with open_rag(settings) as rag:
            runner = build_worker(rag, settings, json_output=json_output)
            if once:
                if await runner.run_once() is None:
                    typer.echo("null" if json_output else "no job is waiting")
                return
            stop = asyncio.Event()
            with stop_on_signals(stop) as hard:
                # Announced once the signals are ours: from here, a signal is a clean stop.
                kinds = ", ".join(sorted(runner.handlers))
                typer.echo(
                    f"tenantrag worker: {settings.redacted_database_url}; jobs: {kinds}; lease"
                    f" {settings.worker_lease_seconds:g} s, at most {settings.worker_max_attempts} attempts."
                    " Ctrl-C or SIGTERM stops after the current job.",
                    err=True,
                )
                try:
                    await runner.run(stop)
                except asyncio.CancelledError:
                    if hard[0]:
                        raise KeyboardInterrupt from None
                    raise

    execute(body, json_output=json_output)
