"""The LangChain store over the HTTP API of a served tenantrag (uvicorn on 127.0.0.1, a SQLite
file): LangChain's standard suite, sync and async, then modes, filters, grouping and the
bounds of the API key it acts with (its tenant, its role)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import attrs
import pytest
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from tenantrag.domain.errors import InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.principal import Principal
from tenantrag.integrations.http_client_async import AsyncTenantragClient
from tenantrag.integrations.langchain_http import TenantRagHttpVectorStore, id_tag
from tests.integrations.conftest import Served

pytestmark = pytest.mark.sqlite


@attrs.frozen
class Workspace:
    """A fresh tenant on the server, with keys of each role, so every test starts empty."""

    tenant: Tenant
    owner: Principal
    keys: dict[Role, str]


def workspace(served: Served) -> Workspace:
    rag = served.rag
    owner = Principal.user(rag.users.register(email=f"{uuid.uuid4().hex}@example.com").id)
    tenant = rag.tenants.create(owner, name=f"ws-{uuid.uuid4().hex[:12]}")
    keys = {
        role: rag.api_keys.issue(owner, tenant.id, name=role.value, role_cap=role).plaintext
        for role in (Role.MEMBER, Role.VIEWER)
    }
    return Workspace(tenant, owner, keys)


def store_for(served: Served, key: str, tenant: uuid.UUID | str) -> TenantRagHttpVectorStore:
    return TenantRagHttpVectorStore(AsyncTenantragClient(served.url, api_key=key), tenant=tenant)


class TestStandardSuiteOverHttp(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self, served: Served) -> Iterator[TenantRagHttpVectorStore]:
        # The server embeds (hashing, 64 dimensions): the suite's fake embeddings are not used.
        space = workspace(served)
        store = store_for(served, space.keys[Role.MEMBER], space.tenant.id)
        try:
            yield store
        finally:
            store.close()


@pytest.fixture
def space(served: Served) -> Workspace:
    return workspace(served)


@pytest.fixture
def member(served: Served, space: Workspace) -> Iterator[TenantRagHttpVectorStore]:
    store = store_for(served, space.keys[Role.MEMBER], space.tenant.slug)  # by slug, too
    store.add_texts(
        [
            "Cats purr when they are content.",
            "Dogs bark at the mail carrier.",
            "Birds sing at dawn in spring.",
        ],
        [{"animal": "cat", "year": 2021}, {"animal": "dog", "year": 2019}, {"animal": "bird", "year": 2023}],
        ids=["cat", "dog", "bird"],
    )
    try:
        yield store
    finally:
        store.close()


def test_modes_filters_and_grouping_over_http(member: TenantRagHttpVectorStore) -> None:
    assert [d.id for d in member.similarity_search("spring dawn", k=3, mode="text")] == ["bird"]
    assert [d.id for d in member.similarity_search("the dogs bark at the mail carrier", k=1)] == ["dog"]
    recent = member.similarity_search("animals", k=3, mode="hybrid", filter={"metadata.year": {"$gte": 2020}})
    assert sorted(str(d.id) for d in recent) == ["bird", "cat"]
    grouped = member.similarity_search("cats purr", k=2, mode="text", group="documents")
    assert [d.id for d in grouped] == ["cat"]
    assert grouped[0].metadata == {"animal": "cat", "year": 2021}
    with pytest.raises(InvalidInput) as refused:
        member.similarity_search("animals", filter={"metadata.year": {"$near": 1}})
    assert refused.value.field == "filter.metadata.year.$near"
    with pytest.raises(InvalidInput) as no_vector:
        member.max_marginal_relevance_search("cats")
    assert no_vector.value.field == "query"


def test_ids_are_source_keys_found_by_their_tag(
    served: Served, space: Workspace, member: TenantRagHttpVectorStore
) -> None:
    documents = served.rag.documents.list(space.owner, space.tenant.id, tag=id_tag("cat"))
    assert [document.source_key for document in documents] == ["cat"]
    member.add_texts(["Cats purr when they are content."], [{"animal": "cat", "year": 2024}], ids=["cat"])
    assert member.get_by_ids(["cat"])[0].metadata == {"animal": "cat", "year": 2024}


def test_a_viewer_key_reads_but_never_writes(
    served: Served, space: Workspace, member: TenantRagHttpVectorStore
) -> None:
    viewer = store_for(served, space.keys[Role.VIEWER], space.tenant.id)
    try:
        assert [d.id for d in viewer.get_by_ids(["cat"])] == ["cat"]
        with pytest.raises(PermissionDenied):
            viewer.add_texts(["Fish swim."], ids=["fish"])
        with pytest.raises(PermissionDenied):
            viewer.delete(["cat"])
    finally:
        viewer.close()
    assert [d.id for d in member.get_by_ids(["cat", "fish"])] == ["cat"]


async def test_a_key_never_reaches_another_tenant(
    served: Served, space: Workspace, member: TenantRagHttpVectorStore
) -> None:
    other = workspace(served)
    elsewhere = store_for(served, space.keys[Role.MEMBER], other.tenant.id)
    try:
        for attempt in (
            elsewhere.asimilarity_search("cats"),
            elsewhere.aget_by_ids(["cat"]),
            elsewhere.aadd_texts(["Sneaky."], ids=["cat"]),
            elsewhere.adelete(["cat"]),
        ):
            with pytest.raises(NotFound):
                await attempt
    finally:
        elsewhere.close()
    assert [d.id for d in await member.aget_by_ids(["cat"])] == ["cat"]
    assert list(served.rag.documents.list(other.owner, other.tenant.id)) == []
