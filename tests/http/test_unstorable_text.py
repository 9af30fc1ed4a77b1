"""Text no database stores (NUL, lone surrogates) is a 422 naming the field on every backend,
wherever it enters: metadata at any depth, tenant settings, names, tags, chat messages, queries.

SQLite would store a NUL that PostgreSQL refuses (a 500 before): the domain refuses it first,
so both backends answer alike, and nothing is written (no document, no blob).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tenantrag.domain.policy import Role
from tenantrag.entrypoints.settings import Settings
from tests.http.helpers import assert_problem
from tests.http.world import World

NUL = "a\x00b"


def _blob_files(settings: Settings) -> list[Path]:
    folder = settings.blob_store_folder
    return [] if folder is None or not folder.exists() else [p for p in folder.rglob("*") if p.is_file()]


async def test_nul_in_document_metadata_is_refused_naming_the_path_and_writes_nothing(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> None:
    docs = f"/v1/tenants/{world.tenant.slug}/documents"
    member = world.as_role(Role.MEMBER)
    before = _blob_files(settings)
    cases = [
        ({"author": NUL}, "metadata.author"),
        ({"authors": [{"name": "x"}, {"name": NUL}]}, "metadata.authors[1].name"),
        ({"deep": {"k\x00": 1}}, "metadata.deep"),
        # The HTTP API refuses a lone surrogate while decoding the body (routing.loads).
        ({"lone": "\ud800"}, "body"),
    ]
    for metadata, field in cases:
        body = {"filename": "a.txt", "text": "hello", "metadata": metadata}
        # The JSON body carries the characters escaped, as any client sends them.
        raw = json.dumps(body).encode()
        response = await client.post(
            docs,
            content=raw,
            params={"wait": "true"},
            headers={**member, "content-type": "application/json"},
        )
        assert_problem(response, 422, "invalid_input", field=field)
    upload = await client.post(
        f"{docs}/upload",
        files={"file": ("a.txt", b"hello", "text/plain")},
        data={"metadata": json.dumps({"x": NUL})},
        headers=member,
    )
    assert_problem(upload, 422, "invalid_input", field="metadata.x")
    assert (await client.get(docs, headers=member)).json()["items"] == []
    assert _blob_files(settings) == before


async def test_nul_in_names_tags_settings_messages_and_queries_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    owner = world.owner_headers()
    tenant = f"/v1/tenants/{world.tenant.id}"
    refused = [
        ("POST", f"{tenant}/documents", {"filename": NUL, "text": "x"}, "filename"),
        ("POST", f"{tenant}/documents", {"filename": "a.txt", "text": "x", "tags": [NUL]}, "tags"),
        ("POST", f"{tenant}/documents", {"filename": "a.txt", "text": "x", "title": NUL}, "title"),
        ("PATCH", tenant, {"settings": {"theme": {"color": NUL}}}, "settings.theme.color"),
        ("PATCH", tenant, {"name": NUL}, "name"),
        ("POST", "/v1/tenants", {"name": "New", "settings": {"a": [NUL]}}, "settings.a[0]"),
        ("POST", f"{tenant}/search", {"query": NUL, "mode": "text"}, "query"),
    ]
    for method, url, body, field in refused:
        response = await client.request(
            method, url, content=json.dumps(body), headers={**owner, "content-type": "application/json"}
        )
        assert_problem(response, 422, "invalid_input", field=field)

    session = await client.post(f"{tenant}/chat/sessions", json={"title": "t"}, headers=owner)
    assert session.status_code == 201, session.text
    message = await client.post(
        f"{tenant}/chat/sessions/{session.json()['id']}/messages",
        content=json.dumps({"role": "user", "content": NUL}),
        headers={**owner, "content-type": "application/json"},
    )
    assert_problem(message, 422, "invalid_input", field="content")

    # Escaped text that merely looks like NUL is ordinary text.
    fine = await client.patch(
        tenant, json={"settings": {"note": "\\u0000", "emoji": "\U0001f600"}}, headers=owner
    )
    assert fine.status_code == 200, fine.text
    assert fine.json()["settings"] == {"note": "\\u0000", "emoji": "\U0001f600"}
