"""Document and job status machines: legal edges work, illegal ones raise, invariants hold."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.domain.errors import InvalidInput, InvalidTransition
from tenantrag.domain.model.document import DOCUMENT_TRANSITIONS, Document, DocumentStatus
from tenantrag.domain.model.job import JOB_TRANSITIONS, Job, JobStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def a_document() -> Document:
    return Document(
        id=uuid.uuid4(), tenant_id=uuid.uuid4(), filename="a.txt", storage_key="documents/a.txt",
        created_at=T0, updated_at=T0,
    )  # fmt: skip


def a_job() -> Job:
    return Job(id=uuid.uuid4(), tenant_id=uuid.uuid4(), kind="ingest", created_at=T0, updated_at=T0)


@given(st.lists(st.sampled_from(list(DocumentStatus)), max_size=30))
def test_document_walks_only_legal_edges(targets: list[DocumentStatus]) -> None:
    document = a_document()
    now = T0
    for target in targets:
        now += timedelta(seconds=1)
        legal = target in DOCUMENT_TRANSITIONS[document.status]
        if legal:
            document = document.transition(target, now=now, error="boom")
            assert document.status is target
            assert document.updated_at == now
        else:
            before = document
            with pytest.raises(InvalidTransition):
                document.transition(target, now=now)
            assert document == before
        assert (document.error_message is not None) == (document.status is DocumentStatus.FAILED)
        if document.status is DocumentStatus.COMPLETED:
            assert document.processed_at is not None


def test_document_lifecycle_edges_are_exactly_these() -> None:
    edges = {(a.value, b.value) for a, targets in DOCUMENT_TRANSITIONS.items() for b in targets}
    assert edges == {
        ("pending", "processing"), ("pending", "failed"),
        ("processing", "completed"), ("processing", "failed"), ("processing", "pending"),
        ("completed", "pending"), ("failed", "pending"),
    }  # fmt: skip


def test_a_failed_document_must_say_why() -> None:
    with pytest.raises(InvalidInput) as raised:
        Document(
            id=uuid.uuid4(), tenant_id=uuid.uuid4(), filename="a", storage_key="k",
            status="failed", created_at=T0, updated_at=T0,
        )  # fmt: skip
    assert raised.value.field == "error_message"


@given(st.lists(st.sampled_from(list(JobStatus)), max_size=20))
def test_job_walks_only_legal_edges(targets: list[JobStatus]) -> None:
    job = a_job()
    now = T0
    for target in targets:
        now += timedelta(seconds=1)
        legal = target in JOB_TRANSITIONS[job.status]
        if not legal:
            if target is JobStatus.RUNNING:
                with pytest.raises(InvalidTransition):
                    job.start(now=now, lease_until=now + timedelta(minutes=1))
            else:
                with pytest.raises(InvalidTransition):
                    job.finish(target, now=now, error="x")
            continue
        attempts = job.attempts
        if target is JobStatus.RUNNING:
            job = job.start(now=now, lease_until=now + timedelta(minutes=1))
            assert job.attempts == attempts + 1
            assert job.lease_expires_at is not None
        else:
            job = job.finish(target, now=now, error="x")
            assert job.lease_expires_at is None
        assert job.status is target
        assert (job.error is not None) == (job.status is JobStatus.FAILED)
        assert 0 <= job.progress <= 100


def test_job_progress_is_bounded() -> None:
    job = a_job().start(now=T0, lease_until=T0 + timedelta(minutes=1))
    assert job.report(progress=40, summary="halfway", now=T0).progress == 40
    with pytest.raises(InvalidInput) as raised:
        job.report(progress=101, summary=None, now=T0)
    assert raised.value.field == "progress"
    assert job.finish(JobStatus.SUCCEEDED, now=T0).progress == 100
