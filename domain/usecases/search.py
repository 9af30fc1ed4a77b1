"""Searching one tenant's chunks (vector, full-text or hybrid), and recording every search.

Every search is kept as a query log (``record=True``, the default): the query (the text,
or ``[embedding]`` when only a vector was given), the hits' chunk ids and scores as its
sources, the latency, and under ``metadata["search"]`` the mode, k, the filter as JSON and,
for hybrid searches, the fusion's parameters. So retrieval can be audited and evaluated
later, and feedback given on it. The search itself runs in a read-only unit of work (on
the replica when there is one); its log, by the same actor (``query_log:write``, which every
role that may search holds), is built with its id at once and written on the primary by the
``QueryLogWriter`` in the background, so a search never waits for (or fails on) a write.

Modes (``SearchMode``): ``vector`` ranks by cosine to ``embedding``, or to the embedding of
``text``; ``text`` ranks full-text matches of ``text``; ``hybrid`` fuses both (the text is
embedded unless an embedding is given too). Without ``mode``, a given embedding means
vector search, and so does text alone: the library keeps its meaning from before modes
existed (the HTTP API and the CLI choose hybrid for text; see their docs).

Matching (``TextMatch``): ``any`` (the default) reads the text as natural language, a chunk
matching any of its words; ``websearch`` is the precise syntax. Grouping (``ResultUnit``):
``chunks`` (the library's default: k chunks) or ``documents`` (k documents, each with its best
chunk and its other matching chunks; hybrid fused per document), run by
``search_execution.find``. An empty answer says why (``SearchOutcome.empty_reason``).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.grouping import DocumentHit, ResultUnit
from tenantrag.domain.model.chunk import check_dimension
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.domain.search import (
    EmptyReason,
    HybridQuery,
    SearchFilter,
    SearchHit,
    SearchMode,
    SearchQuery,
    TextMatch,
    TextQuery,
    VectorQuery,
    check_k,
    mode_of,
)
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.query_logs import QueryLogService
from tenantrag.domain.usecases.search_execution import find

EMBEDDING_QUERY = "[embedding]"  # the logged query of a search given only a vector
MAX_QUERY_TEXT = 20_000  # a query log's limit
# A filter's JSON above this is logged by digest: a log's metadata holds at most 64 KiB.
MAX_LOGGED_FILTER_BYTES = 32 * 1024


@attrs.frozen(kw_only=True)
class SearchOutcome:
    """A search's answer. ``hits``: the chunks found, best first (grouped by document: each
    document's best chunk, in the documents' order). ``documents``: the documents found, best
    first (``group`` documents only; empty otherwise). ``empty_reason``: why nothing was found
    (None when something was). ``text_empty``: a hybrid search whose text list placed none of
    its hits says why (no chunk holds the words, only stop words); None otherwise."""

    hits: tuple[SearchHit, ...]
    mode: SearchMode
    latency_ms: float
    query_log_id: uuid.UUID | None = None
    group: ResultUnit = ResultUnit.CHUNKS
    match: TextMatch | None = None  # text and hybrid searches
    documents: tuple[DocumentHit, ...] = ()
    empty_reason: EmptyReason | None = None
    text_empty: EmptyReason | None = None


@attrs.define
class SearchService(Service):
    embedder: Embedder
    # The deployment's hybrid fusion (HYBRID_RRF_K), for searches that do not give their own.
    fusion: Fusion = attrs.field(factory=Fusion)
    # Where searches are recorded (TenantRag's, with its background writer); None: at once.
    query_logs: QueryLogService | None = None

    async def search(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        text: str | None = None,
        embedding: Iterable[float] | None = None,
        k: int = 10,
        filter: SearchFilter | None = None,
        mode: SearchMode | str | None = None,
        fusion: Fusion | None = None,
        record: bool = True,
        match: TextMatch | str | None = None,
        group: ResultUnit | str = ResultUnit.CHUNKS,
    ) -> Sequence[SearchHit]:
        """The top-k chunks for ``text`` and/or ``embedding`` in ``mode`` (see the module);
        grouped by document, each document's best chunk (``run`` gives the documents)."""
        outcome = await self.run(
            actor, tenant_id, text=text, embedding=embedding, k=k, filter=filter, mode=mode,
            fusion=fusion, record=record, match=match, group=group,
        )  # fmt: skip
        return outcome.hits

    async def run(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        text: str | None = None,
        embedding: Iterable[float] | None = None,
        k: int = 10,
        filter: SearchFilter | None = None,
        mode: SearchMode | str | None = None,
        fusion: Fusion | None = None,
        record: bool = True,
        match: TextMatch | str | None = None,
        group: ResultUnit | str = ResultUnit.CHUNKS,
        request_id: str | None = None,
    ) -> SearchOutcome:
        """:meth:`search`, with the mode used, the latency, the query log's id, the documents
        (``group="documents"``) and why nothing was found. ``request_id`` (the HTTP request's)
        is recorded in the query log."""
        tenant = as_id("tenant_id", tenant_id)
        started = time.perf_counter()
        unit = ResultUnit.parse(group)
        query = await self._query(
            text=text, embedding=embedding, k=k, search_filter=filter or SearchFilter(), mode=mode,
            fusion=fusion, match=TextMatch.ANY if match is None else TextMatch.parse(match),
        )  # fmt: skip
        # Read-only: with a replica configured, searches are served there.
        async with self.uow.tenant(tenant, read_only=True) as uow:
            role = await authorize(uow, actor, Permission.SEARCH)
            found = await find(uow, query, unit, self.uow.dimension)
        latency_ms = (time.perf_counter() - started) * 1000
        outcome = SearchOutcome(
            hits=found.hits, mode=mode_of(query), latency_ms=latency_ms, group=unit,
            match=None if isinstance(query, VectorQuery) else query.match, documents=found.documents,
            empty_reason=found.empty_reason, text_empty=found.text_empty,
        )  # fmt: skip
        if not record:
            return outcome
        # Grouped: the documents' best chunks, at the documents' scores.
        sources = [(d.best.chunk_id, d.score) for d in found.documents] or [
            (h.chunk_id, h.score) for h in found.hits
        ]
        described = _described(query, given_embedding=embedding is not None) | {"group": unit.value}
        logs = self.query_logs or QueryLogService(self.uow, self.clock)
        log = await logs.record_later(
            actor, tenant, role=role, query=EMBEDDING_QUERY if text is None else text, sources=sources,
            latency_ms=latency_ms, metadata={"search": described}, request_id=request_id,
        )  # fmt: skip
        return attrs.evolve(outcome, query_log_id=log.id)

    async def _query(
        self,
        *,
        text: str | None,
        embedding: Iterable[float] | None,
        k: int,
        search_filter: SearchFilter,
        mode: SearchMode | str | None,
        fusion: Fusion | None,
        match: TextMatch,
    ) -> SearchQuery:
        """The query, validated before anything is embedded (a bad request costs no embedding).
        ``match`` applies to text and hybrid modes (a vector search has no words to match)."""
        if text is not None:
            _check_text(text)
        check_k(k)  # callers get MAX_K; a single list may hold more candidates internally
        chosen = _mode(mode, text=text, embedding=embedding)
        if fusion is not None and chosen is not SearchMode.HYBRID:
            raise InvalidInput("hybrid", "fusion parameters apply to mode hybrid only")
        if chosen is SearchMode.TEXT:
            assert text is not None
            return TextQuery(text=text, k=k, filter=search_filter, match=match)
        if chosen is SearchMode.HYBRID:
            assert text is not None
            fusion = fusion or self.fusion
            # A stand-in vector validates the rest first: only valid queries are embedded.
            HybridQuery(embedding=(1.0,), text=text, k=k, filter=search_filter, fusion=fusion, match=match)
            vector = await self._vector(text, embedding)
            return HybridQuery(
                embedding=vector, text=text, k=k, filter=search_filter, fusion=fusion, match=match
            )
        VectorQuery(embedding=(1.0,), k=k, filter=search_filter)
        return VectorQuery(embedding=await self._vector(text, embedding), k=k, filter=search_filter)

    async def _vector(self, text: str | None, embedding: Iterable[float] | None) -> tuple[float, ...]:
        if embedding is not None:
            vector = v.embedding("embedding", embedding)
        else:
            assert text is not None
            vector = tuple(await self.embedder.embed_query(text))
        check_dimension(vector, self.uow.dimension)
        return vector


