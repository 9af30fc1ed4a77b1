"""Retrieval evaluation: the test collection's values and the metrics, as pure functions.

A test collection is a set of queries (:class:`QuerySet`) and relevance judgements
(:class:`Qrels`: query id -> document key -> graded relevance). A system's answer to a
query is a ranked list of document keys; :func:`score_ranking` scores it with the three
metrics an evaluation run reports:

- **nDCG@10**: graded gain (``max(rel, 0)``), discount ``1 / log2(rank + 1)``, normalised
  by the ideal ordering of every judged document of the query;
- **Recall@100**: the share of the query's relevant documents (``rel > 0``) in the top 100;
- **MRR@10**: ``1 / rank`` of the first relevant document in the top 10, else 0.

A document listed twice counts at its first rank only. A query with no relevant judgement
has no score (``None``): the overall means (:func:`mean_scores`) are over the queries that
have at least one. Reading the files lives in ``adapters/evaluation_files.py``; running
the queries through search and storing the run, in ``usecases/evaluation.py``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

import attrs

from tenantrag.domain.errors import InvalidInput

K = TypeVar("K", bound=Hashable)

NDCG_CUTOFF = 10
RECALL_CUTOFF = 100
MRR_CUTOFF = 10
NDCG = f"ndcg@{NDCG_CUTOFF}"
RECALL = f"recall@{RECALL_CUTOFF}"
MRR = f"mrr@{MRR_CUTOFF}"
METRICS = (NDCG, RECALL, MRR)

# Bounds of one run (its per-query metrics are stored as one JSON value).
MAX_QUERIES = 10_000
MAX_JUDGEMENTS = 1_000_000
MAX_ID_LENGTH = 1024
MAX_QUERY_LENGTH = 20_000


# --- metrics ---------------------------------------------------------------------------


def _cutoff(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidInput("k", f"must be a positive integer, got {k!r}")
    return k


def _first_ranks(ranked: Iterable[K], k: int) -> list[K]:
    """The top ``k`` distinct keys, each at its first rank."""
    seen: set[K] = set()
    top: list[K] = []
    for key in ranked:
        if len(top) >= k:
            break
        if key not in seen:
            seen.add(key)
            top.append(key)
    return top


def _discount(rank: int) -> float:
    return 1.0 / math.log2(rank + 1)


def dcg_at(gains: Iterable[float], k: int) -> float:
    """Discounted cumulative gain of gains listed by rank (1-based), cut at ``k``."""
    total = 0.0
    for rank, gain in enumerate(gains, start=1):
        if rank > k:
            break
        total += gain * _discount(rank)
    return total


def ndcg_at(ranked: Sequence[K], judgements: Mapping[K, int], k: int = NDCG_CUTOFF) -> float:
    """nDCG@k with graded gains ``max(rel, 0)``; 0.0 when nothing is relevant."""
    k = _cutoff(k)
    ideal = dcg_at(sorted((max(rel, 0) for rel in judgements.values()), reverse=True), k)
    if ideal <= 0.0:
        return 0.0
    actual = dcg_at((max(judgements.get(key, 0), 0) for key in _first_ranks(ranked, k)), k)
    return min(actual / ideal, 1.0)


def relevant(judgements: Mapping[K, int]) -> frozenset[K]:
    """The keys judged relevant (``rel > 0``)."""
    return frozenset(key for key, rel in judgements.items() if rel > 0)


def recall_at(ranked: Sequence[K], judgements: Mapping[K, int], k: int = RECALL_CUTOFF) -> float:
    """The share of relevant keys in the top ``k``; 0.0 when nothing is relevant."""
    wanted = relevant(judgements)
    if not wanted:
        return 0.0
    found = sum(1 for key in _first_ranks(ranked, _cutoff(k)) if key in wanted)
    return found / len(wanted)


def mrr_at(ranked: Sequence[K], judgements: Mapping[K, int], k: int = MRR_CUTOFF) -> float:
    """Reciprocal rank of the first relevant key within the top ``k``, else 0.0."""
    wanted = relevant(judgements)
    for rank, key in enumerate(_first_ranks(ranked, _cutoff(k)), start=1):
        if key in wanted:
            return 1.0 / rank
    return 0.0


def score_ranking(ranked: Sequence[K], judgements: Mapping[K, int]) -> dict[str, float] | None:
    """nDCG@10, Recall@100 and MRR@10 of one ranking, or None if nothing is relevant."""
    if not relevant(judgements):
        return None
    return {
        NDCG: ndcg_at(ranked, judgements, NDCG_CUTOFF),
        RECALL: recall_at(ranked, judgements, RECALL_CUTOFF),
        MRR: mrr_at(ranked, judgements, MRR_CUTOFF),
    }


def mean_scores(scores: Iterable[Mapping[str, float] | None]) -> dict[str, float | int]:
    """Each metric's mean over the scored queries (``None`` skipped), with their count."""
    scored = [s for s in scores if s is not None]
    means: dict[str, float | int] = {
        metric: (math.fsum(s[metric] for s in scored) / len(scored) if scored else 0.0) for metric in METRICS
    }
    means["queries"] = len(scored)
    return means


# --- the test collection ----------------------------------------------------------------


def _queries(value: Mapping[str, str]) -> dict[str, str]:
    return dict(value)


def _judgements(value: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    return {query: dict(docs) for query, docs in value.items()}


@attrs.frozen
class QuerySet:
    """Queries by id, in file order; ``name`` and ``sha256`` identify the file they came from."""

    queries: Mapping[str, str] = attrs.field(converter=_queries)
    name: str = "queries"
    sha256: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.queries:
            raise InvalidInput("queries", f"{self.name}: no queries")
        if len(self.queries) > MAX_QUERIES:
            raise InvalidInput(
                "queries", f"{self.name}: at most {MAX_QUERIES} queries (got {len(self.queries)})"
            )

    def __len__(self) -> int:
        return len(self.queries)


@attrs.frozen
class Qrels:
    """Judgements: query id -> document key -> graded relevance (``rel > 0`` is relevant).

    ``format`` is ``"beir"`` (TSV with a header) or ``"trec"`` (``qid 0 docid rel``).
    """

    judgements: Mapping[str, Mapping[str, int]] = attrs.field(converter=_judgements)
    name: str = "qrels"
    format: str = "beir"
    sha256: str | None = None

    def __attrs_post_init__(self) -> None:
        if not any(relevant(docs) for docs in self.judgements.values()):
            raise InvalidInput("qrels", f"{self.name}: no relevant judgement (relevance > 0)")

    def document_keys(self) -> frozenset[str]:
        """Every document key judged, relevant or not."""
        return frozenset(key for docs in self.judgements.values() for key in docs)

    def judged_queries(self) -> frozenset[str]:
        """The query ids with at least one relevant judgement."""
        return frozenset(q for q, docs in self.judgements.items() if relevant(docs))
