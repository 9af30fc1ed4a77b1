"""Invitation: a pending offer of a role in a tenant, to an email address.

Nobody joins a tenant without accepting: an admin invites an address, and the user
signed in with that address accepts (becoming a member) or declines. An invitation is
the same whether or not the address has an account, so inviting reveals nothing about
who has one. It is deleted when accepted, declined or revoked, and stops being
acceptable at ``expires_at``; inviting the same address again renews it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.model.user import normalise_email
from tenantrag.domain.policy import Role, parse_role

#: How long an invitation can be accepted.
INVITATION_LIFETIME = timedelta(days=7)


@attrs.frozen(kw_only=True)
class Invitation:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    email: str = attrs.field(converter=normalise_email)
    role: Role = attrs.field(converter=parse_role)
    invited_by: uuid.UUID | None = attrs.field(default=None, validator=v.is_id(optional=True))
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    expires_at: datetime = attrs.field(validator=v.is_timestamp())

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at
