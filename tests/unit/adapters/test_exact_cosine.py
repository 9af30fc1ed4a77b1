"""The SQL backends' re-scoring gives exactly the domain's cosine, so ties break alike everywhere."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.adapters.exact_cosine import exact_cosines
from tenantrag.domain.search import cosine
from tenantrag.domain.validation import embedding

components = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=32)


@given(
    st.integers(min_value=1, max_value=40).flatmap(
        lambda n: st.tuples(
            st.lists(components, min_size=n, max_size=n),
            st.lists(st.lists(components, min_size=n, max_size=n), max_size=5),
        )
    )
)
def test_cosines_equal_the_domains_bit_for_bit(case: tuple[list[float], list[list[float]]]) -> None:
    query, rows = case
    query = list(embedding("embedding", query))
    stored = [np.asarray(row, dtype=np.float32) for row in rows]
    assert exact_cosines(query, stored) == [cosine(query, row.tolist()) for row in stored]


def test_a_zero_vector_scores_zero_as_in_the_domain() -> None:
    assert exact_cosines([0.0, 0.0], [np.asarray([1.0, 0.0], dtype=np.float32)]) == [0.0]
    assert exact_cosines([1.0, 0.0], [np.zeros(2, dtype=np.float32)]) == [0.0]
