"""tenantrag as a LangChain vector store and retriever (the ``langchain`` extra).

``TenantRagVectorStore`` is one tenant seen by one principal (a user, an API key's
principal, or the system), over a ``TenantRag`` on any backend. Ids, texts and metadata map
as ``integrations/_tenant_store.py`` says: a LangChain ``Document`` is a tenantrag document
of one chunk whose ``source_key`` is the LangChain id. Filters are tenantrag's filter
language (``{"metadata.year": {"$gte": 2020}}``). Searches take tenantrag's modes::

    store.similarity_search("cats", k=4, mode="hybrid", group="documents")
    store.as_retriever(search_kwargs={"k": 4, "mode": "text", "filter": {"tags": "pets"}})

Vectors come from the LangChain ``Embeddings`` given as ``embedding`` (adapted to the
embedder port by ``LangChainEmbedder``), else from the app's own embedder. Sync and async
methods run on one loop (``_loop.py``): a store made without ``runner`` owns a loop thread,
and ``close()`` releases it with the app's connections.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, Self, TypeVar

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from langchain_core.vectorstores.utils import maximal_marginal_relevance

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.search import SearchMode
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.integrations._loop import CallerLoop, LoopThread, Runner, bound
from tenantrag.integrations._tenant_store import Record, Records, TenantStore
from tenantrag.integrations.sync import SyncTenantrag

__all__ = ["CallerLoop", "LangChainEmbedder", "LoopThread", "TenantRagVectorStore"]

R = TypeVar("R")


class LangChainEmbedder:
    """A LangChain ``Embeddings`` as tenantrag's embedder port.

    The dimension is measured by embedding one query, unless given. The name, which the
    store records with what it embedded, is the class and its model when it names one.
    """

    def __init__(self, embeddings: Embeddings, *, dimension: int | None = None) -> None:
        if not isinstance(embeddings, Embeddings):
            raise InvalidInput(
                "embedding", f"must be a LangChain Embeddings, not {type(embeddings).__name__}"
            )
        self.embeddings = embeddings
        if dimension is None:
            dimension = len(embeddings.embed_query("dimension"))
        if not isinstance(dimension, int) or dimension < 1:
            raise InvalidInput("dimension", f"must be a positive integer, got {dimension!r}")
        self._dimension = dimension
        kind = type(embeddings)
        model = getattr(embeddings, "model", None) or getattr(embeddings, "model_name", None)
        size = getattr(embeddings, "size", None)
        detail = f":{model}" if isinstance(model, str) else (f":{size}" if isinstance(size, int) else "")
        self._name = f"langchain:{kind.__module__}.{kind.__qualname__}{detail}"

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        vectors = await self.embeddings.aembed_documents(list(texts))
        return [self._checked(vector) for vector in vectors]

    async def embed_query(self, text: str) -> tuple[float, ...]:
        return self._checked(await self.embeddings.aembed_query(text))

    def _checked(self, vector: Sequence[float]) -> tuple[float, ...]:
        if len(vector) != self._dimension:
            raise InvalidInput(
                "embedding",
                f"{self._name} returned {len(vector)} dimensions where {self._dimension} were expected",
            )
        return tuple(float(x) for x in vector)


class TenantRagVectorStore(VectorStore):
    """A LangChain ``VectorStore`` over one tenant of tenantrag, as one principal."""

    def __init__(
        self,
        rag: TenantRag | SyncTenantrag,
        *,
        tenant_id: uuid.UUID | str,
        principal: Principal,
        embedding: Embeddings | None = None,
        runner: Runner | None = None,
        record_searches: bool = True,
    ) -> None:
        self._embedding = embedding
        embedder = None if embedding is None else LangChainEmbedder(embedding)
        app, self._runner, self._own_runner = bound(rag, runner, "tenantrag-langchain")
        self._on_close: Callable[[], Coroutine[Any, Any, None]] = app.aclose
        try:
            self._store: Records = TenantStore.bind(
                app, tenant_id, principal, embedder, record_searches=record_searches
            )
        except BaseException:
            self.close()
            raise

    # --- the binding ------------------------------------------------------------------

    @property
    def embeddings(self) -> Embeddings | None:
        return self._embedding

    @property
    def tenant_id(self) -> uuid.UUID | str:
        return self._store.tenant_id

    def close(self) -> None:
        """Close the store's own loop thread, and the app's connections with it (a store
        given a ``runner`` or a ``SyncTenantrag`` leaves both to their owner)."""
        if self._own_runner is not None:
            self._own_runner.close(self._on_close())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _run(self, coroutine: Coroutine[Any, Any, R]) -> R:
        return self._runner.run(coroutine)

    async def _arun(self, coroutine: Coroutine[Any, Any, R]) -> R:
        return await self._runner.arun(coroutine)

    # --- adding, reading, deleting ----------------------------------------------------

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        return self._run(self._add(texts, metadatas, ids, **kwargs))

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        return await self._arun(self._add(texts, metadatas, ids, **kwargs))

    async def _add(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None,
        ids: Sequence[str | None] | None,
        *,
        tags: Iterable[str] = (),
        **options: Any,
    ) -> list[str]:
        """Add each text as a record (its id given, or a new UUID), with ``tags`` if given;
        the ids, in order."""
        if options:
            raise InvalidInput("add_texts", f"unknown options: {', '.join(sorted(options))}")
        listed = list(texts)
        given_metadata: list[dict[str, Any]] = list(metadatas) if metadatas else [{} for _ in listed]
        given_ids = list(ids) if ids else [None for _ in listed]
        if len(given_metadata) != len(listed) or len(given_ids) != len(listed):
            raise InvalidInput(
                "ids",
                f"{len(listed)} texts need as many metadatas and ids; "
                f"got {len(given_metadata)} and {len(given_ids)}",
            )
        keys = [key or str(uuid.uuid4()) for key in given_ids]
        listed_tags = list(tags)
        for key, text, metadata in zip(keys, listed, given_metadata, strict=True):
            await self._store.put(key, text, metadata or {}, listed_tags)
        return keys

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return self._run(self._get(ids))

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        return await self._arun(self._get(ids))

    async def _get(self, ids: Sequence[str]) -> list[Document]:
        return [_document(record) for record in await self._store.read(ids)]

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        return self._run(self._delete(ids, **kwargs))

    async def adelete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        return await self._arun(self._delete(ids, **kwargs))

    async def _delete(self, ids: list[str] | None, **kwargs: Any) -> bool:
        if ids is None:
            raise InvalidInput("ids", "name the ids to delete: a store never deletes a whole tenant")
        if kwargs:
            raise InvalidInput("delete", f"unknown options: {', '.join(sorted(kwargs))}")
        await self._store.delete(ids)
        return True

    # --- searching --------------------------------------------------------------------

    def similarity_search(
        self, query: str, k: int = 4, filter: object = None, **kwargs: Any
    ) -> list[Document]:
        return [document for document, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    async def asimilarity_search(
        self, query: str, k: int = 4, filter: object = None, **kwargs: Any
    ) -> list[Document]:
        found = await self.asimilarity_search_with_score(query, k, filter, **kwargs)
        return [document for document, _ in found]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: object = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """The ``k`` best records for ``query`` with their scores. ``mode``: ``vector`` (the
        default; cosine), ``text`` (BM25) or ``hybrid`` (fused); ``group="documents"``: one
        result per document; ``match``: ``any`` or ``websearch``; ``filter``: the filter language."""
        return self._run(self._scored(text=query, k=k, filter=filter, **kwargs))

    async def asimilarity_search_with_score(
        self, query: str, k: int = 4, filter: object = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        return await self._arun(self._scored(text=query, k=k, filter=filter, **kwargs))

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: object = None, **kwargs: Any
    ) -> list[Document]:
        found = self._run(self._scored(embedding=embedding, k=k, filter=filter, mode="vector", **kwargs))
        return [document for document, _ in found]

    async def asimilarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: object = None, **kwargs: Any
    ) -> list[Document]:
        found = await self._arun(
            self._scored(embedding=embedding, k=k, filter=filter, mode="vector", **kwargs)
        )
        return [document for document, _ in found]

    async def _scored(
        self, *, mode: SearchMode | str | None = None, **search: Any
    ) -> list[tuple[Document, float]]:
        found = await self._store.search(mode=mode or SearchMode.VECTOR, **search)
        return [(_document(entry), entry.score) for entry in found]

    def _select_relevance_score_fn(self) -> Any:
        # Vector scores are cosines: a cosine at or below 0 is no relevance at all.
        return lambda score: min(max(score, 0.0), 1.0)

    def _similarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        _vector_only(kwargs)
        return super()._similarity_search_with_relevance_scores(query, k, **kwargs)

    async def _asimilarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        _vector_only(kwargs)
        return await super()._asimilarity_search_with_relevance_scores(query, k, **kwargs)

    # --- max-marginal relevance -------------------------------------------------------

    def max_marginal_relevance_search(
        self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        return self._run(self._mmr(query, None, k, fetch_k, lambda_mult, **kwargs))

    async def amax_marginal_relevance_search(
        self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        return await self._arun(self._mmr(query, None, k, fetch_k, lambda_mult, **kwargs))

    def max_marginal_relevance_search_by_vector(
        self, embedding: list[float], k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        return self._run(self._mmr(None, embedding, k, fetch_k, lambda_mult, **kwargs))

    async def amax_marginal_relevance_search_by_vector(
        self, embedding: list[float], k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, **kwargs: Any
    ) -> list[Document]:
        return await self._arun(self._mmr(None, embedding, k, fetch_k, lambda_mult, **kwargs))

    async def _mmr(
        self,
        query: str | None,
        embedding: Sequence[float] | None,
        k: int,
        fetch_k: int,
        lambda_mult: float,
        *,
        filter: object = None,
        **kwargs: Any,
    ) -> list[Document]:
        """The ``fetch_k`` nearest records by vector, then ``k`` of them chosen by LangChain's
        maximal marginal relevance over their stored embeddings."""
        if not 0.0 <= lambda_mult <= 1.0:
            raise InvalidInput("lambda_mult", f"must lie between 0 and 1, got {lambda_mult}")
        if fetch_k < k:
            raise InvalidInput("fetch_k", f"must be at least k ({k}), got {fetch_k}")
        vector = tuple(embedding) if embedding is not None else await self._store.embed_query(str(query))
        found = await self._store.search(embedding=vector, k=fetch_k, filter=filter, mode="vector", **kwargs)
        candidates = await self._store.vectors(found)
        chosen = maximal_marginal_relevance(
            np.array(vector, dtype=np.float64), [list(v) for _, v in candidates], lambda_mult=lambda_mult, k=k
        )
        return [_document(candidates[index][0]) for index in chosen]

    # --- construction -----------------------------------------------------------------

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> Self:
        """A store (``rag``, ``tenant_id``, ``principal`` and the constructor's other keywords
        given here) holding ``texts``."""
        store = cls(embedding=embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids)
        return store

    @classmethod
    async def afrom_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> Self:
        store = cls(embedding=embedding, **kwargs)
        await store.aadd_texts(texts, metadatas, ids=ids)
        return store


def _vector_only(options: dict[str, Any]) -> None:
    mode = options.get("mode")
    if mode is not None and SearchMode.parse(mode) is not SearchMode.VECTOR:
        raise InvalidInput("mode", "relevance scores are cosines: search in mode vector for them")


def _document(record: Record) -> Document:
    return Document(id=record.key, page_content=record.text, metadata=record.metadata)
