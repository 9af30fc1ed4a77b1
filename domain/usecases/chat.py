"""Chat sessions and their messages. A session is private to the user who started it."""

from __future__ import annotations

import uuid

import attrs

from tenantrag.domain.errors import NotFound
from tenantrag.domain.model.chat import ChatSession, Message, MessageRole
from tenantrag.domain.model.ids import new_id
from tenantrag.domain.pagination import Page, PageRequest
from tenantrag.domain.policy import Permission
from tenantrag.domain.ports.unit_of_work import TenantUnitOfWork
from tenantrag.domain.usecases.access import authorize
from tenantrag.domain.usecases.base import Service, as_id
from tenantrag.domain.usecases.principal import Principal


async def _own_session(uow: TenantUnitOfWork, actor: Principal, session_id: uuid.UUID) -> ChatSession:
    session = await uow.chat_sessions.get(session_id)
    if session is None or (session.user_id != actor.user_id and not actor.is_privileged):
        raise NotFound("chat session", session_id)
    return session


@attrs.define
class ChatService(Service):
    async def start(self, actor: Principal, tenant_id: uuid.UUID | str, *, title: str = "") -> ChatSession:
        now = self.clock.now()
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.CHAT)
            if actor.user_id is None:
                raise NotFound("user")
            session = ChatSession(
                id=new_id(), tenant_id=uow.tenant_id, user_id=actor.user_id, title=title,
                created_at=now, updated_at=now,
            )  # fmt: skip
            await uow.chat_sessions.add(session)
            await uow.commit()
        return session

    async def post(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        session_id: uuid.UUID | str,
        *,
        role: MessageRole | str,
        content: str,
    ) -> Message:
        now = self.clock.now()
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.CHAT)
            session = await _own_session(uow, actor, as_id("session_id", session_id))
            message = Message(
                id=new_id(), tenant_id=uow.tenant_id, session_id=session.id, role=role,
                content=content, created_at=now,
            )  # fmt: skip
            await uow.messages.add(message)
            await uow.chat_sessions.update(attrs.evolve(session, updated_at=now))
            await uow.commit()
        return message

    async def get(
        self, actor: Principal, tenant_id: uuid.UUID | str, session_id: uuid.UUID | str
    ) -> ChatSession:
        """One of the actor's own sessions (another user's is NotFound, as if it did not exist)."""
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.CHAT)
            return await _own_session(uow, actor, as_id("session_id", session_id))

    async def messages(
        self,
        actor: Principal,
        tenant_id: uuid.UUID | str,
        session_id: uuid.UUID | str,
        page: PageRequest | None = None,
    ) -> Page[Message]:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.CHAT)
            session = await _own_session(uow, actor, as_id("session_id", session_id))
            return await uow.messages.list(session.id, page or PageRequest())

    async def sessions(
        self, actor: Principal, tenant_id: uuid.UUID | str, page: PageRequest | None = None
    ) -> Page[ChatSession]:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.CHAT)
            return await uow.chat_sessions.list(page or PageRequest(), user_id=actor.user_id)

    async def delete(self, actor: Principal, tenant_id: uuid.UUID | str, session_id: uuid.UUID | str) -> None:
        async with self.uow.tenant(as_id("tenant_id", tenant_id)) as uow:
            await authorize(uow, actor, Permission.CHAT)
            session = await _own_session(uow, actor, as_id("session_id", session_id))
            await uow.chat_sessions.delete(session.id)
            await uow.commit()
