"""A tiny state-machine helper shared by the document and job lifecycles."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from tenantrag.domain.errors import InvalidTransition

S = TypeVar("S", bound=enum.Enum)


def check_transition(kind: str, edges: Mapping[S, frozenset[S]], current: S, target: S) -> None:
    if target not in edges[current]:
        raise InvalidTransition(kind, str(current.value), str(target.value))
