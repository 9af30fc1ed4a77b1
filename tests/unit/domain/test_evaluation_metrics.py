"""Retrieval metrics: hand-computed examples and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.evaluation import (
    MRR,
    NDCG,
    RECALL,
    Qrels,
    QuerySet,
    dcg_at,
    mean_scores,
    mrr_at,
    ndcg_at,
    recall_at,
    score_ranking,
)


def test_ndcg_by_hand_with_graded_gains() -> None:
    judgements = {"a": 2, "b": 1, "c": 0}
    ranked = ["c", "b", "x", "a"]
    # DCG = 0/log2(2) + 1/log2(3) + 0 + 2/log2(5); ideal = 2/log2(2) + 1/log2(3)
    actual = 1 / math.log2(3) + 2 / math.log2(5)
    ideal = 2 + 1 / math.log2(3)
    assert ndcg_at(ranked, judgements, 10) == pytest.approx(actual / ideal)


def test_ndcg_is_cut_at_k_and_ideal_uses_every_judged_document() -> None:
    judgements = {"a": 1, "b": 1, "c": 1}
    # Only "a" within the top 2; the ideal at 2 has two relevant documents.
    assert ndcg_at(["a", "x", "b"], judgements, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_recall_and_mrr_by_hand() -> None:
    judgements = {"a": 1, "b": 3, "c": 0, "d": 1}
    ranked = ["c", "x", "b", "a"]
    assert recall_at(ranked, judgements, 100) == pytest.approx(2 / 3)
    assert recall_at(ranked, judgements, 3) == pytest.approx(1 / 3)
    assert mrr_at(ranked, judgements, 10) == pytest.approx(1 / 3)
    assert mrr_at(ranked, judgements, 2) == 0.0


def test_a_document_listed_twice_counts_once_at_its_first_rank() -> None:
    judgements = {"a": 1}
    assert ndcg_at(["a", "a", "a"], judgements) == 1.0
    assert mrr_at(["x", "x", "a"], judgements) == pytest.approx(1 / 2)
    assert recall_at(["x", "x"], {"x": 1, "y": 1}) == 0.5


def test_negative_grades_are_not_relevant() -> None:
    judgements = {"a": -1, "b": 1}
    assert mrr_at(["a", "b"], judgements) == 0.5
    assert recall_at(["a"], judgements) == 0.0
    assert ndcg_at(["b"], judgements) == 1.0


def test_nothing_relevant_scores_none_and_zero() -> None:
    assert score_ranking(["a"], {"a": 0}) is None
    assert ndcg_at(["a"], {}) == 0.0
    assert recall_at(["a"], {"a": 0}) == 0.0


def test_score_ranking_and_mean_scores() -> None:
    one = score_ranking(["a", "b"], {"a": 1})
    two = score_ranking(["b", "a"], {"a": 1})
    assert one == {NDCG: 1.0, RECALL: 1.0, MRR: 1.0}
    assert two is not None
    assert two[MRR] == 0.5
    means = mean_scores([one, two, None])
    assert means["queries"] == 2
    assert means[MRR] == pytest.approx(0.75)
    assert means[NDCG] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert mean_scores([None]) == {NDCG: 0.0, RECALL: 0.0, MRR: 0.0, "queries": 0}


def test_dcg_and_cutoffs() -> None:
    assert dcg_at([3, 2], 1) == 3
    for bad in (0, -1, True, 1.5):
        with pytest.raises(InvalidInput, match="k"):
            ndcg_at(["a"], {"a": 1}, bad)  # type: ignore[arg-type]


def test_collections_refuse_emptiness() -> None:
    with pytest.raises(InvalidInput, match="no queries"):
        QuerySet({})
    with pytest.raises(InvalidInput, match="no relevant"):
        Qrels({"q": {"d": 0}})
    qrels = Qrels({"q": {"d": 1, "e": 0}, "r": {"e": 0}})
    assert qrels.judged_queries() == {"q"}
    assert qrels.document_keys() == {"d", "e"}


keys = st.sampled_from([f"d{i}" for i in range(12)])
rankings = st.lists(keys, max_size=30)
judgement_sets = st.dictionaries(keys, st.integers(-1, 3), max_size=12)
cutoffs = st.integers(1, 20)


@given(rankings, judgement_sets, cutoffs)
def test_every_metric_is_between_0_and_1(ranked: list[str], judgements: dict[str, int], k: int) -> None:
    for metric in (ndcg_at, recall_at, mrr_at):
        assert 0.0 <= metric(ranked, judgements, k) <= 1.0


@given(judgement_sets.filter(lambda j: any(r > 0 for r in j.values())), cutoffs)
def test_the_ideal_ranking_scores_1(judgements: dict[str, int], k: int) -> None:
    ideal = sorted(judgements, key=lambda key: -judgements[key])
    assert ndcg_at(ideal, judgements, k) == pytest.approx(1.0)
    assert mrr_at(ideal, judgements, k) == 1.0
    assert recall_at(ideal, judgements, len(judgements)) == 1.0


@given(rankings, judgement_sets, cutoffs)
def test_recall_grows_with_k(ranked: list[str], judgements: dict[str, int], k: int) -> None:
    assert recall_at(ranked, judgements, k) <= recall_at(ranked, judgements, k + 1)


@given(rankings, judgement_sets)
def test_unjudged_documents_appended_change_nothing_within_the_cutoff(
    ranked: list[str], judgements: dict[str, int]
) -> None:
    longer = [*ranked, "unjudged-1", "unjudged-2"]
    if len(ranked) >= 10:
        assert ndcg_at(longer, judgements) == ndcg_at(ranked, judgements)
    assert mrr_at(longer, judgements, 100) == mrr_at(ranked, judgements, 100)
