"""What a request handler needs from the running app, in one object on ``app.state``.

The container's resources (the backend's engine) exist only between the lifespan's
start and end, so the wired ``TenantRag`` is put here at start-up rather than
resolved per request; the parts built from settings alone are made with the app.
"""

from __future__ import annotations

import attrs
from starlette.requests import HTTPConnection

from tenantrag.domain.usecases.app import TenantRag
from tenantrag.entrypoints.http.limits import Limits
from tenantrag.entrypoints.http.throttling import LoginThrottle
from tenantrag.entrypoints.http.tokens import TokenCodec


@attrs.frozen(kw_only=True)
class ApiConfig:
    """Built from settings when the app is created."""

    tokens: TokenCodec
    limits: Limits
    backend: str
    # A tenant label on search and ingest metrics (METRICS_TENANT_LABELS).
    metrics_tenant_labels: bool = False
    allow_signup: bool = False  # ALLOW_SIGNUP
    login_throttle: LoginThrottle
    # For the migration check of /health/detailed; it may hold a password, so never shown.
    database_url: str | None = attrs.field(default=None, repr=False)


@attrs.frozen(kw_only=True)
class ApiContext:
    """Everything a route reads: the config, and the use cases once the app has started."""

    config: ApiConfig
    rag: TenantRag


class NotStarted(RuntimeError):
    """A request arrived before the app's lifespan started (a server without lifespan support)."""


def get_context(connection: HTTPConnection) -> ApiContext:
    context = getattr(connection.app.state, "tenantrag", None)
    if not isinstance(context, ApiContext):
        raise NotStarted("the tenantrag app has not started: run it with lifespan events enabled")
    return context
