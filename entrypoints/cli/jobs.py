"""``tenantrag jobs list | show | cancel | retry``: a tenant's background jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.usecases.ingestion import Submission
from tenantrag.entrypoints.cli.output import print_fields, print_json, print_result, print_table
from tenantrag.entrypoints.cli.runtime import (
    SYSTEM,
    DatabaseUrl,
    Json,
    TenantArgument,
    all_pages,
    execute,
    load_settings,
    open_rag,
)

app = typer.Typer(help="A tenant's background jobs (ingestion).", no_args_is_help=True)

JobArgument = Annotated[str, typer.Argument(help="The job's id.")]


@app.command("list")
def list_jobs(
    *,
    tenant: TenantArgument,
    status: Annotated[JobStatus | None, typer.Option("--status", help="Only jobs in this state.")] = None,
    document: Annotated[str | None, typer.Option("--document", help="Only this document's jobs.")] = None,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """List jobs, oldest first."""

    async def body() -> list[Job]:
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            jobs = await all_pages(
                lambda page: rag.jobs.list(SYSTEM, target.id, page, document_id=document),
                settings.max_page_size,
            )
        return [job for job in jobs if status is None or job.status is status]

    jobs = execute(body, json_output=json)
    if json:
        print_json(jobs)
        return
    print_table(
        ["id", "kind", "status", "attempts", "document", "error", "created"],
        [
            (j.id, j.kind, j.status, j.attempts, j.document_id, (j.error or "")[:60] or None, j.created_at)
            for j in jobs
        ],
        empty="no jobs",
    )


@app.command()
def show(
    *, tenant: TenantArgument, job: JobArgument, database_url: DatabaseUrl = None, json: Json = False
) -> None:
    """One job, with its progress and error."""

    async def body() -> Job:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            return await rag.jobs.get(SYSTEM, target.id, job)

    found = execute(body, json_output=json)
    if json:
        print_json(found)
        return
    print_fields(
        {"id": found.id, "kind": found.kind, "status": found.status, "progress": found.progress,
         "summary": found.summary or None, "attempts": found.attempts, "document": found.document_id,
         "error": found.error, "created": found.created_at, "finished": found.finished_at}
    )  # fmt: skip


@app.command()
def cancel(
    *, tenant: TenantArgument, job: JobArgument, database_url: DatabaseUrl = None, json: Json = False
) -> None:
    """Cancel a queued or running job (a worker running it stops at its next heartbeat)."""

    async def body() -> Job:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            return await rag.jobs.cancel(SYSTEM, target.id, job)

    found = execute(body, json_output=json)
    print_result(json, found, f"cancelled job {found.id}")


@app.command()
def retry(
    *,
    tenant: TenantArgument,
    job: JobArgument,
    wait: Annotated[
        bool, typer.Option("--wait", help="Ingest here instead of queueing for a worker.")
    ] = False,
    database_url: DatabaseUrl = None,
    json: Json = False,
) -> None:
    """Run a failed or cancelled ingestion again: its version is queued with a new job."""

    async def body() -> Submission:
        async with open_rag(load_settings(database_url)) as rag:
            target = await rag.tenants.resolve(SYSTEM, tenant)
            return await rag.jobs.retry(SYSTEM, target.id, job, wait=wait)

    done = execute(body, json_output=json)
    new_job = done.job
    print_result(
        json,
        {"outcome": done.outcome, "document": done.document, "job": new_job},
        f"{done.outcome.value}: {done.document.filename}"
        + ("" if new_job is None else f", job {new_job.id} ({new_job.status.value})"),
    )
