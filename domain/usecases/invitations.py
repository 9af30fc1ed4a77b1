"""Invitations: how a user joins a tenant, by accepting an admin's invitation.

An admin (or owner) invites an email address with a role; the user signed in with that
address lists their invitations, and accepts (becoming a member with that role) or
declines. Inviting answers the same whether or not the address has an account, and
never says whether it already belongs to a member: nothing here reads the users table
on the inviter's behalf, so inviting cannot be used to enumerate accounts. The role rules
of memberships hold (owners invite anyone, admins members and viewers).

Deliberately not here: adding a user directly. ``MemberService.add`` remains for trusted
callers (the library, the operators' CLI), and the HTTP API does not expose it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import attrs

from tenantrag.domain.errors import Conflict, NotFound, PermissionDenied
from tenantrag.domain.model.audit_entry import AuditAction
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.model.invitation import INVITATION_LIFETIME, Invitation
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User, normalise_email
from tenantrag.domain.pagination import MAX_LIMIT, Page, PageRequest
from tenantrag.domain.policy import Permission, Role, can_manage_membership
from tenantrag.domain.ports.repositories import Repository
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.audit import record, refusals_recorded
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal


@attrs.frozen
class ReceivedInvitation:
    """An invitation as its invitee sees it: with the tenant it is for."""

    invitation: Invitation
    tenant: Tenant


def _check_role(actor_role: Role, current: Role | None, target: Role | None) -> None:
    if not can_manage_membership(actor_role, current, target):
        wanted = (target or current or Role.VIEWER).value
        raise PermissionDenied(f"a {actor_role.value} cannot invite or uninvite a {wanted}")


async def _by_email(invitations: Repository[Invitation], email: str) -> Invitation | None:
    # A tenant has few pending invitations; the generic repository pages through them.
    page = PageRequest(limit=MAX_LIMIT)
    while True:
        found = await invitations.list(page)
        for invitation in found.items:
            if invitation.email == email:
                return invitation
        if found.next_cursor is None:
            return None
        page = PageRequest(limit=MAX_LIMIT, after=found.next_cursor)


@attrs.define
class InvitationService(Service):
    async def invite(
        self, actor: Principal, tenant_id: uuid.UUID | str, *, email: str, role: Role | str = Role.MEMBER
    ) -> Invitation:
        """Invite ``email`` with ``role``; inviting an address again renews its invitation."""
        address = normalise_email(email)
        target = Role.parse(role)
        now = self.clock.now()
        tenant = as_id("tenant_id", tenant_id)
        refused = refusals_recorded(self, actor, tenant, AuditAction.INVITATION_CREATE, ("invitation", None))
        async with refused, self.uow.tenant(tenant) as uow:
            actor_role = await authorize(uow, actor, Permission.MEMBER_MANAGE)
            _check_role(actor_role, None, target)
            invitations = uow.repository(Invitation)
            existing = await _by_email(invitations, address)
            if existing is not None:
                invitation = attrs.evolve(
                    existing, role=target, invited_by=actor.user_id, created_at=now,
                    expires_at=now + INVITATION_LIFETIME,
                )  # fmt: skip
                await invitations.update(invitation)
            else:
                invitation = Invitation(
                    id=new_id(), tenant_id=uow.tenant_id, email=address, role=target,
                    invited_by=actor.user_id, created_at=now, expires_at=now + INVITATION_LIFETIME,
                )  # fmt: skip
                await invitations.add(invitation)
            invited = {"email": address, "role": target.value}
            await record(
                uow,
                actor,
                AuditAction.INVITATION_CREATE,
                ("invitation", invitation.id),
                at=now,
                details=invited,
            )
            await uow.commit()
        return invitation

    async def list(
        self, actor: Principal, tenant_id: uuid.UUID | str, page: PageRequest | None = None
    ) -> Page[Invitation]:
        """The tenant's pending invitations (admins and owners)."""
        async with self.uow.tenant(as_id("tenant_id", tenant_id), read_only=True) as uow:
            await authorize(uow, actor, Permission.MEMBER_MANAGE)
            return await uow.repository(Invitation).list(page or PageRequest())

    async def revoke(
        self, actor: Principal, tenant_id: uuid.UUID | str, invitation_id: uuid.UUID | str
    ) -> None:
        ident = as_id("invitation_id", invitation_id)
        tenant = as_id("tenant_id", tenant_id)
        refused = refusals_recorded(self, actor, tenant, AuditAction.INVITATION_REVOKE, ("invitation", ident))
        async with refused, self.uow.tenant(tenant) as uow:
            actor_role = await authorize(uow, actor, Permission.MEMBER_MANAGE)
            invitations = uow.repository(Invitation)
            invitation = await invitations.get(ident)
            if invitation is None:
                raise NotFound("invitation", ident)
            _check_role(actor_role, invitation.role, None)
            await invitations.delete(ident)
            revoked = {"email": invitation.email, "role": invitation.role.value}
            now = self.clock.now()
            await record(
                uow, actor, AuditAction.INVITATION_REVOKE, ("invitation", ident), at=now, details=revoked
            )
            await uow.commit()

    async def received(self, actor: Principal) -> Sequence[ReceivedInvitation]:
        """The invitations addressed to the signed-in user's email, with their tenants."""
        user = await self._invitee(actor)
        async with self.uow.system() as uow:
            out = []
            for invitation in await uow.invitations.list_for_email(user.email):
                tenant = await uow.tenants.get(invitation.tenant_id)
                if tenant is not None:
                    out.append(ReceivedInvitation(invitation, tenant))
        return out

    async def accept(self, actor: Principal, invitation_id: uuid.UUID | str) -> Membership:
        """Join the invitation's tenant with its role; the invitation is used up."""
        user, invitation = await self._own(actor, invitation_id)
        now = self.clock.now()
        async with self.uow.tenant(invitation.tenant_id) as uow:
            invitations = uow.repository(Invitation)
            current = await invitations.get(invitation.id)
            if current is None or current.email != user.email:
                raise NotFound("invitation", invitation.id)  # revoked or answered meanwhile
            if current.is_expired(now):
                raise Conflict(
                    f"the invitation expired at {current.expires_at.isoformat()}; ask for a new one"
                )
            if await uow.memberships.get(user.id) is not None:
                raise Conflict("you are already a member of this tenant; decline the invitation instead")
            membership = Membership(
                id=new_id(), tenant_id=uow.tenant_id, user_id=user.id, role=current.role,
                created_at=now, updated_at=now,
            )  # fmt: skip
            await uow.memberships.add(membership)
            await invitations.delete(current.id)
            await uow.commit()
        return membership

    async def decline(self, actor: Principal, invitation_id: uuid.UUID | str) -> None:
        """Refuse an invitation; it is deleted (the inviter may invite again)."""
        user, invitation = await self._own(actor, invitation_id)
        async with self.uow.tenant(invitation.tenant_id) as uow:
            invitations = uow.repository(Invitation)
            current = await invitations.get(invitation.id)
            if current is None or current.email != user.email:
                raise NotFound("invitation", invitation.id)
            await invitations.delete(current.id)
            await uow.commit()

    async def _own(self, actor: Principal, invitation_id: uuid.UUID | str) -> tuple[User, Invitation]:
        """The invitee and their invitation ``invitation_id``; NotFound for anyone else's."""
        ident = as_id("invitation_id", invitation_id)
        user = await self._invitee(actor)
        async with self.uow.system() as uow:
            mine = await uow.invitations.list_for_email(user.email)
        for invitation in mine:
            if invitation.id == ident:
                return user, invitation
        raise NotFound("invitation", ident)

    async def _invitee(self, actor: Principal) -> User:
        if actor.user_id is None or actor.tenant_id is not None:
            raise PermissionDenied(
                "invitations are answered by the invited user, signed in (not with an API key)"
            )
        async with self.uow.system() as uow:
            user = await uow.users.get(actor.user_id)
        if user is None or not user.is_active:
            raise NotFound("user", actor.user_id)
        return user
