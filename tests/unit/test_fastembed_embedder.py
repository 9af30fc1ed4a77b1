"""FastEmbedEmbedder: its configuration and error paths against the real fastembed package
(the ``fastembed`` extra, part of the test extra), its loading with a fake ``TextEmbedding``.

No model can be downloaded here, so nothing encodes with a real ONNX model: the real
library is used for its model list (names, dimensions, hub repositories) and for how it
fails offline; a fake class stands in where a model would run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tenantrag.adapters.embedders import fastembed as fe
from tenantrag.adapters.embedders.errors import ModelUnavailable
from tenantrag.domain.errors import InvalidInput

fastembed = pytest.importorskip("fastembed", reason="the fastembed extra is not installed")

MODEL = "BAAI/bge-small-en-v1.5"  # 384 dimensions, files in Qdrant/bge-small-en-v1.5-onnx-Q


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    fe.models.clear()
    yield
    fe.models.clear()


class FakeTextEmbedding:
    """Stands in for a loaded model: (len, 1, 0...) per text; records how it was built."""

    built: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, model_name: str, **options: Any) -> None:
        self.built.append({"model_name": model_name, **options})

    @classmethod
    def list_supported_models(cls) -> list[dict[str, Any]]:
        return list(fastembed.TextEmbedding.list_supported_models())

    def embed(self, texts: list[str], batch_size: int = 256) -> Iterator[list[float]]:
        for text in texts:
            yield [float(len(text)), 1.0] + [0.0] * 382

    def query_embed(self, texts: list[str]) -> Iterator[list[float]]:
        for text in texts:
            yield [1.0, float(len(text))] + [0.0] * 382


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> type[FakeTextEmbedding]:
    FakeTextEmbedding.built = []
    library = type("FakeFastembed", (), {"TextEmbedding": FakeTextEmbedding})
    monkeypatch.setattr(fe, "_import_library", lambda: library)
    return FakeTextEmbedding


def test_an_unknown_model_is_refused_listing_known_ones() -> None:
    with pytest.raises(InvalidInput) as raised:
        fe.FastEmbedEmbedder(model="acme/no-such-model", dimension=384)
    assert raised.value.field == "embedding_model"
    assert "fastembed has no model 'acme/no-such-model'" in raised.value.message
    assert "BAAI/bge-base-en" in raised.value.message


def test_a_dimension_that_is_not_the_models_is_refused_naming_the_variable() -> None:
    with pytest.raises(InvalidInput) as raised:
        fe.FastEmbedEmbedder(model=MODEL, dimension=256)
    assert raised.value.field == "embedding_dimension"
    assert "makes 384-dimensional vectors" in raised.value.message
    assert "EMBEDDING_DIMENSION=384" in raised.value.message


def test_offline_a_model_not_on_this_machine_fails_fast_saying_what_to_download(tmp_path: Path) -> None:
    import time

    started = time.monotonic()
    with pytest.raises(ModelUnavailable) as raised:
        fe.FastEmbedEmbedder(model=MODEL, dimension=384, cache_dir=str(tmp_path))
    assert time.monotonic() - started < 10
    message = raised.value.message
    assert f"'{MODEL}' is not on this machine and cannot be downloaded now" in message
    assert "hf download Qdrant/bge-small-en-v1.5-onnx-Q --local-dir ./bge-small-en-v1.5-onnx-Q" in message
    assert "set EMBEDDING_MODEL to its path" in message


def test_a_folder_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="is not a model: it has none of"):
        fe.FastEmbedEmbedder(model=str(tmp_path), dimension=384)


def test_a_folder_holding_a_model_fastembed_does_not_know_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "mystery"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"_name_or_path": "acme/mystery"}), "utf-8")
    with pytest.raises(InvalidInput) as raised:
        fe.FastEmbedEmbedder(model=str(folder), dimension=384)
    assert "holds no model fastembed knows" in raised.value.message
    assert "'acme/mystery'" in raised.value.message


def test_without_the_extra_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "fastembed", None)
    with pytest.raises(InvalidInput, match=r"pip install 'tenantrag\[fastembed\]'"):
        fe.FastEmbedEmbedder(model=MODEL, dimension=384)


async def test_a_cached_model_loads_locally_once_and_embeds_unit_vectors(
    fake: type[FakeTextEmbedding],
) -> None:
    first = fe.FastEmbedEmbedder(model=MODEL, dimension=384)
    second = fe.FastEmbedEmbedder(model=MODEL, dimension=384)

    assert fake.built == [{"model_name": MODEL, "cache_dir": None, "local_files_only": True}]
    assert first.name == second.name == f"fastembed:{MODEL}"
    (vector,) = await first.embed_documents(["four"])
    assert vector[:2] == pytest.approx((4 / math.hypot(4, 1), 1 / math.hypot(4, 1)))
    query = await first.embed_query("four")
    assert query[:2] == pytest.approx((1 / math.hypot(4, 1), 4 / math.hypot(4, 1)))  # query_embed


def test_a_local_copy_is_matched_to_its_model_and_identified_by_content(
    fake: type[FakeTextEmbedding], tmp_path: Path
) -> None:
    folder = tmp_path / "bge-small-en-v1.5-onnx-Q"  # `hf download ... --local-dir` names it so
    folder.mkdir()
    (folder / "config.json").write_text("{}", "utf-8")
    (folder / "model_optimized.onnx").write_bytes(b"onnx")

    embedder = fe.FastEmbedEmbedder(model=f"{folder}/", dimension=384)
    moved = folder.rename(tmp_path / "models-bge-small-en-v1.5-onnx-Q")
    (moved / "config.json").write_text(json.dumps({"_name_or_path": "Qdrant/bge-small-en-v1.5-onnx-Q"}))
    fe.models.clear()
    again = fe.FastEmbedEmbedder(model=str(moved), dimension=384)

    assert embedder.name.startswith(f"fastembed:{MODEL}@")
    assert fake.built[0]["specific_model_path"] == str(folder)
    assert again.name.split("@")[0] == embedder.name.split("@")[0]
