"""Cancelling a job and retrying a failed or cancelled ingestion (rag.jobs), on both backends."""

from __future__ import annotations

import pytest

from tenantrag.domain.errors import Conflict, NotFound, PermissionDenied
from tenantrag.domain.model.document import DocumentStatus
from tenantrag.domain.model.job import JobStatus
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.ingestion import SubmitOutcome
from tenantrag.domain.usecases.principal import Principal
from tests.unit.usecases.workspace import Workspace

SYSTEM = Principal.system()


async def test_a_cancelled_ingestion_is_retried_and_completes(app: TenantRag, workspace: Workspace) -> None:
    queued = await app.ingestion.submit(
        workspace.actor(Role.OWNER),
        workspace.tenant.id,
        filename="notes.md",
        data=b"# Notes\n\nSomething to find.\n",
    )
    assert queued.job is not None

    cancelled = await app.jobs.cancel(workspace.actor(Role.OWNER), workspace.tenant.id, queued.job.id)
    assert cancelled.status is JobStatus.CANCELLED
    with pytest.raises(Conflict, match="only a queued or running job can be cancelled"):
        await app.jobs.cancel(workspace.actor(Role.OWNER), workspace.tenant.id, queued.job.id)

    retried = await app.jobs.retry(workspace.actor(Role.OWNER), workspace.tenant.id, queued.job.id, wait=True)

    assert retried.outcome is SubmitOutcome.RETRIED
    assert retried.document.id == queued.document.id
    assert retried.document.status is DocumentStatus.COMPLETED
    assert retried.job is not None
    assert retried.job.id != queued.job.id
    assert retried.job.status is JobStatus.SUCCEEDED


async def test_only_failed_or_cancelled_ingestions_of_the_latest_version_are_retried(
    app: TenantRag, workspace: Workspace
) -> None:
    first = await app.ingestion.submit(
        workspace.actor(Role.OWNER),
        workspace.tenant.id,
        filename="a.md",
        data=b"first",
        source_key="a",
        wait=True,
    )
    assert first.job is not None
    with pytest.raises(Conflict, match="only a failed or cancelled job is retried"):
        await app.jobs.retry(workspace.actor(Role.OWNER), workspace.tenant.id, first.job.id)

    second = await app.ingestion.submit(
        workspace.actor(Role.OWNER), workspace.tenant.id, filename="a.md", data=b"second", source_key="a"
    )
    assert second.job is not None
    await app.jobs.cancel(workspace.actor(Role.OWNER), workspace.tenant.id, second.job.id)
    third = await app.ingestion.submit(
        workspace.actor(Role.OWNER), workspace.tenant.id, filename="a.md", data=b"third", source_key="a"
    )
    assert third.job is not None

    with pytest.raises(Conflict, match="whose latest is version 3"):
        await app.jobs.retry(workspace.actor(Role.OWNER), workspace.tenant.id, second.job.id)


async def test_a_viewer_can_neither_cancel_nor_retry_and_strangers_see_nothing(
    app: TenantRag, workspace: Workspace
) -> None:
    queued = await app.ingestion.submit(
        workspace.actor(Role.OWNER), workspace.tenant.id, filename="n.md", data=b"note"
    )
    assert queued.job is not None

    for call in (
        app.jobs.cancel(workspace.actor(Role.VIEWER), workspace.tenant.id, queued.job.id),
        app.jobs.retry(workspace.actor(Role.VIEWER), workspace.tenant.id, queued.job.id),
    ):
        with pytest.raises(PermissionDenied):
            await call
    with pytest.raises(NotFound):
        await app.jobs.cancel(workspace.stranger, workspace.tenant.id, queued.job.id)
