"""What the memory store needs of a row, and how rows leave it.

Entities are frozen, but their JSON fields (metadata, settings) are plain dicts. A
row handed out by reference would let a caller mutate stored state, which no SQL
backend allows, so rows are copied on the way in and on the way out.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast

import attrs

from tenantrag.domain.pagination import Page, PageRequest, paginate
from tenantrag.domain.search import SearchHit


class Row(attrs.AttrsInstance, Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def created_at(self) -> datetime: ...


class TenantRow(Row, Protocol):
    @property
    def tenant_id(self) -> uuid.UUID: ...


R = TypeVar("R", bound=Row)


def detach(row: R) -> R:
    """``row``, or a copy of it sharing no mutable state when it has any."""
    if any(isinstance(getattr(row, field.name), dict | list) for field in attrs.fields(type(row))):
        copied: R = attrs.evolve(cast(Any, row))  # the entities' converters deep-copy JSON fields
        return copied
    return row


def detach_optional(row: R | None) -> R | None:
    return None if row is None else detach(row)


def detach_hit(hit: SearchHit) -> SearchHit:
    # A hit carries the chunk's metadata dict itself (see search.to_hit).
    return attrs.evolve(hit, metadata=copy.deepcopy(dict(hit.metadata)))


def creation_key(row: Row) -> tuple[datetime, uuid.UUID]:
    return (row.created_at, row.id)


def page_of(rows: Iterable[R], request: PageRequest, where: Callable[[R], bool] | None = None) -> Page[R]:
    """One page in (created_at, id) order, detached."""
    selected = rows if where is None else (row for row in rows if where(row))
    page = paginate(selected, request, creation_key)
    return Page(items=tuple(detach(row) for row in page.items), next_cursor=page.next_cursor)


def in_creation_order(rows: Iterable[R]) -> tuple[R, ...]:
    return tuple(detach(row) for row in sorted(rows, key=creation_key))
