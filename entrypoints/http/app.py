"""The ASGI application: ``create_app(container)``.

The container is the composition root; the app only reads from it. Parts that
depend on settings alone (token codec, limits, the OpenAPI document) are built here,
at once, so a bad setting fails before serving. The backend's resources (engines,
pools) are opened by the lifespan and closed when it ends, so nothing touches a
database at import or construction time; run the app with lifespan events on
(uvicorn does by default; with httpx's ASGITransport, enter ``app.router.lifespan_context``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.routing import Route

from tenantrag import __version__
from tenantrag.entrypoints.container import Container, running
from tenantrag.entrypoints.http import routers
from tenantrag.entrypoints.http.context import ApiConfig, ApiContext
from tenantrag.entrypoints.http.errors import install_error_handlers
from tenantrag.entrypoints.http.limits import BodySizeLimit, Limits
from tenantrag.entrypoints.http.observability import install_observability
from tenantrag.entrypoints.http.openapi import install_openapi
from tenantrag.entrypoints.http.routers import health
from tenantrag.entrypoints.http.throttling import LoginThrottle
from tenantrag.entrypoints.http.tokens import TokenCodec
from tenantrag.entrypoints.mcp.http import METHODS as MCP_METHODS
from tenantrag.entrypoints.mcp.http import PATH as MCP_PATH
from tenantrag.entrypoints.mcp.http import McpEndpoint
from tenantrag.entrypoints.mcp.tools import Tools
from tenantrag.entrypoints.observability.logs import configure_logging
from tenantrag.entrypoints.observability.tracing import fastapi_telemetry
from tenantrag.entrypoints.settings import Settings
from tenantrag.entrypoints.workers import background_worker

DESCRIPTION = """\
A multi-tenant document and vector store for retrieval-augmented generation.

Authenticate with a bearer token from `POST /v1/auth/token` (OAuth2 password flow),
or with an API key (`trk_...`) as a bearer token or in `X-API-Key`. Everything a
tenant owns lives under `/v1/tenants/{tenant}` (an id or a slug); a tenant you are
not a member of answers 404, exactly like one that does not exist. Errors are
`application/problem+json` (RFC 9457) with a stable `code`.
"""

TAGS = [
    {"name": "auth", "description": "Exchange a password for a bearer token."},
    {"name": "me", "description": "The caller and the tenants it belongs to."},
    {"name": "tenants", "description": "Workspaces: the isolation boundary."},
    {"name": "members", "description": "Who belongs to a tenant, with which role."},
    {"name": "api keys", "description": "Keys bound to one tenant, capped at a role."},
    {"name": "documents", "description": "Sources, their ingestion and their chunks."},
    {"name": "search", "description": "Vector, full-text or hybrid top-k within a tenant, filtered."},
    {"name": "query logs", "description": "Recorded retrievals and feedback on them."},
    {"name": "jobs", "description": "Background work and its status."},
    {"name": "chat", "description": "A user's conversations."},
    {"name": "health", "description": "Liveness, and the operators' detailed report."},
]


def api_config(settings: Settings) -> ApiConfig:
    """What the API builds from settings alone; raises ValueError on an unusable value."""
    return ApiConfig(
        tokens=TokenCodec(
            secret=settings.jwt_secret_key.get_secret_value(),
            algorithm=settings.jwt_algorithm,
            audience=settings.jwt_audience,
            lifetime=timedelta(minutes=settings.jwt_access_token_expire_minutes),
        ),
        limits=Limits(
            max_page_size=settings.max_page_size,
            max_k=settings.max_k,
            max_upload_bytes=settings.max_upload_bytes,
        ),
        backend=settings.backend,
        metrics_tenant_labels=settings.metrics_tenant_labels,
        allow_signup=settings.allow_signup,
        login_throttle=LoginThrottle.build(
            per_account_address=settings.login_limit_per_account_address,
            per_address=settings.login_limit_per_address,
            storage=settings.login_throttle_storage,
        ),
        database_url=None if settings.backend == "memory" else settings.database_url,
    )


def _operation_id(route: APIRoute) -> str:
    """Operation ids are the route functions' names (unique across the API): stable for client generators."""
    return route.name


def create_app(container: Container) -> FastAPI:
    config = api_config(container.settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(container) as rag, background_worker(rag, container.settings()), mcp.running():
            app.state.tenantrag = ApiContext(config=config, rag=rag)
            try:
                yield
            finally:
                app.state.tenantrag = None

    # Swagger UI and ReDoc from the app's own static files (fastapi-offline), not a CDN.
    app = FastAPIOffline(
        title="tenantrag",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        telemetry=fastapi_telemetry(container.settings().tracing),
    )
    app.state.tenantrag = None
    install_error_handlers(app)
    routers.include_v1(app)
    app.include_router(health.router)
    # MCP over streamable HTTP, for agents (entrypoints/mcp/http.py): API keys only.
    mcp = McpEndpoint(Tools(limits=config.limits))
    app.router.routes.append(Route(MCP_PATH, mcp, methods=MCP_METHODS, include_in_schema=False))
    app.add_middleware(BodySizeLimit, max_bytes=config.limits.max_body_bytes)
    install_observability(app, container.settings())  # outermost: sees every answer, 413s too
    install_openapi(
        app,
        max_page_size=config.limits.max_page_size,
        default_page_size=config.limits.default_page_size,
        max_k=config.limits.max_k,
        default_k=config.limits.default_k,
    )
    return app


def app_from_environment() -> FastAPI:
    """The app configured from the environment (and ``.env``), for ASGI servers' factory mode::

    uvicorn --factory tenantrag.entrypoints.http.app:app_from_environment

    Logging follows LOG_FORMAT and LOG_LEVEL (uvicorn's own configuration is replaced).
    """
    container = Container()
    settings = container.settings()
    configure_logging(settings.log_format, settings.log_level)
    return create_app(container)
