"""An embedder running a sentence-transformers model in this process.

sentence-transformers pulls in PyTorch (gigabytes), so it is the optional extra
``tenantrag[sentence-transformers]`` and is imported only when this embedder is built:
importing this module costs nothing, and a deployment that does not choose it never
needs the library. Without it, building the embedder says which command installs it.

Encoding runs in a worker thread, one call at a time (``local_models.LocalModelEmbedder``),
so the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

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

__all__ = ["INSTALL_HINT", "MARKERS", "SentenceTransformersEmbedder", "models"]

INSTALL_HINT = "pip install 'tenantrag[sentence-transformers]'"
# What makes a folder a sentence-transformers model (or a transformers one it can pool).
MARKERS = ("modules.json", "config_sentence_transformers.json", "config.json")
KIND = "sentence-transformers"

#: The process's loaded models, by identity and device: each loads once per process.
models = ModelCache()


class SentenceTransformersEmbedder(LocalModelEmbedder):
    """An :class:`~tenantrag.domain.ports.embedder.Embedder` over ``SentenceTransformer(model)``.

    ``model`` is a hub id or a local folder (see ``local_models``). Building it loads the
    model, from this machine if it is there, else downloading it if the hub can be reached
    (else :class:`ModelUnavailable` at once), and checks that it makes ``dimension``-long
    vectors, so that a model that does not fit the store fails at start rather than on the
    first document. Outputs are scaled to unit length, as every tenantrag embedder's are.
    """

    kind = KIND

    def __init__(
        self, *, model: str, dimension: int, batch_size: int = 64, device: str | None = None
    ) -> None:
        source = locate(model, markers=MARKERS)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput("batch_size", f"must be a positive integer (got {batch_size!r})")
        library = _import_library()
        identity = folder_identity(source.folder) if source.folder else _hub_name(source.given)
        self._model: Any = models.get(f"{identity}|{device}", lambda: _load(library, source, device))
        native = _native_dimension(self._model)
        if native is not None and native != dimension:
            raise InvalidInput(
                "embedding_dimension",
                f"the sentence-transformers model {model!r} makes {native}-dimensional vectors, but"
                f" EMBEDDING_DIMENSION is {dimension}: set EMBEDDING_DIMENSION={native}",
            )
        super().__init__(identity, dimension)
        self._batch_size = batch_size

    def _raw(self, texts: list[str], *, query: bool) -> Any:
        return self._model.encode(
            texts, batch_size=self._batch_size, convert_to_numpy=True, show_progress_bar=False
        )


def _import_library() -> Any:
    try:
        import sentence_transformers
    except ImportError as error:
        if error.name == "sentence_transformers":
            raise InvalidInput(
                "embedder", f"the sentence-transformers embedder needs its optional extra: {INSTALL_HINT}"
            ) from None
        # Installed, but something it needs (torch, transformers...) is missing or broken.
        raise Unavailable(
            f"sentence-transformers is installed but could not be imported ({error});"
            f" reinstall it: {INSTALL_HINT}"
        ) from error
    return sentence_transformers


def _hub_name(model: str) -> str:
    """A hub id as the library reads it: a bare name is one of sentence-transformers' own."""
    return model if "/" in model else f"sentence-transformers/{model}"


def _load(library: Any, source: ModelSource, device: str | None) -> Any:
    """The model from this machine; downloaded only if it is not here and the hub answers."""
    name = str(source.folder) if source.folder else source.given
    with quiet_loading():
        try:
            return library.SentenceTransformer(name, device=device, local_files_only=True)
        except OSError as error:  # not in the cache (or a broken folder)
            if source.is_folder:
                raise unavailable(KIND, source, error) from error
            local_error: Exception = error
        if not hub_reachable():
            raise unavailable(KIND, source, "no network, or HF_HUB_OFFLINE is set") from local_error
        try:
            return library.SentenceTransformer(name, device=device)
        except OSError as error:  # no such model on the hub, or the download failed
            raise unavailable(KIND, source, error) from error


def _native_dimension(model: Any) -> int | None:
    """The model's output length, or None when it cannot tell (then only outputs are checked)."""
    # get_embedding_dimension is the newer name; get_sentence_embedding_dimension the 3.x one.
    for method in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        getter = getattr(model, method, None)
        if callable(getter):
            value = getter()
            return value if isinstance(value, int) else None
    return None
