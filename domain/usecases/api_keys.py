"""Issuing, listing, revoking and verifying API keys."""

from __future__ import annotations

import uuid
from datetime import datetime

import attrs

from tenantrag.domain.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.api_key import ApiKey, generate_key, hash_secret, split_plaintext
from tenantrag.domain.model.audit_entry import AuditAction
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission, Role, allows
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.audit import record, refusals_recorded
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal

_BAD_KEY = "invalid, expired or revoked API key"
# Compared against when no key has the presented prefix, so that case costs the same.
_DUMMY = ApiKey(
    id=uuid.UUID(int=0), tenant_id=uuid.UUID(int=0), user_id=uuid.UUID(int=0), name="dummy",
    prefix="000000000000", secret_hash=hash_secret("dummy"), role_cap=Role.VIEWER,
    created_at=datetime.fromisoformat("2000-01-01T00:00:00+00:00"),
)  # fmt: skip


@attrs.frozen
class IssuedKey:
    """The stored key and its plaintext, which is shown this once and never again."""

    key: ApiKey
    plaintext: str = attrs.field(repr=False)


@attrs.define
class ApiKeyService(Service):
    async def issue(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        name: str,
        role_cap: Role | str = Role.MEMBER,
        expires_at: datetime | None = None,
    ) -> IssuedKey:
        """A key acting as the actor in this tenant, capped at ``role_cap`` (no higher than the actor).

        Only a signed-in user (or the system) issues keys: a key presented as the credential
        may not, because whatever it issued would outlive its expiry and its revocation.
        """
        cap = Role.parse(role_cap, "role_cap")
        if actor.user_id is None:
            raise InvalidInput("actor", "an API key acts as a user; the system has none")
        tenant = as_id("tenant_id", tenant_id)
        refused = refusals_recorded(self, actor, tenant, AuditAction.API_KEY_ISSUE, ("api_key", None))
        async with refused, self.uow.tenant(tenant) as uow:
            role = await authorize(uow, actor, Permission.API_KEY_MANAGE)
            if actor.api_key_id is not None:
                # A key's child could outlive it (expiry, revocation): keys are made by people.
                raise PermissionDenied(
                    "an API key cannot issue API keys; sign in with a password to issue one"
                )
            if cap.rank > role.rank:
                raise PermissionDenied(f"a {role.value} cannot issue a key capped at {cap.value}")
            generated = generate_key()
            key = ApiKey(
                id=new_id(), tenant_id=uow.tenant_id, user_id=actor.user_id, name=name,
                prefix=generated.prefix, secret_hash=generated.secret_hash, role_cap=cap,
                created_at=self.clock.now(), expires_at=expires_at,
            )  # fmt: skip
            await uow.api_keys.add(key)
            issued = {"name": key.name, "role_cap": cap.value, "prefix": key.prefix}
            await record(
                uow, actor, AuditAction.API_KEY_ISSUE, ("api_key", key.id), at=key.created_at, details=issued
            )
            await uow.commit()
        return IssuedKey(key, generated.plaintext)

    async def list(
        self, actor: Principal, tenant_id: uuid.UUID | str, page: PageRequest | None = None
    ) -> Page[ApiKey]:
        """Admins see every key of the tenant; others see their own."""
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            role = await authorize(uow, actor, Permission.API_KEY_READ)
            result = await uow.api_keys.list(page or PageRequest())
        if allows(role, Permission.MEMBER_MANAGE):
            return result
        return Page(
            items=tuple(k for k in result.items if k.user_id == actor.user_id), next_cursor=result.next_cursor
        )

    async def revoke(self, actor: Principal, tenant_id: uuid.UUID | str, key_id: uuid.UUID | str) -> ApiKey:
        """Revoke a key: one's own, or anyone's for admins. Revoking twice is harmless."""
        ident = as_id("key_id", key_id)
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            role = await authorize(uow, actor, Permission.API_KEY_MANAGE)
            key = await uow.api_keys.get(ident)
            if key is None or (key.user_id != actor.user_id and not allows(role, Permission.MEMBER_MANAGE)):
                raise NotFound("api key", ident)
            if key.revoked_at is None:
                now = self.clock.now()
                key = attrs.evolve(key, revoked_at=now)
                await uow.api_keys.update(key)
                revoked = {"name": key.name, "prefix": key.prefix}
                target = ("api_key", key.id)
                await record(uow, actor, AuditAction.API_KEY_REVOKE, target, at=now, details=revoked)
                await uow.commit()
        return key

    async def verify(self, plaintext: str) -> Principal:
        """The principal a presented key acts as; records its use. Any failure looks alike."""
        prefix, secret = split_plaintext(plaintext)
        now = self.clock.now()
        async with self.uow.system() as uow:
            key = await uow.api_keys.find_by_prefix(prefix)
            matched = (key or _DUMMY).matches(secret)
            user = None if key is None else await uow.users.get(key.user_id)
        if key is None or not matched or not key.is_usable(now) or user is None or not user.is_active:
            raise AuthenticationFailed(_BAD_KEY)
        async with self.uow.tenant(key.tenant_id) as tenant_uow:
            current = await tenant_uow.api_keys.get(key.id)
            if current is None or not current.is_usable(now):
                raise AuthenticationFailed(_BAD_KEY)
            await tenant_uow.api_keys.update(
                attrs.evolve(current, last_used_at=now, usage_count=current.usage_count + 1)
            )
            await tenant_uow.commit()
        return Principal(
            user_id=key.user_id,
            is_superuser=False,
            tenant_id=key.tenant_id,
            role_cap=key.role_cap,
            api_key_id=key.id,
        )
