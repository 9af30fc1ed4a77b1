"""The earlier filter form, translated into the filter language.

``{"document_ids": [...], "tags_any": [...], "tags_all": [...], "metadata": {...}}`` (every
key optional, all ANDed) is still accepted by the HTTP API and the CLI; they translate it
here, so the rest of the store knows one filter language only. What each key becomes:

- ``document_ids``: ``{"document_id": {"$in": [...]}}`` (an empty list matches nothing);
- ``tags_any`` / ``tags_all``: ``{"tags": {"$any": [...]}}`` / ``{"tags": {"$all": [...]}}``;
- ``metadata``: ``{"metadata.<key>": {"$eq": value}}`` per top-level key, so equality is
  the language's JSON equality (``true`` is not ``1``). A key holding "." or a value that
  is an object or an array has no translation and is refused, naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.filtering.tree import And, DocumentCondition, Filter, MetadataCondition, Or
from tenantrag.domain.filtering.values import MAX_LIST, Op, kind, operand

LEGACY_KEYS = ("document_ids", "tags_any", "tags_all", "metadata")
_FIELDS = {"document_ids": ("document_id", Op.IN), "tags_any": ("tags", Op.ANY), "tags_all": ("tags", Op.ALL)}


def is_legacy(obj: Mapping[str, Any]) -> bool:
    """Whether a filter object is of the earlier form: non-empty, with its keys only."""
    return bool(obj) and all(key in LEGACY_KEYS for key in obj)


def from_legacy(obj: Mapping[str, Any], *, at: str = "filter") -> Filter | None:
    """The filter-language tree of an earlier-form filter; None when it holds no condition.
    ``InvalidInput`` names the offending part, e.g. ``filter.tags_any[1]``."""
    parts: list[Filter] = []
    for key, raw in obj.items():
        here = f"{at}.{key}"
        if key not in LEGACY_KEYS:
            raise InvalidInput(here, f"unknown key; the earlier filter form takes {', '.join(LEGACY_KEYS)}")
        if raw is None:
            continue
        if key == "metadata":
            parts.extend(_metadata(here, raw))
            continue
        field, op = _FIELDS[key]
        if isinstance(raw, list | tuple) and len(raw) > MAX_LIST and key == "document_ids":
            # The earlier form had no limit on ids: longer lists become an $or of $in lists.
            groups = [raw[i : i + MAX_LIST] for i in range(0, len(raw), MAX_LIST)]
            parts.append(Or(tuple(DocumentCondition(field, op, operand(here, field, op, g)) for g in groups)))
            continue
        values = operand(here, field, op, raw)
        if op is Op.ALL and not values:
            continue  # every document has all of no tags
        parts.append(DocumentCondition(field, op, values))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _metadata(at: str, raw: object) -> list[Filter]:
    if not isinstance(raw, Mapping):
        raise InvalidInput(at, f"must be an object of top-level keys and values, got {kind(raw)}")
    found: list[Filter] = []
    for key, value in raw.items():
        here = f"{at}.{key}"
        if not isinstance(key, str) or not key or "." in key:
            raise InvalidInput(here, 'a key must be non-empty without "."; use the filter language')
        if isinstance(value, Mapping | list | tuple):
            raise InvalidInput(
                here, f"must be a string, number, boolean or null, got {kind(value)}; use the filter language"
            )
        found.append(MetadataCondition((key,), Op.EQ, operand(here, "metadata", Op.EQ, value)))
    return found
