"""The domain's error hierarchy.

Every error carries a stable ``code`` that entrypoints map to HTTP statuses and
CLI exit codes, a human message naming what was wrong, and optional details.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class TenantRagError(Exception):
    """Base class of every error tenantrag raises on purpose."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class NotFound(TenantRagError):
    """The thing does not exist, or the caller may not know that it does."""

    code = "not_found"

    def __init__(self, kind: str, key: object | None = None) -> None:
        message = f"{kind} not found" if key is None else f"{kind} {key} not found"
        super().__init__(message, details={"kind": kind})
        self.kind = kind


class Conflict(TenantRagError):
    """The change clashes with existing state (a uniqueness rule, the last owner...)."""

    code = "conflict"


class PermissionDenied(TenantRagError):
    """The caller is known to the tenant but its role does not allow the action."""

    code = "permission_denied"


class AuthenticationFailed(TenantRagError):
    """Credentials were missing, wrong, expired or revoked."""

    code = "authentication_failed"


class InvalidInput(TenantRagError):
    """A value broke a rule of the domain; ``field`` names the value."""

    code = "invalid_input"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", details={"field": field})
        self.field = field
        self.problem = problem


class InvalidTransition(TenantRagError):
    """A lifecycle (document or job status) was asked to move along an illegal edge."""

    code = "invalid_transition"

    def __init__(self, kind: str, current: str, target: str) -> None:
        super().__init__(
            f"{kind} cannot move from {current!r} to {target!r}",
            details={"kind": kind, "from": current, "to": target},
        )


class Unavailable(TenantRagError):
    """The store could not answer in time (a command timeout, a lost connection): retry later."""

    code = "unavailable"


#: ``Unavailable``'s rule when the database itself could not be reached (refused, terminated,
#: restarting): nobody's request was at fault, and the same work succeeds once it is back.
DATABASE_UNAVAILABLE = "database.unavailable"


def is_database_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database could not be reached (see DATABASE_UNAVAILABLE)."""
    return isinstance(error, Unavailable) and error.details.get("rule") == DATABASE_UNAVAILABLE
