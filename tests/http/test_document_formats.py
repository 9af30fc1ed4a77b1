"""A text's format follows its name; front matter and the caller's metadata over HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tenantrag.domain.policy import Role
from tests.http.helpers import assert_problem
from tests.http.world import Headers, World

PLAN = "---\ntitle: Plan\nyear: 2023\nteam: rockets\n---\n\n# Launch\n\n## Fuel\n\nKerosene.\n"
PAGE = """<html><head><title>Kiwi</title><script>track()</script></head><body>
<div class="menu"><a href="/">Home</a> | <a href="/about">About</a> | <a href="/c">Contact</a></div>
<div class="content"><h1>The kiwi</h1>
<p>The kiwi is a flightless bird endemic to New Zealand. It is nocturnal and forages at night
for insects, worms and seeds using its long beak, which has nostrils at the tip.</p>
<h2>Breeding</h2><p>Kiwi lay one of the largest eggs in relation to body size of any bird. The
male incubates the egg for about eighty days in most species, while the female feeds.</p></div>
<div class="sidebar"><h3>Related</h3>
<ul><li><a href="/x">Emu</a></li><li><a href="/y">Ostrich</a></li></ul></div>
<div class="footer">Copyright 2024 Animal Facts Ltd. <a href="/p">Privacy</a> | <a href="/t">Terms</a></div>
</body></html>"""


@pytest.fixture
def docs(world: World) -> str:
    return f"/v1/tenants/{world.tenant.slug}/documents"


@pytest.fixture
def member(world: World) -> Headers:
    return world.as_role(Role.MEMBER)


async def _chunks(
    client: httpx.AsyncClient, docs: str, document: dict[str, Any], member: Headers
) -> list[dict[str, Any]]:
    response = await client.get(f"{docs}/{document['id']}/chunks", headers=member)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


NAMED_TEXTS = [
    ("plan.md", None, PLAN, "text/markdown"),
    ("kiwi.HTML", None, PAGE, "text/html"),
    ("notes", "wiki/plan.markdown", PLAN, "text/markdown"),
    ("report.pdf", None, "plain words", "text/plain"),
    ("data.csv", None, "a,b", "text/plain"),
]


async def test_a_json_text_is_read_as_its_name_says(
    client: httpx.AsyncClient, docs: str, member: Headers
) -> None:
    for name, source_key, text, media_type in NAMED_TEXTS:
        body = {"filename": name, "text": text, "source_key": source_key}
        response = await client.post(docs, params={"wait": "true"}, json=body, headers=member)
        assert response.status_code == 201, response.text
        document = response.json()["document"]
        assert (document["media_type"], document["status"]) == (media_type, "completed"), name


async def test_a_markdown_text_gives_its_front_matter_under_the_callers_metadata(
    client: httpx.AsyncClient, docs: str, member: Headers
) -> None:
    body = {"filename": "plan.md", "text": PLAN, "metadata": {"year": 2024, "source": "wiki"}}
    response = await client.post(docs, params={"wait": "true"}, json=body, headers=member)
    document = response.json()["document"]
    assert document["title"] == "Plan"
    assert document["metadata"] == {
        "year": 2024, "source": "wiki", "title": "Plan", "team": "rockets",
        "front_matter_keys": ["team", "title"],
    }  # fmt: skip
    [chunk] = await _chunks(client, docs, document, member)
    assert chunk["content"] == "# Launch\n\n## Fuel\n\nKerosene."
    assert {"year": 2024, "team": "rockets", "section": "Launch > Fuel"}.items() <= chunk["metadata"].items()
    assert "front_matter_keys" not in chunk["metadata"]


async def test_an_explicit_media_type_wins_over_the_name(
    client: httpx.AsyncClient, docs: str, member: Headers
) -> None:
    body = {"filename": "plan.md", "text": PLAN, "media_type": "text/plain"}
    document = (await client.post(docs, params={"wait": "true"}, json=body, headers=member)).json()[
        "document"
    ]
    assert document["media_type"] == "text/plain"
    assert document["metadata"] == {}


async def test_an_uploaded_page_loses_its_boilerplate_and_keeps_its_title(
    client: httpx.AsyncClient, docs: str, member: Headers
) -> None:
    files = {"file": ("kiwi.html", PAGE.encode(), "text/html")}
    response = await client.post(f"{docs}/upload", files=files, params={"wait": "true"}, headers=member)
    document = response.json()["document"]
    assert document["title"] == "Kiwi"
    chunks = await _chunks(client, docs, document, member)
    assert [(chunk["content"].split("\n")[0], chunk["metadata"]["section"]) for chunk in chunks] == [
        ("The kiwi", "The kiwi"),
        ("Breeding", "The kiwi > Breeding"),
    ]
    text = " ".join(chunk["content"] for chunk in chunks)
    for boilerplate in ("Home", "About", "Related", "Ostrich", "Copyright", "track"):
        assert boilerplate not in text


async def test_an_upload_takes_form_metadata_over_front_matter_and_refuses_the_reserved_key(
    client: httpx.AsyncClient, docs: str, member: Headers
) -> None:
    files = {"file": ("plan.md", PLAN.encode(), "application/octet-stream")}
    data = {"metadata": json.dumps({"year": 2025})}
    response = await client.post(
        f"{docs}/upload", files=files, data=data, params={"wait": "true"}, headers=member
    )
    assert response.status_code == 201, response.text
    assert response.json()["document"]["metadata"]["year"] == 2025
    assert response.json()["document"]["metadata"]["team"] == "rockets"

    reserved = {"metadata": json.dumps({"front_matter_keys": []})}
    refused = await client.post(f"{docs}/upload", files=files, data=reserved, headers=member)
    assert_problem(refused, 422, "invalid_input", field="metadata")
