"""HashingEmbedder: unit vectors for any text, the same everywhere, closer when words are shared."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.embedding_model import MAX_DIMENSION
from tenantrag.domain.ports.embedder import Embedder

_TEXT = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50),
    st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta"]), max_size=40).map(" ".join),
)
_DIMENSION = st.integers(min_value=1, max_value=512)


def _cosine(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return math.fsum(x * y for x, y in zip(a, b, strict=True))


@given(text=_TEXT, dimension=_DIMENSION)
async def test_every_text_gives_a_finite_unit_vector_of_the_dimension(text: str, dimension: int) -> None:
    vector = await HashingEmbedder(dimension).embed_query(text)

    assert len(vector) == dimension
    assert all(math.isfinite(x) for x in vector)
    assert math.sqrt(math.fsum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-9)


@given(text=_TEXT, dimension=_DIMENSION)
async def test_the_same_text_always_gives_the_same_vector(text: str, dimension: int) -> None:
    first = await HashingEmbedder(dimension).embed_query(text)

    assert await HashingEmbedder(dimension).embed_query(text) == first
    assert await HashingEmbedder(dimension).embed_documents([text]) == [first]


@pytest.mark.slow
def test_another_process_with_another_hash_seed_gives_the_same_vector() -> None:
    text = "Tenants share nothing; their chunks are embedded the same way everywhere."
    script = (
        "import asyncio, json, sys\n"
        "from tenantrag.adapters.hashing_embedder import HashingEmbedder\n"
        "vector = asyncio.run(HashingEmbedder(64).embed_query(sys.argv[1]))\n"
        "print(json.dumps(vector))\n"
    )
    # A different PYTHONHASHSEED shows the vector does not depend on Python's hash().
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    completed = subprocess.run(
        [sys.executable, "-c", script, text], capture_output=True, text=True, check=True, env=env, timeout=60
    )

    assert tuple(json.loads(completed.stdout)) == HashingEmbedder(64).embed(text)


async def test_texts_sharing_words_are_closer_than_unrelated_texts() -> None:
    embedder = HashingEmbedder()
    query = await embedder.embed_query("How do I reset my account password?")
    related, unrelated = await embedder.embed_documents(
        [
            "To reset the password of your account, open the settings page.",
            "Photosynthesis converts light into chemical energy in plants.",
        ]
    )

    assert _cosine(query, related) > 0.1 > abs(_cosine(query, unrelated))
    assert _cosine(query, query) == pytest.approx(1.0)


async def test_case_and_compatibility_forms_do_not_matter() -> None:
    embedder = HashingEmbedder()

    assert await embedder.embed_query("The FILE was Straße") == await embedder.embed_query(
        "the \ufb01le was STRASSE"  # "fi" ligature; ß case-folds to "ss"
    )


async def test_word_order_matters_through_word_pairs() -> None:
    embedder = HashingEmbedder()
    a, b = await embedder.embed_documents(["dog bites man", "man bites dog"])

    assert 0.0 < _cosine(a, b) < 1.0 - 1e-6


@given(texts=st.lists(_TEXT, max_size=150))
async def test_documents_come_back_one_per_text_in_order(texts: list[str]) -> None:
    embedder = HashingEmbedder(32)

    vectors = await embedder.embed_documents(texts)

    assert vectors == [await embedder.embed_query(text) for text in texts]


async def test_empty_and_wordless_texts_share_one_unit_vector() -> None:
    embedder = HashingEmbedder(16)
    empty = await embedder.embed_query("")

    assert await embedder.embed_query("  ?! -- ") == empty
    assert sorted(abs(x) for x in empty) == [0.0] * 15 + [1.0]


async def test_lone_surrogates_do_not_break_embedding() -> None:
    vector = await HashingEmbedder(8).embed_query("broken \ud800 text")

    assert math.fsum(x * x for x in vector) == pytest.approx(1.0)


def test_name_records_the_dimension() -> None:
    embedder: Embedder = HashingEmbedder(dimension=128)

    assert embedder.name == "hashing-128"
    assert embedder.dimension == 128
    assert HashingEmbedder().dimension == 384


@pytest.mark.parametrize("dimension", [0, -1, MAX_DIMENSION + 1, True, 3.0, "384"])
def test_invalid_dimension_is_refused(dimension: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        HashingEmbedder(dimension)  # type: ignore[arg-type]

    assert caught.value.field == "dimension"
