"""The MCP server in real processes, on a SQLite file, spoken to by the SDK's own client.

``tenantrag mcp`` over stdio, as an agent host starts it (``stdio_client`` + ``ClientSession``),
acting as the API key in ``TENANTRAG_API_KEY``; and ``tenantrag serve``, whose /mcp answers
the streamable HTTP client (``streamable_http_client``) on 127.0.0.1 with the key as a bearer
token. The command's refusals (no key, a bad key, no SDK) run in-process.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TextIO

import anyio
import httpx2
import pytest
from anyio.abc import Process
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent
from typer.testing import CliRunner

from tenantrag.domain.usecases.app import TenantRag
from tenantrag.entrypoints.cli.exit_codes import ExitCode
from tenantrag.entrypoints.cli.main import app as cli_app
from tenantrag.entrypoints.container import running
from tenantrag.entrypoints.settings import Settings
from tests.cli.conftest import clean_process_environment, console_script
from tests.entrypoints.conftest import clear_environment
from tests.http.helpers import DIMENSION, SECRET, make_container, make_settings
from tests.integrations.mcp_world import CATS, McpWorld, build_mcp_world

pytestmark = [pytest.mark.sqlite]
README = Path(__file__).parents[2] / "README.md"
SESSION_SECONDS = 90  # a whole session: the process's start (imports, the store) and every call


@pytest.fixture
def store(tmp_path: Path) -> tuple[Settings, dict[str, str]]:
    """A migrated SQLite file, its settings, and the environment the server process gets."""
    from tenantrag.adapters.sql import migrations

    url = f"sqlite:///{tmp_path / 'agents.sqlite'}"
    migrations.upgrade(url, embedding_dimension=DIMENSION)
    environment = {
        "DATABASE_URL": url,
        "ENVIRONMENT": "test",
        "JWT_SECRET_KEY": SECRET,
        "EMBEDDER": "hashing",
        "EMBEDDING_DIMENSION": str(DIMENSION),
    }
    return make_settings(url), environment


@asynccontextmanager
async def store_rag(settings: Settings) -> AsyncIterator[TenantRag]:
    async with running(make_container(settings)) as rag:
        yield rag


@pytest.fixture
async def world(store: tuple[Settings, dict[str, str]]) -> McpWorld:
    async with store_rag(store[0]) as rag:
        return await build_mcp_world(rag)


def readme_example(language: str) -> str:
    """The first block in ``language`` of README's MCP section."""
    text = README.read_text(encoding="utf-8")
    body = text.split("\n## Give agents tools over MCP\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"```{language}\n(.*?)```", body, re.DOTALL)
    assert found is not None, f"README's MCP section has no {language} block"
    return found.group(1)


@asynccontextmanager
async def agent(database_url: str, key: str, errlog: TextIO, folder: Path) -> AsyncIterator[ClientSession]:
    """The server started as README's host configuration says (its values filled in), and an
    initialized session with it."""
    config = json.loads(readme_example("json"))["mcpServers"]["tenantrag"]
    assert set(config["env"]) == {"TENANTRAG_API_KEY", "DATABASE_URL"}
    assert config["command"] == "tenantrag"
    server = StdioServerParameters(
        command=console_script(),  # "tenantrag", as installed beside this Python
        args=config["args"],
        env=clean_process_environment(TENANTRAG_API_KEY=key, DATABASE_URL=database_url),
        cwd=folder,
    )
    async with stdio_client(server, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def error_text(result: CallToolResult) -> str:
    """The text of a tool error (a refusal: the call itself went through)."""
    assert result.is_error, text_of(result)
    assert result.structured_content is None
    return text_of(result)


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    content: dict[str, Any] | None = result.structured_content
    assert content is not None
    return content


@pytest.mark.slow
async def test_a_viewer_key_searches_and_reads_its_tenant_only(
    store: tuple[Settings, dict[str, str]], world: McpWorld, tmp_path: Path
) -> None:
    settings, environment = store
    with (tmp_path / "server.log").open("w+") as errlog:
        with anyio.fail_after(SESSION_SECONDS):
            async with agent(environment["DATABASE_URL"], world.viewer_key, errlog, tmp_path) as session:
                tools = {tool.name for tool in (await session.list_tools()).tools}
                found = await session.call_tool("search", {"query": "why do cats purr?"})
                listed = await session.call_tool("list_documents", {})
                write = await session.call_tool("add_text_document", {"text": "Parrots.", "filename": "p.md"})
                other = await session.call_tool("search", {"query": "cats", "tenant": world.globex.slug})
                their = await session.call_tool("read_document", {"document_id": str(world.globex_note.id)})
                # Revoked while the agent runs: its next call is refused.
                async with store_rag(settings) as rag:
                    keys = await rag.api_keys.list(world.owner, world.acme.id)
                    viewer = next(key for key in keys.items if key.name == "agent-viewer")
                    await rag.api_keys.revoke(world.owner, world.acme.id, viewer.id)
                revoked = await session.call_tool("list_documents", {})
        errlog.seek(0)
        log = errlog.read()

    assert tools == {"search", "list_documents", "read_document", "add_text_document"}
    hits = structured(found)["hits"]
    assert hits[0]["document_id"] == str(world.cats.id)
    assert hits[0]["filename"] == "cats.md"
    assert CATS in text_of(found)
    assert {hit["document_id"] for hit in hits} <= {str(i) for i in world.acme_ids}
    assert {d["id"] for d in structured(listed)["documents"]} == {str(i) for i in world.acme_ids}
    assert error_text(write).startswith("permission_denied:")
    assert error_text(other) == f"not_found: tenant {world.globex.slug} not found"
    assert error_text(their).startswith("not_found: document")
    assert error_text(revoked).startswith("authentication_failed:")
    assert f"tenant {world.acme.slug} (role cap viewer)" in log
    async with store_rag(settings) as rag:
        listed_after = await rag.documents.list(world.owner, world.acme.id)
    assert {d.id for d in listed_after.items} == world.acme_ids


@pytest.mark.slow
async def test_a_member_key_adds_a_document_an_agent_then_finds(
    store: tuple[Settings, dict[str, str]], world: McpWorld, tmp_path: Path
) -> None:
    settings, environment = store
    with (tmp_path / "server.log").open("w+") as errlog, anyio.fail_after(SESSION_SECONDS):
        async with agent(environment["DATABASE_URL"], world.member_key, errlog, tmp_path) as session:
            added = structured(
                await session.call_tool(
                    "add_text_document",
                    {"text": "Parrots mimic human speech.", "filename": "parrots.txt", "tags": ["birds"]},
                )
            )
            found = structured(
                await session.call_tool(
                    "search", {"query": "parrots", "mode": "text", "filter": {"tags": "birds"}}
                )
            )
    assert added["document"]["status"] == "completed"
    assert [hit["document_id"] for hit in found["hits"]] == [added["document"]["id"]]
    async with store_rag(settings) as rag:
        stored = await rag.documents.get(world.owner, world.acme.id, added["document"]["id"])
    assert stored.tags == ("birds",)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_until_serving(base: str, server: Process, log: Path) -> None:
    async with httpx2.AsyncClient() as http:
        while True:
            if server.returncode is not None:
                output = await anyio.Path(log).read_text()
                pytest.fail(f"tenantrag serve exited with {server.returncode}:\n{output}")
            try:
                if (await http.get(f"{base}/health", timeout=2)).status_code == 200:
                    return
            except httpx2.TransportError:
                await anyio.sleep(0.1)


@pytest.mark.slow
async def test_tenantrag_serve_answers_mcp_at_its_path(
    store: tuple[Settings, dict[str, str]],
    world: McpWorld,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = await anyio.open_process(
            [sys.executable, "-m", "tenantrag.entrypoints.cli", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=clean_process_environment(**store[1], EMBEDDED_WORKER="false"),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        with anyio.fail_after(SESSION_SECONDS):
            await _wait_until_serving(base, server, log)
            bearer = {"Authorization": f"Bearer {world.viewer_key}"}
            async with (
                httpx2.AsyncClient(headers=bearer) as http,
                streamable_http_client(f"{base}/mcp", http_client=http) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                found = await session.call_tool(
                    "search", {"query": "why do cats purr?", "group": "documents"}
                )
                refused = await session.call_tool("add_text_document", {"text": "x", "filename": "x.md"})
            async with httpx2.AsyncClient() as http:
                anonymous = await http.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            # README's Python client, as pasted (it runs its own event loop: in a thread).
            example = compile(readme_example("python"), "README.md", "exec")
            variables = {"TENANTRAG_API_KEY": world.viewer_key, "TENANTRAG_MCP_URL": f"{base}/mcp"}
            with pytest.MonkeyPatch.context() as patch:
                for name, value in variables.items():
                    patch.setenv(name, value)
                await anyio.to_thread.run_sync(exec, example, {"__name__": "readme_mcp"})
    finally:
        server.terminate()
        with anyio.fail_after(30):
            await server.wait()
    documents = structured(found)["documents"]
    assert documents[0]["document_id"] == str(world.cats.id)
    assert {d["document_id"] for d in documents} <= {str(i) for i in world.acme_ids}
    assert error_text(refused).startswith("permission_denied:")
    assert anonymous.status_code == 401
    assert "Traceback" not in await anyio.Path(log).read_text()
    printed = capsys.readouterr().out
    assert "[1] cats.md" in printed
    assert CATS in printed


@pytest.fixture
def command_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: tuple[Settings, dict[str, str]]
) -> Path:
    clear_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)
    for name, value in store[1].items():
        monkeypatch.setenv(name, value)
    return tmp_path


def _run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli_app, ["mcp", *args], env=env, catch_exceptions=False)


def test_without_a_key_the_command_says_what_to_set(command_env: Path) -> None:
    result = _run(env={"TENANTRAG_API_KEY": ""})
    assert result.exit_code == ExitCode.AUTHENTICATION_FAILED
    assert "set TENANTRAG_API_KEY to an API key" in result.stderr
    named = _run("--api-key-env", "AGENT_KEY")
    assert named.exit_code == ExitCode.AUTHENTICATION_FAILED
    assert "set AGENT_KEY to an API key" in named.stderr


async def test_a_bad_key_is_refused_before_serving(command_env: Path, world: McpWorld) -> None:
    # The command runs its own event loop: in a worker thread, away from the test's.
    bad = await anyio.to_thread.run_sync(
        lambda: _run(env={"TENANTRAG_API_KEY": "trk_000000000000_notarealsecretnotarealsecret"})
    )
    assert bad.exit_code == ExitCode.AUTHENTICATION_FAILED
    assert "invalid, expired or revoked API key" in bad.stderr
    assert bad.stdout == ""  # stdout is the protocol's: nothing else is ever written there


def test_without_the_extra_the_command_names_it(command_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)  # find_spec("mcp") is then None: not installed
    result = _run(env={"TENANTRAG_API_KEY": "trk_000000000000_notarealsecretnotarealsecret"})
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert "pip install 'tenantrag[mcp]'" in result.stderr


def test_the_command_is_listed_in_help(command_env: Path) -> None:
    result = CliRunner().invoke(cli_app, ["mcp", "--help"])
    assert result.exit_code == 0
    assert "--api-key-env" in result.stdout
