"""How hybrid search fuses its two rankings, the vector list and the text list.

Two methods (:class:`FusionMethod`), both over each list's best ``Fusion.depth(k)``
candidates, a candidate missing from a list getting nothing from it:

- ``relative_score`` (the default): each list's scores are scaled to [0, 1] over its
  candidates (``(s - min) / (max - min)``; all 1 when they are equal), and a candidate
  scores ``vector_weight * v + text_weight * t``. How far apart two candidates are in a
  list counts, not only their order: a list whose top is far ahead of the rest leads the
  fusion, a list of near-equal scores barely moves it. Measured on CISI (text BM25 0.394
  nDCG@10, wordllama vector 0.362): 0.417; reciprocal rank fusion: 0.398 (``rrf_k`` 60).
  It is Weaviate's default fusion for the same reason.
- ``rrf``: reciprocal rank fusion, ``vector_weight / (rrf_k + r_v) + text_weight / (rrf_k
  + r_t)`` for 1-based ranks; only the order within each list counts.

A fused candidate carries its place in each list (``vector_rank``, ``text_rank``). What is
fused (chunks, or documents at their best chunk) is the caller's: ``domain/search.fuse``
and ``domain/grouping.fuse_documents`` both go through :meth:`Fusion.fused`. Ties are the
caller's to break (by id).
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput

DEFAULT_RRF_K = 60
# Candidates each list contributes to a hybrid ranking, unless Fusion says otherwise: four
# per hit wanted, at least 50, at most 4000 (four per hit at the largest k, search.MAX_K).
MIN_CANDIDATES, CANDIDATES_PER_HIT, MAX_CANDIDATES = 50, 4, 4000
MAX_WEIGHT = 1000.0

Key = TypeVar("Key", bound=Hashable)


class FusionMethod(enum.StrEnum):
    RELATIVE_SCORE = "relative_score"
    RRF = "rrf"

    @classmethod
    def parse(cls, value: object, *, field: str = "hybrid.method") -> FusionMethod:
        return v.choice(field, cls, value)


def _method(value: object) -> FusionMethod:
    return FusionMethod.parse(value)


def _count(field: str, low: int, high: int) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(field, f"must be an integer from {low} to {high}, got {value!r:.40}")

    return check


def _weight(field: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_WEIGHT:
            raise InvalidInput(field, f"must be a number from 0 to {MAX_WEIGHT:g}, got {value!r:.40}")

    return check


@attrs.frozen
class Fused:
    """A candidate's fused score and its 1-based places in the two lists (None: absent)."""

    score: float
    vector_rank: int | None
    text_rank: int | None


@attrs.frozen(kw_only=True)
class Fusion:
    """How a hybrid search fuses its two rankings (see the module)."""

    method: FusionMethod = attrs.field(default=FusionMethod.RELATIVE_SCORE, converter=_method)
    rrf_k: int = attrs.field(default=DEFAULT_RRF_K, validator=_count("hybrid.rrf_k", 1, 100_000))
    vector_weight: float = attrs.field(default=1.0, validator=_weight("hybrid.vector_weight"))
    text_weight: float = attrs.field(default=1.0, validator=_weight("hybrid.text_weight"))
    candidates: int | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(_count("hybrid.candidates", 1, MAX_CANDIDATES)),
    )

    def __attrs_post_init__(self) -> None:
        if self.vector_weight == 0 and self.text_weight == 0:
            raise InvalidInput("hybrid", "vector_weight and text_weight cannot both be 0")

    def depth(self, k: int) -> int:
        """How many candidates each list contributes for a top-k: never fewer than k."""
        wanted = self.candidates or min(MAX_CANDIDATES, max(CANDIDATES_PER_HIT * k, MIN_CANDIDATES))
        return max(k, wanted)

    def fused(
        self, vector: Sequence[tuple[Key, float]], text: Sequence[tuple[Key, float]]
    ) -> dict[Key, Fused]:
        """Every candidate of the two lists (each ``(key, score)``, best first, a key at most
        once per list) with its fused score and places."""
        parts: dict[Key, list[float]] = {}
        ranks: dict[Key, list[int | None]] = {}
        for which, (ranking, weight) in enumerate(((vector, self.vector_weight), (text, self.text_weight))):
            for rank, (key, value) in enumerate(ranking, start=1):
                parts.setdefault(key, [0.0, 0.0])[which] = weight * self._part(rank, value, ranking)
                ranks.setdefault(key, [None, None])[which] = rank
        # Summed in list order, so equal inputs give bit-equal scores wherever they are fused.
        return {key: Fused(part[0] + part[1], *ranks[key]) for key, part in parts.items()}

    def _part(self, rank: int, value: float, ranking: Sequence[tuple[Key, float]]) -> float:
        if self.method is FusionMethod.RRF:
            return 1.0 / (self.rrf_k + rank)
        top, bottom = ranking[0][1], ranking[-1][1]
        return (value - bottom) / (top - bottom) if top > bottom else 1.0
