"""Validators and converters shared by the entities.

They raise :class:`InvalidInput` naming the field, so a bad value is reported the
same way whether it came from HTTP, the CLI or the Python API.
"""

from __future__ import annotations

import enum
import json
import math
import uuid
from array import array
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs

from tenantrag.domain.errors import InvalidInput

C = TypeVar("C", bound=enum.StrEnum)

MAX_NAME_LENGTH = 255
MAX_TEXT_LENGTH = 10_000_000
MAX_JSON_BYTES = 64 * 1024
MAX_TAG_LENGTH = 64
MAX_TAGS = 64
# Why a document, a version or a job failed: longer messages are cut, never refused, since
# a failure must always be recordable.
MAX_ERROR_LENGTH = 4000

JSONObject = dict[str, Any]


def choice(field: str, kind: type[C], value: object) -> C:
    """``value`` as a member of the string enum ``kind``; InvalidInput naming ``field`` and
    listing the members otherwise."""
    try:
        return kind(value)  # type: ignore[arg-type]
    except ValueError:
        names = [str(member.value) for member in kind]
        allowed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        raise InvalidInput(field, f"must be {allowed}, got {value!r:.40}") from None


def text(field: str, value: object, *, max_length: int = MAX_NAME_LENGTH, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be a string, not {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise InvalidInput(field, "must not be empty")
    if len(value) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters (got {len(value)})")
    storable(field, value)
    return value


def storable(field: str, value: str) -> str:
    """Refuse what no backend stores, naming ``field``: NUL (PostgreSQL's text and jsonb cannot
    hold it, SQLite would) and lone surrogates (not encodable as UTF-8)."""
    if "\x00" in value:
        raise InvalidInput(field, "must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:  # no database stores one, so refuse it here, naming the field
        raise InvalidInput(field, "must be valid Unicode (it holds a lone surrogate)") from None
    return value


def identifier(field: str, value: object) -> uuid.UUID:
    """Accept a UUID or its string form; anything else is invalid input."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidInput(field, f"must be a UUID, got {value!r:.60}")


def timestamp(field: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(field, f"must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must be timezone-aware")
    return value


def error_text(message: str) -> str:
    """A failure's message as it is recorded: at most ``MAX_ERROR_LENGTH`` characters."""
    return message[:MAX_ERROR_LENGTH]


def json_object(field: str, value: object, *, max_bytes: int = MAX_JSON_BYTES) -> JSONObject:
    """Return a deep, canonical copy of a JSON object, so entities never share mutable state."""
    if value is None or (type(value) is dict and not value):  # most chunks carry none
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(field, f"must be a JSON object, not {type(value).__name__}")
    try:
        encoded = json.dumps(value, allow_nan=False, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(field, f"is not JSON-serialisable ({exc})") from None
    if len(encoded.encode()) > max_bytes:
        raise InvalidInput(field, f"must encode to at most {max_bytes} bytes of JSON")
    decoded: JSONObject = json.loads(encoded)
    # json.dumps escapes NUL as \u0000 and every surrogate as \udXXX: without either, no
    # string inside can be unstorable, and the walk (which names the offending path) is skipped.
    if "\\u0000" in encoded or "\\ud" in encoded:
        _storable_json(field, decoded)
    return decoded


def _storable_json(path: str, value: object) -> None:
    """Every key and string at any depth of a decoded JSON value passes ``storable``; the
    error names the path (``metadata.authors[1].name``)."""
    if isinstance(value, str):
        storable(path, value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _storable_json(f"{path}[{index}]", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            step = f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"
            try:
                storable(path, key)
            except InvalidInput as error:
                raise InvalidInput(path, f"key {json.dumps(key)} {error.problem}") from None
            _storable_json(step, item)


def tags(field: str, values: object) -> tuple[str, ...]:
    """Tags are trimmed, de-duplicated and sorted so that equal sets compare equal."""
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidInput(field, "must be a list of strings")
    cleaned: set[str] = set()
    for raw in values:
        tag = text(field, raw, max_length=MAX_TAG_LENGTH).strip()
        cleaned.add(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(field, f"must hold at most {MAX_TAGS} tags")
    return tuple(sorted(cleaned))


def embedding(field: str, values: object) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInput(field, "must be a sequence of numbers")
    items = values if isinstance(values, (list, tuple)) else list(values)
    # The common case (plain ints and floats) is checked by C loops: an embedding is
    # validated on every write and every read, and a Python loop over its values cost
    # more than the database work of ingesting it. Anything else takes the loop below,
    # which names what is wrong.
    if set(map(type, items)) <= _PLAIN_NUMBERS:
        # Every backend stores float32 (pgvector, the SQLite BLOB), so the domain rounds to
        # float32 here: then nothing changes on the way through any backend.
        try:
            stored = array("f", items).tolist()
        except OverflowError:  # an int beyond a double's range: the loop says so
            stored = []
        # A sum of float32-range values cannot overflow a double: it is finite exactly
        # when every value is.
        if stored and math.isfinite(sum(stored)):
            return tuple(stored)
    return _embedding_checked(field, items)


_PLAIN_NUMBERS = frozenset({float, int})


def _embedding_checked(field: str, values: Iterable[object]) -> tuple[float, ...]:
    out: list[float] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidInput(field, f"must hold only numbers, found {type(value).__name__}")
        try:
            number = float(value)
        except OverflowError:  # an int beyond a double's range
            number = math.inf if value > 0 else -math.inf
        if not math.isfinite(number) and not isinstance(value, int):
            raise InvalidInput(field, "must hold only finite values (no NaN or infinity)")
        out.append(number)
    if not out:
        raise InvalidInput(field, "must not be empty")
    stored = tuple(array("f", out).tolist())
    if not all(math.isfinite(x) for x in stored):
        raise InvalidInput(field, "must hold values that fit in float32 (|x| < 3.4e38)")
    return stored


def non_negative(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(field, f"must be a non-negative integer, got {value!r}")
    return value


def positive(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(field, f"must be a positive integer, got {value!r:.60}")
    return value


def in_range(field: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidInput(field, f"must be a number from {low} to {high}, got {value!r}")
    return float(value)


# --- attrs validators ------------------------------------------------------------
# Each reads the field's name from the attribute, so errors name what was wrong
# without every entity spelling its field names twice.

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def is_text(
    *, max_length: int = MAX_NAME_LENGTH, allow_empty: bool = False, optional: bool = False
) -> Validator:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        text(attribute.name, value, max_length=max_length, allow_empty=allow_empty)

    return check


def is_id(*, optional: bool = False) -> Validator:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not isinstance(value, uuid.UUID):
            raise InvalidInput(attribute.name, f"must be a UUID, got {value!r:.60}")

    return check


def is_timestamp(*, optional: bool = False) -> Validator:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        timestamp(attribute.name, value)

    return check


def is_count(*, optional: bool = False) -> Validator:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        non_negative(attribute.name, value)

    return check


def is_positive(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    positive(attribute.name, value)


def is_json_object(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    json_object(attribute.name, value)


def is_tags(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if tags(attribute.name, value) != value:
        raise InvalidInput(attribute.name, "must be a sorted tuple of unique tags")


_FLOAT32_MAX = 3.4028234663852886e38


def is_embedding(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # What the converter returns (a tuple of finite floats in float32's range) is checked
    # by C loops without being converted again; anything else gets the full check.
    if (
        type(value) is tuple
        and value
        and set(map(type, value)) == {float}
        and math.isfinite(sum(value))
        and max(map(abs, value)) <= _FLOAT32_MAX
    ):
        return
    embedding(attribute.name, value)


# --- lenient converters -------------------------------------------------------------
# They normalise what they understand and pass anything else through unchanged, so
# the validator above can reject it with the field's name.


def copy_json(value: Mapping[str, Any] | None) -> dict[str, Any]:
    try:
        return json_object("value", value, max_bytes=MAX_TEXT_LENGTH)
    except InvalidInput:
        return value  # type: ignore[return-value]


def sort_tags(value: Iterable[str] | None) -> tuple[str, ...]:
    try:
        return tags("tags", value)
    except InvalidInput:
        return value  # type: ignore[return-value]


def to_floats(value: Iterable[float]) -> tuple[float, ...]:
    try:
        return embedding("embedding", value)
    except InvalidInput:
        return value  # type: ignore[return-value]


def strip(value: str) -> str:
    return value.strip() if isinstance(value, str) else value


_SHA256_HEX = frozenset("0123456789abcdef")


def is_sha256(*, optional: bool = False) -> Validator:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if not (isinstance(value, str) and len(value) == 64 and set(value) <= _SHA256_HEX):
            raise InvalidInput(attribute.name, "must be a lowercase hex SHA-256 digest")

    return check


def is_number(low: float, high: float, *, optional: bool = False) -> Validator:
    def check(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        in_range(attribute.name, value, low, high)

    return check
