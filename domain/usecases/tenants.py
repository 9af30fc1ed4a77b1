"""Founding, reading, renaming and deleting tenants, and listing a user's tenants."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.audit_entry import AuditAction
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.tenant import Tenant, slugify
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission, Role
from tenantrag.domain.ports.blob_store import DOCUMENTS_FOLDER, BlobStore
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.audit import record, refusals_recorded
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal


@attrs.frozen
class TenantWithRole:
    tenant: Tenant
    role: Role


@attrs.define
class TenantService(Service):
    blobs: BlobStore

    async def create(
        self,
        actor: Principal,
        *,
        name: str,
        slug: str | None = None,
        owner_id: uuid.UUID | str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Tenant:
        """Create a tenant and make ``owner_id`` (by default the actor) its owner, atomically."""
        owner = self._owner_for(actor, owner_id)
        now = self.clock.now()
        tenant = Tenant(
            id=new_id(),
            name=name,
            slug=slugify(name) if slug is None else slug,
            settings=dict(settings or {}),
            created_at=now,
            updated_at=now,
        )
        async with self.uow.system() as uow:
            user = await uow.users.get(owner)
            if user is None or not user.is_active:
                raise NotFound("user", owner)
            if await uow.tenants.get_by_slug(tenant.slug) is not None:
                # Slugs are global names, so a taken one cannot be hidden; nothing else is said
                # (neither the tenant's id nor its name), and reading it answers as if missing.
                raise Conflict(f"the slug {tenant.slug!r} is not available; choose another")
            await uow.tenants.add(tenant)
            await uow.memberships.add(
                Membership(
                    id=new_id(),
                    tenant_id=tenant.id,
                    user_id=owner,
                    role=Role.OWNER,
                    created_at=now,
                    updated_at=now,
                )
            )
            await uow.commit()
        return tenant

    @staticmethod
    def _owner_for(actor: Principal, owner_id: uuid.UUID | str | None) -> uuid.UUID:
        if actor.tenant_id is not None:
            raise PermissionDenied("an API key acts within its tenant and cannot create tenants")
        if owner_id is None:
            if actor.user_id is None:
                raise InvalidInput("owner_id", "is required when the system creates a tenant")
            return actor.user_id
        owner = as_id("owner_id", owner_id)
        if owner != actor.user_id and not actor.is_privileged:
            raise PermissionDenied("only a superuser may create a tenant owned by someone else")
        return owner

    async def get(self, actor: Principal, tenant_id: uuid.UUID | str) -> Tenant:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.TENANT_READ)
            tenant = await uow.tenant.get()
        if tenant is None:
            raise NotFound("tenant", tenant_id)
        return tenant

    async def resolve(self, actor: Principal, ref: str | uuid.UUID) -> Tenant:
        """A tenant by id or slug, as the caller may see it (NotFound otherwise)."""
        if isinstance(ref, uuid.UUID):
            return await self.get(actor, ref)
        try:
            return await self.get(actor, uuid.UUID(ref))
        except ValueError:
            pass
        async with self.uow.system() as uow:
            found = await uow.tenants.get_by_slug(ref.strip().lower())
        try:
            if found is None:
                raise NotFound("tenant", ref)
            return await self.get(actor, found.id)
        except NotFound:
            # The same words for a tenant the caller may not see as for a missing one: never its id.
            raise NotFound("tenant", ref) from None

    async def update(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        *,
        name: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Tenant:
        """Rename a tenant or replace its settings; the slug stays, as URLs depend on it."""
        ident = as_id("tenant_id", tenant_id)
        refused = refusals_recorded(self, actor, ident, AuditAction.TENANT_UPDATE, ("tenant", ident))
        async with refused, self.uow.tenant(ident) as uow:
            await authorize(uow, actor, Permission.TENANT_UPDATE)
            tenant = await uow.tenant.get()
            if tenant is None:
                raise NotFound("tenant", tenant_id)
            tenant = attrs.evolve(
                tenant,
                name=tenant.name if name is None else name,
                settings=tenant.settings if settings is None else dict(settings),
                updated_at=self.clock.now(),
            )
            await uow.tenant.update(tenant)
            changed: dict[str, Any] = {} if name is None else {"name": tenant.name}
            if settings is not None:
                changed["settings_keys"] = sorted(tenant.settings)
            target = ("tenant", tenant.id)
            await record(uow, actor, AuditAction.TENANT_UPDATE, target, at=tenant.updated_at, details=changed)
            await uow.commit()
        return tenant

    async def delete(self, actor: Principal, tenant_id: uuid.UUID | str) -> None:
        """Delete the tenant and everything it owns, its documents' originals included."""
        tenant = as_id("tenant_id", tenant_id)
        async with self.uow.tenant(tenant) as uow:
            await authorize(uow, actor, Permission.TENANT_DELETE)
            await uow.tenant.delete()
            await uow.commit()
        # After the commit, as a document's deletion does: a failure here leaves unreferenced
        # bytes (which `tenantrag blobs check --repair` sweeps), never rows without their blobs.
        await self.blobs.delete_prefix(tenant, DOCUMENTS_FOLDER)

    async def list_mine(self, actor: Principal) -> Sequence[TenantWithRole]:
        """The tenants the actor belongs to, with its role in each (an API key: just its own)."""
        if actor.user_id is None:
            return []
        async with self.uow.system() as uow:
            memberships = await uow.memberships.list_for_user(actor.user_id)
            out = []
            for membership in memberships:
                if not membership.is_active:
                    continue
                if actor.tenant_id is not None and membership.tenant_id != actor.tenant_id:
                    continue
                tenant = await uow.tenants.get(membership.tenant_id)
                if tenant is not None:
                    out.append(TenantWithRole(tenant, membership.role.capped(actor.role_cap)))
        return sorted(out, key=lambda item: (item.tenant.created_at, item.tenant.id))

    async def list_all(self, actor: Principal, page: PageRequest | None = None) -> Page[Tenant]:
        """Every tenant: for superusers and the system (operators' tooling)."""
        if not actor.is_privileged:
            raise PermissionDenied("only a superuser may list every tenant")
        async with self.uow.system() as uow:
            return await uow.tenants.list(page or PageRequest())
