"""Tenant: the isolation boundary. Everything else a tenant owns carries its id."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Any

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 63


def slug(value: object) -> str:
    candidate = v.text("slug", value, max_length=MAX_SLUG_LENGTH)
    if not SLUG_PATTERN.fullmatch(candidate):
        raise InvalidInput(
            "slug", "must be lowercase letters, digits and single hyphens (for example 'acme-research')"
        )
    return candidate


def slugify(name: str) -> str:
    """A URL-safe slug derived from a display name ('Demo Workspace' -> 'demo-workspace')."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    candidate = "-".join(words)[:MAX_SLUG_LENGTH].strip("-")
    if not candidate:
        raise InvalidInput("slug", f"cannot be derived from name {name!r}; give one explicitly")
    return candidate


@attrs.frozen(kw_only=True)
class Tenant:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    name: str = attrs.field(converter=v.strip, validator=v.is_text())
    slug: str = attrs.field(converter=slug)
    settings: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=v.is_json_object, hash=False
    )
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    updated_at: datetime = attrs.field(validator=v.is_timestamp())
