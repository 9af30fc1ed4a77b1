"""The MCP server: tenantrag's search and documents as tools for LLM agents.

One server (``server.build_server``) over two transports: stdio for a local agent
(``tenantrag mcp``, ``entrypoints/cli/mcp.py``) and streamable HTTP at ``/mcp`` in
``tenantrag serve`` (``http.McpEndpoint``). Every tool call acts as the principal of an API
key, so the key's tenant and role cap bound what an agent can do, exactly as over the HTTP
API. It lives in ``entrypoints`` (not ``integrations``) because it is a delivery mechanism
of the container like the CLI and the HTTP API, which both start it.

The SDK (``mcp``) is an optional extra: only ``server.py`` and ``http.py`` import it, inside
functions, so every module here imports without it, and ``require_sdk`` says what to install.
"""

from __future__ import annotations

import importlib.util

from tenantrag.domain.errors import InvalidInput

INSTALL_HINT = "pip install 'tenantrag[mcp]'"


def sdk_installed() -> bool:
    """Whether the MCP Python SDK (the ``mcp`` extra) can be imported."""
    return importlib.util.find_spec("mcp") is not None


def require_sdk() -> None:
    """Refuse, naming the extra to install, when the MCP SDK is missing."""
    if not sdk_installed():
        raise InvalidInput("mcp", f"the MCP server needs the MCP Python SDK: {INSTALL_HINT}")
