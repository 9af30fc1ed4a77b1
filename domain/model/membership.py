"""Membership: a user's role in one tenant (one membership per tenant and user)."""

from __future__ import annotations

import uuid
from datetime import datetime

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.policy import Role, parse_role


@attrs.frozen(kw_only=True)
class Membership:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    user_id: uuid.UUID = attrs.field(validator=v.is_id())
    role: Role = attrs.field(converter=parse_role)
    is_active: bool = True
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    updated_at: datetime = attrs.field(validator=v.is_timestamp())

    @property
    def is_active_owner(self) -> bool:
        return self.is_active and self.role is Role.OWNER
