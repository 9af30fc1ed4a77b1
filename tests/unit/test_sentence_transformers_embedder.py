"""SentenceTransformersEmbedder with a fake ``sentence_transformers`` module in ``sys.modules``.

The real library pulls in PyTorch and downloads models, so it is neither installed nor
needed here: the fake records how it was built and called, and from which thread.
"""

from __future__ import annotations

import math
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from tenantrag.adapters.embedders.sentence_transformers import (
    DEFAULT_MODEL,
    INSTALL_HINT,
    SentenceTransformersEmbedder,
)
from tenantrag.domain.errors import InvalidInput, Unavailable
from tenantrag.domain.ports.embedder import Embedder

DIMENSION = 4


class FakeSentenceTransformer:
    """Encodes a text as (len, 1, 0, ...) times 3: unnormalised on purpose, and easy to predict."""

    built: ClassVar[list[tuple[str, str | None]]] = []
    encoded: ClassVar[list[tuple[list[str], dict[str, Any], str]]] = []
    dimension: ClassVar[int | None] = DIMENSION
    output_dimension: ClassVar[int] = DIMENSION

    def __init__(self, model_name_or_path: str, device: str | None = None) -> None:
        if model_name_or_path == "no/such-model":
            raise OSError(f"{model_name_or_path} is not a local folder and is not a valid model identifier")
        self.built.append((model_name_or_path, device))

    def get_sentence_embedding_dimension(self) -> int | None:
        return self.dimension

    def encode(self, sentences: list[str], **options: Any) -> np.ndarray[Any, Any]:
        self.encoded.append((list(sentences), options, threading.current_thread().name))
        rows = [[3.0 * len(text), 3.0] + [0.0] * (self.output_dimension - 2) for text in sentences]
        return np.asarray(rows, dtype=np.float32)


def expected(text: str) -> tuple[float, ...]:
    norm = math.hypot(len(text), 1.0)
    return (len(text) / norm, 1.0 / norm) + (0.0,) * (DIMENSION - 2)


@pytest.fixture
def fake_library(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeSentenceTransformer]]:
    module = types.ModuleType("sentence_transformers")
    module.SentenceTransformer = FakeSentenceTransformer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentence_transformers", module)
    FakeSentenceTransformer.built = []
    FakeSentenceTransformer.encoded = []
    yield FakeSentenceTransformer
    FakeSentenceTransformer.dimension = DIMENSION
    FakeSentenceTransformer.output_dimension = DIMENSION


def test_building_loads_the_model_once(fake_library: type[FakeSentenceTransformer]) -> None:
    embedder: Embedder = SentenceTransformersEmbedder(model="acme/mini", dimension=DIMENSION, device="cpu")

    assert fake_library.built == [("acme/mini", "cpu")]
    assert (embedder.name, embedder.dimension) == ("sentence-transformers:acme/mini", DIMENSION)


async def test_texts_are_encoded_in_a_worker_thread_as_unit_vectors(
    fake_library: type[FakeSentenceTransformer],
) -> None:
    embedder = SentenceTransformersEmbedder(model="acme/mini", dimension=DIMENSION, batch_size=16)
    texts = ["a", "four", "a longer text"]

    vectors = await embedder.embed_documents(texts)

    assert vectors == [pytest.approx(expected(text)) for text in texts]
    assert all(math.fsum(x * x for x in vector) == pytest.approx(1.0) for vector in vectors)
    assert all(type(x) is float for vector in vectors for x in vector)
    ((sentences, options, thread),) = fake_library.encoded
    assert sentences == texts
    assert options["batch_size"] == 16
    assert options["show_progress_bar"] is False
    assert thread != threading.current_thread().name  # not on the event loop's thread


async def test_a_query_is_one_text(fake_library: type[FakeSentenceTransformer]) -> None:
    embedder = SentenceTransformersEmbedder(model="acme/mini", dimension=DIMENSION)
    assert await embedder.embed_query("what") == pytest.approx(expected("what"))
    assert [sentences for sentences, _, _ in fake_library.encoded] == [["what"]]


async def test_no_texts_mean_no_encoding(fake_library: type[FakeSentenceTransformer]) -> None:
    embedder = SentenceTransformersEmbedder(model="acme/mini", dimension=DIMENSION)
    assert await embedder.embed_documents([]) == []
    assert fake_library.encoded == []


def test_a_model_of_another_dimension_is_refused_when_built(
    fake_library: type[FakeSentenceTransformer],
) -> None:
    with pytest.raises(InvalidInput) as raised:
        SentenceTransformersEmbedder(model="acme/mini", dimension=768)
    assert raised.value.field == "embedding_dimension"
    assert "'acme/mini' makes 4-dimensional vectors, expected 768" in raised.value.message


async def test_outputs_are_checked_when_the_model_cannot_tell_its_dimension(
    fake_library: type[FakeSentenceTransformer],
) -> None:
    fake_library.dimension = None
    fake_library.output_dimension = 6
    embedder = SentenceTransformersEmbedder(model="acme/mystery", dimension=DIMENSION)

    with pytest.raises(InvalidInput) as raised:
        await embedder.embed_query("x")
    assert raised.value.field == "embedding_dimension"
    assert "shape (1, 6), expected (1, 4)" in raised.value.message


def test_a_model_that_cannot_be_loaded_is_unavailable(fake_library: type[FakeSentenceTransformer]) -> None:
    with pytest.raises(Unavailable, match="could not load the sentence-transformers model 'no/such-model'"):
        SentenceTransformersEmbedder(model="no/such-model", dimension=DIMENSION)


def test_the_default_model_is_a_384_dimensional_one() -> None:
    assert DEFAULT_MODEL == "sentence-transformers/all-MiniLM-L6-v2"


def test_without_the_extra_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import sentence_transformers` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)

    with pytest.raises(InvalidInput) as raised:
        SentenceTransformersEmbedder(model=DEFAULT_MODEL, dimension=384)

    assert raised.value.field == "embedder"
    assert "pip install 'tenantrag[sentence-transformers]'" in raised.value.message
    assert INSTALL_HINT in str(raised.value)


def test_a_broken_installation_is_told_apart_from_a_missing_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    package = tmp_path / "sentence_transformers"
    package.mkdir()
    (package / "__init__.py").write_text("import torch_that_is_not_installed_here\n", encoding="utf-8")
    monkeypatch.delitem(sys.modules, "sentence_transformers", raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(Unavailable) as raised:
        SentenceTransformersEmbedder(model=DEFAULT_MODEL, dimension=384)

    assert "installed but could not be imported" in raised.value.message
    assert "torch_that_is_not_installed_here" in raised.value.message
    assert INSTALL_HINT in raised.value.message


@pytest.mark.parametrize(("options", "field"), [({"model": ""}, "model"), ({"batch_size": 0}, "batch_size")])
def test_bad_arguments_are_refused_before_loading(
    fake_library: type[FakeSentenceTransformer], options: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {"model": "acme/mini", "dimension": DIMENSION}
    with pytest.raises(InvalidInput) as raised:
        SentenceTransformersEmbedder(**{**values, **options})
    assert raised.value.field == field
    assert fake_library.built == []
