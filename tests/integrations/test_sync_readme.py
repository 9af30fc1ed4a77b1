"""README's examples for synchronous code and a remote server, run as a user would paste them:
the Flask app serves searches and notes, bounded by each API key's tenant and role, and the
HTTP client example runs against a served API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.principal import Principal
from tenantrag.integrations.sync import SyncTenantrag
from tests.integrations.conftest import Served

README = Path(__file__).parents[2] / "README.md"


def readme_example(section: str) -> str:
    """The first Python block of the README section titled ``section``."""
    text = README.read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", body, re.DOTALL)
    assert found is not None, f"README's {section!r} has no Python example"
    return found.group(1)


@pytest.mark.sqlite
def test_the_flask_example_serves_each_key_within_its_tenant_and_role(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the example's ./app.db
    monkeypatch.setenv("EMBEDDER", "hashing")  # fast and offline; the example itself is unchanged
    monkeypatch.setenv("EMBEDDING_DIMENSION", "64")
    example: dict[str, Any] = {"__name__": "readme_flask"}
    exec(compile(readme_example("Use it from synchronous code"), "README.md", "exec"), example)
    rag: SyncTenantrag = example["rag"]
    try:
        owner = Principal.user(rag.users.register(email="owner@example.com").id)
        outsider = Principal.user(rag.users.register(email="outsider@example.com").id)
        tenant = rag.tenants.create(owner, name="Acme")
        other = rag.tenants.create(outsider, name="Globex")
        member = {"X-API-Key": rag.api_keys.issue(owner, tenant.id, name="m", role_cap=Role.MEMBER).plaintext}
        viewer = {"X-API-Key": rag.api_keys.issue(owner, tenant.id, name="v", role_cap=Role.VIEWER).plaintext}
        client = example["app"].test_client()

        note = {"filename": "cats.md", "text": "Cats purr when they are content."}
        added = client.post(f"/tenants/{tenant.id}/notes", json=note, headers=member)
        assert (added.status_code, added.json["status"]) == (201, "completed")
        found = client.get(f"/tenants/{tenant.id}/search?q=why+do+cats+purr", headers=viewer)
        assert found.status_code == 200
        assert found.json["hits"][0]["content"] == note["text"]

        refused = client.post(f"/tenants/{tenant.id}/notes", json=note, headers=viewer)
        assert (refused.status_code, refused.json["code"]) == (403, "permission_denied")
        elsewhere = client.get(f"/tenants/{other.id}/search?q=cats", headers=member)
        assert (elsewhere.status_code, elsewhere.json["code"]) == (404, "not_found")
        anonymous = client.get(f"/tenants/{tenant.id}/search?q=cats")
        assert (anonymous.status_code, anonymous.json["code"]) == (401, "authentication_failed")
    finally:
        rag.close()
    assert (tmp_path / "app.db").exists()


@pytest.mark.sqlite
def test_the_remote_server_example_runs_against_a_served_api(
    served: Served, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TENANTRAG_URL", served.url)
    monkeypatch.setenv("TENANTRAG_API_KEY", served.member_key)
    exec(compile(readme_example("Talk to a remote server"), "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert "Cats purr when content." in printed
    logs = served.rag.query_logs.list(Principal.system(), served.tenant.id).items
    assert any(log.feedback == "thumbs_up" and log.query == "why do cats purr?" for log in logs)
