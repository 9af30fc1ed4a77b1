"""Concurrent HTTP uploads, on both backends: identical ones are one document and the rest no-ops
(201 or 202 once, 200 for the others: never 409 or 500); different ones for one source key
are all accepted; and no request leaves a blob no version names."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.worker import Worker
from tests.http.world import Headers, World

CONCURRENT = 20


@pytest.fixture
def docs(world: World) -> str:
    return f"/v1/tenants/{world.tenant.slug}/documents"


@pytest.fixture
def member(world: World) -> Headers:
    return world.as_role(Role.MEMBER)


async def _no_orphans(rag: TenantRag, world: World) -> None:
    async with rag.uow.tenant(world.tenant.id) as uow:
        documents = (await uow.documents.list(PageRequest(limit=1000))).items
        named = {v.storage_key for d in documents for v in await uow.versions.list_for_document(d.id)}
    assert {entry.key for entry in await rag.ingestion.blobs.entries(world.tenant.id)} == named


@pytest.mark.parametrize("wait", ["false", "true"])
async def test_identical_concurrent_uploads_answer_one_creation_and_the_rest_200(
    *, client: httpx.AsyncClient, rag: TenantRag, world: World, docs: str, member: Headers, wait: str
) -> None:
    files = {"file": ("same.txt", b"One text, sent twenty times at once.", "text/plain")}
    responses = await asyncio.gather(
        *(
            client.post(
                f"{docs}/upload",
                params={"wait": wait},
                files=files,
                data={"source_key": "same"},
                headers=member,
            )
            for _ in range(CONCURRENT)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    created = 201 if wait == "true" else 202
    assert statuses == [200] * (CONCURRENT - 1) + [created], [
        r.text for r in responses if r.status_code >= 300
    ]
    assert len({response.json()["document"]["id"] for response in responses}) == 1
    await _no_orphans(rag, world)


async def test_different_concurrent_uploads_for_one_source_key_are_all_accepted(
    client: httpx.AsyncClient, rag: TenantRag, world: World, docs: str, member: Headers
) -> None:
    bodies = [
        {"filename": "a.txt", "text": f"Revision number {n} of the text.", "source_key": "one"}
        for n in range(10)
    ]
    responses = await asyncio.gather(*(client.post(docs, json=body, headers=member) for body in bodies))
    assert sorted(response.status_code for response in responses) == [202] * 10, [r.text for r in responses]
    worker = Worker(uow=rag.uow, clock=rag.ingestion.clock, handlers={"ingest": rag.ingestion})
    while await worker.run_once() is not None:
        pass
    [document] = (await client.get(docs, headers=member)).json()["items"]
    assert document["status"] == "completed"
    versions = (await client.get(f"{docs}/{document['id']}/versions", headers=member)).json()["items"]
    assert len(versions) == 10
    assert [v["status"] for v in versions].count("active") == 1
    await _no_orphans(rag, world)
