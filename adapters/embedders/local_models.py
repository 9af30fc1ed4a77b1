"""What the local-model embedders (sentence-transformers, fastembed) share.

- **Naming a model.** ``EMBEDDING_MODEL`` is a hub id (``sentence-transformers/all-MiniLM-L6-v2``)
  or a local folder (``/models/minilm``, ``./minilm/``, ``~/models/minilm``): a value that
  names an existing folder, or is spelled as a path (``/``, ``./``, ``../``, ``~``), is a folder.
- **Identity.** A hub model is recorded by its id. A folder is recorded by what it holds, not
  where it is: ``<name>@<digest>``, the name from its ``config.json`` (``_name_or_path``) or
  else the folder's own name, and the digest a SHA-256 of its configuration and weight
  files (names, sizes and contents). The same folder spelled with a trailing slash, through
  a symbolic link, or moved elsewhere is the same model; a retrained one is not.
- **Once per process.** :class:`ModelCache` keeps each loaded model by identity, so every
  container of a process (the CLI's, the HTTP app's, a test's) shares one.
- **Offline.** A model is first looked for locally only (no network call); only if it is not
  on this machine, and the hub answers a TCP connection within seconds, is it downloaded.
  Otherwise :class:`ModelUnavailable` at once, saying how to point at a local copy, rather
  than minutes of retries.
- **Embedding.** :class:`LocalModelEmbedder` is the port's side of both: name, dimension,
  encoding in a worker thread one call at a time, outputs checked and scaled to unit length.
- **Quiet.** Loading runs with standard output sent to standard error and the hub's
  progress bars off, so ``--json`` output stays the result alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import numpy as np

from tenantrag.adapters.embedders.errors import ModelUnavailable
from tenantrag.domain.errors import InvalidInput

__all__ = [
    "LocalModelEmbedder",
    "ModelCache",
    "ModelSource",
    "folder_identity",
    "hub_reachable",
    "locate",
    "offline",
    "quiet_loading",
    "unavailable",
]

T = TypeVar("T")

# Files whose content makes a model what it is; everything else (README, .git, images) is not.
_IDENTITY_SUFFIXES = (".json", ".safetensors", ".bin", ".onnx", ".onnx_data", ".txt", ".model", ".pt")
_HUB = "https://huggingface.co"
_CONNECT_TIMEOUT = 3.0
_CHUNK = 1 << 20


class ModelSource:
    """Where a model comes from: a local folder (``folder`` set) or a hub id (``hub_id``)."""

    def __init__(self, *, given: str, folder: Path | None = None, hub_id: str | None = None) -> None:
        self.given = given
        self.folder = folder
        self.hub_id = hub_id

    @property
    def is_folder(self) -> bool:
        return self.folder is not None

    def __repr__(self) -> str:
        where = f"folder={self.folder!r}" if self.folder else f"hub_id={self.hub_id!r}"
        return f"ModelSource({where})"


def locate(model: str, *, markers: tuple[str, ...]) -> ModelSource:
    """``EMBEDDING_MODEL`` read as a folder or a hub id; a folder must hold one of ``markers``.

    InvalidInput (field ``embedding_model``) for a path that does not exist, a file, or a
    folder that is not a model.
    """
    if not isinstance(model, str) or not model.strip():
        raise InvalidInput("embedding_model", "must be a model's hub id or the path of a local folder")
    given = model.strip()
    path = Path(given).expanduser()
    spelled_as_path = given.startswith(("/", "./", "../", "~", ".\\")) or given in (".", "..")
    if not path.exists():
        if spelled_as_path or given.count("/") > 1:
            raise InvalidInput("embedding_model", f"{given!r} is not a folder on this machine")
        return ModelSource(given=given, hub_id=given)
    if not path.is_dir():
        raise InvalidInput("embedding_model", f"{given!r} is a file; name the folder that holds the model")
    folder = path.resolve()
    if not any((folder / marker).is_file() for marker in markers):
        raise InvalidInput(
            "embedding_model",
            f"the folder {str(folder)!r} is not a model: it has none of {', '.join(markers)}",
        )
    return ModelSource(given=given, folder=folder)


def folder_identity(folder: Path) -> str:
    """``<name>@<12 hex digits>``: what a folder's model is, wherever the folder is."""
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and path.suffix in _IDENTITY_SUFFIXES and ".git" not in path.parts
    )
    digest = hashlib.sha256()
    for path in files:
        relative = path.relative_to(folder).as_posix()
        digest.update(f"{relative}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(block)
    return f"{_config_name(folder)}@{digest.hexdigest()[:12]}"


def _config_name(folder: Path) -> str:
    try:
        config = json.loads((folder / "config.json").read_text("utf-8"))
    except (OSError, ValueError):
        config = {}
    named = config.get("_name_or_path") if isinstance(config, dict) else None
    if isinstance(named, str) and named.strip():
        # A path saved into the config names the model by its last part only.
        return named.strip().rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1] or folder.name
    return folder.name


