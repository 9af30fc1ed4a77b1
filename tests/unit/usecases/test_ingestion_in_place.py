"""Ingesting in the caller (``wait=True``): the submit's transaction makes the version and the
document processing at once (the job is the caller's from the start), and the caller gets
the document and the job as the swap stored them. A failure still leaves nothing half
written: the new version failed, the previous one active and searchable."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.model.document import DocumentStatus
from tenantrag.domain.model.document_version import VersionStatus
from tenantrag.domain.model.job import JobStatus
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.ingestion import Submission, SubmitOutcome
from tests.unit.usecases.workspace import DIMENSION, Workspace


class BrokenEmbedder(HashingEmbedder):
    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        raise RuntimeError("the model fell over")


async def _as_stored(app: TenantRag, workspace: Workspace, submission: Submission) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    assert submission.job is not None
    assert submission.document == await app.documents.get(member, tenant, submission.document.id)
    assert submission.job == await app.jobs.get(member, tenant, submission.job.id)
    assert submission.job.status is JobStatus.SUCCEEDED


async def test_waiting_returns_the_document_and_the_job_as_stored(
    app: TenantRag, workspace: Workspace
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    first = await app.ingestion.submit(member, tenant, filename="a.txt", data=b"alpha words", wait=True)
    await _as_stored(app, workspace, first)
    second = await app.ingestion.submit(
        member, tenant, filename="a.txt", data=b"beta words", document_id=first.document.id, wait=True
    )
    await _as_stored(app, workspace, second)
    assert second.outcome is SubmitOutcome.NEW_VERSION
    assert second.document.status is DocumentStatus.COMPLETED
    versions = await app.documents.versions(member, tenant, first.document.id)
    assert [(x.version, x.status) for x in versions] == [
        (1, VersionStatus.SUPERSEDED),
        (2, VersionStatus.ACTIVE),
    ]


async def test_a_failed_version_in_place_keeps_the_previous_content_and_can_be_retried(
    app: TenantRag, workspace: Workspace
) -> None:
    member, tenant = workspace.actor(Role.MEMBER), workspace.tenant.id
    first = await app.ingestion.submit(
        member, tenant, filename="k.txt", data=b"kiwi birds are nocturnal", source_key="k", wait=True
    )
    working = app.ingestion
    app.ingestion = attrs.evolve(working, embedder=BrokenEmbedder(DIMENSION))
    with pytest.raises(RuntimeError, match="fell over"):
        await app.ingestion.submit(
            member, tenant, filename="k.txt", data=b"emus cannot fly either", source_key="k", wait=True
        )
    document = await app.documents.get(member, tenant, first.document.id)
    assert document.status is DocumentStatus.FAILED
    assert document.version == 1  # still the first content
    versions = await app.documents.versions(member, tenant, document.id)
    assert [(x.version, x.status) for x in versions] == [(1, VersionStatus.ACTIVE), (2, VersionStatus.FAILED)]
    chunks = await app.documents.chunks(member, tenant, document.id)
    assert [c.content for c in chunks] == ["kiwi birds are nocturnal"]
    [hit] = await app.search.search(member, tenant, text="kiwi nocturnal", k=1)
    assert hit.document_id == document.id

    app.ingestion = working
    retried = await app.ingestion.submit(
        member, tenant, filename="k.txt", data=b"emus cannot fly either", source_key="k", wait=True
    )
    assert retried.outcome is SubmitOutcome.RETRIED
    assert retried.document.status is DocumentStatus.COMPLETED
    versions = await app.documents.versions(member, tenant, document.id)
    assert [(x.version, x.status) for x in versions] == [
        (1, VersionStatus.SUPERSEDED),
        (2, VersionStatus.ACTIVE),
    ]
    chunks = await app.documents.chunks(member, tenant, document.id)
    assert [c.content for c in chunks] == ["emus cannot fly either"]
