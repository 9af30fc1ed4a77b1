"""Hybrid search's fusion (relative score, the default, and reciprocal rank) and its
parameters (a domain rule)."""

from __future__ import annotations

import uuid

import attrs
import pytest

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.fusion import Fusion
from tenantrag.domain.search import SearchHit, fuse


def hit(score: float = 0.0) -> SearchHit:
    return SearchHit(
        chunk_id=uuid.uuid4(), document_id=uuid.uuid4(), document_version=1, ordinal=0, content="",
        metadata={}, score=score,
    )  # fmt: skip


def test_reciprocal_rank_fusion() -> None:
    a, b, c = hit(), hit(), hit()
    fusion = Fusion(method="rrf", rrf_k=10, vector_weight=2.0, text_weight=0.5)
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


def test_relative_score_fusion_scales_each_list_to_zero_one() -> None:
    a, b, c, d = hit(0.9), hit(0.5), hit(12.0), hit(4.0)
    fusion = Fusion(vector_weight=2.0, text_weight=0.5)
    # vector: a 0.9 -> 1, b 0.5 -> 0; text: c 12 -> 1, a 8 -> 0.5, d 4 -> 0.
    text_a = attrs.evolve(a, score=8.0)
    fused = fuse([a, b], [c, text_a, d], fusion, k=4)
    scores = {h.chunk_id: (h.score, h.vector_rank, h.text_rank) for h in fused}
    assert scores[a.chunk_id] == (2.0 * 1.0 + 0.5 * 0.5, 1, 2)
    assert scores[b.chunk_id] == (0.0, 2, None)
    assert scores[c.chunk_id] == (0.5, None, 1)
    assert scores[d.chunk_id] == (0.0, None, 3)
    assert [h.chunk_id for h in fused][:2] == [a.chunk_id, c.chunk_id]
    # A list of equal scores (or of one candidate) gives each of them its full weight.
    alone = fuse([b], [c, d], Fusion(), k=3)
    assert {h.chunk_id: h.score for h in alone}[b.chunk_id] == 1.0


def test_a_list_far_ahead_leads_relative_fusion_where_ranks_would_tie() -> None:
    """What relative scores see and ranks do not: how far the top is ahead."""
    x, y, z = hit(), hit(), hit()
    # x and y swap places in the two lists; y is far ahead in text, barely behind in vector.
    vector = [attrs.evolve(x, score=0.90), attrs.evolve(y, score=0.89), attrs.evolve(z, score=0.10)]
    text = [attrs.evolve(y, score=30.0), attrs.evolve(x, score=2.0), attrs.evolve(z, score=1.0)]
    assert fuse(vector, text, Fusion(), k=3)[0].chunk_id == y.chunk_id
    ranked = fuse(vector, text, Fusion(method="rrf"), k=3)
    assert ranked[0].score == ranked[1].score  # reciprocal ranks tie; the id decides


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"rrf_k": 0}, "hybrid.rrf_k"),
        ({"rrf_k": True}, "hybrid.rrf_k"),
        ({"vector_weight": -1.0}, "hybrid.vector_weight"),
        ({"text_weight": float("nan")}, "hybrid.text_weight"),
        ({"vector_weight": 0.0, "text_weight": 0.0}, "hybrid"),
        ({"candidates": 0}, "hybrid.candidates"),
        ({"method": "borda"}, "hybrid.method"),
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
