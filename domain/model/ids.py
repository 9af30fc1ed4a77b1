"""Identifiers: random UUIDs, generated in the domain so every backend agrees."""

from __future__ import annotations

import uuid


def new_id() -> uuid.UUID:
    return uuid.uuid4()
