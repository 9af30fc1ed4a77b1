"""Every error the API answers is ``application/problem+json`` (RFC 9457).

The body always carries ``code``, a stable machine-readable name: the domain error's
``code`` (``not_found``, ``conflict``, ``invalid_input``...) or, for what the HTTP
layer itself refuses, one of the few codes below. Clients branch on ``code`` and
``status``; ``title`` and ``detail`` are for people. ``field`` names the offending
value for ``invalid_input``, whether the domain or request validation found it.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from tenantrag.domain.errors import AuthenticationFailed, InvalidInput, TenantRagError

PROBLEM_MEDIA_TYPE = "application/problem+json"
# RFC 6750: a 401 names the scheme the client should use. API keys travel as bearer tokens too.
WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="tenantrag"'}

logger = logging.getLogger("tenantrag.http")

DOMAIN_STATUS: Mapping[str, int] = {
    "not_found": 404,
    "conflict": 409,
    "invalid_transition": 409,
    "permission_denied": 403,
    "authentication_failed": 401,
    "invalid_input": 422,
    "unparseable_document": 422,
    "unsupported_media_type": 415,
    "unavailable": 503,
    "database_unavailable": 503,
}
# Any other code (a failed migration, an invalid deployment) is the server's problem.
UNKNOWN_CODE_STATUS = 500
# A store that timed out or lost its connection is worth retrying shortly.
RETRY_AFTER = {"Retry-After": "1"}
# Server-side failures are described generically: their messages may name hosts or users.
_SERVER_DETAIL = {
    500: "the server failed to handle the request",
    503: "a service the server depends on (the database, the embedder) did not answer; retry shortly",
}
# Codes for what the HTTP layer refuses before any use case runs.
HTTP_CODES: Mapping[int, str] = {
    400: "malformed_request",
    401: "authentication_failed",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class FieldError(BaseModel):
    """One rejected value: where it was (body, query, path, header) and why."""

    field: str = Field(description="Dotted path of the value inside its location, e.g. `filter.k`.")
    location: str = Field(description="`body`, `query`, `path`, `header` or `form`.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object, extended with ``code``, ``field`` and ``errors``."""

    type: str = Field(description="A URI naming the kind of problem: `urn:tenantrag:problem:<code>`.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(description="The HTTP status code, repeated for convenience.")
    detail: str = Field(description="What went wrong, for people.")
    instance: str = Field(description="The request path the problem occurred at.")
    code: str = Field(description="Stable machine-readable error code.")
    field: str | None = Field(default=None, description="The offending value, for `invalid_input`.")
    errors: list[FieldError] | None = Field(
        default=None, description="Every rejected value, for request validation errors."
    )


def problem_response(
    request_path: str,
    *,
    status: int,
    code: str,
    detail: str,
    field: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; also used by the body-size middleware, before routing."""
    problem = Problem(
        type=f"urn:tenantrag:problem:{code}",
        title=_phrase(status),
        status=status,
        detail=detail,
        instance=request_path,
        code=code,
        field=field,
        errors=None if errors is None else list(errors),
    )
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TenantRagError)
    status = DOMAIN_STATUS.get(exc.code, UNKNOWN_CODE_STATUS)
    if status == 503:  # an outage, not a bug: one line each, no traceback
        logger.warning("%s on %s %s: %s", exc.code, request.method, request.url.path, exc.message)
    elif status >= 500:
        logger.error("%s on %s %s", exc.code, request.method, request.url.path, exc_info=exc)
    headers = WWW_AUTHENTICATE if isinstance(exc, AuthenticationFailed) else None
    return problem_response(
        request.url.path,
        status=status,
        code=exc.code,
        detail=exc.message if status < 500 else _SERVER_DETAIL.get(status, _SERVER_DETAIL[500]),
        field=exc.field if isinstance(exc, InvalidInput) else None,
        headers=RETRY_AFTER if status == 503 else headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(error) for error in exc.errors()]
    first = errors[0] if errors else FieldError(field="body", location="body", message="invalid request")
    return problem_response(
        request.url.path,
        status=422,
        code="invalid_input",
        detail=f"{first.field}: {first.message}",
        field=first.field,
        errors=errors,
    )


def _field_error(error: Mapping[str, Any]) -> FieldError:
    location, *path = [str(part) for part in error.get("loc", ("body",))] or ["body"]
    # An unparsable body has a character offset for a path, which names no field.
    field = location if error.get("type") == "json_invalid" else ".".join(path) or location
    return FieldError(field=field, location=location, message=str(error.get("msg", "invalid value")))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers.update(WWW_AUTHENTICATE)
    return problem_response(
        request.url.path,
        status=exc.status_code,
        code=HTTP_CODES.get(exc.status_code, "http_error"),
        detail=str(exc.detail),
        headers=headers,
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    if database_unreachable(exc):
        # Missed by the units of work's translation (a pool, a driver's COPY): still an outage.
        logger.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
        return problem_response(
            request.url.path, status=503, code="database_unavailable", detail=_SERVER_DETAIL[503],
            headers=RETRY_AFTER,
        )  # fmt: skip
    # Starlette logs and re-raises after this handler; the client learns nothing internal.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request.url.path, status=500, code="internal_error", detail=_SERVER_DETAIL[500])


# SQLSTATEs of a server that went away or will not take connections now (class 08 too).
_UNREACHABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the database could not be reached, rather
    than that a statement was wrong: a dropped or refused connection, a full pool."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, PoolTimeout | DisconnectionError):
            return True
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        original = error.orig if isinstance(error, DBAPIError) else error
        if any(
            kind.__module__.startswith("psycopg") and kind.__name__ in ("OperationalError", "InterfaceError")
            for kind in type(original).__mro__
        ):
            state = getattr(original, "sqlstate", None)
            if state is None or state.startswith("08") or state in _UNREACHABLE_STATES:
                return True
        error = error.__cause__ or error.__context__
    return False


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TenantRagError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
