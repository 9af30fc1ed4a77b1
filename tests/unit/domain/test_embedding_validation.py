"""The embedding check's fast path (C loops for plain ints and floats) decides exactly what
the value-by-value loop decides, and returns the same float32-rounded values."""

from __future__ import annotations

import math

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.validation import _embedding_checked, embedding, is_embedding

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1.0, max_value=1.0),
    st.integers(min_value=-(2**1100), max_value=2**1100),
    st.integers(min_value=-1000, max_value=1000),
    st.booleans(),
)


def outcome(call: object, values: list[object]) -> tuple[str, object]:
    try:
        result = call("embedding", values)  # type: ignore[operator]
    except InvalidInput as error:
        return "error", error.problem
    return "ok", result


@given(st.lists(numbers, max_size=12))
def test_the_fast_path_agrees_with_the_checked_loop(values: list[object]) -> None:
    fast, slow = outcome(embedding, values), outcome(_embedding_checked, values)
    assert fast == slow
    if fast[0] == "ok":
        stored = fast[1]
        assert isinstance(stored, tuple)
        assert all(type(x) is float and math.isfinite(x) for x in stored)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([0.5, True], "must hold only numbers, found bool"),
        ([0.5, "1"], "must hold only numbers, found str"),
        ([0.5, math.nan], "must hold only finite values (no NaN or infinity)"),
        ([1e39], "must hold values that fit in float32 (|x| < 3.4e38)"),
        ([2**2000], "must hold values that fit in float32 (|x| < 3.4e38)"),
        ([], "must not be empty"),
    ],
)
def test_each_bad_embedding_is_named(values: list[object], message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        embedding("embedding", values)
    assert raised.value.field == "embedding"
    assert raised.value.problem == message


def test_values_are_rounded_to_float32_whatever_the_iterable() -> None:
    expected = (0.10000000149011612, 1.0)
    assert embedding("embedding", [0.1, 1]) == expected
    assert embedding("embedding", (x for x in (0.1, 1))) == expected


@given(st.lists(numbers, max_size=12))
def test_the_validator_accepts_exactly_what_the_check_accepts(values: list[object]) -> None:
    """Chunk's validator takes a shortcut for tuples of floats; it must agree with the check."""
    attribute = attrs.fields(Chunk).embedding
    checked = outcome(embedding, values)
    try:
        is_embedding(None, attribute, tuple(values))
    except InvalidInput:
        assert checked[0] == "error"
    else:
        assert checked[0] == "ok"
