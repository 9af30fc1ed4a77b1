"""Roles, permissions and the one table that says which role may do what.

Every use case asks :func:`require` before acting, so the whole authorization
model is readable here and nowhere else.
"""

from __future__ import annotations

import enum

from tenantrag.domain.errors import InvalidInput, PermissionDenied


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @classmethod
    def parse(cls, value: object, field: str = "role") -> Role:
        if isinstance(value, Role):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(r.value for r in cls)
            raise InvalidInput(field, f"must be one of {allowed}, got {value!r:.40}") from None

    def capped(self, cap: Role | None) -> Role:
        """The weaker of this role and ``cap`` (an API key never exceeds its cap)."""
        if cap is None or cap.rank >= self.rank:
            return self
        return cap


def parse_role(value: Role | str) -> Role:
    return Role.parse(value)


_RANKS = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Permission(enum.StrEnum):
    TENANT_READ = "tenant:read"
    TENANT_UPDATE = "tenant:update"
    TENANT_DELETE = "tenant:delete"
    MEMBER_READ = "member:read"
    MEMBER_MANAGE = "member:manage"
    OWNER_MANAGE = "owner:manage"
    API_KEY_READ = "api_key:read"
    API_KEY_MANAGE = "api_key:manage"
    DOCUMENT_READ = "document:read"
    DOCUMENT_WRITE = "document:write"
    DOCUMENT_DELETE = "document:delete"
    SEARCH = "search"
    QUERY_LOG_READ = "query_log:read"
    QUERY_LOG_WRITE = "query_log:write"
    JOB_READ = "job:read"
    CHAT = "chat"
    EVALUATION_RUN = "evaluation:run"
    EVALUATION_READ = "evaluation:read"
    AUDIT_READ = "audit:read"


_VIEWER = frozenset(
    {
        Permission.TENANT_READ,
        Permission.MEMBER_READ,
        Permission.DOCUMENT_READ,
        Permission.SEARCH,
        Permission.JOB_READ,
        Permission.QUERY_LOG_WRITE,
    }
)
_MEMBER = _VIEWER | {
    Permission.DOCUMENT_WRITE,
    Permission.DOCUMENT_DELETE,
    Permission.CHAT,
    Permission.API_KEY_READ,
    Permission.API_KEY_MANAGE,
}
_ADMIN = _MEMBER | {
    Permission.TENANT_UPDATE,
    Permission.MEMBER_MANAGE,
    Permission.QUERY_LOG_READ,
    Permission.EVALUATION_RUN,
    Permission.EVALUATION_READ,
    Permission.AUDIT_READ,
}
_OWNER = _ADMIN | {Permission.TENANT_DELETE, Permission.OWNER_MANAGE}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.MEMBER: frozenset(_MEMBER),
    Role.ADMIN: frozenset(_ADMIN),
    Role.OWNER: frozenset(_OWNER),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]


def require(role: Role, permission: Permission) -> None:
    if not allows(role, permission):
        raise PermissionDenied(
            f"role {role.value!r} lacks permission {permission.value!r}",
            details={"role": role.value, "permission": permission.value},
        )


def can_manage_membership(actor: Role, current: Role | None, target: Role | None) -> bool:
    """Whether ``actor`` may move a membership from ``current`` to ``target``.

    ``None`` stands for "no membership": adding has ``current`` None, removing has
    ``target`` None. Owners manage everyone; admins manage members and viewers only,
    so an admin can neither create nor touch an owner or another admin.
    """
    if actor is Role.OWNER:
        return True
    if actor is Role.ADMIN:
        managed = {None, Role.MEMBER, Role.VIEWER}
        return current in managed and target in managed
    return False
