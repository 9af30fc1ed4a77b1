"""Who is acting: a user (through a login or an API key) or the system itself."""

from __future__ import annotations

import uuid

import attrs

from tenantrag.domain.policy import Role


@attrs.frozen(kw_only=True)
class Principal:
    """The caller of a use case.

    ``tenant_id`` and ``role_cap`` are set for API keys: such a principal acts only
    in that tenant and never above the cap. ``is_system`` is for trusted local
    callers (the CLI run by an operator, an embedding service's own jobs), which
    act as owner everywhere; it is never produced from a network credential.
    """

    user_id: uuid.UUID | None = None
    is_superuser: bool = False
    is_system: bool = False
    tenant_id: uuid.UUID | None = None
    role_cap: Role | None = None
    api_key_id: uuid.UUID | None = None

    @classmethod
    def system(cls) -> Principal:
        return cls(is_system=True)

    @classmethod
    def user(cls, user_id: uuid.UUID, *, is_superuser: bool = False) -> Principal:
        return cls(user_id=user_id, is_superuser=is_superuser)

    @property
    def is_privileged(self) -> bool:
        return self.is_system or self.is_superuser
