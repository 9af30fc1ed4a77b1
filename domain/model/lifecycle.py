"""What the document, version and job lifecycles share: the transition check and status parsing."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from tenantrag.domain.errors import InvalidInput, InvalidTransition

S = TypeVar("S", bound=enum.Enum)


def check_transition(kind: str, edges: Mapping[S, frozenset[S]], current: S, target: S) -> None:
    if target not in edges[current]:
        raise InvalidTransition(kind, str(current.value), str(target.value))


def parse_status(statuses: type[S], value: object) -> S:
    """``value`` as a member of ``statuses``; the error lists the allowed values."""
    try:
        return statuses(value)
    except ValueError:
        allowed = ", ".join(str(s.value) for s in statuses)
        raise InvalidInput("status", f"must be one of {allowed}, got {value!r:.40}") from None
