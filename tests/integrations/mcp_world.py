"""The store the MCP tests talk to: two tenants, their documents, and API keys of each role.

Acme Research holds a note on cats (tagged ``pets``) and one on rotating API keys (tagged
``security``); Globex, another tenant, holds a note that also speaks of purring, so a search
that crossed tenants would find it. Keys: Acme's at viewer and member caps (both issued by
its owner), and Globex's owner's.
"""

from __future__ import annotations

import uuid

import attrs

from tenantrag.domain.model.document import Document
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal

CATS = "Cats purr when they are content. A purring cat is usually a relaxed cat, resting in the sun."
KEYS = "Rotate API keys every ninety days. Revoke a leaked key at once and issue a new one."
GLOBEX = "Globex confidential: our cats purr loudly in the server room."


@attrs.frozen
class McpWorld:
    acme: Tenant
    globex: Tenant
    cats: Document
    keys_note: Document
    globex_note: Document
    viewer_key: str
    member_key: str
    globex_key: str
    owner: Principal
    globex_owner: Principal

    @property
    def acme_ids(self) -> set[uuid.UUID]:
        return {self.cats.id, self.keys_note.id}


async def build_mcp_world(rag: TenantRag) -> McpWorld:
    ada = await rag.users.register(email="ada@example.com")
    owner = Principal.user(ada.id)
    acme = await rag.tenants.create(owner, name="Acme Research")
    cats = await rag.ingestion.add_text(
        owner, acme.id, filename="cats.md", title="Cats", text=CATS, tags=["pets"], metadata={"year": 2023}
    )
    keys_note = await rag.ingestion.add_text(
        owner, acme.id, filename="keys.md", title="Key rotation", text=KEYS, tags=["security"],
        metadata={"year": 2025},
    )  # fmt: skip
    viewer = await rag.api_keys.issue(owner, acme.id, name="agent-viewer", role_cap="viewer")
    member = await rag.api_keys.issue(owner, acme.id, name="agent-member", role_cap="member")

    grace = await rag.users.register(email="grace@example.com")
    globex_owner = Principal.user(grace.id)
    globex = await rag.tenants.create(globex_owner, name="Globex")
    globex_note = await rag.ingestion.add_text(globex_owner, globex.id, filename="secret.md", text=GLOBEX)
    globex_key = await rag.api_keys.issue(globex_owner, globex.id, name="globex-agent", role_cap="member")
    return McpWorld(
        acme=acme, globex=globex, cats=cats, keys_note=keys_note, globex_note=globex_note,
        viewer_key=viewer.plaintext, member_key=member.plaintext, globex_key=globex_key.plaintext,
        owner=owner, globex_owner=globex_owner,
    )  # fmt: skip
