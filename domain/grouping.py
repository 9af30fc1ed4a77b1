"""Document-level results: chunks grouped by document, and hybrid fusion per document.

A search may answer in documents instead of chunks (:class:`ResultUnit`). A document ranks
at its best chunk: :func:`group_by_document` turns a best-first chunk list into a best-first
document list, each :class:`DocumentHit` carrying its best chunk and its other matching
chunks (best first), and ``k`` then counts documents.

Hybrid search grouped by document fuses *documents* (:func:`fuse_documents`): each list is
grouped into a document ranking first, and the two document rankings are fused with the
query's :class:`~tenantrag.domain.fusion.Fusion`. So a document strong in both
lists through different chunks gets credit from both, which chunk-level fusion cannot give.
Ties are broken by document id, as chunk ties are by chunk id.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.search import SearchHit, fuse, hit_order

# A grouped search first asks for this many chunks per document wanted (and widens, doubling,
# while too few distinct documents came back).
CHUNKS_PER_DOCUMENT = 3


class ResultUnit(enum.StrEnum):
    """What a search returns: ``chunks`` (k chunks, the library's default) or ``documents``
    (k documents, each with its best chunk and its other matching chunks)."""

    CHUNKS = "chunks"
    DOCUMENTS = "documents"

    @classmethod
    def parse(cls, value: object, *, field: str = "group") -> ResultUnit:
        return v.choice(field, cls, value)


@attrs.frozen(kw_only=True)
class DocumentHit:
    """One document found. ``score``: its best chunk's score, or for hybrid search the fused
    score of its places in the two document rankings (``vector_rank``/``text_rank``, 1-based,
    None where it is not in a list, and outside hybrid search). ``chunks``: its matching
    chunks, best first, ``best`` among them first. In a hybrid document, chunks carry the
    chunk-level fused score and their places in the two chunk lists."""

    document_id: uuid.UUID
    document_version: int
    score: float
    best: SearchHit
    chunks: tuple[SearchHit, ...]
    vector_rank: int | None = None
    text_rank: int | None = None


def document_order(hit: DocumentHit) -> tuple[float, str]:
    """Best score first; ties broken by document id."""
    return (-hit.score, str(hit.document_id))


def group_by_document(hits: Sequence[SearchHit], k: int | None = None) -> list[DocumentHit]:
    """The documents of ``hits`` (any order), each at its best chunk's score, best first;
    the first ``k`` of them (all without ``k``)."""
    by_document: dict[uuid.UUID, list[SearchHit]] = {}
    for hit in hits:
        by_document.setdefault(hit.document_id, []).append(hit)
    documents = []
    for document_id, chunks in by_document.items():
        chunks.sort(key=hit_order)
        best = chunks[0]
        documents.append(
            DocumentHit(
                document_id=document_id,
                document_version=best.document_version,
                score=best.score,
                best=best,
                chunks=tuple(chunks),
            )
        )
    documents.sort(key=document_order)
    return documents if k is None else documents[:k]


def fuse_documents(
    vector_hits: Sequence[SearchHit], text_hits: Sequence[SearchHit], fusion: Fusion, k: int
) -> list[DocumentHit]:
    """The fusion of two chunk rankings per document: each list is grouped into a document
    ranking (a document at its best chunk, with that chunk's score), and the two document
    rankings are fused (``Fusion.fused``). A document's chunks are both lists' chunks of it,
    ordered by their chunk-level fused score (``fuse``)."""
    rankings = [
        [(document.document_id, document.score) for document in group_by_document(hits)]
        for hits in (vector_hits, text_hits)
    ]
    chunks = {
        document.document_id: document.chunks
        for document in group_by_document(
            fuse(vector_hits, text_hits, fusion, len(vector_hits) + len(text_hits))
        )
    }
    fused = []
    for document_id, found in fusion.fused(*rankings).items():
        mine = chunks[document_id]
        fused.append(
            DocumentHit(
                document_id=document_id,
                document_version=mine[0].document_version,
                score=found.score,
                best=mine[0],
                chunks=mine,
                vector_rank=found.vector_rank,
                text_rank=found.text_rank,
            )
        )
    fused.sort(key=document_order)
    return fused[:k]
