"""The references the backends' searches are held to: an exact cosine top-k computed with
NumPy in the test, compared within tolerance (scores within 1e-6, the same ranking except
between near-ties), and BM25 computed in Python from the shared text analysis."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from tenantrag.adapters.sql.bm25 import K1, B
from tenantrag.adapters.sql.fulltext_query import split_words
from tenantrag.adapters.sql.text_analysis import stems
from tenantrag.domain.filtering import from_legacy
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.search import SearchFilter, SearchHit, VectorQuery, hit_order

TOLERANCE = 1e-6


def exact_top_k(query: VectorQuery, rows: Sequence[tuple[Chunk, Document]]) -> list[SearchHit]:
    """The reference: cosine in float64 of the stored embeddings (0 for a zero vector), the
    filter's own ``matches``, best first, ties by chunk id."""
    vector = np.asarray(query.embedding, dtype=np.float64)
    hits = []
    for chunk, document in rows:
        if query.filter.matches(chunk, document):
            row = np.asarray(chunk.embedding, dtype=np.float64)
            norms = float(np.linalg.norm(row) * np.linalg.norm(vector))
            score = float(row @ vector) / norms if norms else 0.0
            hits.append(
                SearchHit(
                    chunk_id=chunk.id,
                    document_id=chunk.document_id,
                    document_version=document.version,
                    ordinal=chunk.ordinal,
                    content=chunk.content,
                    metadata=chunk.metadata,
                    score=score,
                )
            )
    hits.sort(key=hit_order)
    return hits[: query.k]


def assert_same_hits(
    actual: Sequence[SearchHit], expected: Sequence[SearchHit], *, metadata: bool = True
) -> None:
    """Equal within tolerance: scores place by place within 1e-6, and the same chunks in the
    same order except among near-ties (a run of expected scores each within 1e-6 of the
    next); the last run may hold other chunks than expected, tied at the k-th place."""
    assert len(actual) == len(expected)
    assert [h.score for h in actual] == pytest.approx([h.score for h in expected], abs=TOLERANCE)
    wanted = {h.chunk_id: h for h in expected}
    start = 0
    for end in range(1, len(expected) + 1):
        if end < len(expected) and expected[end - 1].score - expected[end].score <= TOLERANCE:
            continue
        run = {h.chunk_id for h in actual[start:end]}
        if end < len(expected):
            assert run == {h.chunk_id for h in expected[start:end]}
        else:
            assert not run & {h.chunk_id for h in expected[:start]}
        start = end
    for hit in actual:
        if hit.chunk_id in wanted:
            want = wanted[hit.chunk_id]
            assert (hit.document_id, hit.document_version, hit.ordinal, hit.content) == (
                want.document_id, want.document_version, want.ordinal, want.content,
            )  # fmt: skip
            assert not metadata or dict(hit.metadata) == dict(want.metadata)


def legacy(**given: Any) -> SearchFilter:
    """The earlier filter form, as the HTTP API and CLI translate it."""
    return SearchFilter(where=from_legacy(given))


def bm25_reference(texts: Sequence[str], text: str) -> dict[int, float]:
    """BM25 (adapters/sql/bm25.py's formula) of each of ``texts`` that holds a word of
    ``text``, computed here from the shared analysis: the score a tenant holding exactly
    ``texts`` must give (by the text's index)."""
    documents = [stems(split_words(t)) for t in texts]
    said = Counter(stems(split_words(text)))  # a word said twice weighs twice
    average = sum(len(d) for d in documents) / len(documents)
    frequency = {w: sum(1 for d in documents if w in d) for w in said}
    scores: dict[int, float] = {}
    for index, document in enumerate(documents):
        score, held = 0.0, False
        for word, qtf in said.items():
            tf = document.count(word)
            if tf:
                held = True
                idf = math.log(1 + (len(documents) - frequency[word] + 0.5) / (frequency[word] + 0.5))
                score += qtf * idf * tf / (tf + K1 * (1 - B + B * len(document) / average))
        if held:
            scores[index] = score
    return scores
