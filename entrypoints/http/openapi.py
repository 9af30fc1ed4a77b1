"""The OpenAPI document: declared error responses, their media type, and the limits.

Routes declare the problems they can answer with :func:`problems`. FastAPI files
every response model under ``application/json``; :func:`install_openapi` moves the
error responses to ``application/problem+json``, which is what is actually sent,
and writes the deployment's limits (page size, k) into the schema, since they are
settings and not known when the routes are declared.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tenantrag.entrypoints.http.errors import PROBLEM_MEDIA_TYPE, Problem

_DESCRIPTIONS = {
    400: "The request body could not be parsed.",
    401: "Credentials are missing, malformed, expired or revoked.",
    403: "The caller belongs to the tenant but its role (or API key cap) does not allow this.",
    404: "No such resource, or it belongs to a tenant the caller is not a member of.",
    409: "The change clashes with current state (a uniqueness rule, the last owner, a lifecycle).",
    413: "The request body or upload is larger than the configured limit.",
    415: "The file's media type is not one tenantrag reads (plain text, Markdown, HTML, PDF).",
    422: "A value is invalid; `field` names it.",
    429: "Too many failed attempts; retry after `Retry-After` seconds.",
    503: "The database did not answer in time or is unreachable; retry after `Retry-After` seconds.",
}
# Any request may be refused by the body-size limit, before it is routed.
_ALWAYS = (413,)


def problems(*statuses: int, database: bool = True) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries for the problems an operation can answer with.

    Every operation that reaches the database may also answer 503.
    """
    declared = {*statuses, *_ALWAYS, *((503,) if database else ())}
    return {status: {"model": Problem, "description": _DESCRIPTIONS[status]} for status in sorted(declared)}


def install_openapi(
    app: FastAPI, *, max_page_size: int, default_page_size: int, max_k: int, default_k: int
) -> None:
    """Replace ``app.openapi`` with one that fixes media types and writes in the limits."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            for operation in _operations(schema):
                _problem_media_type(operation)
                _page_size_limit(operation, max_page_size, default_page_size)
            _k_limit(schema, max_k, default_k)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _operations(schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path_item in schema.get("paths", {}).values():
        yield from path_item.values()


def _problem_media_type(operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if status[:1] in "45" and "application/json" in content:
            content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")


def _page_size_limit(operation: dict[str, Any], maximum: int, default: int) -> None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query" and parameter.get("name") == "limit":
            parameter["schema"].update(maximum=maximum, default=default)


def _k_limit(schema: dict[str, Any], maximum: int, default: int) -> None:
    for name in ("SearchRequest", "SearchRequest-Input"):
        search = schema.get("components", {}).get("schemas", {}).get(name)
        if search is not None:
            search["properties"]["k"].update(maximum=maximum, default=default)
