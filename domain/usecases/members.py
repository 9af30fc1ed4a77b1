"""Adding, re-roling and removing members, under the owner and admin rules.

Owners manage everyone; admins manage members and viewers; only an owner grants or
removes the owner role; and a tenant always keeps at least one active owner.

That last rule is a read (how many active owners are there?) followed by a write, which
two owners acting at once would both pass (each demoting, removing or suspending the
other, or both leaving). So every change to a membership first locks the tenant row
(``uow.tenant.lock()``: FOR NO KEY UPDATE on PostgreSQL, the write lock on SQLite), and
only then authorizes, reads and writes: such changes of one tenant run one after the
other, each seeing what the one before committed. A unit of work that lost a deadlock or
waited too long for the lock runs again (``retrying.retried``).
"""

from __future__ import annotations

import uuid

import attrs

from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.audit_entry import AuditAction
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.user import normalise_email
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission, Role, can_manage_membership
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.usecases.access import authorize, effective_role
from tenantrag.domain.usecases.audit import record, refusals_recorded
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.retrying import retried


def _check_manage(actor_role: Role, current: Role | None, target: Role | None) -> None:
    if not can_manage_membership(actor_role, current, target):
        raise PermissionDenied(
            f"a {actor_role.value} cannot change a membership from {_name(current)} to {_name(target)}"
        )


def _name(role: Role | None) -> str:
    return "none" if role is None else role.value


async def _keep_an_owner(uow: TenantUnitOfWork, membership: Membership) -> None:
    # Only sound after _lock_tenant: then no other change of this tenant's memberships
    # can commit between this count and this unit of work's commit.
    if membership.is_active_owner and await uow.memberships.count_active_owners() <= 1:
        raise Conflict("a tenant must keep at least one active owner")


async def _lock_tenant(uow: TenantUnitOfWork) -> None:
    """Take the tenant's lock before anything is read (see the module docstring); a tenant
    that is gone is NotFound, as authorize would say."""
    if await uow.tenant.lock() is None:
        raise NotFound("tenant", uow.tenant_id)


