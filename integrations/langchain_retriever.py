"""A LangChain retriever with tenantrag's search options as its fields (the ``langchain`` extra).

``store.as_retriever(search_kwargs={...})`` works too; this class names the options, so a
chain's configuration says what it retrieves::

    TenantRagRetriever(store=store, k=5, mode="hybrid", group="documents",
                       filter={"metadata.year": {"$gte": 2020}})

Any option given at call time (``retriever.invoke(query, k=1)``) overrides the field. The
documents come from the store's ``similarity_search``: ids, text and metadata as it maps them.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.grouping import ResultUnit
from tenantrag.domain.search import SearchMode, TextMatch
from tenantrag.integrations.langchain import TenantRagVectorStore

__all__ = ["TenantRagRetriever"]


class TenantRagRetriever(BaseRetriever):
    """The ``k`` best records of a ``TenantRagVectorStore`` for a query, in one of tenantrag's
    modes (``vector``, ``text``, ``hybrid``), by chunk or by document, under a filter."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: TenantRagVectorStore
    k: int = 4
    mode: str = "vector"
    group: str = "chunks"
    match: str | None = None
    filter: dict[str, Any] | None = None

    def model_post_init(self, context: Any, /) -> None:
        # Refused when the retriever is made, by name, rather than at the first query.
        SearchMode.parse(self.mode)
        ResultUnit.parse(self.group)
        if self.match is not None:
            TextMatch.parse(self.match)
        if not isinstance(self.store, TenantRagVectorStore):
            raise InvalidInput("store", f"must be a TenantRagVectorStore, not {type(self.store).__name__}")

    def _options(self, overrides: dict[str, Any]) -> dict[str, Any]:
        fields = {
            "k": self.k,
            "mode": self.mode,
            "group": self.group,
            "match": self.match,
            "filter": self.filter,
        }
        return fields | overrides

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return self.store.similarity_search(query, **self._options(kwargs))

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        return await self.store.asimilarity_search(query, **self._options(kwargs))
