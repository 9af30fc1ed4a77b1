"""QueryLog: one retrieval (the seeds' "evaluation run") kept for audit and evaluation."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput

# The id of the HTTP request that made the query (X-Request-ID), tying it to the logs.
MAX_REQUEST_ID_LENGTH = 128


class Feedback(enum.StrEnum):
    THUMBS_UP = "thumbs_up"
    THUMBS_DOWN = "thumbs_down"

    @classmethod
    def parse(cls, value: object) -> Feedback:
        return v.choice("feedback", cls, value)


@attrs.frozen
class SourceRef:
    chunk_id: uuid.UUID = attrs.field(validator=v.is_id())
    score: float = attrs.field(validator=v.is_number(-1e9, 1e9))


def _sources(values: Iterable[SourceRef | tuple[uuid.UUID, float]] | None) -> tuple[SourceRef, ...]:
    if values is None:
        return ()
    if not isinstance(values, (list, tuple)):
        raise InvalidInput("sources", "must be a list of {chunk_id, score}")
    return tuple(s if isinstance(s, SourceRef) else SourceRef(*_pair(s)) for s in values)  # type: ignore[arg-type]


def _pair(item: object) -> tuple[object, object]:
    if isinstance(item, dict):
        return item.get("chunk_id"), item.get("score")
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return item[0], item[1]
    raise InvalidInput("sources", f"each source must be a chunk id with a score, got {item!r:.60}")


def _optional_feedback(value: Feedback | str | None) -> Feedback | None:
    return None if value is None else Feedback.parse(value)


@attrs.frozen(kw_only=True)
class QueryLog:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    user_id: uuid.UUID | None = attrs.field(default=None, validator=v.is_id(optional=True))
    query: str = attrs.field(validator=v.is_text(max_length=20_000))
    response: str | None = attrs.field(
        default=None, validator=v.is_text(max_length=200_000, allow_empty=True, optional=True)
    )
    sources: tuple[SourceRef, ...] = attrs.field(default=(), converter=_sources)
    latency_ms: float | None = attrs.field(default=None, validator=v.is_number(0, 1e9, optional=True))
    token_count: int | None = attrs.field(default=None, validator=v.is_count(optional=True))
    quality_score: float | None = attrs.field(default=None, validator=v.is_number(0.0, 1.0, optional=True))
    feedback: Feedback | None = attrs.field(default=None, converter=_optional_feedback)
    metadata: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=v.is_json_object, hash=False
    )
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    request_id: str | None = attrs.field(
        default=None, validator=v.is_text(max_length=MAX_REQUEST_ID_LENGTH, optional=True)
    )
