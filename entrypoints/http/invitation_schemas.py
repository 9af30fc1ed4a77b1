"""Request and response bodies of the invitation routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import Field

from tenantrag.domain.model.invitation import Invitation
from tenantrag.domain.model.user import MAX_EMAIL_LENGTH
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.invitations import ReceivedInvitation
from tenantrag.entrypoints.http.schemas import Page, RequestBody, Resource


class InvitationCreate(RequestBody):
    email: Annotated[str, Field(max_length=MAX_EMAIL_LENGTH, description="Whom to invite.")]
    role: Role = Field(default=Role.MEMBER, description="Owners invite any role; admins members and viewers.")


class InvitationOut(Resource):
    id: uuid.UUID
    tenant_id: uuid.UUID
    email: str
    role: Role
    invited_by: uuid.UUID | None
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, invitation: Invitation) -> Self:
        return cls(
            id=invitation.id, tenant_id=invitation.tenant_id, email=invitation.email,
            role=invitation.role, invited_by=invitation.invited_by,
            created_at=invitation.created_at, expires_at=invitation.expires_at,
        )  # fmt: skip


class InvitationPage(Page[InvitationOut]):
    pass


class ReceivedInvitationOut(InvitationOut):
    tenant_name: str
    tenant_slug: str

    @classmethod
    def received(cls, item: ReceivedInvitation) -> Self:
        return cls(
            **InvitationOut.of(item.invitation).model_dump(),
            tenant_name=item.tenant.name,
            tenant_slug=item.tenant.slug,
        )
