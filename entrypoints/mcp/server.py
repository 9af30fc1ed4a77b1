"""``build_server``: the MCP server (the SDK's ``MCPServer``) with tenantrag's tools.

Each tool resolves its ``Caller`` first, through the transport's ``CallerSource``: over
HTTP the API key was verified for this request (``http.py`` put the caller in the ASGI
scope); over stdio the key of the process is verified again at every call, so a revoked
key stops working at once. Then ``tools.Tools`` does the work. A tool answers a text for
the model and the structured result its output schema describes; a refusal (``NotFound``,
``PermissionDenied``, a bad argument) is a tool error whose text starts with the domain's
``code``, so an agent can tell "not allowed" from "try other arguments".

The SDK is imported inside ``build_server`` (it is an optional extra), so the tools are
defined there too; this module deliberately has no ``from __future__ import annotations``,
because the SDK reads the tools' annotations (argument schemas, ``Context``, the output
model) at registration, and they must be objects, not names of the builder's locals.
"""

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from tenantrag import __version__
from tenantrag.domain.errors import TenantRagError
from tenantrag.entrypoints.http.errors import DOMAIN_STATUS, UNKNOWN_CODE_STATUS
from tenantrag.entrypoints.mcp import require_sdk
from tenantrag.entrypoints.mcp.results import AddedDocument, DocumentContent, DocumentList, SearchResult
from tenantrag.entrypoints.mcp.tools import DEFAULT_CHUNKS, DEFAULT_K, Caller, Tools

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

logger = logging.getLogger("tenantrag.mcp")

Result = SearchResult | DocumentList | DocumentContent | AddedDocument

#: Who calls: given the HTTP request's ASGI scope, or None over stdio.
CallerSource = Callable[[Mapping[str, Any] | None], Awaitable[Caller]]

NAME = "tenantrag"
INSTRUCTIONS = """\
tenantrag is a document store with search, scoped to one tenant (workspace): the tenant of the \
API key this server runs with, whose role also bounds what you may do (viewers read and search; \
members and above may also add documents). Start with `search` to find passages that answer a \
question, cite them by file name and document id, and use `read_document` to read around a hit. \
`list_documents` shows what the tenant holds. The `tenant` argument of every tool is optional: \
it defaults to the key's own tenant, and no other tenant can be reached."""

TENANT = Field(
    description="The tenant's slug or id; by default the API key's tenant (the only one it can reach)."
)
FILTER = Field(
    description="Which chunks may be returned: a JSON object of tenantrag's filter language, keys ANDed. "
    '`"metadata.<path>"`: $eq $ne $in $nin $lt $lte $gt $gte $exists (a bare value is $eq); '
    '`"tags"`: {"$any": [...]} or {"$all": [...]} (a bare tag is $all); `"document_id"` and '
    '`"status"`: $eq $ne $in $nin; `"created_at"`: ranges of ISO-8601 times with an offset; '
    '`"$and"`, `"$or"`: lists, `"$not"`: an object. Example: '
    '{"tags": {"$any": ["security"]}, "metadata.year": {"$gte": 2024}}.'
)
GROUP = "`chunks`: the k best passages; `documents`: the k best documents, each with its matching passages."
MATCH = (
    "text and hybrid modes: `any` (a passage holding any of the words matches) or `websearch` (every "
    'word needed, "quoted phrases", -exclusions, or).'
)
FILENAME = "A file name; its extension sets the format: .md Markdown, .html HTML, else plain text."


