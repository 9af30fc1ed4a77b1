"""The invitation directory: a user's invitations across tenants (a system unit of work's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from tenantrag.domain.model.invitation import Invitation


class InvitationDirectory(Protocol):
    async def list_for_email(self, email: str) -> Sequence[Invitation]:
        """Every invitation addressed to ``email`` (normalised), oldest first."""
        ...
