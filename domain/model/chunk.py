"""Chunk: a piece of a document's text with its embedding and positional metadata."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput

MAX_CHUNK_LENGTH = 100_000


@attrs.frozen(kw_only=True)
class Chunk:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    document_id: uuid.UUID = attrs.field(validator=v.is_id())
    ordinal: int = attrs.field(validator=v.is_count())
    content: str = attrs.field(validator=v.is_text(max_length=MAX_CHUNK_LENGTH, allow_empty=True))
    content_sha256: str = attrs.field(validator=v.is_sha256())
    embedding: tuple[float, ...] = attrs.field(converter=v.to_floats, validator=v.is_embedding, repr=False)
    token_count: int = attrs.field(default=0, validator=v.is_count())
    metadata: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=v.is_json_object, hash=False
    )
    created_at: datetime = attrs.field(validator=v.is_timestamp())

    @property
    def dimension(self) -> int:
        return len(self.embedding)


def check_dimension(embedding: tuple[float, ...], expected: int, field: str = "embedding") -> None:
    if len(embedding) != expected:
        raise InvalidInput(field, f"must have {expected} dimensions, got {len(embedding)}")
