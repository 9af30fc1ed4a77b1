"""What every use-case service holds: the backend's unit-of-work factory and a clock."""

from __future__ import annotations

import uuid

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.ports.clock import Clock
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory


@attrs.define
class Service:
    uow: UnitOfWorkFactory
    clock: Clock


def as_id(field: str, value: uuid.UUID | str) -> uuid.UUID:
    """Ids arrive as UUIDs from Python callers and as strings from the edges."""
    return v.identifier(field, value)