def build_server(callers: CallerSource, tools: Tools) -> "MCPServer[Any]":
    """The MCP server with tenantrag's tools, answering as the callers ``callers`` resolves."""
    require_sdk()
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.types import CallToolResult, TextContent, ToolAnnotations

    with _no_logging_setup():
        server: MCPServer[Any] = MCPServer(NAME, version=__version__, instructions=INSTRUCTIONS)

    async def answer(ctx: Context[Any, Any], run: Callable[[Caller], Awaitable[Result]]) -> CallToolResult:
        try:
            request = ctx.request_context.request
            result = await run(await callers(getattr(request, "scope", None)))
        except TenantRagError as error:
            return CallToolResult(content=[TextContent(type="text", text=_refusal(error))], is_error=True)
        except Exception:
            # Like the HTTP API's 500: the agent learns nothing internal; the log has it all.
            logger.exception("MCP tool call failed")
            failure = "internal_error: the server failed to handle the call"
            return CallToolResult(content=[TextContent(type="text", text=failure)], is_error=True)
        content = TextContent(type="text", text=result.text())
        return CallToolResult(content=[content], structured_content=result.model_dump(mode="json"))

    reading = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(
        title="Search the tenant's documents",
        description="Find the passages (chunks) or documents that best match a query. `hybrid` (the "
        "default) fuses meaning (vector) and words (BM25 full text); `vector` ranks by meaning only; "
        "`text` by words only. Every hit gives its document id, file name, chunk ordinal and content.",
        annotations=reading,
    )
    async def search(
        *,
        ctx: Context[Any, Any],
        query: Annotated[str, Field(description="A question or keywords, in natural language.")],
        mode: Annotated[Literal["hybrid", "vector", "text"], Field(description="How to rank.")] = "hybrid",
        k: Annotated[int, Field(description="How many passages (or documents) to return.")] = DEFAULT_K,
        filter: Annotated[dict[str, Any] | None, FILTER] = None,
        group: Annotated[
            Literal["chunks", "documents"],
            Field(description=GROUP),
        ] = "chunks",
        match: Annotated[
            Literal["any", "websearch"],
            Field(description=MATCH),
        ] = "any",
        tenant: Annotated[str | None, TENANT] = None,
    ) -> Annotated[CallToolResult, SearchResult]:
        return await answer(
            ctx,
            lambda caller: tools.search(
                caller, query=query, mode=mode, k=k, filter=filter, group=group, match=match, tenant=tenant
            ),
        )

    @server.tool(
        title="List the tenant's documents",
        description="List documents in the order they were added, with their ids, file names, titles, "
        "status, tags and metadata. Page with `cursor`.",
        annotations=reading,
    )
    async def list_documents(
        *,
        ctx: Context[Any, Any],
        status: Annotated[
            Literal["pending", "processing", "completed", "failed"] | None,
            Field(description="Only documents in this status (completed ones are searchable)."),
        ] = None,
        tag: Annotated[str | None, Field(description="Only documents with this tag.")] = None,
        limit: Annotated[int | None, Field(description="Documents per page.")] = None,
        cursor: Annotated[str | None, Field(description="The `next_cursor` of the previous page.")] = None,
        tenant: Annotated[str | None, TENANT] = None,
    ) -> Annotated[CallToolResult, DocumentList]:
        return await answer(
            ctx,
            lambda caller: tools.list_documents(
                caller, status=status, tag=tag, limit=limit, cursor=cursor, tenant=tenant
            ),
        )

    @server.tool(
        title="Read a document",
        description="Read a document's text, chunk by chunk in order, with its details. Read around a "
        "search hit with `first_chunk` set near the hit's ordinal.",
        annotations=reading,
    )
    async def read_document(
        *,
        ctx: Context[Any, Any],
        document_id: Annotated[str, Field(description="The document's id (from search or list_documents).")],
        first_chunk: Annotated[int, Field(description="The ordinal of the first chunk to return.")] = 0,
        max_chunks: Annotated[int, Field(description="How many chunks to return.")] = DEFAULT_CHUNKS,
        tenant: Annotated[str | None, TENANT] = None,
    ) -> Annotated[CallToolResult, DocumentContent]:
        return await answer(
            ctx,
            lambda caller: tools.read_document(
                caller, document_id=document_id, first_chunk=first_chunk, max_chunks=max_chunks, tenant=tenant
            ),
        )

    @server.tool(
        title="Add a text document",
        description="Store a text as a new document (or a new version of the document with the same "
        "`source_key`) and index it: searchable when this returns. Needs a key of role member or above.",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
        ),
    )
    async def add_text_document(
        *,
        ctx: Context[Any, Any],
        text: Annotated[str, Field(description="The document's text.")],
        filename: Annotated[
            str,
            Field(description=FILENAME),
        ],
        title: Annotated[str, Field(description="A title (Markdown: the first heading by default).")] = "",
        tags: Annotated[list[str] | None, Field(description="Tags, for filtering.")] = None,
        metadata: Annotated[dict[str, Any] | None, Field(description="JSON metadata, for filtering.")] = None,
        source_key: Annotated[
            str | None,
            Field(description="Your name for the source: adding under it again makes a new version."),
        ] = None,
        tenant: Annotated[str | None, TENANT] = None,
    ) -> Annotated[CallToolResult, AddedDocument]:
        return await answer(
            ctx,
            lambda caller: tools.add_text_document(
                caller,
                text=text,
                filename=filename,
                title=title,
                tags=tags,
                metadata=metadata,
                source_key=source_key,
                tenant=tenant,
            ),
        )

    return server


def _refusal(error: TenantRagError) -> str:
    """A domain error as a tool error's text: its code first. As over HTTP, what is the server's
    problem (an outage, a failed migration) is told without its details, which may name hosts."""
    status = DOMAIN_STATUS.get(error.code, UNKNOWN_CODE_STATUS)
    if status == 503:
        return f"{error.code}: the store or the embedder did not answer; retry shortly"
    if status >= 500:
        logger.error("MCP tool call failed: %s", error.code, exc_info=error)
        return "internal_error: the server failed to handle the call"
    return f"{error.code}: {error.message}"


@contextlib.contextmanager
def _no_logging_setup() -> Iterator[None]:
    """Construct the SDK's server without its ``logging.basicConfig`` taking over the root logger.

    ``MCPServer()`` calls ``basicConfig`` (a rich handler at INFO), which does nothing when the
    root logger has a handler: the CLI configures logging first, and an ASGI server embedding the
    app keeps its own; a placeholder handler covers any other case for the constructor's duration.
    """
    root = logging.getLogger()
    placeholder = logging.NullHandler()
    root.addHandler(placeholder)
    try:
        yield
    finally:
        root.removeHandler(placeholder)
