"""``tenantrag mcp``: the MCP server on stdin/stdout, for an agent on this machine.

An agent host (Claude Desktop, an IDE) starts the command and talks MCP over its pipes,
so stdout is the protocol's alone: everything for people goes to stderr. Unlike the other
commands, which act as the system, this one acts as an API key (read from the environment,
``TENANTRAG_API_KEY`` unless ``--api-key-env`` names another variable, never from the command
line, where other users could read it): the key's tenant and role cap bound every tool call.
The key is verified before serving (a bad key exits 7) and again at every call, so revoking
it cuts the agent off. The store is the usual settings' (``DATABASE_URL``...).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from tenantrag.domain.errors import AuthenticationFailed
from tenantrag.entrypoints.cli.runtime import DatabaseUrl, execute, load_settings, open_rag
from tenantrag.entrypoints.mcp import require_sdk
from tenantrag.entrypoints.mcp.tools import Caller, Tools, limits_of

DEFAULT_KEY_VARIABLE = "TENANTRAG_API_KEY"

ApiKeyEnv = Annotated[
    str,
    typer.Option(
        "--api-key-env",
        help="The environment variable that holds the API key the tools act as.",
        metavar="NAME",
    ),
]


def mcp(database_url: DatabaseUrl = None, api_key_env: ApiKeyEnv = DEFAULT_KEY_VARIABLE) -> None:
    """Serve tenantrag's tools to an AI agent over MCP on stdin/stdout (needs the mcp extra).

    The tools search, list and read the documents of one tenant, and add text documents when
    the key's role allows: they act as the API key in $TENANTRAG_API_KEY.
    """

    async def body() -> None:
        require_sdk()
        from tenantrag.entrypoints.mcp.server import build_server

        key = os.environ.get(api_key_env, "").strip()
        if not key:
            raise AuthenticationFailed(
                f"set {api_key_env} to an API key for the tools to act as"
                " (tenantrag apikey create TENANT --user EMAIL --name agent --role-cap viewer)"
            )
        settings = load_settings(database_url)
        async with open_rag(settings) as rag:
            principal = await rag.api_keys.verify(key)
            assert principal.tenant_id is not None  # an API key's principal is bound to its tenant
            tenant = await rag.tenants.get(principal, principal.tenant_id)
            cap = "none" if principal.role_cap is None else principal.role_cap.value
            typer.echo(
                f"tenantrag mcp: tenant {tenant.slug} (role cap {cap}) on"
                f" {settings.redacted_database_url}, serving MCP on stdin/stdout",
                err=True,
            )

            async def callers(_scope: Mapping[str, Any] | None) -> Caller:
                return Caller(rag, await rag.api_keys.verify(key))

            await build_server(callers, Tools(limits=limits_of(settings))).run_stdio_async()

    execute(body)
