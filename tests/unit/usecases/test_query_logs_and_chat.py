"""Query logs with feedback, and private chat sessions."""

from __future__ import annotations

import pytest

from tenantrag.domain.errors import InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.query_log import Feedback
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tests.unit.usecases.workspace import Workspace


async def test_record_and_give_feedback(app: TenantRag, workspace: Workspace) -> None:
    member = workspace.actor(Role.MEMBER)
    document = await app.ingestion.add_text(member, workspace.tenant.id, filename="a.txt", text="alpha beta")
    [hit] = await app.search.search(member, workspace.tenant.id, text="alpha", k=1)
    log = await app.query_logs.record(
        member, workspace.tenant.id, query="alpha?", response="beta", sources=[(hit.chunk_id, hit.score)],
        latency_ms=12.5, token_count=7, metadata={"model": "test"},
    )  # fmt: skip
    assert log.sources[0].chunk_id == hit.chunk_id
    assert document.id == hit.document_id
    rated = await app.query_logs.give_feedback(
        member, workspace.tenant.id, log.id, feedback="thumbs_up", quality_score=0.9
    )
    assert rated.feedback is Feedback.THUMBS_UP
    assert (await app.query_logs.get(member, workspace.tenant.id, log.id)).quality_score == 0.9
    with pytest.raises(NotFound):
        await app.query_logs.give_feedback(
            workspace.actor(Role.VIEWER), workspace.tenant.id, log.id, feedback="thumbs_down"
        )
    with pytest.raises(InvalidInput):
        await app.query_logs.give_feedback(member, workspace.tenant.id, log.id, feedback="meh")


async def test_only_admins_read_every_log(app: TenantRag, workspace: Workspace) -> None:
    log = await app.query_logs.record(workspace.actor(Role.VIEWER), workspace.tenant.id, query="q")
    with pytest.raises(PermissionDenied):
        await app.query_logs.list(workspace.actor(Role.MEMBER), workspace.tenant.id)
    with pytest.raises(NotFound):
        await app.query_logs.get(workspace.actor(Role.MEMBER), workspace.tenant.id, log.id)
    assert (await app.query_logs.get(workspace.actor(Role.ADMIN), workspace.tenant.id, log.id)).id == log.id
    assert [
        entry.id
        for entry in (await app.query_logs.list(workspace.actor(Role.ADMIN), workspace.tenant.id)).items
    ] == [log.id]


async def test_chat_sessions_are_private(app: TenantRag, workspace: Workspace) -> None:
    member = workspace.actor(Role.MEMBER)
    session = await app.chat.start(member, workspace.tenant.id, title="Research")
    await app.chat.post(member, workspace.tenant.id, session.id, role="user", content="What do cats eat?")
    await app.chat.post(member, workspace.tenant.id, session.id, role="assistant", content="Mostly meat.")
    messages = await app.chat.messages(member, workspace.tenant.id, session.id)
    assert [(m.role.value, m.content) for m in messages.items] == [
        ("user", "What do cats eat?"), ("assistant", "Mostly meat."),
    ]  # fmt: skip
    admin = workspace.actor(Role.ADMIN)
    with pytest.raises(NotFound):
        await app.chat.messages(admin, workspace.tenant.id, session.id)
    assert (await app.chat.sessions(admin, workspace.tenant.id)).items == ()
    with pytest.raises(PermissionDenied):
        await app.chat.start(workspace.actor(Role.VIEWER), workspace.tenant.id)
    with pytest.raises(InvalidInput):
        await app.chat.post(member, workspace.tenant.id, session.id, role="robot", content="beep")
    await app.chat.delete(member, workspace.tenant.id, session.id)
    with pytest.raises(NotFound):
        await app.chat.messages(member, workspace.tenant.id, session.id)
