"""Building the embedder ``EMBEDDER`` names from the settings, and closing it at shutdown.

``wordllama`` (the default) is a semantic model shipped inside its package, offline;
``hashing`` is lexical feature hashing; ``openai`` calls an OpenAI-compatible HTTP
endpoint; ``sentence-transformers`` and ``fastembed`` run a local model and need the
optional extra of their name. The container holds the embedder as a resource
(:func:`embedder_resource`), so an HTTP embedder's connections are closed at shutdown.

Without ``EMBEDDER`` a store keeps the embedder it records (:func:`settings_for_store`, see
``store_embedder.py``): a database filled by ``hashing`` goes on with ``hashing``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import assert_never

from tenantrag.adapters.embedders.fastembed import FastEmbedEmbedder
from tenantrag.adapters.embedders.openai_compatible import OpenAICompatibleEmbedder
from tenantrag.adapters.embedders.sentence_transformers import SentenceTransformersEmbedder
from tenantrag.adapters.embedders.wordllama import WordLlamaEmbedder
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.ports.embedder import Embedder
from tenantrag.entrypoints.settings import Settings

__all__ = ["close_embedder", "embedder_resource", "make_embedder"]


def make_embedder(settings: Settings) -> Embedder:
    """The embedder ``EMBEDDER`` names, making ``EMBEDDING_DIMENSION``-long vectors.

    Building a local-model embedder loads its model (once per process: seconds for
    sentence-transformers, half a second for wordllama): call this from a worker thread
    inside an event loop, as the container does.
    """
    match settings.embedder:
        case "wordllama":
            return WordLlamaEmbedder(dimension=settings.embedding_dimension)
        case "hashing":
            return HashingEmbedder(dimension=settings.embedding_dimension)
        case "openai":
            return OpenAICompatibleEmbedder(
                model=_model(settings),
                dimension=settings.embedding_dimension,
                base_url=settings.embedding_base_url,
                api_key=(
                    settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else None
                ),
                batch_size=settings.embedding_batch_size,
                timeout=settings.embedding_timeout,
                max_retries=settings.embedding_max_retries,
                request_dimensions=settings.embedding_request_dimensions,
            )
        case "sentence-transformers":
            return SentenceTransformersEmbedder(
                model=_model(settings),
                dimension=settings.embedding_dimension,
                batch_size=settings.embedding_batch_size,
            )
        case "fastembed":
            return FastEmbedEmbedder(
                model=_model(settings),
                dimension=settings.embedding_dimension,
                batch_size=settings.embedding_batch_size,
            )
        case _:
            assert_never(settings.embedder)


async def embedder_resource(settings: Settings) -> AsyncIterator[Embedder]:
    """The container's resource: built on ``init_resources``, closed on ``shutdown_resources``."""
    # In a worker thread: loading a local model would otherwise stall the event loop.
    embedder = await asyncio.to_thread(make_embedder, settings)
    try:
        yield embedder
    finally:
        await close_embedder(embedder)


async def close_embedder(embedder: Embedder) -> None:
    """Release what the embedder holds (an HTTP client's connections), if it holds anything."""
    aclose = getattr(embedder, "aclose", None)
    if aclose is not None:
        await aclose()


def _model(settings: Settings) -> str:
    # Settings fill or require the model for these embedders; this guards hand-built ones
    # (Settings.model_construct skips validation).
    if settings.embedding_model is None:
        raise InvalidInput("embedding_model", f"is required when EMBEDDER={settings.embedder}")
    return settings.embedding_model
