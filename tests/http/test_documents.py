"""Documents: JSON and multipart ingestion, listing with filters and cursors, chunks, jobs, limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.http.context import ApiContext
from tenantrag.entrypoints.settings import Settings
from tests.http.helpers import BASE_URL, assert_problem, make_container
from tests.http.world import Headers, World, build_world


@pytest.fixture
def docs(world: World) -> str:
    return f"/v1/tenants/{world.tenant.slug}/documents"


@pytest.fixture
def member(world: World) -> Headers:
    return world.as_role(Role.MEMBER)


async def test_a_json_document_is_ingested_and_its_chunks_and_job_are_readable(
    client: httpx.AsyncClient, world: World, docs: str, member: Headers
) -> None:
    text = "Cats purr when content.\n\nDogs bark at strangers."
    body = {
        "filename": "cats.md",
        "text": text,
        "title": "Pets",
        "media_type": "text/markdown",
        "metadata": {"source": "wiki"},
        "tags": ["pets", "animals"],
    }
    created = await client.post(docs, params={"wait": "true"}, json=body, headers=member)
    assert created.status_code == 201, created.text
    assert created.json()["outcome"] == "created"
    document = created.json()["document"]
    assert document["status"] == "completed"
    assert document["tags"] == ["animals", "pets"]
    assert document["uploaded_by"] == str(world.users[Role.MEMBER].id)
    assert document["size_bytes"] == len(text.encode())
    assert "storage_key" not in document
    viewer = world.as_role(Role.VIEWER)
    assert (await client.get(f"{docs}/{document['id']}", headers=viewer)).json() == document
    chunks = (await client.get(f"{docs}/{document['id']}/chunks", headers=viewer)).json()["items"]
    assert len(chunks) == document["chunk_count"] >= 1
    assert chunks[0]["metadata"]["source"] == "wiki"
    assert chunks[0]["embedding"] is None
    with_vectors = await client.get(f"{docs}/{document['id']}/chunks?embeddings=true", headers=viewer)
    assert len(with_vectors.json()["items"][0]["embedding"]) == 64
    jobs = await client.get(
        f"/v1/tenants/{world.tenant.id}/jobs?document_id={document['id']}", headers=viewer
    )
    [job] = jobs.json()["items"]
    assert (job["kind"], job["status"], job["progress"]) == ("ingest", "succeeded", 100)
    single = await client.get(f"/v1/tenants/{world.tenant.id}/jobs/{job['id']}", headers=viewer)
    assert single.json() == job


async def test_a_multipart_upload_is_ingested_with_its_form_fields(
    client: httpx.AsyncClient, docs: str, member: Headers
) -> None:
    response = await client.post(
        f"{docs}/upload",
        files={
            "file": (
                "../notes/readme.md",
                "\ufeff# Notes\n\nCafé au lait.".encode(),
                "application/octet-stream",
            )
        },
        data={"title": "Notes", "tags": ["a", "b"], "metadata": json.dumps({"lang": "fr"})},
        params={"wait": "true"},
        headers=member,
    )
    assert response.status_code == 201, response.text
    document = response.json()["document"]
    assert document["filename"] == "readme.md"
    assert document["media_type"] == "text/markdown"
    assert (document["title"], document["tags"], document["metadata"]) == (
        "Notes",
        ["a", "b"],
        {"lang": "fr"},
    )
    assert document["status"] == "completed"


BAD_UPLOADS: list[tuple[dict[str, tuple[str, bytes, str]], dict[str, str], str]] = [
    # An unsupported type is a 415 (tests/http/test_http_gaps.py); bytes a supported parser cannot read, 422.
    ({"file": ("bad.txt", b"ok \x81\x82 not utf-8", "text/plain")}, {}, "file"),
    ({"file": ("a.txt", b"text", "text/plain")}, {"metadata": "[1, 2]"}, "metadata"),
    ({"file": ("a.txt", b"text", "text/plain")}, {"metadata": "{nope"}, "metadata"),
    ({"file": ("a.txt", b"text", "text/plain")}, {"metadata": '{"x": NaN}'}, "metadata"),
    ({"file": ("", b"text", "text/plain")}, {}, "file"),
    ({"other": ("x", b"x", "text/plain")}, {"title": "no file"}, "file"),
]


async def test_bad_uploads_are_422_naming_the_field(
    client: httpx.AsyncClient, docs: str, member: Headers
) -> None:
    for files, data, field in BAD_UPLOADS:
        response = await client.post(
            f"{docs}/upload", files=files, data=data, params={"wait": "true"}, headers=member
        )
        code = "unparseable_document" if field == "file" and files.get("file", ("",))[0] else "invalid_input"
        assert_problem(response, 422, code, field=field)


async def test_documents_list_by_status_and_tag_and_page_with_cursors(
    client: httpx.AsyncClient, world: World, docs: str, member: Headers
) -> None:
    for n in range(5):
        body = {"filename": f"d{n}.txt", "text": f"document {n}", "tags": ["even" if n % 2 == 0 else "odd"]}
        assert (await client.post(docs, params={"wait": "1"}, json=body, headers=member)).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(docs, params=params, headers=member)).json()
        seen += [d["filename"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"d{n}.txt" for n in range(5)]
    even = (await client.get(docs, params={"tag": "even"}, headers=member)).json()["items"]
    assert [d["filename"] for d in even] == ["d0.txt", "d2.txt", "d4.txt"]
    completed = (await client.get(docs, params={"status": "completed"}, headers=member)).json()["items"]
    assert len(completed) == 5
    assert (await client.get(docs, params={"status": "failed"}, headers=member)).json()["items"] == []
    bad_status = await client.get(docs, params={"status": "lost"}, headers=member)
    assert_problem(bad_status, 422, "invalid_input", field="status")
    bad_cursor = await client.get(docs, params={"cursor": "bm90IGEgY3Vyc29y"}, headers=member)
    assert_problem(bad_cursor, 422, "invalid_input", field="cursor")


async def test_deleting_a_document_removes_it_and_its_chunks(
    client: httpx.AsyncClient, docs: str, member: Headers
) -> None:
    created = (
        await client.post(docs, json={"filename": "a.txt", "text": "short lived"}, headers=member)
    ).json()["document"]
    assert (await client.delete(f"{docs}/{created['id']}", headers=member)).status_code == 204
    assert_problem(await client.get(f"{docs}/{created['id']}", headers=member), 404, "not_found")
    assert_problem(await client.get(f"{docs}/{created['id']}/chunks", headers=member), 404, "not_found")
    assert_problem(await client.delete(f"{docs}/{created['id']}", headers=member), 404, "not_found")


async def test_domain_validation_errors_name_the_field(
    client: httpx.AsyncClient, docs: str, member: Headers
) -> None:
    nul = await client.post(docs, json={"filename": "a\x00b", "text": "x"}, headers=member)
    assert_problem(nul, 422, "invalid_input", field="filename")
    media = await client.post(
        docs, json={"filename": "a", "text": "x", "media_type": "plain"}, headers=member
    )
    assert_problem(media, 422, "invalid_input", field="media_type")
    unknown = await client.post(docs, json={"filename": "a", "text": "x", "colour": "red"}, headers=member)
    assert_problem(unknown, 422, "invalid_input", field="colour")
    missing = await client.post(docs, json={"filename": "a"}, headers=member)
    assert_problem(missing, 422, "invalid_input", field="text")
    assert missing.json()["errors"] == [{"field": "text", "location": "body", "message": "Field required"}]


# --- limits, from settings ----------------------------------------------------------------


@pytest.fixture
async def small(database_url: str, settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    """An app whose limits are tiny: 100-byte uploads, pages of 3, k up to 2."""
    settings = settings.model_copy(update={"max_upload_bytes": 100, "max_page_size": 3, "max_k": 2})
    app = create_app(make_container(settings))
    async with app.router.lifespan_context(app):
        context = app.state.tenantrag
        assert isinstance(context, ApiContext)
        world = await build_world(context.rag, context.config.tokens)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
            yield client, world


async def test_uploads_over_the_limit_are_413(small: tuple[httpx.AsyncClient, World]) -> None:
    client, world = small
    docs = f"/v1/tenants/{world.tenant.id}/documents"
    member = world.as_role(Role.MEMBER)
    fits = await client.post(docs, json={"filename": "a.txt", "text": "x" * 100}, headers=member)
    assert fits.status_code == 202, fits.text
    too_big = await client.post(docs, json={"filename": "a.txt", "text": "é" * 51}, headers=member)
    assert_problem(too_big, 413, "payload_too_large")
    file_fits = await client.post(f"{docs}/upload", files={"file": ("a.txt", b"y" * 100)}, headers=member)
    assert file_fits.status_code == 202, file_fits.text
    file_too_big = await client.post(f"{docs}/upload", files={"file": ("a.txt", b"y" * 101)}, headers=member)
    assert_problem(file_too_big, 413, "payload_too_large")


async def test_a_body_over_the_request_limit_is_refused_before_it_is_read(
    small: tuple[httpx.AsyncClient, World],
) -> None:
    client, world = small
    url = f"/v1/tenants/{world.tenant.id}/documents"
    member = world.as_role(Role.MEMBER)
    huge = json.dumps({"filename": "a.txt", "text": "z" * 70_000}).encode()
    declared = await client.post(url, content=huge, headers={**member, "content-type": "application/json"})
    assert_problem(declared, 413, "payload_too_large")

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 8192):
            yield huge[start : start + 8192]

    streamed = await client.post(
        url, content=stream(), headers={**member, "content-type": "application/json"}
    )
    assert_problem(streamed, 413, "payload_too_large")


async def test_page_size_and_k_are_limited_by_settings(small: tuple[httpx.AsyncClient, World]) -> None:
    client, world = small
    base = f"/v1/tenants/{world.tenant.id}"
    viewer = world.as_role(Role.VIEWER)
    assert (await client.get(f"{base}/documents?limit=3", headers=viewer)).status_code == 200
    assert_problem(
        await client.get(f"{base}/documents?limit=4", headers=viewer), 422, "invalid_input", "limit"
    )
    assert_problem(await client.get(f"{base}/members?limit=0", headers=viewer), 422, "invalid_input", "limit")
    ok = await client.post(f"{base}/search", json={"text": "cats", "k": 2}, headers=viewer)
    assert ok.status_code == 200, ok.text
    too_many = await client.post(f"{base}/search", json={"text": "cats", "k": 3}, headers=viewer)
    assert_problem(too_many, 422, "invalid_input", "k")
    defaults = await client.get("/openapi.json")
    search = defaults.json()["components"]["schemas"]["SearchRequest"]["properties"]["k"]
    assert (search["maximum"], search["default"]) == (2, 2)


async def test_an_upload_is_queued_then_versioned_and_the_same_content_is_a_no_op(
    client: httpx.AsyncClient, rag: TenantRag, world: World, docs: str, member: Headers
) -> None:
    body = {"filename": "faq.md", "text": "Old answer.", "source_key": "kb/faq.md"}
    queued = await client.post(docs, json=body, headers=member)
    assert queued.status_code == 202, queued.text
    submitted = queued.json()
    assert (submitted["outcome"], submitted["document"]["status"]) == ("created", "pending")
    assert (submitted["job"]["kind"], submitted["job"]["status"]) == ("ingest", "queued")
    job = await rag.jobs.get(Principal.system(), world.tenant.id, submitted["job"]["id"])
    async with rag.uow.tenant(world.tenant.id) as uow:  # what a worker's claim does
        job = job.start(now=job.created_at, lease_until=job.created_at + timedelta(minutes=1))
        await uow.jobs.update(job)
        await uow.commit()
    await rag.ingestion.run(job)
    done = await client.get(f"/v1/tenants/{world.tenant.id}/jobs/{job.id}", headers=member)
    assert done.json()["status"] == "succeeded"

    same = await client.post(docs, json=body, headers=member)
    assert same.status_code == 200, same.text
    assert (same.json()["outcome"], same.json()["job"]) == ("unchanged", None)

    changed = await client.post(
        docs, params={"wait": "true"}, json={**body, "text": "New answer."}, headers=member
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["outcome"] == "new_version"
    document = changed.json()["document"]
    assert (document["id"], document["version"], document["source_key"]) == (
        submitted["document"]["id"], 2, "kb/faq.md",
    )  # fmt: skip
    versions = (await client.get(f"{docs}/{document['id']}/versions", headers=member)).json()["items"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "superseded"), (2, "active")]
    chunks = (await client.get(f"{docs}/{document['id']}/chunks", headers=member)).json()["items"]
    assert [c["content"] for c in chunks] == ["New answer."]


async def test_the_embedded_worker_ingests_queued_uploads(database_url: str, settings: Settings) -> None:
    settings = settings.model_copy(update={"embedded_worker": True, "worker_poll_interval": 0.05})
    app = create_app(make_container(settings))
    async with app.router.lifespan_context(app):
        context = app.state.tenantrag
        world = await build_world(context.rag, context.config.tokens)
        member = world.as_role(Role.MEMBER)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
            queued = await client.post(
                f"/v1/tenants/{world.tenant.id}/documents/upload",
                files={"file": ("page.html", b"<h1>Owls</h1><p>Owls hunt at night.</p>", "text/html")},
                headers=member,
            )
            assert queued.status_code == 202, queued.text
            job_url = f"/v1/tenants/{world.tenant.id}/jobs/{queued.json()['job']['id']}"
            for _ in range(200):
                job = (await client.get(job_url, headers=member)).json()
                if job["status"] == "succeeded":
                    break
                await asyncio.sleep(0.05)
            assert job["status"] == "succeeded", job
            document_url = f"/v1/tenants/{world.tenant.id}/documents/{queued.json()['document']['id']}"
            document = (await client.get(document_url, headers=member)).json()
            assert (document["status"], document["title"]) == ("completed", "Owls")
            chunks = (await client.get(f"{document_url}/chunks", headers=member)).json()["items"]
            assert chunks[0]["metadata"]["section"] == "Owls"
