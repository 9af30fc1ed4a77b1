"""Operators' administration of user accounts: list, disable, enable, reset a password, delete.

Only the system and superusers may (``Principal.is_privileged``): accounts span tenants,
so no tenant role reaches them. A user's own password change is ``UserService``'s.

Deleting a user must not leave a tenant without an owner, also when owners change at the
same moment: each tenant the user owns is locked first (the lock member changes take, see
members.py), then its other active owners are counted, then the user is deleted, all in
one transaction.
"""

from __future__ import annotations

import asyncio
import uuid

import attrs

from tenantrag.domain.errors import Conflict, NotFound, PermissionDenied
from tenantrag.domain.model.user import User, check_new_password, normalise_email
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.ports.passwords import PasswordHasher
from tenantrag.domain.ports.unit_of_work import SystemUnitOfWork
from tenantrag.domain.usecases.base import Service
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.retrying import retried


@attrs.define
class AccountAdministration(Service):
    hasher: PasswordHasher

    async def list(self, actor: Principal, page: PageRequest | None = None) -> Page[User]:
        _require_operator(actor)
        async with self.uow.system() as uow:
            return await uow.users.list(page or PageRequest())

    async def find(self, actor: Principal, ref: str | uuid.UUID) -> User:
        """A user by id or email."""
        _require_operator(actor)
        async with self.uow.system() as uow:
            return await _find(uow, ref)

    async def set_active(self, actor: Principal, ref: str | uuid.UUID, *, active: bool) -> User:
        """Disable (or enable again) an account: a disabled user cannot log in, and their
        API keys stop working; their memberships and data stay."""
        _require_operator(actor)
        async with self.uow.system() as uow:
            user = await _find(uow, ref)
            if user.is_active != active:
                user = attrs.evolve(user, is_active=active, updated_at=self.clock.now())
                await uow.users.update(user)
                await uow.commit()
            return user

    async def reset_password(self, actor: Principal, ref: str | uuid.UUID, *, new_password: str) -> User:
        """Set a user's password without the current one (an operator's reset)."""
        _require_operator(actor)
        check_new_password("new_password", new_password)
        password_hash = await asyncio.to_thread(self.hasher.hash, new_password)
        async with self.uow.system() as uow:
            user = attrs.evolve(
                await _find(uow, ref), password_hash=password_hash, updated_at=self.clock.now()
            )
            await uow.users.update(user)
            await uow.commit()
        return user

    async def delete(self, actor: Principal, ref: str | uuid.UUID) -> User:
        """Delete an account; refused while it is the only active owner of a tenant."""
        _require_operator(actor)

        async def attempt() -> User:
            async with self.uow.system() as uow:
                user = await _find(uow, ref)
                owned = [
                    membership.tenant_id
                    for membership in await uow.memberships.list_for_user(user.id)
                    if membership.is_active_owner
                ]
                orphaned = []
                for tenant_id in sorted(owned):  # one order, so two deletions cannot deadlock
                    await uow.tenants.lock(tenant_id)
                    if await uow.memberships.count_active_owners(tenant_id) <= 1:
                        orphaned.append(tenant_id)
                if orphaned:
                    raise Conflict(
                        f"user {user.email} is the only owner of tenant(s) {', '.join(map(str, orphaned))}:"
                        " give each another owner, or delete it, first",
                        details={"tenant_ids": [str(tenant) for tenant in orphaned]},
                    )
                await uow.users.delete(user.id)
                await uow.commit()
                return user

        return await retried(attempt, what="deleting a user")


def _require_operator(actor: Principal) -> None:
    if not actor.is_privileged:
        raise PermissionDenied("only operators (the system or a superuser) administer accounts")


async def _find(uow: SystemUnitOfWork, ref: str | uuid.UUID) -> User:
    try:
        user_id = ref if isinstance(ref, uuid.UUID) else uuid.UUID(ref)
    except ValueError:
        user = await uow.users.get_by_email(normalise_email(ref))
    else:
        user = await uow.users.get(user_id)
    if user is None:
        raise NotFound("user", ref)
    return user