class ModelCache:
    """Loaded models by identity, each loaded once per process (a lock per identity)."""

    def __init__(self) -> None:
        self._models: dict[str, Any] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, identity: str, load: Callable[[], T]) -> T:
        with self._guard:
            lock = self._locks.setdefault(identity, threading.Lock())
        with lock:
            if identity not in self._models:
                self._models[identity] = load()
            return self._models[identity]  # type: ignore[no-any-return]

    def __contains__(self, identity: str) -> bool:
        return identity in self._models

    def clear(self) -> None:
        with self._guard:
            self._models.clear()


class LocalModelEmbedder:
    """An :class:`~tenantrag.domain.ports.embedder.Embedder` over a model in this process: a
    subclass sets ``kind`` (the name's prefix) and turns texts into a raw array (``_raw``).

    Encoding is CPU- or GPU-bound and synchronous, so it runs in a worker thread, one call at
    a time: the libraries already spread a batch over every core (or the GPU), so concurrent
    calls would only compete for them and multiply peak memory. A thread lock, not an asyncio
    one, so that the embedder is not tied to one event loop.
    """

    kind: ClassVar[str]

    def __init__(self, model_name: str, dimension: int) -> None:
        self._model_name = model_name
        self._dimension = dimension
        self._encoding = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self._model_name!r}, dimension={self._dimension})"

    @property
    def name(self) -> str:
        return f"{self.kind}:{self._model_name}"

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        if not texts:
            return []
        return await asyncio.to_thread(self._encode, list(texts), query=False)

    async def embed_query(self, text: str) -> tuple[float, ...]:
        return (await asyncio.to_thread(self._encode, [text], query=True))[0]

    def _raw(self, texts: list[str], *, query: bool) -> Any:
        """The model's output for ``texts`` (queries if ``query``): one row per text."""
        raise NotImplementedError

    def _encode(self, texts: list[str], *, query: bool) -> list[tuple[float, ...]]:
        with self._encoding:
            raw = self._raw(texts, query=query)
        matrix = np.asarray(raw, dtype=np.float64)
        if matrix.shape != (len(texts), self._dimension):
            raise InvalidInput(
                "embedding_dimension",
                f"the {self.kind} model {self._model_name!r} returned an array of shape"
                f" {matrix.shape}, expected ({len(texts)}, {self._dimension})",
            )
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        # A zero vector has no direction to keep; it stays zero rather than becoming NaN.
        matrix = matrix / np.where(norms == 0.0, 1.0, norms)
        return [tuple(row) for row in matrix.tolist()]


def offline() -> bool:
    """Whether the environment forbids downloads (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``)."""
    return any(
        os.environ.get(name, "").strip().upper() in {"1", "TRUE", "YES", "ON"}
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_reachable(timeout: float = _CONNECT_TIMEOUT) -> bool:
    """Whether the model hub (``HF_ENDPOINT``, else huggingface.co) accepts a TCP connection."""
    if offline():
        return False
    parts = urlsplit(os.environ.get("HF_ENDPOINT", "").strip() or _HUB)
    host = parts.hostname
    if not host:
        return False
    port = parts.port or (443 if parts.scheme != "http" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def unavailable(
    kind: str, source: ModelSource, reason: object, *, repository: str | None = None
) -> ModelUnavailable:
    """The error for a model that is neither on this machine nor downloadable now;
    ``repository`` is the hub repository holding its files, when not the id itself."""
    if source.is_folder:
        return ModelUnavailable(f"could not load the {kind} model in {str(source.folder)!r}: {reason}")
    repository = repository or source.hub_id or source.given
    return ModelUnavailable(
        f"the {kind} model {source.given!r} is not on this machine and cannot be downloaded now"
        f" ({reason}). Download it where there is network (for example `hf download {repository}"
        f" --local-dir ./{repository.rsplit('/', 1)[-1]}`), copy the folder here and set"
        " EMBEDDING_MODEL to its path"
    )


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """Standard output to standard error and no hub progress bars while a model loads."""
    hub = _hub_utils()
    turned_off = hub is not None and not hub.are_progress_bars_disabled()
    if turned_off:
        hub.disable_progress_bars()
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if turned_off:
            hub.enable_progress_bars()


def _hub_utils() -> Any:
    try:
        from huggingface_hub import utils
    except ImportError:  # pragma: no cover - every local-model library depends on it
        return None
    return utils
