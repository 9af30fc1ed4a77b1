"""LlamaIndex's ``MetadataFilters`` in tenantrag's filter language (``domain/filtering``).

A ``MetadataFilter(key, value, operator)`` becomes a condition on ``metadata.<key>``; the
conditions ``and``/``or``/``not`` become ``$and``/``$or`` and ``$not`` of ``$or`` (LlamaIndex's
``not``: none of the filters matches). Operators without a counterpart in the filter
language are refused by name rather than approximated: ``any``, ``all`` and ``contains``
(tenantrag compares scalars; an array never equals a scalar), and ``text_match``. ``is_empty``
is a missing key, null or the empty string, as in LlamaIndex; an empty array, which LlamaIndex
also counts, has no test in the filter language.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.vector_stores.types import (
    ExactMatchFilter,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from tenantrag.domain.errors import InvalidInput

_OPERATORS = {
    FilterOperator.EQ: "$eq",
    FilterOperator.NE: "$ne",
    FilterOperator.GT: "$gt",
    FilterOperator.GTE: "$gte",
    FilterOperator.LT: "$lt",
    FilterOperator.LTE: "$lte",
    FilterOperator.IN: "$in",
    FilterOperator.NIN: "$nin",
}


def filters_to_json(filters: MetadataFilters, *, at: str = "filters") -> dict[str, Any]:
    """The filter-language object meaning what ``filters`` means."""
    parts = [
        filters_to_json(part, at=f"{at}[{i}]")
        if isinstance(part, MetadataFilters)
        else _condition(part, f"{at}[{i}]")
        for i, part in enumerate(filters.filters)
    ]
    if not parts:
        return {}
    condition = filters.condition or FilterCondition.AND
    if condition is FilterCondition.AND:
        return parts[0] if len(parts) == 1 else {"$and": parts}
    if condition is FilterCondition.OR:
        return {"$or": parts}
    if condition is FilterCondition.NOT:
        return {"$not": {"$or": parts}}
    raise InvalidInput(f"{at}.condition", f"unknown condition {condition!r}")


def _condition(part: MetadataFilter | ExactMatchFilter, at: str) -> dict[str, Any]:
    field = f"metadata.{part.key}"
    operator = getattr(part, "operator", FilterOperator.EQ)
    if operator is FilterOperator.IS_EMPTY:
        return {"$or": [{field: {"$exists": False}}, {field: {"$in": [None, ""]}}]}
    wanted = _OPERATORS.get(operator)
    if wanted is None:
        raise InvalidInput(
            f"{at}.operator",
            f"{operator.value!r} has no counterpart in tenantrag's filter language; "
            f"use one of {', '.join(o.value for o in _OPERATORS)} or is_empty",
        )
    return {field: {wanted: part.value}}
