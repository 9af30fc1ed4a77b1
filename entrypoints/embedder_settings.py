"""The rules the embedder settings (``EMBEDDER``, ``EMBEDDING_*``) are checked by.

``Settings`` calls these from its field validators; they hold what depends on which
embedder was chosen: whether it takes a model, its default dimension, whether it needs an
API key. Each raises ``ValueError`` with the message ``SettingsError`` shows beside the
variable's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr

from tenantrag.adapters.embedders import openai_compatible, wordllama

if TYPE_CHECKING:
    from tenantrag.entrypoints.settings import Settings

EmbedderName = Literal["wordllama", "hashing", "openai", "sentence-transformers", "fastembed"]
# EMBEDDING_DIMENSION when unset: the embedder's own (hashing's is its historic 384; a
# sentence-transformers or fastembed model's is checked against it when it loads).
DEFAULT_DIMENSIONS: dict[str, int] = {"wordllama": wordllama.DIMENSION, "hashing": 384}
FALLBACK_DIMENSION = 384

_EXAMPLE_MODELS = {
    "sentence-transformers": "sentence-transformers/all-MiniLM-L6-v2",
    "fastembed": "BAAI/bge-small-en-v1.5",
}


def model(value: str | None, embedder: object) -> str | None:
    """``EMBEDDING_MODEL``: none for the built-in embedders, required for the others."""
    found = (value or "").strip() or None
    if embedder in ("hashing", "wordllama") and found is not None:
        # Most likely EMBEDDER was forgotten: refused rather than silently ignoring the model.
        raise ValueError(f"the {embedder} embedder has no model; set EMBEDDER to use one")
    if embedder == "openai" and found is None:
        raise ValueError("is required when EMBEDDER=openai (such as text-embedding-3-small)")
    if embedder in ("sentence-transformers", "fastembed") and found is None:
        # Never a silent default: a hub name would mean a download this machine may not make.
        raise ValueError(
            f"is required when EMBEDDER={embedder}: a model's hub id (such as"
            f" {_EXAMPLE_MODELS[embedder]}) or the path of a local folder holding one"
        )
    return found


def dimension(value: object, embedder: object) -> object:
    """``EMBEDDING_DIMENSION``, the embedder's own when unset (checked as an int afterwards)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_DIMENSIONS.get(str(embedder), FALLBACK_DIMENSION)
    return value


def base_url(value: str) -> str:
    """``EMBEDDING_BASE_URL``: an http(s) URL with a host, without a trailing slash."""
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    return url


def blank_key_is_none(value: object) -> object:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return (value.strip() or None) if isinstance(value, str) else value


def api_key(value: SecretStr | None, embedder: object, environment: object, url: object) -> SecretStr | None:
    """``EMBEDDING_API_KEY``: required outside development when OpenAI's own endpoint is used."""
    if (
        value is None
        and embedder == "openai"
        and environment not in (None, "development")
        and url == openai_compatible.DEFAULT_BASE_URL
    ):
        raise ValueError(
            f"is required when EMBEDDER=openai uses {openai_compatible.DEFAULT_BASE_URL}"
            f" and ENVIRONMENT={environment}"
        )
    return value


def dimension_problems(settings: Settings) -> list[tuple[str, str]]:
    """wordllama makes 256-dimensional vectors only. Without ``EMBEDDER`` the store may record
    another embedder, so the dimension is checked when that one is known."""
    if settings.embedder != "wordllama" or settings.embedding_dimension == wordllama.DIMENSION:
        return []
    if not settings.embedder_chosen:
        return []
    return [
        (
            "EMBEDDING_DIMENSION",
            f"the wordllama embedder makes {wordllama.DIMENSION}-dimensional vectors, not"
            f" {settings.embedding_dimension}: set {wordllama.DIMENSION} or leave it unset",
        )
    ]
