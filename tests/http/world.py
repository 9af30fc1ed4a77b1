"""Test data for the HTTP tests: a tenant with a user in every role, and an outsider.

Users are registered without passwords (hashing is slow and beside the point);
their bearer tokens are minted with the app's own token codec. The password flow
itself is tested on a user made for it.
"""

from __future__ import annotations

import attrs

from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.http.tokens import TokenCodec

Headers = dict[str, str]


@attrs.frozen
class World:
    rag: TenantRag
    tokens: TokenCodec
    tenant: Tenant
    other: Tenant
    users: dict[Role, User]
    outsider: User

    @property
    def owner(self) -> Principal:
        return Principal.user(self.users[Role.OWNER].id)

    def owner_headers(self) -> Headers:
        return self.as_role(Role.OWNER)

    def as_role(self, role: Role) -> Headers:
        return self.bearer(self.users[role])

    def bearer(self, user: User) -> Headers:
        return {"Authorization": f"Bearer {self.tokens.issue(user.id).token}"}

    @property
    def as_outsider(self) -> Headers:
        return self.bearer(self.outsider)

    async def api_key(self, user: User, tenant: Tenant, cap: Role) -> str:
        issued = await self.rag.api_keys.issue(
            Principal.user(user.id), tenant.id, name="test key", role_cap=cap
        )
        return issued.plaintext

    async def key_as(self, cap: Role, *, user_role: Role = Role.OWNER) -> Headers:
        """An API key of the tenant, issued by the user in ``user_role`` and capped at ``cap``."""
        return {"X-API-Key": await self.api_key(self.users[user_role], self.tenant, cap)}


async def build_world(rag: TenantRag, tokens: TokenCodec) -> World:
    users = {role: await rag.users.register(email=f"{role.value}@example.com") for role in Role}
    owner = Principal.user(users[Role.OWNER].id)
    tenant = await rag.tenants.create(owner, name="Acme Research")
    for role in (Role.ADMIN, Role.MEMBER, Role.VIEWER):
        await rag.members.add(owner, tenant.id, user_id=users[role].id, role=role)
    outsider = await rag.users.register(email="outsider@example.com")
    other = await rag.tenants.create(Principal.user(outsider.id), name="Globex")
    return World(rag, tokens, tenant, other, users, outsider)
