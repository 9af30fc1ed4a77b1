"""Submits racing each other, on both backends, with blobs on a real disk: checked by invariants.

After every race: one document per source key; exactly one active version, whose stored
bytes hash to its content_sha256 and whose text is what its chunks hold; no version left
pending or processing without a job; every blob on disk named by a version (no orphans).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from tenantrag.adapters.clock import ManualClock
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.model.document import DocumentStatus, sha256_hex
from tenantrag.domain.model.document_version import VersionStatus
from tenantrag.domain.model.job import JobStatus
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.ingestion import SubmitOutcome
from tests.unit.usecases.disk_blobs import check_no_orphans, disk_app, drain
from tests.unit.usecases.workspace import Workspace

# RACE_TRIALS=100 for the full check (each trial is a fresh race).
TRIALS = int(os.environ.get("RACE_TRIALS", "8"))
RACERS = 4


@pytest.fixture
def app(
    store: UnitOfWorkFactory, clock: ManualClock, hasher: PwdlibPasswordHasher, tmp_path: Path
) -> TenantRag:
    return disk_app(store, clock, hasher, tmp_path / "blobs")


def _text(label: str) -> bytes:
    return f"The content called {label} talks about {label} at length.".encode()


async def _check_document(app: TenantRag, tenant: uuid.UUID, source_key: str) -> bytes:
    """The invariants of one document after a race; its active content."""
    async with app.uow.tenant(tenant) as uow:
        document = await uow.documents.get_by_source_key(source_key)
        assert document is not None
        versions = list(await uow.versions.list_for_document(document.id))
        jobs = list((await uow.jobs.list(PageRequest(limit=1000), document_id=document.id)).items)
        chunks = list(await uow.chunks.list_for_document(document.id))
    [active] = [version for version in versions if version.status is VersionStatus.ACTIVE]
    assert not [version for version in versions if version.in_flight], versions
    assert all(job.status in (JobStatus.SUCCEEDED, JobStatus.CANCELLED) for job in jobs), jobs
    assert document.status is DocumentStatus.COMPLETED
    assert (document.version, document.content_sha256, document.storage_key) == (
        active.version,
        active.content_sha256,
        active.storage_key,
    )
    content = await app.ingestion.blobs.get(tenant, active.storage_key)
    assert sha256_hex(content) == active.content_sha256
    assert chunks
    assert all(chunk.content in content.decode() for chunk in chunks)
    return content


async def test_racing_new_versions_of_one_source_key_each_keep_their_own_content(
    app: TenantRag, workspace: Workspace
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    for trial in range(TRIALS):
        key = f"race/{trial}"
        await app.ingestion.submit(
            member, tenant, filename="a.txt", data=_text("first"), source_key=key, wait=True
        )
        texts = [_text(f"t{trial}r{racer}") for racer in range(RACERS)]

        outcomes = await asyncio.gather(
            *(
                app.ingestion.submit(member, tenant, filename="a.txt", data=text, source_key=key)
                for text in texts
            )
        )
        await drain(app)

        assert {outcome.outcome for outcome in outcomes} == {SubmitOutcome.NEW_VERSION}
        assert await _check_document(app, tenant, key) in texts
    await check_no_orphans(app, tenant)


async def test_racing_synchronous_new_versions_all_succeed(app: TenantRag, workspace: Workspace) -> None:
    """The deadlock case: wait=true new versions of one document at once, none refused."""
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    for trial in range(TRIALS // 2):
        key = f"sync/{trial}"
        await app.ingestion.submit(
            member, tenant, filename="a.txt", data=_text("first"), source_key=key, wait=True
        )
        texts = [_text(f"s{trial}r{racer}") for racer in range(RACERS * 2)]

        outcomes = await asyncio.gather(
            *(
                app.ingestion.submit(member, tenant, filename="a.txt", data=text, source_key=key, wait=True)
                for text in texts
            )
        )

        assert all(
            outcome.job is not None and outcome.job.status is JobStatus.SUCCEEDED for outcome in outcomes
        )
        assert await _check_document(app, tenant, key) in texts
    await check_no_orphans(app, tenant)


@pytest.mark.parametrize("wait", [False, True], ids=["queued", "wait"])
async def test_identical_concurrent_uploads_make_one_document_and_the_rest_are_no_ops(
    app: TenantRag, workspace: Workspace, wait: bool
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    for trial in range(TRIALS):
        key, text = f"same/{trial}", _text(f"same{trial}")

        outcomes = await asyncio.gather(
            *(
                app.ingestion.submit(member, tenant, filename="a.txt", data=text, source_key=key, wait=wait)
                for _ in range(RACERS * 2)
            )
        )
        await drain(app)

        kinds = sorted(outcome.outcome for outcome in outcomes)
        assert kinds == [SubmitOutcome.CREATED] + [SubmitOutcome.UNCHANGED] * (RACERS * 2 - 1)
        assert len({outcome.document.id for outcome in outcomes}) == 1
        assert await _check_document(app, tenant, key) == text
    await check_no_orphans(app, tenant)
