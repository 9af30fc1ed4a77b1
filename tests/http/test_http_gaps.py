"""The HTTP API's gaps of issue 20: hits name their document, one name for a new key's secret,
password change, optional sign-up, downloading an original, and 415 for unsupported uploads."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.settings import Settings
from tests.http.helpers import BASE_URL, assert_problem, make_container, make_settings, memory_only
from tests.http.world import World

PASSWORD = "correct horse battery staple 42"
NEW_PASSWORD = "another long passphrase 2026!"


@memory_only
@pytest.mark.parametrize("group", ["chunks", "documents"])
async def test_search_hits_name_their_document(client: httpx.AsyncClient, world: World, group: str) -> None:
    await world.rag.ingestion.add_text(
        world.owner, world.tenant.id, filename="owls.md", title="Night birds", text="Owls hunt mice at night."
    )
    found = await client.post(
        f"/v1/tenants/{world.tenant.id}/search",
        json={"text": "owls", "group": group},
        headers=world.owner_headers(),
    )
    assert found.status_code == 200, found.text
    [hit] = found.json()["hits"]
    assert (hit["filename"], hit["title"]) == ("owls.md", "Night birds")
    if group == "documents":
        [document] = found.json()["documents"]
        assert (document["filename"], document["title"]) == ("owls.md", "Night birds")
        assert document["best"]["filename"] == "owls.md"


@memory_only
async def test_a_new_key_s_secret_is_called_secret(client: httpx.AsyncClient, world: World) -> None:
    issued = await client.post(
        f"/v1/tenants/{world.tenant.id}/api-keys", json={"name": "ci"}, headers=world.owner_headers()
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["secret"].startswith(f"trk_{body['prefix']}_")
    assert body["key"] == body["secret"]  # the earlier name, kept for older clients
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {body['secret']}"})
    assert me.json()["credential"]["api_key_id"] == body["id"]
    # Listings never show it.
    listed = await client.get(f"/v1/tenants/{world.tenant.id}/api-keys", headers=world.owner_headers())
    assert body["secret"] not in listed.text


async def _token(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/v1/auth/token", data={"username": email, "password": password})


@memory_only
async def test_a_user_changes_their_password_given_the_current_one(
    client: httpx.AsyncClient, world: World
) -> None:
    user = await world.rag.users.register(email="pat@example.com", password=PASSWORD)
    token = (await _token(client, user.email, PASSWORD)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    wrong = await client.post(
        "/v1/me/password", json={"current_password": "not it", "new_password": NEW_PASSWORD}, headers=headers
    )
    assert_problem(wrong, 422, "invalid_input", field="current_password")
    assert (await client.post("/v1/me/password", json={"new_password": NEW_PASSWORD})).status_code == 401

    short = await client.post(
        "/v1/me/password", json={"current_password": PASSWORD, "new_password": "x"}, headers=headers
    )
    assert_problem(short, 422, "invalid_input", field="new_password")  # the rule every interface applies
    changed = await client.post(
        "/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=headers
    )
    assert changed.status_code == 204, changed.text
    assert (await _token(client, user.email, PASSWORD)).status_code == 401
    assert (await _token(client, user.email, NEW_PASSWORD)).status_code == 200


@memory_only
async def test_an_api_key_cannot_change_its_user_s_password(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key_as(Role.MEMBER)
    refused = await client.post(
        "/v1/me/password", json={"current_password": "x", "new_password": NEW_PASSWORD}, headers=key
    )
    assert_problem(refused, 403, "permission_denied")


@memory_only
async def test_sign_up_is_off_by_default(client: httpx.AsyncClient) -> None:
    refused = await client.post("/v1/auth/signup", json={"email": "new@example.com", "password": PASSWORD})
    assert_problem(refused, 403, "permission_denied")
    assert (await _token(client, "new@example.com", PASSWORD)).status_code == 401


@memory_only
async def test_sign_up_when_allowed(settings: Settings) -> None:
    app = create_app(make_container(make_settings(settings.database_url, allow_signup=True)))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client,
    ):
        created = await client.post(
            "/v1/auth/signup", json={"email": "New@Example.com", "password": PASSWORD, "full_name": "New One"}
        )
        assert created.status_code == 201, created.text
        assert (created.json()["email"], created.json()["full_name"]) == ("new@example.com", "New One")
        assert not created.json()["is_superuser"]
        weak = await client.post("/v1/auth/signup", json={"email": "weak@example.com", "password": "x"})
        assert_problem(weak, 422, "invalid_input", field="password")
        again = await client.post("/v1/auth/signup", json={"email": "new@example.com", "password": PASSWORD})
        assert_problem(again, 409, "conflict")
        token = (await _token(client, "new@example.com", PASSWORD)).json()["access_token"]
        mine = await client.get("/v1/me/tenants", headers={"Authorization": f"Bearer {token}"})
        assert mine.json() == []
        extra = await client.post(
            "/v1/auth/signup", json={"email": "x@example.com", "password": PASSWORD, "is_superuser": True}
        )
        assert_problem(extra, 422, "invalid_input")


# On SQLite and PostgreSQL, with their blob folders.
async def test_an_original_is_downloaded_with_its_type_and_name(
    client: httpx.AsyncClient, world: World
) -> None:
    base = f"/v1/tenants/{world.tenant.id}/documents"
    headers = world.owner_headers()
    first = b"# Caf\xc3\xa9\n\nThe first draft.\n"
    uploaded = await client.post(
        f"{base}/upload",
        files={"file": ("café notes.md", first, "text/markdown")},
        data={"source_key": "notes"},
        headers=headers,
    )
    assert uploaded.status_code == 202, uploaded.text
    document_id = uploaded.json()["document"]["id"]
    second = b"# Caf\xc3\xa9\n\nThe second draft.\n"
    again = await client.post(
        f"{base}/upload", files={"file": ("café notes.md", second, "text/markdown")},
        data={"source_key": "notes"}, headers=headers,
    )  # fmt: skip
    assert again.status_code == 202, again.text

    latest = await client.get(f"{base}/{document_id}/original", headers=world.as_role(Role.VIEWER))
    assert latest.status_code == 200, latest.text
    assert latest.content == second
    assert latest.headers["content-type"] == "text/markdown"
    disposition = latest.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="caf_ notes.md";')
    assert f"filename*=UTF-8''{quote('café notes.md', safe='')}" in disposition
    assert latest.headers["x-content-type-options"] == "nosniff"
    older = await client.get(f"{base}/{document_id}/original?version=1", headers=headers)
    assert older.content == first

    assert_problem(
        await client.get(f"{base}/{document_id}/original?version=9", headers=headers), 404, "not_found"
    )
    assert_problem(
        await client.get(f"{base}/{document_id}/original?version=0", headers=headers), 422, "invalid_input"
    )
    # Another tenant's member learns nothing.
    assert_problem(
        await client.get(f"{base}/{document_id}/original", headers=world.as_outsider), 404, "not_found"
    )


@memory_only
@pytest.mark.parametrize(
    ("filename", "media_type"),
    [
        ("photo.png", "image/png"),
        ("archive.zip", "application/octet-stream"),
        ("notes.md", "application/zip"),
    ],
)
async def test_an_unsupported_upload_is_a_415_and_writes_nothing(
    client: httpx.AsyncClient, world: World, filename: str, media_type: str
) -> None:
    base = f"/v1/tenants/{world.tenant.id}/documents"
    refused = await client.post(
        f"{base}/upload",
        files={"file": (filename, b"\x89PNG\r\n\x1a\n....", media_type)},
        headers=world.owner_headers(),
    )
    assert_problem(refused, 415, "unsupported_media_type", field="file")
    assert "supported: text/plain, text/markdown, text/html, application/pdf" in refused.json()["detail"]
    as_text = await client.post(
        base,
        json={"filename": filename, "text": "hello", "media_type": media_type},
        headers=world.owner_headers(),
    )
    assert_problem(as_text, 415, "unsupported_media_type")
    assert not (await world.rag.documents.list(Principal.system(), world.tenant.id)).items
    assert not (await world.rag.jobs.list(Principal.system(), world.tenant.id)).items
