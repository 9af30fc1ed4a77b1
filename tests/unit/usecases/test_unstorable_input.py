"""The library refuses text no database stores (NUL, lone surrogates) with InvalidInput naming
the field, on both backends, before anything is written: metadata and settings at any depth,
names, tags, chat messages, queries, and a text document holding a NUL."""

from __future__ import annotations

import pytest

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tests.unit.usecases.workspace import Workspace

NUL = "a\x00b"


async def test_nul_is_refused_naming_the_field_and_nothing_is_written(
    app: TenantRag, workspace: Workspace
) -> None:
    owner, tenant = workspace.actor(Role.OWNER), workspace.tenant.id
    add = app.ingestion.add_text
    refusals = [
        (add(owner, tenant, filename="a.txt", text="x", metadata={"a": [{"b": NUL}]}), "metadata.a[0].b"),
        (add(owner, tenant, filename="a.txt", text="x", metadata={NUL: 1}), "metadata"),
        (add(owner, tenant, filename="a.txt", text="x", metadata={"s": "\ud800"}), "metadata.s"),
        (add(owner, tenant, filename=NUL, text="x"), "filename"),
        (add(owner, tenant, filename="a.txt", text="x", tags=["ok", NUL]), "tags"),
        (app.tenants.update(owner, tenant, settings={"deep": {"er": [NUL]}}), "settings.deep.er[0]"),
        (app.tenants.update(owner, tenant, name=NUL), "name"),
        (app.tenants.create(owner, name="New", settings={"x": NUL}), "settings.x"),
    ]
    for call, field in refusals:
        with pytest.raises(InvalidInput) as refused:
            await call
        assert refused.value.field == field
    session = await app.chat.start(owner, tenant, title="t")
    with pytest.raises(InvalidInput) as refused:
        await app.chat.post(owner, tenant, session.id, role="user", content=NUL)
    assert refused.value.field == "content"

    # A text document holding NUL is binary, not text: refused, not stored with the NUL dropped.
    with pytest.raises(InvalidInput, match="NUL"):
        await add(owner, tenant, filename="b.txt", text=NUL)
    listed = await app.documents.list(owner, tenant, PageRequest(limit=10))
    assert [d.filename for d in listed.items] == []
    assert (await app.tenants.get(owner, tenant)).settings == {}
