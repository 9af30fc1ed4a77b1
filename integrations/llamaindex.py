"""tenantrag as a LlamaIndex vector store (the ``llamaindex`` extra).

``TenantRagVectorStore`` is one tenant seen by one principal, over a ``TenantRag`` on any
backend, for ``llama-index-core``. A node is a tenantrag document of one chunk (see
``integrations/_tenant_store.py``): its ``source_key`` is the node id, its chunk the node's
text with the vector LlamaIndex made for it, its metadata the node's metadata plus
LlamaIndex's own keys (``_node_content``, ``ref_doc_id``... as ``node_to_metadata_dict``
writes them), so nodes come back whole. Its source document (``ref_doc_id``) is also a tag,
``llamaindex-ref:<digest>``, which is how ``delete(ref_doc_id)`` finds its nodes.

Query modes: ``default`` is tenantrag's vector search, ``text_search`` its full-text search
(BM25), ``hybrid`` its hybrid search (``alpha`` weighs the vector side against the text
side). Filters (``MetadataFilters``) are translated into the filter language by
``filters_to_json``; ``doc_ids`` and ``node_ids`` narrow a query too.

Vectors: the store's embedder is the LlamaIndex ``embed_model`` given (adapted to the
embedder port), else the app's own; ``store.embed_model`` is that embedder as a LlamaIndex
embedding, to build the index with, so nodes and queries are embedded by one model.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import BaseNode, MetadataMode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict
from pydantic import PrivateAttr

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.search import SearchMode
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.integrations._loop import CallerLoop, LoopThread, Runner, bound
from tenantrag.integrations._tenant_store import Record, TenantStore
from tenantrag.integrations.llamaindex_filters import filters_to_json
from tenantrag.integrations.sync import SyncTenantrag

__all__ = [
    "CallerLoop",
    "LlamaIndexEmbedder",
    "LoopThread",
    "TenantRagEmbedding",
    "TenantRagVectorStore",
    "filters_to_json",
    "ref_tag",
]

R = TypeVar("R")
_MODES = {
    VectorStoreQueryMode.DEFAULT: SearchMode.VECTOR,
    VectorStoreQueryMode.TEXT_SEARCH: SearchMode.TEXT,
    VectorStoreQueryMode.HYBRID: SearchMode.HYBRID,
}


def ref_tag(ref_doc_id: str) -> str:
    """The tag a node of source document ``ref_doc_id`` carries (tags hold 64 characters)."""
    return "llamaindex-ref:" + hashlib.sha256(ref_doc_id.encode()).hexdigest()[:40]


class LlamaIndexEmbedder:
    """A LlamaIndex embedding model as tenantrag's embedder port (dimension measured once)."""

    def __init__(self, model: BaseEmbedding) -> None:
        if not isinstance(model, BaseEmbedding):
            raise InvalidInput(
                "embed_model", f"must be a LlamaIndex BaseEmbedding, not {type(model).__name__}"
            )
        self.model = model
        self._dimension = len(model.get_text_embedding("dimension"))
        self._name = f"llamaindex:{type(model).__module__}.{type(model).__qualname__}:{model.model_name}"

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        vectors = await self.model.aget_text_embedding_batch(list(texts))
        return [tuple(float(x) for x in vector) for vector in vectors]

    async def embed_query(self, text: str) -> tuple[float, ...]:
        return tuple(float(x) for x in await self.model.aget_query_embedding(text))


class TenantRagEmbedding(BaseEmbedding):
    """tenantrag's embedder as a LlamaIndex embedding, run where the store runs the library."""

    _embedder: Embedder = PrivateAttr()
    _runner: Runner = PrivateAttr()

    def __init__(self, embedder: Embedder, runner: Runner) -> None:
        super().__init__(model_name=embedder.name)
        self._embedder = embedder
        self._runner = runner

    @classmethod
    def class_name(cls) -> str:
        return "TenantRagEmbedding"

    def _get_query_embedding(self, query: str) -> list[float]:
        return list(self._runner.run(self._embedder.embed_query(query)))

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return list(await self._runner.arun(self._embedder.embed_query(query)))

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [list(vector) for vector in self._runner.run(self._embedder.embed_documents(texts))]

    async def _aget_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        vectors = await self._runner.arun(self._embedder.embed_documents(texts))
        return [list(vector) for vector in vectors]


