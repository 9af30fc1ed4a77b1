"""The HTTP clients against a real server (uvicorn on 127.0.0.1, a SQLite file): what they
send reaches the API, answers come back as the API's models, errors as the domain's, and no
credential does more than its tenant and role allow."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tenantrag.domain.errors import (
    AuthenticationFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.principal import Principal
from tenantrag.integrations.http_client import AsyncTenantragClient, TenantragClient
from tests.integrations.conftest import Served

pytestmark = pytest.mark.sqlite


def test_password_login_then_the_caller_and_its_tenants(served: Served) -> None:
    with TenantragClient(served.url, email="viewer@example.com", password=served.password) as client:
        me = client.me()
        assert (me.user.email, me.credential.method) == ("viewer@example.com", "token")
        assert [(t.tenant.slug, t.role) for t in client.my_tenants()] == [("acme-research", Role.VIEWER)]
        # An expired or revoked token: the client logs in again once and carries on.
        client.credentials.token = "expired"
        assert client.get_tenant("acme-research").id == served.tenant.id
        assert client.credentials.token != "expired"


def test_documents_search_and_feedback_with_an_api_key(served: Served, tmp_path: Path) -> None:
    with TenantragClient(served.url, api_key=served.member_key) as client:
        added = client.add_text(
            served.tenant.slug, filename="cats.md", text="# Cats\n\nCats purr when they are content.",
            tags=["pets"], metadata={"year": 2024}, source_key="kb/cats.md", wait=True,
        )  # fmt: skip
        assert (added.outcome, added.document.status, added.document.tags) == (
            "created",
            "completed",
            ["pets"],
        )
        again = client.add_text(
            served.tenant.id, filename="cats.md", text="# Cats\n\nCats purr when they are content.",
            source_key="kb/cats.md",
        )  # fmt: skip
        assert (again.outcome, again.job) == ("unchanged", None)

        note = tmp_path / "dogs.md"
        note.write_text("---\nteam: search\n---\nDogs bark at the postman.\n")
        queued = client.upload(served.tenant.slug, note, tags=["pets", "dogs"], metadata={"year": 2023})
        assert queued.job is not None
        assert queued.job.status == "queued"
        job = client.wait_for_job(served.tenant.slug, queued.job.id, timeout=30)
        assert job.status == "succeeded"
        dogs = client.get_document(served.tenant.slug, queued.document.id)
        assert dogs.status == "completed"
        assert (dogs.metadata["team"], dogs.metadata["year"]) == ("search", 2023)

        found = client.search(served.tenant.slug, "why do cats purr", k=3, mode="text")
        assert [hit.document_id for hit in found.hits] == [added.document.id]
        filtered = client.search(
            served.tenant.slug, "pets", mode="hybrid", k=5, filter={"metadata.year": {"$lt": 2024}},
            group="documents", hybrid={"method": "rrf", "text_weight": 2.0},
        )  # fmt: skip
        assert filtered.documents is not None
        assert [d.document_id for d in filtered.documents] == [dogs.id]
        assert filtered.mode == "hybrid"

        assert found.query_log_id is not None
        log = client.give_feedback(served.tenant.slug, found.query_log_id, "thumbs_up", quality_score=0.9)
        assert (log.feedback, log.quality_score) == ("thumbs_up", 0.9)
        assert client.get_query_log(served.tenant.slug, found.query_log_id).feedback == "thumbs_up"

        listed = client.list_documents(served.tenant.slug, tag="dogs", status="completed", limit=5)
        assert [d.id for d in listed.items] == [dogs.id]
        chunks = client.document_chunks(served.tenant.slug, dogs.id, embeddings=True)
        assert chunks.items[0].embedding is not None
        assert [v.version for v in client.document_versions(served.tenant.slug, dogs.id).items] == [1]
        assert client.list_jobs(served.tenant.slug, document_id=dogs.id).items[0].id == job.id

        client.delete_document(served.tenant.slug, dogs.id)
        with pytest.raises(NotFound) as gone:
            client.get_document(served.tenant.slug, dogs.id)
        assert gone.value.kind == "document"


def test_a_viewer_key_is_refused_writes_and_no_key_reaches_another_tenant(served: Served) -> None:
    with TenantragClient(served.url, api_key=served.viewer_key) as viewer:
        assert viewer.search(served.tenant.slug, "cats", k=1).mode == "hybrid"
        with pytest.raises(PermissionDenied):
            viewer.add_text(served.tenant.slug, filename="x.md", text="no")
        with pytest.raises(PermissionDenied):
            viewer.upload(served.tenant.slug, b"no", filename="x.txt")
        with pytest.raises(PermissionDenied):
            viewer.delete_tenant(served.tenant.slug)
    assert served.rag.tenants.get(_system(), served.tenant.id).name == "Acme Research"

    with TenantragClient(served.url, api_key=served.member_key) as member:
        missing = uuid.uuid4()
        # Another tenant's id or slug is answered exactly like a tenant that does not exist.
        for ref in (served.other.id, served.other.slug, missing):
            with pytest.raises(NotFound) as refused:
                member.search(ref, "cats", k=3)
            assert (refused.value.kind, refused.value.details["status"]) == ("tenant", 404)
            with pytest.raises(NotFound):
                member.list_documents(ref)
        with pytest.raises(PermissionDenied):
            member.create_tenant("Keys cannot found tenants")


def test_errors_are_the_domain_errors_with_their_fields(served: Served) -> None:
    with TenantragClient(served.url, api_key=served.member_key) as client:
        with pytest.raises(InvalidInput) as invalid:
            client.search(served.tenant.slug, "cats", k=0)
        assert invalid.value.field == "k"
        with pytest.raises(InvalidInput) as bad_filter:
            client.search(served.tenant.slug, "cats", filter={"metadata.year": {"$near": 1}})
        assert bad_filter.value.field.startswith("filter")
        with pytest.raises(InvalidInput) as unnamed:
            client.upload(served.tenant.slug, b"bytes without a name")
        assert unnamed.value.field == "filename"
    with pytest.raises(AuthenticationFailed), TenantragClient(served.url, api_key="trk_bogus_key") as client:
        client.me()
    with (
        pytest.raises(AuthenticationFailed),
        TenantragClient(served.url, email="owner@example.com", password="wrong password") as client,
    ):
        client.me()
    with pytest.raises(Unavailable, match="could not reach"), TenantragClient("http://127.0.0.1:9") as client:
        client.me()
    with pytest.raises(InvalidInput, match="credentials"):
        TenantragClient(served.url, api_key="trk_x", email="a@example.com", password="p")


async def test_the_async_client_does_the_same(served: Served) -> None:
    async with AsyncTenantragClient(served.url, email="owner@example.com", password=served.password) as owner:
        assert (await owner.me()).user.email == "owner@example.com"
        added = await owner.add_text(served.tenant.slug, filename="birds.md", text="Birds sing at dawn.")
        assert added.job is not None
        assert (await owner.wait_for_job(served.tenant.slug, added.job.id, timeout=30)).status == "succeeded"
        found = await owner.search(served.tenant.slug, "when do birds sing", mode="text", k=3)
        assert [hit.document_id for hit in found.hits] == [added.document.id]
        with pytest.raises(NotFound):
            await owner.get_tenant(served.other.id)
        created = await owner.create_tenant("Async Labs", slug="async-labs", settings={"tier": "free"})
        renamed = await owner.update_tenant(created.slug, name="Async Laboratories")
        assert (renamed.name, renamed.settings) == ("Async Laboratories", {"tier": "free"})
        await owner.delete_tenant(created.id)
        with pytest.raises(NotFound):
            await owner.get_tenant(created.id)
    async with AsyncTenantragClient(served.url, api_key=served.viewer_key) as viewer:
        assert [t.role for t in await viewer.my_tenants()] == [Role.VIEWER]
        with pytest.raises(PermissionDenied):
            await viewer.delete_document(served.tenant.slug, added.document.id)
        with pytest.raises(NotFound):
            await viewer.search(served.other.slug, "cats")


def _system() -> Principal:

    return Principal.system()
