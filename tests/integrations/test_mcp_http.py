"""The MCP server over streamable HTTP, at /mcp in the API's app, through the SDK's own client.

The client (``ClientSession`` over ``streamable_http_client``) reaches the app in-process
(httpx2's ASGI transport, the SDK's HTTP library) with its lifespan entered, as uvicorn runs
it (test_mcp_processes.py talks to ``tenantrag serve`` itself). Every call acts as an API key,
sent as a bearer token: its tenant is the only one reachable, its role cap bounds each tool.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from dependency_injector import providers
from fastapi import FastAPI
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent

from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.domain.errors import Unavailable
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.http.context import ApiContext
from tenantrag.entrypoints.settings import Settings
from tests.http.helpers import BASE_URL, DIMENSION, make_container, make_settings
from tests.integrations.mcp_world import CATS, McpWorld, build_mcp_world

BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
]
# What does not depend on the backend runs on SQLite alone; roles and tenants on both.
sqlite_only = pytest.mark.parametrize(
    "settings", [pytest.param("sqlite", marks=pytest.mark.sqlite)], indirect=True
)
MCP_URL = f"{BASE_URL}/mcp"
CALL_SECONDS = 30  # an upper bound on any one exchange, so a hang fails instead of stalling


@pytest.fixture(scope="session")
def mcp_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tenantrag.adapters.sql import migrations

    path = tmp_path_factory.mktemp("mcp-sqlite") / "template.sqlite"
    migrations.upgrade(f"sqlite:///{path}", embedding_dimension=DIMENSION)
    return path


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("mcp_sqlite_template")
        shutil.copyfile(template, tmp_path / "mcp.sqlite")
        return make_settings(f"sqlite:///{tmp_path / 'mcp.sqlite'}")
    database = request.getfixturevalue("postgres_database")(DIMENSION)
    return make_settings(database, auto_migrate=False, blob_store_path=tmp_path / "blobs")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(make_container(settings))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def rag(app: FastAPI) -> TenantRag:
    context = app.state.tenantrag
    assert isinstance(context, ApiContext)
    return context.rag


@pytest.fixture
async def world(rag: TenantRag) -> McpWorld:
    return await build_mcp_world(rag)


def _http(app: FastAPI, headers: dict[str, str]) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE_URL, headers=headers)


@asynccontextmanager
async def connected(app: FastAPI, key: str) -> AsyncIterator[ClientSession]:
    """An initialized MCP session as ``key``."""
    async with (
        _http(app, {"Authorization": f"Bearer {key}"}) as http,
        streamable_http_client(MCP_URL, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        with anyio.fail_after(CALL_SECONDS):
            await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> CallToolResult:
    with anyio.fail_after(CALL_SECONDS):
        return await session.call_tool(tool, arguments)


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


@sqlite_only
async def test_tools_are_listed_with_their_schemas(app: FastAPI, world: McpWorld) -> None:
    async with connected(app, world.viewer_key) as session:
        with anyio.fail_after(CALL_SECONDS):
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert set(tools) == {"search", "list_documents", "read_document", "add_text_document"}
    assert all(tool.output_schema is not None for tool in tools.values())
    search = tools["search"].input_schema["properties"]
    assert search["mode"]["enum"] == ["hybrid", "vector", "text"]
    assert search["group"]["enum"] == ["chunks", "documents"]
    assert tools["search"].input_schema["required"] == ["query"]
    assert tools["search"].annotations is not None
    assert tools["search"].annotations.read_only_hint
    assert tools["add_text_document"].annotations is not None
    assert tools["add_text_document"].annotations.read_only_hint is False


@pytest.mark.parametrize("mode", ["hybrid", "vector", "text"])
async def test_search_finds_the_right_document_in_every_mode(
    app: FastAPI, world: McpWorld, mode: str
) -> None:
    async with connected(app, world.viewer_key) as session:
        result = await call(session, "search", query="why do cats purr?", mode=mode, k=5)
    found = structured(result)
    assert found["mode"] == mode
    assert found["tenant_id"] == str(world.acme.id)
    assert found["hits"][0]["document_id"] == str(world.cats.id)
    assert found["hits"][0]["filename"] == "cats.md"
    assert found["hits"][0]["content"] == CATS
    # Never another tenant's note, though it speaks of purring too.
    assert {hit["document_id"] for hit in found["hits"]} <= {str(i) for i in world.acme_ids}
    assert found["query_log_id"] is not None
    text = text_of(result)
    assert "[1] cats.md" in text
    assert "Cats purr when they are content" in text
    assert "Globex" not in text


@sqlite_only
async def test_search_by_document_with_a_filter(app: FastAPI, world: McpWorld) -> None:
    async with connected(app, world.viewer_key) as session:
        grouped = structured(await call(session, "search", query="cats and keys", group="documents", k=5))
        filtered = structured(
            await call(session, "search", query="cats and keys", filter={"metadata.year": {"$gte": 2024}})
        )
        excluded = structured(
            await call(session, "search", query="cats", mode="text", filter={"tags": "none"})
        )
    assert grouped["group"] == "documents"
    assert {d["document_id"] for d in grouped["documents"]} == {str(i) for i in world.acme_ids}
    assert all(d["chunks"] and d["filename"] for d in grouped["documents"])
    assert {hit["document_id"] for hit in filtered["hits"]} == {str(world.keys_note.id)}
    assert excluded["hits"] == []
    assert excluded["empty_reason"]["code"] == "filter_excludes_all"


@sqlite_only
async def test_bad_arguments_are_tool_errors_naming_the_field(app: FastAPI, world: McpWorld) -> None:
    async with connected(app, world.viewer_key) as session:
        bad_filter = await call(
            session, "search", query="cats", filter={"metadata.year": {"$gt": "x", "$lt": []}}
        )
        too_many = await call(session, "search", query="cats", k=10_000)
        bad_mode = await call(session, "search", query="cats", mode="semantic")
    assert error_text(bad_filter).startswith("invalid_input: filter.metadata.year")
    assert error_text(too_many).startswith("invalid_input: k: must be from 1 to")
    assert "mode" in error_text(bad_mode)  # the SDK checks arguments against the schema


@sqlite_only
async def test_list_and_read_documents(app: FastAPI, world: McpWorld) -> None:
    async with connected(app, world.viewer_key) as session:
        first = structured(await call(session, "list_documents", limit=1))
        second = structured(await call(session, "list_documents", limit=1, cursor=first["next_cursor"]))
        pets = structured(await call(session, "list_documents", tag="pets"))
        read = await call(session, "read_document", document_id=str(world.cats.id))
    listed = [d["id"] for d in first["documents"] + second["documents"]]
    assert sorted(listed) == sorted(str(i) for i in world.acme_ids)
    assert second["next_cursor"] is None
    assert [d["filename"] for d in pets["documents"]] == ["cats.md"]
    content = structured(read)
    assert content["document"]["title"] == "Cats"
    assert content["document"]["tags"] == ["pets"]
    assert [chunk["content"] for chunk in content["chunks"]] == [CATS]
    assert content["total_chunks"] == 1
    assert content["next_chunk"] is None
    assert CATS in text_of(read)


@sqlite_only
async def test_a_long_document_is_read_a_range_of_chunks_at_a_time(app: FastAPI, world: McpWorld) -> None:
    paragraphs = [f"Paragraph {n}: " + " ".join(f"word{n}x{i}" for i in range(120)) for n in range(6)]
    async with connected(app, world.member_key) as session:
        added = structured(
            await call(session, "add_text_document", text="\n\n".join(paragraphs), filename="long.txt")
        )
        document_id = added["document"]["id"]
        total = added["document"]["chunk_count"]
        pages = []
        first: int | None = 0
        while first is not None:
            page = structured(
                await call(session, "read_document", document_id=document_id, first_chunk=first, max_chunks=2)
            )
            pages.append(page)
            first = page["next_chunk"]
        past_the_end = structured(
            await call(session, "read_document", document_id=document_id, first_chunk=total)
        )
        negative = await call(session, "read_document", document_id=document_id, first_chunk=-1)
        not_an_id = await call(session, "read_document", document_id="cats.md")
    assert total >= 3
    ordinals = [chunk["ordinal"] for page in pages for chunk in page["chunks"]]
    assert ordinals == list(range(total))
    assert all(len(page["chunks"]) <= 2 for page in pages)
    assert all(page["total_chunks"] == total for page in pages)
    assert pages[-1]["chunks"][-1]["content"].endswith("word5x119")  # the text's end
    assert past_the_end["chunks"] == []
    assert past_the_end["next_chunk"] is None
    assert error_text(negative) == "invalid_input: first_chunk: must be 0 or more, got -1"
    assert error_text(not_an_id).startswith("invalid_input: document_id")


async def test_viewer_key_cannot_add_a_document(app: FastAPI, rag: TenantRag, world: McpWorld) -> None:
    async with connected(app, world.viewer_key) as session:
        refused = await call(session, "add_text_document", text="Parrots talk.", filename="parrots.md")
    assert error_text(refused).startswith("permission_denied:")
    listed = await rag.documents.list(world.owner, world.acme.id)
    assert {d.id for d in listed.items} == world.acme_ids


async def test_member_key_adds_a_document_it_then_finds(app: FastAPI, world: McpWorld) -> None:
    async with connected(app, world.member_key) as session:
        added = structured(
            await call(
                session, "add_text_document", text="# Parrots\n\nParrots mimic human speech.",
                filename="parrots.md", tags=["pets"], metadata={"year": 2026}, source_key="kb/parrots",
            )
        )  # fmt: skip
        found = structured(await call(session, "search", query="which birds mimic speech?", mode="text"))
    assert added["document"]["status"] == "completed"
    assert added["document"]["chunk_count"] >= 1
    assert found["hits"][0]["document_id"] == added["document"]["id"]


async def test_another_tenant_is_not_found(app: FastAPI, rag: TenantRag, world: McpWorld) -> None:
    async with connected(app, world.member_key) as session:
        own = await call(session, "search", query="cats", tenant=world.acme.slug)
        by_slug = await call(session, "search", query="cats", tenant=world.globex.slug)
        by_id = await call(session, "list_documents", tenant=str(world.globex.id))
        their_document = await call(session, "read_document", document_id=str(world.globex_note.id))
        write = await call(session, "add_text_document", text="x", filename="x.md", tenant=world.globex.slug)
    assert structured(own)["tenant_id"] == str(world.acme.id)
    # Exactly as for a tenant that does not exist: nothing says Globex is there.
    assert error_text(by_slug) == f"not_found: tenant {world.globex.slug} not found"
    assert error_text(by_id) == f"not_found: tenant {world.globex.id} not found"
    assert error_text(their_document) == f"not_found: document {world.globex_note.id} not found"
    assert error_text(write) == f"not_found: tenant {world.globex.slug} not found"
    globex = await rag.documents.list(world.globex_owner, world.globex.id)
    assert [d.id for d in globex.items] == [world.globex_note.id]


@sqlite_only
@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "authentication required"),
        (
            {"Authorization": "Bearer trk_000000000000_notarealsecretnotarealsecret"},
            "invalid, expired or revoked",
        ),
        ({"Authorization": "Bearer trk_malformed"}, "malformed API key"),
        ({"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"}, "takes an API key"),
    ],
    ids=["none", "unknown", "malformed", "login-token"],
)
async def test_requests_without_a_valid_key_are_refused(
    app: FastAPI, world: McpWorld, headers: dict[str, str], detail: str
) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    async with _http(app, headers) as http:
        response = await http.post(
            "/mcp", json=body, headers={"Accept": "application/json, text/event-stream"}
        )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["code"] == "authentication_failed"
    assert detail in response.json()["detail"]


@sqlite_only
async def test_the_sdk_client_cannot_connect_without_a_valid_key(app: FastAPI, world: McpWorld) -> None:
    with pytest.raises(ExceptionGroup) as raised:  # the SDK reports the 401 from its task group
        async with connected(app, "trk_000000000000_notarealsecretnotarealsecret"):
            pass
    assert raised.group_contains(MCPError, depth=None)


@sqlite_only
async def test_a_revoked_key_stops_working_at_once(app: FastAPI, rag: TenantRag, world: McpWorld) -> None:
    keys = await rag.api_keys.list(world.owner, world.acme.id)
    viewer = next(key for key in keys.items if key.name == "agent-viewer")
    async with connected(app, world.viewer_key) as session:
        assert not (await call(session, "list_documents")).is_error
        await rag.api_keys.revoke(world.owner, world.acme.id, viewer.id)
        with pytest.raises(MCPError):
            await call(session, "list_documents")


@pytest.mark.sqlite
async def test_the_deployment_limits_apply_to_the_tools(mcp_sqlite_template: Path, tmp_path: Path) -> None:
    shutil.copyfile(mcp_sqlite_template, tmp_path / "small.sqlite")
    settings = make_settings(
        f"sqlite:///{tmp_path / 'small.sqlite'}", max_upload_bytes=64, max_k=3, max_page_size=2
    )
    app = create_app(make_container(settings))
    async with app.router.lifespan_context(app):
        world = await build_mcp_world(app.state.tenantrag.rag)
        async with connected(app, world.member_key) as session:
            big = await call(session, "add_text_document", text="é" * 40, filename="big.txt")
            many = await call(session, "search", query="cats", k=4)
            page = await call(session, "list_documents", limit=3)
            fits = await call(session, "add_text_document", text="Small note.", filename="small.txt")
    assert error_text(big) == "invalid_input: text: is 80 bytes; at most 64 are accepted (MAX_UPLOAD_BYTES)"
    assert error_text(many) == "invalid_input: k: must be from 1 to 3, got 4"
    assert error_text(page) == "invalid_input: limit: must be from 1 to 2, got 3"
    assert structured(fits)["document"]["status"] == "completed"


class QueryEmbeddingDown(HashingEmbedder):
    """Embeds documents, but its query embeddings time out (an embedding service gone away)."""

    async def embed_query(self, text: str) -> tuple[float, ...]:
        raise Unavailable("the embedder at http://embedder.internal:8080 timed out")


@pytest.mark.sqlite
async def test_an_outage_is_told_without_its_details(mcp_sqlite_template: Path, tmp_path: Path) -> None:
    shutil.copyfile(mcp_sqlite_template, tmp_path / "outage.sqlite")
    container = make_container(make_settings(f"sqlite:///{tmp_path / 'outage.sqlite'}"))
    container.embedder.override(providers.Object(QueryEmbeddingDown(DIMENSION)))
    app = create_app(container)
    async with app.router.lifespan_context(app):
        world = await build_mcp_world(app.state.tenantrag.rag)
        async with connected(app, world.viewer_key) as session:
            hybrid = await call(session, "search", query="why do cats purr?")
            text = await call(session, "search", query="why do cats purr?", mode="text")
    assert error_text(hybrid) == "unavailable: the store or the embedder did not answer; retry shortly"
    assert structured(text)["hits"][0]["document_id"] == str(world.cats.id)  # no embedding needed


@pytest.mark.sqlite
async def test_without_the_extra_the_endpoint_names_it(
    monkeypatch: pytest.MonkeyPatch, mcp_sqlite_template: Path, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)  # find_spec("mcp") is then None: not installed
    shutil.copyfile(mcp_sqlite_template, tmp_path / "bare.sqlite")
    app = create_app(make_container(make_settings(f"sqlite:///{tmp_path / 'bare.sqlite'}")))
    async with app.router.lifespan_context(app), _http(app, {}) as http:
        response = await http.post("/mcp", json={})
        health = await http.get("/health")
    assert response.status_code == 501
    assert "pip install 'tenantrag[mcp]'" in response.json()["detail"]
    assert health.status_code == 200
