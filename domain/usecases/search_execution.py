"""Running a built search query in a tenant unit of work: chunks or documents, and why
nothing was found.

- **Chunks**: the backend answers the query as it is (hybrid fused per chunk by the backend).
- **Documents**: the backend is asked for more chunks than documents are wanted
  (``CHUNKS_PER_DOCUMENT`` per document), widened by doubling, up to ``MAX_CANDIDATES``,
  while fewer distinct documents than wanted came back from a full page; the chunks are then
  grouped (``group_by_document``). Hybrid runs its two lists as separate backend searches,
  each grouped into a document ranking of the fusion's depth, and fuses the *documents*
  (``fuse_documents``): the backends fuse chunks, so fusion per document lives here.
- **Why nothing was found**: computed only for an empty answer (and for a hybrid answer none
  of whose hits the text list placed), with a few cheap probes (a count, a one-row vector
  search under the filter, a one-row text search).
"""

from __future__ import annotations

import attrs

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.fusion import MAX_CANDIDATES
from tenantrag.domain.grouping import (
    CHUNKS_PER_DOCUMENT,
    DocumentHit,
    ResultUnit,
    fuse_documents,
    group_by_document,
)
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.search import (
    EmptyCode,
    EmptyReason,
    HybridQuery,
    SearchHit,
    SearchQuery,
    TextQuery,
    VectorQuery,
)


@attrs.frozen(kw_only=True)
class Found:
    """What a search found: its hits (for documents, each document's best chunk), the
    documents (grouped searches only), why it found nothing, and why a hybrid search's text
    list placed none of its hits (None when it did, or outside hybrid search)."""

    hits: tuple[SearchHit, ...]
    documents: tuple[DocumentHit, ...] = ()
    empty_reason: EmptyReason | None = None
    text_empty: EmptyReason | None = None


async def find(uow: TenantUnitOfWork, query: SearchQuery, group: ResultUnit, dimension: int) -> Found:
    """Run ``query`` in ``uow`` for ``group`` (see the module)."""
    text_empty: EmptyReason | None = None
    documents: tuple[DocumentHit, ...] = ()
    if group is ResultUnit.CHUNKS:
        hits = tuple(await uow.chunks.search(query))
        if isinstance(query, HybridQuery) and hits and all(hit.text_rank is None for hit in hits):
            text_empty = await _text_leg_reason(uow, query)
    elif isinstance(query, HybridQuery):
        documents, text_empty = await _hybrid_documents(uow, query)
        hits = tuple(document.best for document in documents)
    else:
        documents = tuple(group_by_document(await _chunks_for(uow, query, query.k), query.k))
        hits = tuple(document.best for document in documents)
    empty = None if hits else await _empty_reason(uow, query, dimension)
    return Found(hits=hits, documents=documents, empty_reason=empty, text_empty=text_empty)


async def _chunks_for(
    uow: TenantUnitOfWork, query: VectorQuery | TextQuery, documents: int
) -> list[SearchHit]:
    """The best chunks of at least ``documents`` distinct documents, where there are that many
    (and ``MAX_CANDIDATES`` chunks reach them)."""
    fetch = min(MAX_CANDIDATES, max(documents * CHUNKS_PER_DOCUMENT, query.k))
    while True:
        hits = list(await uow.chunks.search(attrs.evolve(query, k=fetch)))
        enough = len({hit.document_id for hit in hits}) >= documents
        if enough or len(hits) < fetch or fetch >= MAX_CANDIDATES:
            return hits
        fetch = min(MAX_CANDIDATES, fetch * 2)


async def _hybrid_documents(
    uow: TenantUnitOfWork, query: HybridQuery
) -> tuple[tuple[DocumentHit, ...], EmptyReason | None]:
    depth = query.depth  # documents each ranking contributes
    vector_hits = await _chunks_for(uow, query.vector_part(), depth)
    text_empty = None
    try:
        text_hits = await _chunks_for(uow, query.text_part(), depth)
    except InvalidInput:
        # A text the hybrid query accepts but text mode refuses has only stop words; one the
        # hybrid query refuses too is malformed, and refused as in chunk mode.
        await uow.chunks.search(attrs.evolve(query, k=1))
        text_hits, text_empty = [], EmptyReason.of(EmptyCode.ONLY_STOP_WORDS)
    if not text_hits and text_empty is None and vector_hits:
        text_empty = EmptyReason.of(EmptyCode.NO_MATCHING_WORDS, query.match)
    return tuple(fuse_documents(vector_hits, text_hits, query.fusion, query.k)), text_empty


async def _text_leg_reason(uow: TenantUnitOfWork, query: HybridQuery) -> EmptyReason | None:
    """Why the text list of a hybrid search placed none of its hits: None if it found some."""
    try:
        found = await uow.chunks.search(attrs.evolve(query.text_part(), k=1))
    except InvalidInput:  # the hybrid query ran, so its text is well formed: stop words only
        return EmptyReason.of(EmptyCode.ONLY_STOP_WORDS)
    return None if found else EmptyReason.of(EmptyCode.NO_MATCHING_WORDS, query.match)


async def _empty_reason(uow: TenantUnitOfWork, query: SearchQuery, dimension: int) -> EmptyReason | None:
    if await uow.chunks.count() == 0:
        return EmptyReason.of(EmptyCode.NO_CHUNKS)
    if not query.filter.is_empty:
        if query.filter.matches_nothing:
            return EmptyReason.of(EmptyCode.FILTER_EXCLUDES_ALL)
        embedding = (1.0,) + (0.0,) * (dimension - 1) if isinstance(query, TextQuery) else query.embedding
        if not await uow.chunks.search(VectorQuery(embedding=embedding, k=1, filter=query.filter)):
            return EmptyReason.of(EmptyCode.FILTER_EXCLUDES_ALL)
    if isinstance(query, TextQuery):
        return EmptyReason.of(EmptyCode.NO_MATCHING_WORDS, query.match)
    return None  # a vector list under an admitting filter is never empty
