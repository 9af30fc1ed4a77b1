"""The LlamaIndex vector store: a VectorStoreIndex built over it and queried through
LlamaIndex's own retriever (no LLM), in each query mode, with metadata filters, deleting by
source document, on SQLite and PostgreSQL; and the tenant and the role it is bound to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_index.core import Document, MockEmbedding, StorageContext, VectorStoreIndex
from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

from tenantrag.domain.errors import InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.embedding_model import EmbeddingModel
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.integrations.llamaindex import TenantRagVectorStore, ref_tag
from tests.integrations.bound_library import BACKENDS, Library, open_library

DIMENSION = 64  # bootstrap() gives the hashing embedder at the store's dimension

DOCUMENTS = [
    Document(id_="cats", text="Cats purr when they are content.", metadata={"animal": "cat", "year": 2021}),
    Document(id_="dogs", text="Dogs bark at the mail carrier.", metadata={"animal": "dog", "year": 2019}),
    Document(id_="birds", text="Birds sing at dawn in spring.", metadata={"animal": "bird", "year": 2023}),
]


@pytest.fixture(params=BACKENDS)
def library(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Library]:
    with open_library(request.param, DIMENSION, request, tmp_path) as opened:
        yield opened


def store_for(library: Library, principal: Principal, tenant: str = "acme") -> TenantRagVectorStore:
    tenant_id = library.acme.id if tenant == "acme" else library.other.id
    return TenantRagVectorStore(library.rag, tenant_id=tenant_id, principal=principal, runner=library.loop)


def index_over(store: TenantRagVectorStore, documents: list[Document] = DOCUMENTS) -> VectorStoreIndex:
    context = StorageContext.from_defaults(vector_store=store)
    return VectorStoreIndex.from_documents(documents, storage_context=context, embed_model=store.embed_model)


def animals(index: VectorStoreIndex, query: str, **options: object) -> list[str]:
    return [found.node.metadata["animal"] for found in index.as_retriever(**options).retrieve(query)]


def test_an_index_over_the_store_retrieves_nodes_whole(library: Library) -> None:
    store = store_for(library, library.owner)
    index = index_over(store)
    found = index.as_retriever(similarity_top_k=2).retrieve("why do cats purr")
    assert len(found) == 2
    best = found[0].node
    assert best.get_content() == "Cats purr when they are content."
    assert best.metadata == {"animal": "cat", "year": 2021}
    assert best.ref_doc_id == "cats"
    assert found[0].score is not None
    assert found[1].score is not None
    assert found[0].score > found[1].score
    # Each node is one tenantrag document of one chunk, keyed by the node id, tagged by its source.
    assert store.get_nodes(node_ids=[best.node_id])[0].get_content() == best.get_content()
    page = library.loop.run(library.rag.documents.list(library.owner, library.acme.id, tag=ref_tag("cats")))
    assert [document.source_key for document in page] == [best.node_id]


async def test_the_async_retriever_finds_the_same(library: Library) -> None:
    index = index_over(store_for(library, library.owner))
    found = await index.as_retriever(similarity_top_k=1).aretrieve("the dogs bark at the mail carrier")
    assert [hit.node.metadata["animal"] for hit in found] == ["dog"]


def test_query_modes_are_tenantrags(library: Library) -> None:
    index = index_over(store_for(library, library.owner))
    # Full text (BM25): only nodes holding the words, however the vectors fall.
    assert animals(index, "spring dawn", vector_store_query_mode="text_search", similarity_top_k=3) == [
        "bird"
    ]
    assert animals(index, "zebra", vector_store_query_mode="text_search", similarity_top_k=3) == []
    hybrid = animals(index, "mail carrier", vector_store_query_mode="hybrid", similarity_top_k=3, alpha=0.5)
    assert hybrid[0] == "dog"
    with pytest.raises(InvalidInput, match="not supported") as refused:
        animals(index, "cats", vector_store_query_mode="svm")
    assert refused.value.field == "mode"


def test_metadata_filters_are_translated(library: Library) -> None:
    index = index_over(store_for(library, library.owner))

    def filtered(filters: MetadataFilters) -> list[str]:
        return sorted(animals(index, "animals", similarity_top_k=3, filters=filters))

    recent = MetadataFilters(filters=[MetadataFilter(key="year", value=2020, operator=FilterOperator.GTE)])
    assert filtered(recent) == ["bird", "cat"]
    either = MetadataFilters(
        filters=[MetadataFilter(key="animal", value="dog"), MetadataFilter(key="year", value=2023)],
        condition=FilterCondition.OR,
    )
    assert filtered(either) == ["bird", "dog"]
    neither = MetadataFilters(
        filters=[MetadataFilter(key="animal", value="dog")], condition=FilterCondition.NOT
    )
    assert filtered(neither) == ["bird", "cat"]
    listed = MetadataFilters(
        filters=[MetadataFilter(key="animal", value=["cat", "dog"], operator=FilterOperator.IN)]
    )
    assert filtered(listed) == ["cat", "dog"]
    with pytest.raises(InvalidInput, match="no counterpart") as refused:
        filtered(
            MetadataFilters(
                filters=[MetadataFilter(key="animal", value="c", operator=FilterOperator.TEXT_MATCH)]
            )
        )
    assert refused.value.field == "filters[0].operator"


def test_deleting_a_source_document_deletes_its_nodes(library: Library) -> None:
    store = store_for(library, library.owner)
    index = index_over(store)
    index.delete_ref_doc("cats")
    assert sorted(animals(index, "cats", similarity_top_k=3)) == ["bird", "dog"]
    dog = index.as_retriever(similarity_top_k=1).retrieve("the dogs bark at the mail carrier")[0].node
    store.delete_nodes(node_ids=[dog.node_id, "missing"])  # a missing node is no error
    assert store.get_nodes(node_ids=[dog.node_id]) == []
    assert animals(index, "dogs", similarity_top_k=3) == ["bird"]
    with pytest.raises(InvalidInput, match="whole tenant"):
        store.clear()
    with pytest.raises(InvalidInput) as refused:
        store.get_nodes(filters=MetadataFilters(filters=[MetadataFilter(key="animal", value="bird")]))
    assert refused.value.field == "filters"


async def test_the_async_methods_add_query_and_delete(library: Library) -> None:
    store = store_for(library, library.owner)
    node = TextNode(
        id_="n1", text="Owls hunt at night.", metadata={"animal": "owl"},
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="owls")},
    )  # fmt: skip
    node.embedding = await store.embed_model.aget_text_embedding(
        node.get_content(metadata_mode=MetadataMode.EMBED)
    )
    assert await store.async_add([node]) == ["n1"]
    query = VectorStoreQuery(query_str="owls hunt", mode=VectorStoreQueryMode.TEXT_SEARCH, similarity_top_k=2)
    found = await store.aquery(query)
    assert found.ids == ["n1"]
    assert found.nodes is not None
    assert found.nodes[0].metadata == {"animal": "owl"}
    assert (await store.aget_nodes(node_ids=["n1"]))[0].ref_doc_id == "owls"
    await store.adelete("owls")
    assert (await store.aquery(query)).ids == []


def test_a_store_given_a_llamaindex_embed_model_embeds_with_it(library: Library) -> None:
    model = MockEmbedding(embed_dim=DIMENSION)
    store = TenantRagVectorStore(
        library.rag,
        tenant_id=library.acme.id,
        principal=library.owner,
        embed_model=model,
        runner=library.loop,
    )
    assert store.embed_model is model
    index = index_over(store)
    assert len(index.as_retriever(similarity_top_k=3).retrieve("anything")) == 3
    model_row = library.loop.run(recorded_model(library.rag))
    assert model_row is not None
    assert model_row.name.startswith("llamaindex:")
    assert model_row.name.endswith("MockEmbedding:unknown")  # the store recorded the given model


async def recorded_model(rag: TenantRag) -> EmbeddingModel | None:
    async with rag.uow.system() as system:
        return await system.embedding_model.get()


def test_a_store_stays_in_its_tenant(library: Library) -> None:
    acme = store_for(library, library.owner)
    index_over(acme)
    other = store_for(library, library.other_owner, tenant="other")
    other_index = index_over(
        other, [Document(id_="cats", text="Other cats sleep all day.", metadata={"animal": "x"})]
    )
    # The other tenant's store sees only its own node, even for the same source document id.
    assert animals(other_index, "cats purr", similarity_top_k=3) == ["x"]
    other.delete("cats")
    assert animals(other_index, "cats", similarity_top_k=3) == []
    assert "cat" in animals(index_over(acme, []), "cats purr", similarity_top_k=3)
    # Bound to a tenant its principal is not in, a store can do nothing there.
    intruder = store_for(library, library.other_owner)
    with pytest.raises(NotFound):  # to a non-member the tenant does not exist
        index_over(intruder, []).as_retriever().retrieve("cats")


def test_a_viewer_may_retrieve_but_not_add(library: Library) -> None:
    index_over(store_for(library, library.owner))
    viewer = store_for(library, library.viewer)
    assert animals(index_over(viewer, []), "cats", similarity_top_k=1) == ["cat"]
    with pytest.raises(PermissionDenied):
        index_over(viewer, [Document(id_="fish", text="Fish swim.", metadata={"animal": "fish"})])
    with pytest.raises(PermissionDenied):
        viewer.delete("cats")