class TenantRagVectorStore(BasePydanticVectorStore):
    """A LlamaIndex vector store over one tenant of tenantrag, as one principal."""

    stores_text: bool = True
    flat_metadata: bool = False

    _store: TenantStore = PrivateAttr()
    _runner: Runner = PrivateAttr()
    _own_runner: LoopThread | None = PrivateAttr(default=None)
    _app: TenantRag = PrivateAttr()
    _embed_model: BaseEmbedding = PrivateAttr()

    def __init__(
        self,
        rag: TenantRag | SyncTenantrag,
        *,
        tenant_id: uuid.UUID | str,
        principal: Principal,
        embed_model: BaseEmbedding | None = None,
        runner: Runner | None = None,
        record_searches: bool = True,
    ) -> None:
        super().__init__(stores_text=True)
        embedder = None if embed_model is None else LlamaIndexEmbedder(embed_model)
        app, self._runner, self._own_runner = bound(rag, runner, "tenantrag-llamaindex")
        self._app = app
        try:
            self._store = TenantStore.bind(
                app, tenant_id, principal, embedder, record_searches=record_searches
            )
        except BaseException:
            self.close()
            raise
        self._embed_model = embed_model or TenantRagEmbedding(self._store.embedder, self._runner)

    @classmethod
    def class_name(cls) -> str:
        return "TenantRagVectorStore"

    @property
    def client(self) -> TenantRag:
        return self._store.rag

    @property
    def embed_model(self) -> BaseEmbedding:
        """The embedding the store embeds with, for ``VectorStoreIndex(..., embed_model=)``."""
        return self._embed_model

    @property
    def tenant_id(self) -> uuid.UUID:
        return self._store.tenant_id

    def close(self) -> None:
        """Close the store's own loop thread, and the app's connections with it (a store
        given a ``runner`` or a ``SyncTenantrag`` leaves both to their owner)."""
        if self._own_runner is not None:
            self._own_runner.close(self._app.aclose())

    def _run(self, coroutine: Coroutine[Any, Any, R]) -> R:
        return self._runner.run(coroutine)

    async def _arun(self, coroutine: Coroutine[Any, Any, R]) -> R:
        return await self._runner.arun(coroutine)

    # --- nodes in and out -------------------------------------------------------------

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        return self._run(self._add(nodes, **kwargs))

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        return await self._arun(self._add(nodes, **kwargs))

    async def _add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        if kwargs:
            raise InvalidInput("add", f"unknown options: {', '.join(sorted(kwargs))}")
        for node in nodes:
            metadata = node_to_metadata_dict(node, remove_text=True, flat_metadata=self.flat_metadata)
            tags = [ref_tag(node.ref_doc_id)] if node.ref_doc_id else []
            text = node.get_content(metadata_mode=MetadataMode.NONE)
            await self._store.put(node.node_id, text, metadata, tags, vector=node.embedding)
        return [node.node_id for node in nodes]

    def get_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None
    ) -> list[BaseNode]:
        return self._run(self._get(node_ids, filters))

    async def aget_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None
    ) -> list[BaseNode]:
        return await self._arun(self._get(node_ids, filters))

    async def _get(self, node_ids: list[str] | None, filters: MetadataFilters | None) -> list[BaseNode]:
        _by_ids_only(node_ids, filters)
        return [_node(record) for record in await self._store.read(node_ids or [])]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        self._run(self._store.delete_tagged(ref_tag(_ref(ref_doc_id, delete_kwargs))))

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        await self._arun(self._store.delete_tagged(ref_tag(_ref(ref_doc_id, delete_kwargs))))

    def delete_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None, **kwargs: Any
    ) -> None:
        _by_ids_only(node_ids, filters)
        self._run(self._store.delete(node_ids or []))

    async def adelete_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None, **kwargs: Any
    ) -> None:
        _by_ids_only(node_ids, filters)
        await self._arun(self._store.delete(node_ids or []))

    def clear(self) -> None:
        raise InvalidInput("clear", "a store never deletes a whole tenant: delete by ref_doc_id or node ids")

    async def aclear(self) -> None:
        self.clear()

    # --- querying ---------------------------------------------------------------------

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        return self._run(self._query(query, **kwargs))

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        return await self._arun(self._query(query, **kwargs))

    async def _query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        mode = _MODES.get(query.mode)
        if mode is None:
            supported = ", ".join(m.value for m in _MODES)
            raise InvalidInput(
                "mode", f"query mode {query.mode.value!r} is not supported; use one of {supported}"
            )
        where = await self._where(query)
        text = query.query_str if mode is not SearchMode.VECTOR or query.query_embedding is None else None
        embedding = None if mode is SearchMode.TEXT else query.query_embedding
        fusion = None
        if mode is SearchMode.HYBRID and query.alpha is not None:
            fusion = Fusion(vector_weight=query.alpha, text_weight=1.0 - query.alpha)
        k = (query.hybrid_top_k if mode is SearchMode.HYBRID else None) or query.similarity_top_k
        found = await self._store.search(
            text=text, embedding=embedding, k=k, filter=where, mode=mode, fusion=fusion, **kwargs
        )
        return VectorStoreQueryResult(
            nodes=[_node(entry) for entry in found],
            similarities=[entry.score for entry in found],
            ids=[entry.key for entry in found],
        )

    async def _where(self, query: VectorStoreQuery) -> dict[str, Any] | None:
        """The query's filters, source documents and nodes, as one filter-language object.
        An empty list of ids restricts nothing, as in LlamaIndex's own stores: an index over a
        store that holds the text passes its (empty) list of node ids with every query."""
        parts: list[dict[str, Any]] = []
        if query.filters is not None:
            parts.append(filters_to_json(query.filters))
        if query.doc_ids:
            parts.append({"metadata.ref_doc_id": {"$in": list(query.doc_ids)}})
        if query.node_ids:
            stored = await self._store.read(query.node_ids)
            parts.append({"document_id": {"$in": [str(record.document_id) for record in stored]}})
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}


def _node(record: Record) -> BaseNode:
    if "_node_content" not in record.metadata:  # a document added to tenantrag directly
        from llama_index.core.schema import TextNode

        return TextNode(id_=record.key, text=record.text, metadata=record.metadata)
    return metadata_dict_to_node(record.metadata, text=record.text)


def _ref(ref_doc_id: object, options: dict[str, Any]) -> str:
    if options:
        raise InvalidInput("delete", f"unknown options: {', '.join(sorted(options))}")
    if not isinstance(ref_doc_id, str) or not ref_doc_id:
        raise InvalidInput("ref_doc_id", f"must be a non-empty string, got {ref_doc_id!r}")
    return ref_doc_id


def _by_ids_only(node_ids: list[str] | None, filters: MetadataFilters | None) -> None:
    if filters is not None:
        raise InvalidInput("filters", "nodes are read and deleted by node ids here; filters apply to queries")
    if node_ids is None:
        raise InvalidInput("node_ids", "name the nodes: a store never reads or deletes a whole tenant")
