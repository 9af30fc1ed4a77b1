"""What a filter says before any row is read: whether it can match at all, and which
documents it confines matches to (PostgreSQL chooses its exact plan by that)."""

from __future__ import annotations

import uuid

from tenantrag.domain.filtering.tree import And, DocumentCondition, Filter, MetadataCondition, Or
from tenantrag.domain.filtering.values import Op


def never_matches(node: Filter) -> bool:
    """True only when no chunk can match: an ``$in`` of nothing or ``$any`` of no tags, in
    every branch that could admit a chunk. False says nothing (``$not`` is not looked into)."""
    if isinstance(node, And):
        return any(never_matches(f) for f in node.filters)
    if isinstance(node, Or):
        return all(never_matches(f) for f in node.filters)
    if isinstance(node, DocumentCondition):
        return node.op in (Op.IN, Op.ANY) and not node.values
    if isinstance(node, MetadataCondition):
        return node.op is Op.IN and node.value == ()
    return False


def pinned_documents(node: Filter) -> frozenset[uuid.UUID] | None:
    """The document ids every match must have (``document_id`` ``$eq``/``$in``, through
    ``$and`` and ``$or``), or None when the filter admits chunks of any document."""
    if isinstance(node, DocumentCondition):
        if node.field == "document_id" and node.op in (Op.EQ, Op.IN):
            return frozenset(node.values)
        return None
    if isinstance(node, And):
        pinned = [ids for ids in map(pinned_documents, node.filters) if ids is not None]
        return frozenset.intersection(*pinned) if pinned else None
    if isinstance(node, Or) and node.filters:
        each = [pinned_documents(f) for f in node.filters]
        if any(ids is None for ids in each):
            return None
        return frozenset().union(*(ids for ids in each if ids is not None))
    return None
