"""The one gate every tenant use case passes: membership, role cap, permission.

A caller with no membership in the tenant gets NotFound, not PermissionDenied, so
the existence of other tenants (and their rows) never leaks.
"""

from __future__ import annotations

from tenantrag.domain.errors import NotFound
from tenantrag.domain.policy import Permission, Role, require
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.usecases.principal import Principal


async def authorize(uow: TenantUnitOfWork, actor: Principal, permission: Permission) -> Role:
    """The actor's effective role in the uow's tenant, once ``permission`` is checked."""
    role = await effective_role(uow, actor)
    require(role, permission)
    return role


async def effective_role(uow: TenantUnitOfWork, actor: Principal) -> Role:
    if actor.tenant_id is not None and actor.tenant_id != uow.tenant_id:
        raise NotFound("tenant", uow.tenant_id)
    if actor.is_privileged:
        if await uow.tenant.get() is None:
            raise NotFound("tenant", uow.tenant_id)
        role = Role.OWNER
    else:
        membership = None if actor.user_id is None else await uow.memberships.get(actor.user_id)
        if membership is None or not membership.is_active:
            raise NotFound("tenant", uow.tenant_id)
        role = membership.role
    return role.capped(actor.role_cap)
