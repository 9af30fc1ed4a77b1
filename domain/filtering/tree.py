"""The parsed filter: frozen nodes that know their meaning (``matches``) and JSON form.

``matches`` is the reference every backend is held to; ``to_json`` gives the JSON form,
which ``parse_filter`` turns back into an equal tree.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering.values import (
    FIELD_OPS,
    FIELDS,
    LISTS,
    POSITIVE,
    RANGES,
    Op,
    Scalar,
    check_path,
    kind,
    operand,
)
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, DocumentStatus


@attrs.frozen
class Filter:
    """A node of a parsed filter. :func:`parse_filter` builds trees from the JSON form."""

    def matches(self, chunk: Chunk, document: Document) -> bool:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """The JSON form, which parses back to an equal tree."""
        raise NotImplementedError


@attrs.frozen
class And(Filter):
    filters: tuple[Filter, ...]

    def matches(self, chunk: Chunk, document: Document) -> bool:
        return all(f.matches(chunk, document) for f in self.filters)

    def to_json(self) -> dict[str, Any]:
        return {"$and": [f.to_json() for f in self.filters]} if self.filters else {}


@attrs.frozen
class Or(Filter):
    filters: tuple[Filter, ...]

    def matches(self, chunk: Chunk, document: Document) -> bool:
        return any(f.matches(chunk, document) for f in self.filters)

    def to_json(self) -> dict[str, Any]:
        return {"$or": [f.to_json() for f in self.filters]}


@attrs.frozen
class Not(Filter):
    filter: Filter

    def matches(self, chunk: Chunk, document: Document) -> bool:
        return not self.filter.matches(chunk, document)

    def to_json(self) -> dict[str, Any]:
        return {"$not": self.filter.to_json()}


_MISSING = object()


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json(x) for x in value]
    if isinstance(value, uuid.UUID | DocumentStatus):
        return str(value)
    return value.isoformat() if isinstance(value, datetime) else value


@attrs.frozen
class MetadataCondition(Filter):
    """``value``: a scalar, a tuple of scalars (``$in``, ``$nin``) or a bool (``$exists``)."""

    path: tuple[str, ...] = attrs.field(converter=_frozen)
    op: Op = attrs.field(converter=Op)
    value: Scalar | tuple[Scalar, ...] = attrs.field(converter=_frozen)

    def __attrs_post_init__(self) -> None:  # a tree built in Python is checked as parsed ones are
        if not self.path or any("." in segment for segment in self.path):
            raise InvalidInput(self.key, "must name one or more keys, none holding '.'")
        check_path(self.key, ".".join(self.path))
        operand(f"{self.key}.{self.op}", "metadata", self.op, self.value)

    @property
    def key(self) -> str:
        return "metadata." + ".".join(self.path)

    def lookup(self, metadata: Mapping[str, Any]) -> Any:
        """The value at the path, or ``_MISSING`` (a path through a non-object is missing)."""
        node: Any = metadata
        for segment in self.path:
            if not isinstance(node, dict) or segment not in node:
                return _MISSING
            node = node[segment]
        return node

    def matches(self, chunk: Chunk, document: Document) -> bool:
        stored, op = self.lookup(chunk.metadata), POSITIVE.get(self.op, self.op)
        if op is Op.EXISTS:
            return (stored is not _MISSING) is self.value
        if op in RANGES:
            return kind(stored) == kind(self.value) and RANGES[op](stored, self.value)
        wanted = self.value if isinstance(self.value, tuple) else (self.value,)
        found = any(kind(stored) == kind(w) and stored == w for w in wanted)
        return found if op is self.op else not found

    def to_json(self) -> dict[str, Any]:
        return {self.key: {self.op.value: _json(self.value)}}


@attrs.frozen
class DocumentCondition(Filter):
    """A condition on the chunk's document. ``values`` hold, by ``field``: UUIDs
    (document_id), sorted unique tags, sorted unique ``DocumentStatus`` (status), or one
    UTC datetime (created_at); ``$eq`` and ``$ne`` hold one value."""

    field: str
    op: Op = attrs.field(converter=Op)
    values: tuple[Any, ...] = attrs.field(converter=_frozen)

    def __attrs_post_init__(self) -> None:  # a tree built in Python is checked as parsed ones are
        at = f"{self.field}.{self.op}"
        if self.field not in FIELD_OPS or self.field == "metadata":
            raise InvalidInput(self.field, f"unknown field; allowed: {FIELDS}")
        if self.op in LISTS:
            normal = operand(at, self.field, self.op, _json(self.values))
        else:
            one = len(self.values) == 1
            normal = (operand(at, self.field, self.op, _json(self.values[0])),) if one else None
        if normal != self.values:
            raise InvalidInput(at, "must hold its values as parse_filter gives them")

    def matches(self, chunk: Chunk, document: Document) -> bool:
        op = POSITIVE.get(self.op, self.op)
        if self.field == "created_at":
            return RANGES[op](document.created_at, self.values[0])
        if self.field == "tags":
            wanted, have = set(self.values), set(document.tags)
            return wanted <= have if op is Op.ALL else bool(wanted & have)
        found = (chunk.document_id if self.field == "document_id" else document.status) in self.values
        return found if op is self.op else not found

    def to_json(self) -> dict[str, Any]:
        values = _json(self.values)
        return {self.field: {self.op.value: values if self.op in LISTS else values[0]}}
