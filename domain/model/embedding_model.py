"""EmbeddingModel: which embedder made a store's vectors, recorded once per store.

Vectors from two models cannot be compared, even at the same dimension, so a store
remembers the first embedder that wrote to it and refuses any other (see
TenantRag.check_embedder): switching models means re-ingesting into a new store.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput

# One row per store, always under this id.
EMBEDDING_MODEL_ID = uuid.UUID("00000000-0000-0000-0000-0000000000e1")
# pgvector's limit for a vector(n) column; every backend keeps to it, so a store can move
# between backends.
MAX_DIMENSION = 16_000


def _dimension(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DIMENSION:
        raise InvalidInput("dimension", f"must be an integer from 1 to {MAX_DIMENSION}, got {value!r}")


@attrs.frozen(kw_only=True)
class EmbeddingModel:
    id: uuid.UUID = attrs.field(default=EMBEDDING_MODEL_ID, validator=v.is_id())
    name: str = attrs.field(validator=v.is_text(max_length=v.MAX_NAME_LENGTH))
    dimension: int = attrs.field(validator=_dimension)
    created_at: datetime = attrs.field(validator=v.is_timestamp())
