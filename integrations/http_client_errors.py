"""The API's problem+json answers turned back into the domain's errors.

The server answers a ``TenantRagError`` with its ``code`` (``entrypoints/http/errors.py``);
the client raises the error class that declares that code, found from the classes
themselves (each subclass of ``TenantRagError`` names its ``code``), so there is no second
table to keep in step: a test holds every code the server maps (``DOMAIN_STATUS``) to a
class here. ``PermissionDenied`` from the server is ``PermissionDenied`` in the client,
``invalid_input`` is ``InvalidInput`` with the same ``field``, and so on.

What the HTTP layer refuses on its own (a malformed body, a payload too large, a method not
allowed, a server failure) has no domain class: it is ``ApiProblem``, with the status and
the problem's code. A server that cannot be reached is ``Unavailable``, as a database that
does not answer is: retry later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from tenantrag.domain.errors import InvalidInput, NotFound, TenantRagError, Unavailable

# Imported for the error classes they declare, which the server may answer with.
from tenantrag.domain.ports import blob_store, parser  # noqa: F401
from tenantrag.entrypoints import backends  # noqa: F401

__all__ = ["ApiProblem", "error_class", "error_from", "unreachable"]


class ApiProblem(TenantRagError):
    """An error answer that names no domain error: refused by the HTTP layer, or a server failure."""

    code = "api_problem"

    def __init__(self, message: str, *, status: int, problem_code: str, details: Mapping[str, Any]) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.problem_code = problem_code


def error_class(code: str) -> type[TenantRagError] | None:
    """The class that declares ``code`` (None: no domain error has it)."""
    pending: list[type[TenantRagError]] = [TenantRagError]
    while pending:
        cls = pending.pop()
        # The class that sets ``code`` itself, not a subclass that only inherits it.
        if vars(cls).get("code") == code and cls is not ApiProblem:
            return cls
        pending.extend(cls.__subclasses__())
    return None


def error_from(response: httpx.Response) -> TenantRagError:
    """The error an error response stands for."""
    problem = _problem(response)
    code = str(problem.get("code") or "")
    detail = str(problem.get("detail") or response.reason_phrase or f"HTTP {response.status_code}")
    details: dict[str, Any] = {
        "status": response.status_code,
        "instance": problem.get("instance", response.request.url.path),
    }
    for key in ("field", "errors"):
        if problem.get(key) is not None:
            details[key] = problem[key]
    cls = error_class(code) if code else None
    if cls is None:
        return ApiProblem(
            detail, status=response.status_code, problem_code=code or "http_error", details=details
        )
    return _rebuild(cls, detail, details)


def unreachable(error: httpx.TransportError) -> Unavailable:
    """A server that did not answer (refused, timed out, dropped the connection)."""
    where = error.request.url if _has_request(error) else "the server"
    return Unavailable(f"could not reach {where}: {type(error).__name__}: {error}")


def _has_request(error: httpx.TransportError) -> bool:
    try:
        error.request  # noqa: B018 - httpx raises RuntimeError when there is none
    except RuntimeError:
        return False
    return True


def _problem(response: httpx.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _rebuild(cls: type[TenantRagError], detail: str, details: dict[str, Any]) -> TenantRagError:
    """An instance of ``cls`` carrying the server's message as it is.

    The subclasses' constructors compose their own messages from parts (``NotFound(kind,
    key)``), which the problem does not carry separately; the base constructor takes the
    message whole, and the attributes callers read are set from the problem.
    """
    error = cls.__new__(cls)
    TenantRagError.__init__(error, detail, details=details)
    if isinstance(error, InvalidInput):
        field = str(details.get("field") or "body")
        error.field = field
        error.problem = detail.removeprefix(f"{field}: ")
    if isinstance(error, NotFound):
        # The server's message is "<kind> [<key>] not found".
        error.kind = detail.split(" ", 1)[0] if detail.endswith(" not found") else "resource"
        error.details["kind"] = error.kind
    return error
