"""Keyset pagination: stable order by (created_at, id) with an opaque cursor.

Keyset rather than offset, so a page never skips or repeats rows when others
are inserted meanwhile, and the SQL backends can answer from an index.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Generic, TypeVar

import attrs

from tenantrag.domain.errors import InvalidInput

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


@attrs.frozen
class Cursor:
    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            created, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
            cursor = cls(datetime.fromisoformat(created), uuid.UUID(ident))
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise InvalidInput("cursor", "is not a cursor this service issued") from None
        if cursor.created_at.tzinfo is None:
            raise InvalidInput("cursor", "is not a cursor this service issued")
        return cursor


def _limit(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInput("limit", f"must be an integer from 1 to {MAX_LIMIT}, got {value!r}")
    return value


def _after(value: object) -> Cursor | None:
    if value is None or isinstance(value, Cursor):
        return value
    if isinstance(value, str):
        return Cursor.decode(value)
    raise InvalidInput("cursor", "must be a cursor string")


@attrs.frozen
class PageRequest:
    limit: int = attrs.field(default=DEFAULT_LIMIT, converter=_limit)
    after: Cursor | None = attrs.field(default=None, converter=_after)


@attrs.frozen
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def paginate(
    items: Iterable[T], request: PageRequest, key: Callable[[T], tuple[datetime, uuid.UUID]]
) -> Page[T]:
    """Keyset paging over items in hand: what the SQL backends' keyset statements return."""
    ordered = sorted(items, key=key)
    if request.after is not None:
        bound = (request.after.created_at, request.after.id)
        ordered = [item for item in ordered if key(item) > bound]
    window = ordered[: request.limit + 1]
    has_more = len(window) > request.limit
    window = window[: request.limit]
    next_cursor = Cursor(*key(window[-1])).encode() if has_more and window else None
    return Page(items=tuple(window), next_cursor=next_cursor)
