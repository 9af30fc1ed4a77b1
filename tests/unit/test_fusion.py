"""Hybrid search's reciprocal rank fusion and its parameters (a domain rule)."""

from __future__ import annotations

import uuid

import pytest

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.search import Fusion, SearchHit, fuse


def hit(score: float = 0.0) -> SearchHit:
    return SearchHit(
        chunk_id=uuid.uuid4(), document_id=uuid.uuid4(), document_version=1, ordinal=0, content="",
        metadata={}, score=score,
    )  # fmt: skip


def test_reciprocal_rank_fusion() -> None:
    a, b, c = hit(), hit(), hit()
    fusion = Fusion(rrf_k=10, vector_weight=2.0, text_weight=0.5)
    fused = fuse([a, b], [c, a], fusion, k=3)
    scores = {h.chunk_id: (h.score, h.vector_rank, h.text_rank) for h in fused}
    assert scores[a.chunk_id] == (2.0 / 11 + 0.5 / 12, 1, 2)
    assert scores[b.chunk_id] == (2.0 / 12, 2, None)
    assert scores[c.chunk_id] == (0.5 / 11, None, 1)
    assert [h.chunk_id for h in fused] == [a.chunk_id, b.chunk_id, c.chunk_id]
    assert len(fuse([a, b], [c], fusion, k=2)) == 2
    # Equal scores fall back on chunk id order.
    tied = fuse([a], [b], Fusion(), k=2)
    assert [h.chunk_id for h in tied] == sorted([a.chunk_id, b.chunk_id], key=str)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"rrf_k": 0}, "hybrid.rrf_k"),
        ({"rrf_k": True}, "hybrid.rrf_k"),
        ({"vector_weight": -1.0}, "hybrid.vector_weight"),
        ({"text_weight": float("nan")}, "hybrid.text_weight"),
        ({"vector_weight": 0.0, "text_weight": 0.0}, "hybrid"),
        ({"candidates": 0}, "hybrid.candidates"),
    ],
)
def test_fusion_parameters_are_checked(options: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Fusion(**options)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_candidates_grow_with_k_and_never_fall_below_it() -> None:
    assert Fusion().depth(5) == 50
    assert Fusion().depth(30) == 120
    assert Fusion(candidates=10).depth(20) == 20
