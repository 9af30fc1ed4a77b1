"""The LangChain store beyond the standard suite: tenantrag's modes, grouping, filters and
max-marginal relevance, the retriever, ids and upserts, bad input, the loop it runs on, and the
tenant and role it is bound to (SQLite and PostgreSQL; tenantrag's own hashing embedder)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.errors import InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.bootstrap import bootstrap
from tenantrag.integrations.langchain import CallerLoop, TenantRagVectorStore
from tenantrag.integrations.sync import SyncTenantrag
from tests.integrations.bound_library import BACKENDS, Library, open_library

DIMENSION = 64

TEXTS = [
    "Cats purr when they are content.",
    "Dogs bark at the mail carrier.",
    "Birds sing at dawn in spring.",
]
METADATA = [
    {"animal": "cat", "year": 2021},
    {"animal": "dog", "year": 2019},
    {"animal": "bird", "year": 2023},
]


@pytest.fixture(params=BACKENDS)
def library(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Library]:
    with open_library(request.param, DIMENSION, request, tmp_path) as opened:
        yield opened


def store_for(library: Library, principal: Principal, tenant: str = "acme") -> TenantRagVectorStore:
    tenant_id = library.acme.id if tenant == "acme" else library.other.id
    return TenantRagVectorStore(library.rag, tenant_id=tenant_id, principal=principal, runner=library.loop)


@pytest.fixture
def animals(library: Library) -> TenantRagVectorStore:
    store = store_for(library, library.owner)
    store.add_texts(TEXTS, METADATA, ids=["cat", "dog", "bird"])
    return store


def ids(documents: list[Document]) -> list[str]:
    return [str(document.id) for document in documents]


def test_modes_rank_as_tenantrag_does(animals: TenantRagVectorStore) -> None:
    assert ids(animals.similarity_search("cats purr", k=1)) == ["cat"]
    assert ids(animals.similarity_search("spring dawn", k=3, mode="text")) == ["bird"]
    assert ids(animals.similarity_search("mail carrier", k=1, mode="hybrid")) == ["dog"]
    scored = animals.similarity_search_with_score("cats purr", k=3)
    assert [score for _, score in scored] == sorted((score for _, score in scored), reverse=True)
    assert scored[0][0] == Document(id="cat", page_content=TEXTS[0], metadata=METADATA[0])
    with pytest.raises(InvalidInput) as refused:
        animals.similarity_search("cats", mode="fuzzy")
    assert refused.value.field == "mode"


def test_search_by_vector_equals_search_by_its_text(library: Library, animals: TenantRagVectorStore) -> None:
    vector = list(library.loop.run(library.rag.embedder.embed_query("dogs bark")))
    assert ids(animals.similarity_search_by_vector(vector, k=3)) == ids(
        animals.similarity_search("dogs bark", k=3)
    )


def test_filters_are_the_filter_language(animals: TenantRagVectorStore) -> None:
    recent = animals.similarity_search("animals", k=3, filter={"metadata.year": {"$gte": 2020}})
    assert sorted(ids(recent)) == ["bird", "cat"]
    either = {"$or": [{"metadata.animal": "dog"}, {"metadata.animal": "bird"}]}
    assert sorted(ids(animals.similarity_search("animals", k=3, filter=either, mode="hybrid"))) == [
        "bird",
        "dog",
    ]
    with pytest.raises(InvalidInput) as refused:
        animals.similarity_search("animals", filter={"metadata.year": {"$gt": "x", "$near": 1}})
    assert refused.value.field == "filter.metadata.year.$near"


def test_grouping_by_document_gives_each_document_once(
    library: Library, animals: TenantRagVectorStore
) -> None:
    # A document uploaded through tenantrag (several chunks) is known by its document id.
    long = "\n\n".join(
        f"Paragraph {i}: cats purr and cats nap in the sun all day long. " * 8 for i in range(6)
    )
    upload = library.loop.run(
        library.rag.ingestion.add_text(library.owner, library.acme.id, filename="c.txt", text=long)
    )
    chunks = animals.similarity_search("cats purr nap", k=4, mode="text")
    assert ids(chunks).count(str(upload.id)) > 1
    grouped = animals.similarity_search("cats purr nap", k=2, mode="text", group="documents")
    assert ids(grouped) == [str(upload.id), "cat"]
    assert animals.get_by_ids([str(upload.id)])[0].page_content.startswith("Paragraph 0")


def test_relevance_scores_are_cosines_in_vector_mode_only(animals: TenantRagVectorStore) -> None:
    relevant = animals.similarity_search_with_relevance_scores("cats purr", k=3)
    assert relevant[0][0].id == "cat"
    assert all(0.0 <= score <= 1.0 for _, score in relevant)
    with pytest.raises(InvalidInput, match="mode vector"):
        animals.similarity_search_with_relevance_scores("cats", k=3, mode="text")


def test_max_marginal_relevance_trades_similarity_for_diversity(library: Library) -> None:
    store = store_for(library, library.owner)
    store.add_texts(
        ["Cats purr softly.", "Cats purr softly at night.", "Dogs bark loudly."], ids=["c1", "c2", "d"]
    )
    assert ids(store.similarity_search("cats purr softly", k=2)) == ["c1", "c2"]
    assert ids(store.max_marginal_relevance_search("cats purr softly", k=2, fetch_k=3, lambda_mult=0.1)) == [
        "c1",
        "d",
    ]
    with pytest.raises(InvalidInput) as refused:
        store.max_marginal_relevance_search("cats", k=3, fetch_k=2)
    assert refused.value.field == "fetch_k"


async def test_retrievers_take_tenantrags_modes(animals: TenantRagVectorStore) -> None:
    hybrid = animals.as_retriever(search_kwargs={"k": 1, "mode": "hybrid"})
    assert ids(await hybrid.ainvoke("mail carrier")) == ["dog"]
    text = animals.as_retriever(
        search_kwargs={"k": 3, "mode": "text", "filter": {"metadata.year": {"$lt": 2022}}}
    )
    assert ids(text.invoke("cats purr")) == ["cat"]
    mmr = animals.as_retriever(search_type="mmr", search_kwargs={"k": 2, "fetch_k": 3})
    assert len(await mmr.ainvoke("animals")) == 2


def test_re_adding_an_id_updates_what_changed(library: Library) -> None:
    store = store_for(library, library.owner)
    store.add_texts(["foo"], [{"a": 1}], ids=["one"])
    first = library.loop.run(
        library.rag.documents.read_many(library.owner, library.acme.id, source_keys=["one"])
    )
    store.add_texts(["foo"], [{"a": 1}], ids=["one"])  # unchanged: the same document
    again = library.loop.run(
        library.rag.documents.read_many(library.owner, library.acme.id, source_keys=["one"])
    )
    assert again[0].document.id == first[0].document.id
    store.add_texts(["foo"], [{"a": 2}], ids=["one"])  # metadata alone: replaced
    assert store.get_by_ids(["one"]) == [Document(id="one", page_content="foo", metadata={"a": 2})]
    store.add_texts(["  bar \n"], [{"a": 2}], ids=["one"])  # text: a new version; ends trimmed
    assert store.get_by_ids(["one"]) == [Document(id="one", page_content="bar", metadata={"a": 2})]


def test_bad_input_is_refused_by_name(library: Library) -> None:
    store = store_for(library, library.owner)
    cases: list[tuple[str, object]] = [
        ("ids", lambda: store.add_texts(["a"], ids=[" padded "])),
        ("page_content", lambda: store.add_texts(["   "], ids=["blank"])),
        ("ids", lambda: store.add_texts(["a", "b"], ids=["only-one"])),
        ("ids", lambda: store.delete(None)),
        ("metadata", lambda: store.add_texts(["a"], [{"bad": object()}])),
        ("search", lambda: store.similarity_search("a", colour="red")),
        ("add_texts", lambda: store.add_texts(["a"], colour="red")),
    ]
    for field, call in cases:
        with pytest.raises(InvalidInput) as refused:
            call()  # type: ignore[operator]
        assert refused.value.field == field


def test_a_store_never_crosses_its_tenant(library: Library, animals: TenantRagVectorStore) -> None:
    other = store_for(library, library.other_owner, tenant="other")
    other.add_texts(["Other cats purr too."], [{"animal": "other"}], ids=["cat"])
    # The same LangChain id in two tenants names two documents; each store sees its own.
    assert other.get_by_ids(["cat", "dog"]) == [
        Document(id="cat", page_content="Other cats purr too.", metadata={"animal": "other"})
    ]
    assert all(d.metadata["animal"] != "other" for d in animals.similarity_search("cats purr", k=10))
    other.delete(["cat", "dog", "bird"])
    assert ids(animals.get_by_ids(["cat", "dog", "bird"])) == ["cat", "dog", "bird"]
    # A store bound to a tenant its principal is not in can do nothing there: to it the
    # tenant does not exist (NotFound, so its existence is not revealed either).
    intruder = store_for(library, library.other_owner)
    for call in (
        lambda: intruder.similarity_search("cats"),
        lambda: intruder.get_by_ids(["cat"]),
        lambda: intruder.delete(["cat"]),
        lambda: intruder.add_texts(["Sneaky."], ids=["cat"]),
    ):
        with pytest.raises(NotFound):
            call()
    assert ids(animals.get_by_ids(["cat"])) == ["cat"]


def test_a_viewer_reads_but_never_writes(library: Library, animals: TenantRagVectorStore) -> None:
    viewer = store_for(library, library.viewer)
    assert ids(viewer.similarity_search("cats purr", k=1)) == ["cat"]
    with pytest.raises(PermissionDenied):
        viewer.add_texts(["Fish swim."], ids=["fish"])
    with pytest.raises(PermissionDenied):
        viewer.delete(["cat"])
    assert viewer.get_by_ids(["fish"]) == []
    assert ids(viewer.get_by_ids(["cat"])) == ["cat"]


def test_an_api_key_principal_is_held_to_its_tenant(library: Library, animals: TenantRagVectorStore) -> None:
    key = Principal(tenant_id=library.acme.id, role_cap=None, api_key_id=uuid.uuid4(), user_id=None)
    elsewhere = TenantRagVectorStore(
        library.rag, tenant_id=library.other.id, principal=key, runner=library.loop
    )
    with pytest.raises(NotFound):
        elsewhere.similarity_search("cats")


async def test_a_store_in_the_callers_loop_is_async_only() -> None:
    async with bootstrap(embedder=HashingEmbedder(dimension=DIMENSION)) as rag:
        owner = await rag.users.register(email="owner@example.com")
        tenant = await rag.tenants.create(Principal.user(owner.id), name="Acme")
        store = TenantRagVectorStore(
            rag, tenant_id=tenant.id, principal=Principal.system(), runner=CallerLoop()
        )
        assert await store.aadd_texts(["Cats purr."], ids=["cat"]) == ["cat"]
        assert ids(await store.asimilarity_search("cats", k=1)) == ["cat"]
        with pytest.raises(RuntimeError, match="async methods"):
            store.similarity_search("cats")


async def test_a_store_over_a_sync_facade_runs_on_its_loop_from_async_code_too() -> None:
    facade = SyncTenantrag.from_app(lambda: bootstrap(embedder=HashingEmbedder(dimension=DIMENSION)))
    try:
        owner = Principal.user(facade.users.register(email="owner@example.com").id)
        tenant = facade.tenants.create(owner, name="Acme")
        store = TenantRagVectorStore(facade, tenant_id=tenant.id, principal=owner)
        assert await store.aadd_texts(["Cats purr."], ids=["cat"], tags=["pets"]) == ["cat"]
        assert ids(await store.asimilarity_search("cats", k=1, filter={"tags": "pets"})) == ["cat"]
        store.close()  # the facade's loop is the facade's: the store leaves it open
        assert ids(store.similarity_search("cats", k=1)) == ["cat"]
    finally:
        facade.close()


def test_from_texts_with_langchain_embeddings_and_one_model_per_store(library: Library) -> None:
    fake = DeterministicFakeEmbedding(size=DIMENSION)
    store = TenantRagVectorStore.from_texts(
        ["foo", "bar"], fake, ids=["1", "2"], rag=library.rag, tenant_id=library.acme.id,
        principal=library.owner, runner=library.loop,
    )  # fmt: skip
    assert store.embeddings is fake
    assert ids(store.similarity_search("bar", k=2)) == ["2", "1"]  # the fake's own vectors
    # The store recorded the fake model; the app's own embedder is now refused, by name.
    with pytest.raises(InvalidInput, match="DeterministicFakeEmbedding") as refused:
        store_for(library, library.owner).similarity_search("foo")
    assert refused.value.field == "embedder"
    with pytest.raises(InvalidInput, match="6-dimensional") as wrong:
        TenantRagVectorStore(
            library.rag, tenant_id=library.acme.id, principal=library.owner,
            embedding=DeterministicFakeEmbedding(size=6), runner=library.loop,
        )  # fmt: skip
    assert wrong.value.field == "embedding"
