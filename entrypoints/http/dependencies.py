"""Reusable ``Annotated`` dependencies, so route signatures stay short and alike.

- ``App``: the wired use cases (``TenantRag``);
- ``Config``: what was built from settings (token codec, limits, backend name);
- ``CurrentPrincipal``: who is calling (401 without valid credentials);
- ``TenantId``: the ``{tenant}`` path segment, an id or a slug, as a tenant id;
- ``Paging``: ``limit`` and ``cursor`` as a domain ``PageRequest``, within the page-size limit.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from tenantrag.domain.model.tenant import MAX_SLUG_LENGTH
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.http.auth import authenticate
from tenantrag.entrypoints.http.context import ApiConfig, get_context
from tenantrag.entrypoints.http.limits import DEFAULT_PAGE_SIZE

# An id, or a slug (lowercase letters, digits and single hyphens).
TENANT_REF_PATTERN = (
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[a-z0-9]+(-[a-z0-9]+)*)$"
)


def _rag(request: Request) -> TenantRag:
    return get_context(request).rag


def _config(request: Request) -> ApiConfig:
    return get_context(request).config


App = Annotated[TenantRag, Depends(_rag)]
Config = Annotated[ApiConfig, Depends(_config)]
CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


async def _tenant_id(
    tenant: Annotated[
        str,
        Path(
            description="The tenant's id or slug.",
            min_length=1,
            max_length=max(36, MAX_SLUG_LENGTH),
            pattern=TENANT_REF_PATTERN,
        ),
    ],
    actor: CurrentPrincipal,
    rag: App,
) -> uuid.UUID:
    """An id is used as is; a slug is resolved as the caller may see it (404 otherwise)."""
    try:
        return uuid.UUID(tenant)
    except ValueError:
        return (await rag.tenants.resolve(actor, tenant)).id


TenantId = Annotated[uuid.UUID, Depends(_tenant_id)]


def _paging(
    request: Request,
    config: Config,
    limit: Annotated[
        int, Query(ge=1, description="Items per page; the maximum is a setting (MAX_PAGE_SIZE).")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` from the previous page.")
    ] = None,
) -> PageRequest:
    requested = limit if "limit" in request.query_params else None
    return PageRequest(limit=config.limits.page_size(requested), after=cursor)


Paging = Annotated[PageRequest, Depends(_paging)]
