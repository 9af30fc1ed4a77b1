"""SentenceTransformersEmbedder with a fake ``sentence_transformers`` module in ``sys.modules``.

The real library pulls in PyTorch and downloads models, so it is neither installed nor
needed here: the fake records how it was built and called, and from which thread. Its
"cache" is the set ``cached``: a model outside it fails with ``local_files_only=True``, as
the real library does without a download.
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

from tenantrag.adapters.embedders import local_models
from tenantrag.adapters.embedders import sentence_transformers as st
from tenantrag.adapters.embedders.errors import ModelUnavailable
from tenantrag.adapters.embedders.sentence_transformers import INSTALL_HINT, SentenceTransformersEmbedder
from tenantrag.domain.errors import InvalidInput, Unavailable
from tenantrag.domain.ports.embedder import Embedder

DIMENSION = 4
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class FakeSentenceTransformer:
    """Encodes a text as (len, 1, 0, ...) times 3: unnormalised on purpose, and easy to predict."""

    built: ClassVar[list[tuple[str, str | None]]] = []
    attempts: ClassVar[list[tuple[str, bool]]] = []
    cached: ClassVar[set[str]] = {"acme/mini", "acme/mystery", DEFAULT_MODEL}
    encoded: ClassVar[list[tuple[list[str], dict[str, Any], str]]] = []
    dimension: ClassVar[int | None] = DIMENSION
    output_dimension: ClassVar[int] = DIMENSION

    def __init__(
        self, model_name_or_path: str, device: str | None = None, local_files_only: bool = False
    ) -> None:
        self.attempts.append((model_name_or_path, local_files_only))
        local = model_name_or_path in self.cached or model_name_or_path.startswith("/")
        if local_files_only and not local:
            raise OSError(f"{model_name_or_path} is not in the cache and local_files_only is set")
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
    FakeSentenceTransformer.attempts = []
    FakeSentenceTransformer.encoded = []
    st.models.clear()
    # No test reaches the network: the hub "answers" only where a test says it does.
    monkeypatch.setattr(st, "hub_reachable", lambda: False)
    yield FakeSentenceTransformer
    st.models.clear()
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
    assert "'acme/mini' makes 4-dimensional vectors" in raised.value.message
    assert "set EMBEDDING_DIMENSION=4" in raised.value.message


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


def test_an_unknown_model_is_unavailable_naming_it(
    fake_library: type[FakeSentenceTransformer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(st, "hub_reachable", lambda: True)
    with pytest.raises(ModelUnavailable) as raised:
        SentenceTransformersEmbedder(model="no/such-model", dimension=DIMENSION)
    assert "'no/such-model'" in raised.value.message
    assert "not a valid model identifier" in raised.value.message
    assert raised.value.code == "model_unavailable"


def test_a_model_is_looked_for_locally_first_and_loaded_once_per_process(
    fake_library: type[FakeSentenceTransformer],
) -> None:
    first = SentenceTransformersEmbedder(model="acme/mini", dimension=DIMENSION)
    second = SentenceTransformersEmbedder(model="acme/mini", dimension=DIMENSION)
    assert fake_library.attempts == [("acme/mini", True)]  # never without local_files_only
    assert len(fake_library.built) == 1
    assert first.name == second.name


def test_offline_a_model_not_on_this_machine_fails_at_once_saying_how_to_use_a_local_copy(
    fake_library: type[FakeSentenceTransformer],
) -> None:
    with pytest.raises(ModelUnavailable) as raised:
        SentenceTransformersEmbedder(model="acme/elsewhere", dimension=DIMENSION)
    message = raised.value.message
    assert "'acme/elsewhere' is not on this machine and cannot be downloaded now" in message
    assert "set EMBEDDING_MODEL to its path" in message
    assert "hf download acme/elsewhere --local-dir ./elsewhere" in message
    assert fake_library.attempts == [("acme/elsewhere", True)]  # no download was tried


def test_with_the_hub_reachable_a_missing_model_is_downloaded(
    fake_library: type[FakeSentenceTransformer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(st, "hub_reachable", lambda: True)
    SentenceTransformersEmbedder(model="acme/elsewhere", dimension=DIMENSION)
    assert fake_library.attempts == [("acme/elsewhere", True), ("acme/elsewhere", False)]


def test_a_bare_name_is_one_of_sentence_transformers_own() -> None:
    assert st._hub_name("all-MiniLM-L6-v2") == DEFAULT_MODEL
    assert st._hub_name("acme/mini") == "acme/mini"


def test_without_the_extra_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import sentence_transformers` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)

    with pytest.raises(InvalidInput) as raised:
        SentenceTransformersEmbedder(model="acme/mini", dimension=384)

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
        SentenceTransformersEmbedder(model="acme/mini", dimension=384)

    assert "installed but could not be imported" in raised.value.message
    assert "torch_that_is_not_installed_here" in raised.value.message
    assert INSTALL_HINT in raised.value.message


@pytest.mark.parametrize(
    ("options", "field"), [({"model": ""}, "embedding_model"), ({"batch_size": 0}, "batch_size")]
)
def test_bad_arguments_are_refused_before_loading(
    fake_library: type[FakeSentenceTransformer], options: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {"model": "acme/mini", "dimension": DIMENSION}
    with pytest.raises(InvalidInput) as raised:
        SentenceTransformersEmbedder(**{**values, **options})
    assert raised.value.field == field
    assert fake_library.built == []


# --- local folders ----------------------------------------------------------------------------


def make_model_folder(folder: Path, *, weights: bytes = b"weights", name: str = "acme/minilm-tuned") -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(f'{{"_name_or_path": "{name}", "hidden_size": 4}}', "utf-8")
    (folder / "modules.json").write_text("[]", "utf-8")
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "README.md").write_text("not part of the identity", "utf-8")
    return folder


def test_a_local_folder_is_identified_by_its_content_not_its_path(
    fake_library: type[FakeSentenceTransformer], tmp_path: Path
) -> None:
    folder = make_model_folder(tmp_path / "models" / "minilm")
    plain = SentenceTransformersEmbedder(model=str(folder), dimension=DIMENSION)
    slashed = SentenceTransformersEmbedder(model=f"{folder}/", dimension=DIMENSION)
    (folder / "README.md").write_text("edited", "utf-8")
    moved = folder.rename(tmp_path / "elsewhere")
    st.models.clear()  # a new process, after the move
    after_move = SentenceTransformersEmbedder(model=str(moved), dimension=DIMENSION)

    assert plain.name == slashed.name == after_move.name
    assert plain.name.startswith("sentence-transformers:minilm-tuned@")
    assert str(tmp_path) not in plain.name
    assert fake_library.built[0] == (str(folder), None)  # loaded from the folder, never the hub


def test_another_model_in_the_same_folder_is_another_identity(
    fake_library: type[FakeSentenceTransformer], tmp_path: Path
) -> None:
    before = local_models.folder_identity(make_model_folder(tmp_path / "a", weights=b"one"))
    after = local_models.folder_identity(make_model_folder(tmp_path / "b", weights=b"two"))
    assert before.split("@")[0] == after.split("@")[0] == "minilm-tuned"
    assert before != after


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda root: root / "missing", "is not a folder on this machine"),
        (lambda root: (root / "empty").mkdir() or root / "empty", "is not a model: it has none of"),
        (lambda root: (root / "file.bin").write_bytes(b"x") and root / "file.bin", "is a file"),
    ],
    ids=["missing", "not-a-model", "a-file"],
)
def test_a_folder_that_is_not_a_model_is_refused_naming_the_setting(
    fake_library: type[FakeSentenceTransformer], tmp_path: Path, make: Any, says: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(InvalidInput) as raised:
        SentenceTransformersEmbedder(model=str(path), dimension=DIMENSION)
    assert raised.value.field == "embedding_model"
    assert says in raised.value.message
    assert fake_library.built == []


def test_loading_writes_nothing_to_standard_output(
    fake_library: type[FakeSentenceTransformer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = FakeSentenceTransformer.__init__

    def chatty(self: FakeSentenceTransformer, *args: Any, **kwargs: Any) -> None:
        print("Downloading model... 100%")
        original(self, *args, **kwargs)

    monkeypatch.setattr(FakeSentenceTransformer, "__init__", chatty)
    SentenceTransformersEmbedder(model="acme/mini", dimension=DIMENSION)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Downloading model" in captured.err
