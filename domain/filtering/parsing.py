"""The JSON form to a tree: structure, limits, and where each error is (see the package)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering.tree import And, DocumentCondition, Filter, MetadataCondition, Not, Or
from tenantrag.domain.filtering.values import (
    FIELD_OPS,
    FIELDS,
    MAX_CONDITIONS,
    MAX_DEPTH,
    Op,
    as_list,
    check_path,
    kind,
    operand,
)


def parse_filter(obj: Mapping[str, Any], *, at: str = "filter") -> Filter:
    """The filter a JSON object describes; ``InvalidInput`` names the part that is wrong."""
    return _filter(at, obj, 1, [MAX_CONDITIONS])


def _filter(at: str, obj: object, depth: int, budget: list[int]) -> Filter:
    if not isinstance(obj, Mapping):
        raise InvalidInput(at, f"must be a filter object, got {kind(obj)}")
    if depth > MAX_DEPTH:
        raise InvalidInput(at, f"filters may be nested at most {MAX_DEPTH} deep")
    parts: list[Filter] = []
    for key, raw in obj.items():
        here = f"{at}.{key}"
        if key in ("$and", "$or", "$not"):
            _spend(here, budget)
        if key in ("$and", "$or"):
            filters = as_list(here, raw, MAX_CONDITIONS)
            if not filters:
                raise InvalidInput(here, "must be a non-empty list of filters")
            children = tuple(_filter(f"{here}[{i}]", x, depth + 1, budget) for i, x in enumerate(filters))
            parts.append(And(children) if key == "$and" else Or(children))
        elif key == "$not":
            parts.append(Not(_filter(here, raw, depth + 1, budget)))
        elif not isinstance(key, str) or key.startswith("$"):
            raise InvalidInput(here, f"unknown operator; allowed here: $and, $or, $not and {FIELDS}")
        else:
            parts.extend(_field(here, key, raw, budget))
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _spend(at: str, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise InvalidInput(at, f"a filter may hold at most {MAX_CONDITIONS} conditions")


def _field(at: str, key: str, raw: object, budget: list[int]) -> list[Filter]:
    name = "metadata" if key.startswith("metadata.") else key
    if name not in FIELD_OPS or key == "metadata":
        raise InvalidInput(at, f"unknown field; allowed: {FIELDS}")
    path = tuple(check_path(at, key.removeprefix("metadata.")).split(".")) if name == "metadata" else ()
    ops = ", ".join(FIELD_OPS[name])
    if isinstance(raw, Mapping):
        if not raw:
            raise InvalidInput(at, f"must hold at least one operator ({ops})")
        pairs = [(f"{at}.{op}", op, given) for op, given in raw.items()]
    elif name == "created_at" or isinstance(raw, list | tuple):
        bare = "a tag" if name == "tags" else "a scalar"
        raise InvalidInput(at, f"must be {bare} or an object of operators ({ops}), got {kind(raw)}")
    else:  # the shorthands: a bare value is $eq of it, a bare tag $all of it
        pairs = [(at, Op.ALL, [raw])] if name == "tags" else [(at, Op.EQ, raw)]
    parts: list[Filter] = []
    for here, op, given in pairs:
        if name == "metadata" and not str(op).startswith("$"):
            raise InvalidInput(here, f'is not an operator ({ops}); a nested key is "{key}.{op}"')
        _spend(here, budget)
        value = operand(here, name, op, given)
        if name == "metadata":
            parts.append(MetadataCondition(path, op, value))
        else:
            parts.append(DocumentCondition(name, op, value if isinstance(value, tuple) else (value,)))
    return parts
