"""Without ``EMBEDDER``, a store keeps the embedder it records; a new store gets the default.

The default embedder changed from ``hashing`` (384 dimensions) to ``wordllama`` (256). A
database filled before, opened with no ``EMBEDDER`` setting, must not be given vectors of
another model (nothing is silently mixed), and should not stop working either. So before
the backend opens, :func:`settings_for_store` reads the store's ``embedding_models`` row
(the record ``TenantRag.check_embedder`` keeps) and, if ``EMBEDDER`` is unset:

- nothing recorded (a new or empty store, ``memory://``): the default, ``wordllama``;
- ``hashing-N``: ``hashing`` at ``N`` dimensions, as the store was made;
- ``wordllama:...``: ``wordllama``;
- anything else (a model the settings must name: sentence-transformers, fastembed, an HTTP
  service): an ``InvalidInput`` saying which ``EMBEDDER``, ``EMBEDDING_MODEL`` and
  ``EMBEDDING_DIMENSION`` to set, and which extra to install.

A given ``EMBEDDER`` is always obeyed, and ``check_embedder`` refuses it if the store
records another. Reading the record never fails the start: a store that cannot be read
here is opened as configured, and opening it reports the real problem.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text

from tenantrag.domain.errors import InvalidInput
from tenantrag.entrypoints.backends import plain_engine
from tenantrag.entrypoints.settings import Settings

__all__ = ["read_recorded_embedder", "settings_for_store"]

logger = logging.getLogger(__name__)

# The optional extra each recorded embedder kind needs, for the error that names it.
_EXTRAS = {
    "sentence-transformers": "pip install 'tenantrag[sentence-transformers]'",
    "fastembed": "pip install 'tenantrag[fastembed]'",
}


async def settings_for_store(settings: Settings) -> Settings:
    """``settings``, with the embedder the store records when ``EMBEDDER`` is not given."""
    if settings.embedder_chosen:
        return settings
    recorded = await read_recorded_embedder(settings)
    if recorded is None:
        return settings
    name, dimension = recorded
    kind = name.split(":", 1)[0]
    if name.startswith("hashing-"):
        update: dict[str, Any] = {"embedder": "hashing"}
        if "embedding_dimension" not in settings.model_fields_set:
            update["embedding_dimension"] = dimension
        logger.info("the store records %s: EMBEDDER is unset, so hashing is used", name)
        return settings.model_copy(update=update)
    if kind == "wordllama":
        return settings
    model = name.split(":", 1)[1] if ":" in name else name
    hint = f" (and install it: {_EXTRAS[kind]})" if kind in _EXTRAS else ""
    raise InvalidInput(
        "embedder",
        f"this store's vectors were made by {name} ({dimension} dimensions) and EMBEDDER is unset:"
        f" set EMBEDDER={kind}, EMBEDDING_MODEL to that model ({model.split('@', 1)[0]!r} or a local"
        f" copy of it) and EMBEDDING_DIMENSION={dimension}{hint}",
    )


async def read_recorded_embedder(settings: Settings) -> tuple[str, int] | None:
    """The store's recorded embedder (name, dimension), or None if none is or it cannot be read."""
    if settings.backend == "memory":
        return None
    path = settings.sqlite_path
    if settings.backend == "sqlite" and path is not None and not path.exists():
        return None
    try:
        engine = plain_engine(settings)
    except Exception:  # pragma: no cover - a missing driver: opening the backend says so
        return None
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT name, dimension FROM embedding_models"))).first()
    except Exception as error:  # no schema yet, unreachable...: the backend's opening will tell
        logger.debug("no embedder record read: %s", error)
        return None
    finally:
        await engine.dispose()
    return None if row is None else (str(row[0]), int(row[1]))
