"""The filter language's vocabulary and the checks of its values (see the package).

Operands are checked here, once, for the parser and for trees built in Python alike, and
come out typed and in their normal form; ``at`` is where an error is reported.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.document import DocumentStatus

MAX_DEPTH = 8
MAX_CONDITIONS = 100
MAX_LIST = 1000
MAX_PATH_LENGTH = 256
MAX_STRING_LENGTH = 4096
MAX_EXACT = 2**53

Scalar = str | int | float | bool | None


class Op(enum.StrEnum):
    EQ = "$eq"
    NE = "$ne"
    IN = "$in"
    NIN = "$nin"
    LT = "$lt"
    LTE = "$lte"
    GT = "$gt"
    GTE = "$gte"
    EXISTS = "$exists"
    ANY = "$any"
    ALL = "$all"


RANGES: dict[Op, Callable[[Any, Any], bool]] = {
    Op.LT: operator.lt,
    Op.LTE: operator.le,
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
}
# $ne and $nin are the negations of $eq and $in: one rule for missing keys everywhere.
POSITIVE = {Op.NE: Op.EQ, Op.NIN: Op.IN}
LISTS = (Op.IN, Op.NIN, Op.ANY, Op.ALL)
FIELD_OPS: dict[str, tuple[Op, ...]] = {
    "metadata": (Op.EQ, Op.NE, Op.IN, Op.NIN, *RANGES, Op.EXISTS),
    "document_id": (Op.EQ, Op.NE, Op.IN, Op.NIN),
    "status": (Op.EQ, Op.NE, Op.IN, Op.NIN),
    "tags": (Op.ANY, Op.ALL),
    "created_at": tuple(RANGES),
}
FIELDS = "metadata.<path>, document_id, tags, status, created_at"


def kind(value: object) -> str:
    """The JSON type of a value, which equality and ranges compare before the value."""
    if value is None or isinstance(value, bool):
        return "null" if value is None else "boolean"
    if isinstance(value, int | float | str):
        return "string" if isinstance(value, str) else "number"
    return "array" if isinstance(value, list | tuple) else "object" if isinstance(value, Mapping) else "other"


def operand(at: str, name: str, op: object, raw: object) -> Any:
    """The typed operand of field ``name``'s operator ``op``, or ``InvalidInput`` at ``at``."""
    if op not in FIELD_OPS[name]:
        raise InvalidInput(at, f"unknown operator for {name}; allowed: {', '.join(FIELD_OPS[name])}")
    op = Op(str(op))
    if op is Op.EXISTS:
        if not isinstance(raw, bool):
            raise InvalidInput(at, f"must be true or false, got {kind(raw)}")
        return raw
    if op in LISTS:
        typed = tuple(_value(f"{at}[{i}]", name, op, x) for i, x in enumerate(as_list(at, raw, MAX_LIST)))
        return tuple(sorted(set(typed))) if name in ("tags", "status") else typed
    return _value(at, name, op, raw)


def _value(at: str, name: str, op: Op, raw: object) -> Any:
    return _scalar(at, op, raw) if name == "metadata" else _document_value(at, name, raw)


def _document_value(at: str, name: str, raw: object) -> Any:
    if name == "document_id":
        return v.identifier(at, raw)
    if name == "status":
        if not isinstance(raw, str) or raw not in list(DocumentStatus):
            raise InvalidInput(at, f"must be one of {', '.join(DocumentStatus)}, got {raw!r:.40}")
        return DocumentStatus(raw)
    if name == "tags":
        return _string(at, v.text(at, raw, max_length=v.MAX_TAG_LENGTH), v.MAX_TAG_LENGTH).strip()
    return _timestamp(at, raw)


def _scalar(at: str, op: Op, raw: object) -> Scalar:
    if op in RANGES and (isinstance(raw, bool) or not isinstance(raw, int | float | str)):
        raise InvalidInput(at, f"must be a number or a string, got {kind(raw)}")
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        if not (math.isfinite(raw) and -MAX_EXACT <= raw <= MAX_EXACT):
            raise InvalidInput(at, f"must be a finite number within +-2**53, got {raw!r:.40}")
        return raw
    if isinstance(raw, str):
        return _string(at, raw, MAX_STRING_LENGTH)
    raise InvalidInput(at, f"must be a string, number, boolean or null, got {kind(raw)}")


def _string(at: str, raw: str, limit: int) -> str:
    return v.text(at, raw, max_length=limit, allow_empty=True)


def check_path(at: str, path: str) -> str:
    if not all(_string(at, path, MAX_PATH_LENGTH).split(".")):
        raise InvalidInput(at, 'must be "metadata." then dot-separated, non-empty keys')
    return path


def as_list(at: str, raw: object, limit: int) -> list[Any] | tuple[Any, ...]:
    if not isinstance(raw, list | tuple):
        raise InvalidInput(at, f"must be a list, got {kind(raw)}")
    if len(raw) > limit:
        raise InvalidInput(at, f"must hold at most {limit} items (got {len(raw)})")
    return raw


def _timestamp(at: str, raw: object) -> datetime:
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(at, f"must be an ISO-8601 date and time, got {raw!r:.40}") from None
    if not isinstance(raw, datetime):
        raise InvalidInput(at, f"must be an ISO-8601 date and time, got {kind(raw)}")
    if raw.utcoffset() is None:
        raise InvalidInput(at, "must give its time zone offset (e.g. 2025-01-31T09:00:00Z)")
    return raw.astimezone(UTC)
