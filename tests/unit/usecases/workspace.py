"""Shared test data for the use-case tests: a tenant with a user in every role."""

from __future__ import annotations

import attrs

from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.principal import Principal

DIMENSION = 64
PASSWORD = "correct horse battery staple"


@attrs.frozen
class Workspace:
    """A tenant with one user in every role, and an outsider with a tenant of their own."""

    tenant: Tenant
    other_tenant: Tenant
    users: dict[Role, User]
    outsider: User

    def actor(self, role: Role) -> Principal:
        return Principal.user(self.users[role].id)

    @property
    def stranger(self) -> Principal:
        return Principal.user(self.outsider.id)