def _mode(
    mode: SearchMode | str | None, *, text: str | None, embedding: Iterable[float] | None
) -> SearchMode:
    """The mode asked for (or implied), once what it needs is known to be given."""
    if mode is None:
        if (text is None) == (embedding is None):
            raise InvalidInput("query", "give exactly one of text or embedding (or both, in mode hybrid)")
        return SearchMode.VECTOR
    chosen = SearchMode.parse(mode)
    if chosen is SearchMode.VECTOR and (text is None) == (embedding is None):
        raise InvalidInput("query", "give exactly one of text or embedding")
    if chosen is SearchMode.TEXT and embedding is not None:
        raise InvalidInput("embedding", "mode text takes no embedding")
    if chosen is not SearchMode.VECTOR and text is None:
        raise InvalidInput("text", f"mode {chosen} needs a text")
    return chosen


def _check_text(text: object) -> None:
    # Every text is logged, so it must be loggable: a query log's limits and PostgreSQL's.
    checked = v.text("text", text, max_length=MAX_QUERY_TEXT)
    try:
        checked.encode()
    except UnicodeEncodeError:
        raise InvalidInput("text", "must be valid Unicode (it holds a lone surrogate)") from None


def _described(query: SearchQuery, *, given_embedding: bool) -> dict[str, Any]:
    """What a query log keeps about how the search was made."""
    described: dict[str, Any] = {
        "mode": mode_of(query).value,
        "k": query.k,
        "filter": _logged_filter(query.filter),
        "embedding": "given" if given_embedding else ("none" if isinstance(query, TextQuery) else "embedded"),
    }
    if not isinstance(query, VectorQuery):
        described["match"] = query.match.value
    if isinstance(query, HybridQuery):
        described["fusion"] = {
            "method": query.fusion.method.value,
            "rrf_k": query.fusion.rrf_k,
            "vector_weight": query.fusion.vector_weight,
            "text_weight": query.fusion.text_weight,
            "candidates": query.depth,
        }
    return described


def _logged_filter(search_filter: SearchFilter) -> dict[str, Any]:
    found = search_filter.to_json()
    encoded = json.dumps(found, sort_keys=True, separators=(",", ":"))
    if len(encoded.encode()) <= MAX_LOGGED_FILTER_BYTES:
        return found
    data = encoded.encode()
    return {"truncated": True, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