@attrs.define
class MemberService(Service):
    async def add(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        role: Role | str,
        user_id: uuid.UUID | str | None = None,
        email: str | None = None,
    ) -> Membership:
        """Add an existing user, named by id or email, with ``role``."""
        target_role = Role.parse(role)
        tenant = as_id("tenant_id", tenant_id)
        user = await self._find_user(user_id, email)
        async with refusals_recorded(self, actor, tenant, AuditAction.MEMBER_ADD, ("user", user)):
            return await retried(lambda: self._add(actor, tenant, user, target_role), what="adding a member")

    async def _add(
        self, actor: Principal, tenant: uuid.UUID, user: uuid.UUID, target_role: Role
    ) -> Membership:
        now = self.clock.now()
        async with self.uow.tenant(tenant) as uow:
            await _lock_tenant(uow)
            actor_role = await authorize(uow, actor, Permission.MEMBER_MANAGE)
            _check_manage(actor_role, None, target_role)
            if await uow.memberships.get(user) is not None:
                raise Conflict("the user is already a member of this tenant")
            membership = Membership(
                id=new_id(), tenant_id=uow.tenant_id, user_id=user, role=target_role,
                created_at=now, updated_at=now,
            )  # fmt: skip
            await uow.memberships.add(membership)
            await record(
                uow,
                actor,
                AuditAction.MEMBER_ADD,
                ("user", user),
                at=now,
                details={"role": target_role.value},
            )
            await uow.commit()
        return membership

    async def _find_user(self, user_id: uuid.UUID | str | None, email: str | None) -> uuid.UUID:
        if (user_id is None) == (email is None):
            raise InvalidInput("user", "give exactly one of user_id or email")
        async with self.uow.system() as uow:
            if user_id is not None:
                ident = as_id("user_id", user_id)
                user = await uow.users.get(ident)
            else:
                user = await uow.users.get_by_email(normalise_email(email))
        if user is None or not user.is_active:
            raise NotFound("user", user_id or email)
        return user.id

    async def change_role(
        self, actor: Principal, tenant_id: uuid.UUID | str, user_id: uuid.UUID | str, role: Role | str
    ) -> Membership:
        target_role = Role.parse(role)
        tenant, target = as_id("tenant_id", tenant_id), as_id("user_id", user_id)
        async with refusals_recorded(self, actor, tenant, AuditAction.MEMBER_UPDATE, ("user", target)):
            return await retried(
                lambda: self._change_role(actor, tenant, target, target_role), what="changing a member's role"
            )

    async def _change_role(
        self, actor: Principal, tenant: uuid.UUID, user_id: uuid.UUID, target_role: Role
    ) -> Membership:
        async with self.uow.tenant(tenant) as uow:
            await _lock_tenant(uow)
            actor_role = await authorize(uow, actor, Permission.MEMBER_MANAGE)
            membership = await self._get(uow, user_id)
            _check_manage(actor_role, membership.role, target_role)
            if target_role is not Role.OWNER:
                await _keep_an_owner(uow, membership)
            before = membership.role
            membership = attrs.evolve(membership, role=target_role, updated_at=self.clock.now())
            await uow.memberships.update(membership)
            changed = {"role": target_role.value, "previous_role": before.value}
            await record(
                uow,
                actor,
                AuditAction.MEMBER_UPDATE,
                ("user", user_id),
                at=membership.updated_at,
                details=changed,
            )
            await uow.commit()
        return membership

    async def set_active(
        self, actor: Principal, tenant_id: uuid.UUID | str, user_id: uuid.UUID | str, active: bool
    ) -> Membership:
        """Suspend or restore a membership without forgetting its role."""
        tenant, target = as_id("tenant_id", tenant_id), as_id("user_id", user_id)
        async with refusals_recorded(self, actor, tenant, AuditAction.MEMBER_UPDATE, ("user", target)):
            return await retried(
                lambda: self._set_active(actor, tenant, target, active),
                what="suspending or restoring a member",
            )

    async def _set_active(
        self, actor: Principal, tenant: uuid.UUID, user_id: uuid.UUID, active: bool
    ) -> Membership:
        async with self.uow.tenant(tenant) as uow:
            await _lock_tenant(uow)
            actor_role = await authorize(uow, actor, Permission.MEMBER_MANAGE)
            membership = await self._get(uow, user_id)
            _check_manage(actor_role, membership.role, membership.role)
            if not active:
                await _keep_an_owner(uow, membership)
            membership = attrs.evolve(membership, is_active=active, updated_at=self.clock.now())
            await uow.memberships.update(membership)
            changed = {"is_active": active}
            await record(
                uow,
                actor,
                AuditAction.MEMBER_UPDATE,
                ("user", user_id),
                at=membership.updated_at,
                details=changed,
            )
            await uow.commit()
        return membership

    async def remove(self, actor: Principal, tenant_id: uuid.UUID | str, user_id: uuid.UUID | str) -> None:
        """Remove a member; any member may also remove themself (leave), bar the last owner."""
        tenant, target = as_id("tenant_id", tenant_id), as_id("user_id", user_id)
        async with refusals_recorded(self, actor, tenant, AuditAction.MEMBER_REMOVE, ("user", target)):
            await retried(lambda: self._remove(actor, tenant, target), what="removing a member")

    async def _remove(self, actor: Principal, tenant: uuid.UUID, target: uuid.UUID) -> None:
        async with self.uow.tenant(tenant) as uow:
            await _lock_tenant(uow)
            if actor.user_id == target and actor.tenant_id is None:
                await effective_role(uow, actor)
                membership = await self._get(uow, target)
            else:
                actor_role = await authorize(uow, actor, Permission.MEMBER_MANAGE)
                membership = await self._get(uow, target)
                _check_manage(actor_role, membership.role, None)
            await _keep_an_owner(uow, membership)
            await uow.memberships.delete(target)
            removed = {"role": membership.role.value}
            await record(
                uow, actor, AuditAction.MEMBER_REMOVE, ("user", target), at=self.clock.now(), details=removed
            )
            await uow.commit()

    async def list(
        self, actor: Principal, tenant_id: uuid.UUID | str, page: PageRequest | None = None
    ) -> Page[Membership]:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.MEMBER_READ)
            return await uow.memberships.list(page or PageRequest())

    async def get(self, actor: Principal, tenant_id: uuid.UUID | str, user_id: uuid.UUID | str) -> Membership:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.MEMBER_READ)
            return await self._get(uow, user_id)

    @staticmethod
    async def _get(uow: TenantUnitOfWork, user_id: uuid.UUID | str) -> Membership:
        ident = as_id("user_id", user_id)
        membership = await uow.memberships.get(ident)
        if membership is None:
            raise NotFound("member", ident)
        return membership
