"""The default embedder: WordLlama's static 256-dimension model, shipped inside its wheel.

WordLlama (MIT) is a token-embedding table distilled from a large language model's input
embeddings: a text's vector is the mean of its tokens' rows. No network, no GPU, no
PyTorch: NumPy and Hugging Face's ``tokenizers``. It understands meaning well enough to
find "the kiwi is a flightless nocturnal bird" for "which animal is nocturnal and cannot
fly?", which the hashing embedder cannot (see ARCHITECTURE.md for the measurements).

The model is loaded from the package's own files and nowhere else. ``WordLlama.load()``
(0.4.0.post1) looks for its tokenizer under ``wordllama/tokenizer/`` while the wheel ships
``wordllama/tokenizers/``, and then downloads it; so the two files are opened here by
explicit path and the model is built the way ``WordLlama._load`` builds it
(``safe_open`` the weights, ``Tokenizer.from_file``, ``WordLlamaInference``). Nothing here
can reach the network.

The store records the model as ``wordllama:l2_supercat-256@<digest>``: the digest (of the
weights and tokenizer files) changes only if a wordllama release changes the model, and
then the store refuses the new vectors instead of mixing them with the old ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tenantrag.adapters.embedders.errors import ModelUnavailable
from tenantrag.domain.errors import InvalidInput

__all__ = ["CONFIG", "DIMENSION", "WordLlamaEmbedder", "load_model"]

CONFIG = "l2_supercat"
DIMENSION = 256
_WEIGHTS = f"weights/{CONFIG}_{DIMENSION}.safetensors"
_TOKENIZER = f"tokenizers/{CONFIG}_tokenizer_config.json"
_TENSOR = "embedding.weight"
INSTALL_HINT = "pip install 'wordllama>=0.4'"
# A batch this small (in characters) is embedded in place, in about a millisecond; a
# larger one in a worker thread, so the event loop keeps serving meanwhile.
_INLINE_CHARACTERS = 16_000


class _Model:
    """The loaded model and its identity (one per process: see :func:`load_model`)."""

    def __init__(self, inference: Any, digest: str) -> None:
        self.inference = inference
        self.digest = digest


_loaded: dict[str, _Model] = {}
_loading = threading.Lock()


def load_model() -> _Model:
    """The bundled model, loaded on first use and then shared by every embedder of the process."""
    with _loading:
        if CONFIG not in _loaded:
            _loaded[CONFIG] = _load()
        return _loaded[CONFIG]


class WordLlamaEmbedder:
    """An :class:`~tenantrag.domain.ports.embedder.Embedder` over WordLlama's bundled model.

    ``dimension`` must be the model's, 256: anything else is refused naming
    ``EMBEDDING_DIMENSION``. Outputs are unit vectors; a text with no tokens (the empty
    string) gives the zero vector, which scores 0 against everything.
    """

    def __init__(self, *, dimension: int = DIMENSION, batch_size: int = 64) -> None:
        if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension != DIMENSION:
            raise InvalidInput(
                "embedding_dimension",
                f"the wordllama embedder makes {DIMENSION}-dimensional vectors, but EMBEDDING_DIMENSION"
                f" is {dimension!r}: set it to {DIMENSION} or leave it unset",
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput("batch_size", f"must be a positive integer (got {batch_size!r})")
        self._model = load_model()
        self._batch_size = batch_size
        self._name = f"wordllama:{CONFIG}-{DIMENSION}@{self._model.digest}"

    def __repr__(self) -> str:
        return f"WordLlamaEmbedder(name={self._name!r})"

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return DIMENSION

    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        if sum(len(text) for text in texts) <= _INLINE_CHARACTERS:
            return self.embed(list(texts))
        return await asyncio.to_thread(self.embed, list(texts))

    async def embed_query(self, text: str) -> tuple[float, ...]:
        # Microseconds: cheaper in place than a hop to a worker thread.
        return self.embed([text])[0]

    def embed(self, texts: list[str]) -> list[tuple[float, ...]]:
        """The vectors of ``texts``; synchronous, for callers outside an event loop."""
        if not texts:
            return []
        raw = self._model.inference.embed(texts, norm=False, batch_size=self._batch_size)
        matrix = np.asarray(raw, dtype=np.float64)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms == 0.0, 1.0, norms)
        return [tuple(row) for row in matrix.tolist()]


def _load() -> _Model:
    package = _import_quietly("wordllama")
    root = Path(package.__file__).parent
    weights, tokenizer_file = root / _WEIGHTS, root / _TOKENIZER
    missing = [str(path) for path in (weights, tokenizer_file) if not path.is_file()]
    if missing:
        raise ModelUnavailable(
            f"the wordllama package has no bundled {CONFIG} model ({', '.join(missing)} missing);"
            f" reinstall it ({INSTALL_HINT}) or choose another EMBEDDER"
        )
    from safetensors import safe_open
    from tokenizers import Tokenizer

    inference_module = _import_quietly("wordllama.inference")
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        with safe_open(str(weights), framework="np", device="cpu") as handle:
            embedding = handle.get_tensor(_TENSOR)
    except Exception as error:  # a truncated or foreign file: say which, not a library trace
        raise ModelUnavailable(
            f"could not read wordllama's bundled model from {root}: {error}; reinstall it ({INSTALL_HINT})"
        ) from error
    if embedding.ndim != 2 or embedding.shape[1] != DIMENSION:
        raise ModelUnavailable(
            f"wordllama's bundled {CONFIG} weights have shape {embedding.shape}, expected (n, {DIMENSION})"
        )
    digest = hashlib.sha256()
    for path in (weights, tokenizer_file):
        digest.update(path.read_bytes())
    return _Model(inference_module.WordLlamaInference(embedding, tokenizer), digest.hexdigest()[:12])


def _import_quietly(module: str) -> Any:
    """Import a wordllama module without its side effect on logging.

    ``wordllama.inference`` calls ``logging.basicConfig(level=INFO)`` when imported, which
    would give the root logger a stderr handler and make every library's INFO messages
    appear. ``basicConfig`` does nothing when the root logger has a handler, so one is
    held there during the import.
    """
    root = logging.getLogger()
    placeholder = logging.NullHandler()
    root.addHandler(placeholder)
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise InvalidInput(
            "embedder", f"the wordllama embedder needs the wordllama package: {INSTALL_HINT} ({error})"
        ) from error
    finally:
        root.removeHandler(placeholder)
