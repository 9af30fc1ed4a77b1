"""An embedder running a fastembed (ONNX Runtime) model in this process.

fastembed runs quantised ONNX exports of the common retrieval models (BGE, MiniLM, E5,
nomic...) on ONNX Runtime: no PyTorch, tens of megabytes instead of gigabytes. It is the
optional extra ``tenantrag[fastembed]`` and is imported only when this embedder is built.

``model`` is one of fastembed's model names (``BAAI/bge-small-en-v1.5``; ``tenantrag`` lists
them in the error for an unknown one), or a local folder holding a copy of such a model's
files (its hub repository, as ``hf download Qdrant/bge-small-en-v1.5-onnx-Q --local-dir
DIR`` makes it). A folder is matched to the model it holds by its ``config.json``'s
``_name_or_path`` or, failing that, its own name. Loading, identity, the per-process cache
and the offline behaviour are ``local_models``'.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tenantrag.adapters.embedders.local_models import (
    LocalModelEmbedder,
    ModelCache,
    ModelSource,
    folder_identity,
    hub_reachable,
    locate,
    quiet_loading,
    unavailable,
)
from tenantrag.domain.errors import InvalidInput, Unavailable

__all__ = ["INSTALL_HINT", "MARKERS", "FastEmbedEmbedder", "models"]

INSTALL_HINT = "pip install 'tenantrag[fastembed]'"
MARKERS = ("config.json", "model.onnx", "model_optimized.onnx")
KIND = "fastembed"

#: The process's loaded models, by identity: each loads once per process.
models = ModelCache()


class FastEmbedEmbedder(LocalModelEmbedder):
    """An :class:`~tenantrag.domain.ports.embedder.Embedder` over ``fastembed.TextEmbedding``
    (one encode at a time: ONNX Runtime already uses every core for one call)."""

    kind = KIND

    def __init__(
        self, *, model: str, dimension: int, batch_size: int = 64, cache_dir: str | None = None
    ) -> None:
        source = locate(model, markers=MARKERS)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput("batch_size", f"must be a positive integer (got {batch_size!r})")
        library = _import_library()
        known = {str(m["model"]).lower(): m for m in library.TextEmbedding.list_supported_models()}
        description = _describe(source, known)
        native = int(description["dim"])
        if native != dimension:
            raise InvalidInput(
                "embedding_dimension",
                f"the fastembed model {description['model']!r} makes {native}-dimensional vectors, but"
                f" EMBEDDING_DIMENSION is {dimension}: set EMBEDDING_DIMENSION={native}",
            )
        name = str(description["model"])
        identity = f"{name}@{folder_identity(source.folder).rsplit('@', 1)[1]}" if source.folder else name
        sources = description.get("sources") or {}
        repository = sources.get("hf") if isinstance(sources, dict) else None
        self._model: Any = models.get(
            identity, lambda: _load(library, source, name, cache_dir, repository=repository)
        )
        super().__init__(identity, dimension)
        self._batch_size = batch_size

    def _raw(self, texts: list[str], *, query: bool) -> Any:
        # An empty query has nothing for query_embed's prefix to introduce: embedded as is.
        if query and all(texts) and hasattr(self._model, "query_embed"):
            return list(self._model.query_embed(texts))
        return list(self._model.embed(texts, batch_size=self._batch_size))


def _describe(source: ModelSource, known: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """fastembed's description of the model ``source`` names; InvalidInput for an unknown one."""
    candidates: list[str] = []
    if source.folder is None:
        candidates.append(source.given)
    else:
        candidates.extend(_folder_names(source.folder))
    for candidate in candidates:
        found = known.get(candidate.lower()) or _by_repository(candidate, known)
        if found is not None:
            return found
    examples = ", ".join(sorted(str(m["model"]) for m in known.values())[:8])
    if source.folder is not None:
        raise InvalidInput(
            "embedding_model",
            f"the folder {str(source.folder)!r} holds no model fastembed knows (it names"
            f" {', '.join(repr(c) for c in candidates)}); fastembed knows {examples}, ...",
        )
    raise InvalidInput(
        "embedding_model",
        f"fastembed has no model {source.given!r}; it knows {examples}, ..."
        " (fastembed.TextEmbedding.list_supported_models())",
    )


def _by_repository(candidate: str, known: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The model whose name or hub repository ends as ``candidate`` does (a folder's name)."""
    tail = candidate.lower().rstrip("/").rsplit("/", 1)[-1]
    for description in known.values():
        sources = description.get("sources") or {}
        repository = str(sources.get("hf") or "") if isinstance(sources, dict) else ""
        for name in (str(description["model"]), repository):
            if name and name.lower().rsplit("/", 1)[-1] == tail:
                return description
    return None


def _folder_names(folder: Path) -> list[str]:
    import json

    names = []
    try:
        config = json.loads((folder / "config.json").read_text("utf-8"))
    except (OSError, ValueError):
        config = {}
    named = config.get("_name_or_path") if isinstance(config, dict) else None
    if isinstance(named, str) and named.strip():
        names.append(named.strip())
    names.append(folder.name)
    return names


def _load(
    library: Any, source: ModelSource, name: str, cache_dir: str | None, *, repository: str | None
) -> Any:
    with quiet_loading(), _fastembed_logs_off():
        if source.folder is not None:
            try:
                return library.TextEmbedding(
                    name, cache_dir=cache_dir, specific_model_path=str(source.folder)
                )
            except Exception as error:  # onnxruntime and fastembed raise many kinds
                raise unavailable(KIND, source, error) from error
        try:
            return library.TextEmbedding(name, cache_dir=cache_dir, local_files_only=True)
        except Exception as error:  # not in the cache
            local_error: Exception = error
        if not hub_reachable():
            raise unavailable(
                KIND, source, "no network, or HF_HUB_OFFLINE is set", repository=repository
            ) from local_error
        try:
            return library.TextEmbedding(name, cache_dir=cache_dir)
        except Exception as error:
            raise unavailable(KIND, source, error, repository=repository) from error


@contextlib.contextmanager
def _fastembed_logs_off() -> Iterator[None]:
    """fastembed logs each failed cache lookup as an ERROR (through loguru); tenantrag raises
    one error that says what to do instead."""
    try:
        from loguru import logger
    except ImportError:  # pragma: no cover - a dependency of fastembed
        yield
        return
    logger.disable("fastembed")
    try:
        yield
    finally:
        logger.enable("fastembed")


def _import_library() -> Any:
    try:
        import fastembed
    except ImportError as error:
        if error.name == "fastembed":
            raise InvalidInput(
                "embedder", f"the fastembed embedder needs its optional extra: {INSTALL_HINT}"
            ) from None
        raise Unavailable(
            f"fastembed is installed but could not be imported ({error}); reinstall it: {INSTALL_HINT}"
        ) from error
    return fastembed
