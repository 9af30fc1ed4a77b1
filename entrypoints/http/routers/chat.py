"""``/v1/tenants/{tenant}/chat/sessions``: a user's conversations and their messages.

A session is private to the user who started it: others (admins included) get 404.
"""

from __future__ import annotations

import uuid

from fastapi import Response, status

from tenantrag.entrypoints.http.dependencies import App, CurrentPrincipal, Paging, TenantId
from tenantrag.entrypoints.http.openapi import problems
from tenantrag.entrypoints.http.routing import api_router
from tenantrag.entrypoints.http.schemas import (
    ChatSessionCreate,
    ChatSessionOut,
    ChatSessionPage,
    MessageCreate,
    MessageOut,
    MessagePage,
)

router = api_router(prefix="/tenants/{tenant}/chat/sessions", tag="chat")


@router.post("", status_code=status.HTTP_201_CREATED, responses=problems(400, 401, 403, 404, 422))
async def start_session(
    tenant: TenantId, body: ChatSessionCreate, actor: CurrentPrincipal, rag: App
) -> ChatSessionOut:
    return ChatSessionOut.of(await rag.chat.start(actor, tenant, title=body.title))


@router.get("", responses=problems(401, 403, 404, 422))
async def list_sessions(tenant: TenantId, page: Paging, actor: CurrentPrincipal, rag: App) -> ChatSessionPage:
    """The caller's own sessions."""
    result = await rag.chat.sessions(actor, tenant, page)
    return ChatSessionPage(items=[ChatSessionOut.of(s) for s in result.items], next_cursor=result.next_cursor)


@router.get("/{session_id}", responses=problems(401, 403, 404, 422))
async def get_session(
    tenant: TenantId, session_id: uuid.UUID, actor: CurrentPrincipal, rag: App
) -> ChatSessionOut:
    return ChatSessionOut.of(await rag.chat.get(actor, tenant, session_id))


@router.delete(
    "/{session_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401, 403, 404, 422)
)
async def delete_session(
    tenant: TenantId, session_id: uuid.UUID, actor: CurrentPrincipal, rag: App
) -> Response:
    """Delete a session with its messages."""
    await rag.chat.delete(actor, tenant, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{session_id}/messages", responses=problems(401, 403, 404, 422))
async def list_messages(
    tenant: TenantId, session_id: uuid.UUID, page: Paging, actor: CurrentPrincipal, rag: App
) -> MessagePage:
    """A session's messages, oldest first."""
    result = await rag.chat.messages(actor, tenant, session_id, page)
    return MessagePage(items=[MessageOut.of(m) for m in result.items], next_cursor=result.next_cursor)


@router.post(
    "/{session_id}/messages", status_code=status.HTTP_201_CREATED, responses=problems(400, 401, 403, 404, 422)
)
async def post_message(
    tenant: TenantId, session_id: uuid.UUID, body: MessageCreate, actor: CurrentPrincipal, rag: App
) -> MessageOut:
    return MessageOut.of(await rag.chat.post(actor, tenant, session_id, role=body.role, content=body.content))
