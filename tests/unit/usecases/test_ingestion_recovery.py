"""Ways back, on both backends: a version left pending or failed is re-queued by submitting its
content again; a blob that is not the version's content is refused before indexing; a file with
nothing to index is refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantrag.adapters.clock import ManualClock
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.model.document import DocumentStatus
from tenantrag.domain.model.document_version import VersionStatus
from tenantrag.domain.model.job import JobStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.parser import UnparseableDocument
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.ingestion import SubmitOutcome
from tests.unit.usecases.disk_blobs import check_no_orphans, disk_app, drain
from tests.unit.usecases.workspace import Workspace

TEXT = b"Otters hold hands while they sleep, so that they do not drift apart."


@pytest.fixture
def app(
    store: UnitOfWorkFactory, clock: ManualClock, hasher: PwdlibPasswordHasher, tmp_path: Path
) -> TenantRag:
    return disk_app(store, clock, hasher, tmp_path / "blobs")


async def test_a_version_stuck_pending_is_re_queued_by_submitting_it_again(
    app: TenantRag, workspace: Workspace
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    first = await app.ingestion.submit(member, tenant, filename="otters.txt", data=TEXT, source_key="otters")
    assert first.job is not None
    # What a deadlock at the wrong moment left behind: the job failed, the version still pending.
    async with app.uow.tenant(tenant) as uow:
        claimed = first.job.start(now=first.job.created_at, lease_until=first.job.created_at)
        await uow.jobs.update(claimed)
        await uow.jobs.update(claimed.finish(JobStatus.FAILED, now=first.job.created_at, error="deadlock"))
        await uow.commit()

    again = await app.ingestion.submit(member, tenant, filename="otters.txt", data=TEXT, source_key="otters")

    assert again.outcome is SubmitOutcome.RETRIED
    assert again.job is not None
    assert again.job.status is JobStatus.QUEUED
    await drain(app)
    [version] = await app.documents.versions(member, tenant, first.document.id)
    assert (version.version, version.status) == (1, VersionStatus.ACTIVE)
    assert (await app.documents.get(member, tenant, first.document.id)).status is DocumentStatus.COMPLETED
    # And while a job will still run it, the same content is a no-op.
    assert (
        await app.ingestion.submit(member, tenant, filename="otters.txt", data=TEXT, source_key="otters")
    ).job is None
    await check_no_orphans(app, tenant)


async def test_a_failed_version_is_re_queued_with_a_new_blob(app: TenantRag, workspace: Workspace) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    queued = await app.ingestion.submit(member, tenant, filename="otters.txt", data=TEXT)
    [version] = await app.documents.versions(member, tenant, queued.document.id)
    # The blob changed at rest into other bytes (with a checksum to match): not this content.
    await app.ingestion.blobs.put(tenant, version.storage_key, b"Some other text entirely.")

    await drain(app)

    [failed] = await app.documents.versions(member, tenant, queued.document.id)
    assert failed.status is VersionStatus.FAILED
    assert failed.error is not None
    assert "submit the content again" in failed.error
    async with app.uow.tenant(tenant) as uow:
        [job] = (await uow.jobs.list(PageRequest())).items
    assert job.status is JobStatus.FAILED
    assert job.attempts == 1, "a blob that is not the version's content is not worth another attempt"
    assert not await app.documents.chunks(member, tenant, queued.document.id)

    again = await app.ingestion.submit(
        member, tenant, filename="otters.txt", data=TEXT, document_id=queued.document.id, wait=True
    )

    assert again.outcome is SubmitOutcome.RETRIED
    [active] = await app.documents.versions(member, tenant, queued.document.id)
    assert active.status is VersionStatus.ACTIVE
    assert active.storage_key != version.storage_key
    assert await app.ingestion.blobs.get(tenant, active.storage_key) == TEXT
    chunks = await app.documents.chunks(member, tenant, queued.document.id)
    assert [chunk.content for chunk in chunks] == [TEXT.decode()]
    await check_no_orphans(app, tenant)


@pytest.mark.parametrize(
    ("data", "wait", "problem"),
    [
        pytest.param(b"", False, "is empty", id="empty-queued"),
        pytest.param(b"", True, "is empty", id="empty-wait"),
        pytest.param(b"  \n\t \n", True, "no text to index", id="blank-wait"),
        pytest.param(b"<html><body> </body></html>", True, "no text to index", id="markup-only-wait"),
    ],
)
async def test_a_file_with_nothing_to_index_is_refused_naming_it_before_anything_is_written(
    app: TenantRag, workspace: Workspace, data: bytes, wait: bool, problem: str
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    name = "nothing.html" if data.startswith(b"<") else "nothing.txt"
    with pytest.raises(UnparseableDocument, match=problem) as refused:
        await app.ingestion.submit(member, tenant, filename=name, data=data, wait=wait)
    assert refused.value.filename == name
    assert name in refused.value.message
    assert (await app.documents.list(member, tenant)).items == ()
    assert await app.ingestion.blobs.entries(tenant) == []


async def test_a_blank_file_queued_fails_its_job_for_good_naming_the_file(
    app: TenantRag, workspace: Workspace
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    queued = await app.ingestion.submit(member, tenant, filename="blank.txt", data=b"   \n")
    await drain(app)
    document = await app.documents.get(member, tenant, queued.document.id)
    assert document.status is DocumentStatus.FAILED
    assert "blank.txt: has no text to index" in (document.error_message or "")
