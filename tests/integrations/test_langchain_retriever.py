"""TenantRagRetriever: LangChain's own standard suite for retrievers (``k`` as a constructor
field and at call time, sync and async), and tenantrag's options as its fields."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import RetrieversIntegrationTests

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.bootstrap import bootstrap
from tenantrag.integrations.langchain import TenantRagVectorStore
from tenantrag.integrations.langchain_retriever import TenantRagRetriever
from tenantrag.integrations.sync import SyncTenantrag

pytestmark = pytest.mark.memory

TEXTS = [
    "Cats purr when they are content.",
    "Cats nap in the sun all afternoon.",
    "Dogs bark at the mail carrier.",
    "Birds sing at dawn in spring.",
    "Cats and dogs can be friends.",
]
_STORE: list[TenantRagVectorStore] = []


@pytest.fixture(scope="module", autouse=True)
def animals() -> Iterator[TenantRagVectorStore]:
    """Five records in a memory:// store, for the module (the suite's constructor reads it)."""
    facade = SyncTenantrag.from_app(lambda: bootstrap(embedder=HashingEmbedder(dimension=64)))
    try:
        owner = Principal.user(facade.users.register(email="owner@example.com").id)
        tenant = facade.tenants.create(owner, name="Acme")
        store = TenantRagVectorStore(facade, tenant_id=tenant.id, principal=owner)
        store.add_texts(
            TEXTS, [{"n": i} for i in range(len(TEXTS))], ids=[f"r{i}" for i in range(len(TEXTS))]
        )
        _STORE.append(store)
        yield store
    finally:
        _STORE.clear()
        facade.close()


class TestStandardRetrieverSuite(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return TenantRagRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"store": _STORE[0], "mode": "hybrid"}

    @property
    def retriever_query_example(self) -> str:
        return "why do cats purr"


def test_the_fields_are_tenantrags_options(animals: TenantRagVectorStore) -> None:
    text = TenantRagRetriever(store=animals, k=5, mode="text", filter={"metadata.n": {"$lt": 4}})
    assert [d.id for d in text.invoke("cats")] == ["r0", "r1"]  # r4 is filtered out
    assert [d.id for d in text.invoke("cats", k=1)] == ["r0"]  # a call's option wins
    grouped = TenantRagRetriever(store=animals, k=2, mode="hybrid", group="documents", match="websearch")
    assert len(grouped.invoke("cats purr")) == 2
    bad: list[tuple[dict[str, Any], str]] = [
        ({"mode": "fuzzy"}, "mode"),
        ({"group": "pages"}, "group"),
        ({"match": "all"}, "match"),
    ]
    for options, field in bad:
        with pytest.raises(InvalidInput) as refused:
            TenantRagRetriever(store=animals, **options)
        assert refused.value.field == field
