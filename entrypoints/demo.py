"""The demo workspace: the seed documentation's demo user and tenant, and sample documents.

``demo@example.com`` / ``demo123`` owning "Demo Workspace" is what users of the seed
projects expect ``seed`` to create. Everything here is idempotent: seeding twice finds what
the first run made (and repairs the demo user's ownership if someone changed it), and the
bundled samples (``entrypoints/samples/*.md``, shipped as package data) are synced by
filename and content, so a second run ingests nothing.
"""

from __future__ import annotations

from importlib.resources import files

import attrs

from tenantrag.domain.errors import NotFound
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.entrypoints.document_sync import DocumentIndex, SyncResult

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo123"  # noqa: S105 - the seed documentation's well-known demo login
DEMO_NAME = "Demo User"
DEMO_TENANT_NAME = "Demo Workspace"
DEMO_TENANT_SLUG = "demo-workspace"
SAMPLE_TAG = "sample"

_SYSTEM = Principal.system()


@attrs.frozen
class Seeded:
    user: User
    tenant: Tenant
    created_user: bool
    created_tenant: bool


async def seed(rag: TenantRag) -> Seeded:
    """Make sure the demo user exists and owns the demo workspace."""
    try:
        user = await rag.users.get_by_email(DEMO_EMAIL)
        created_user = False
    except NotFound:
        user = await rag.users.register(email=DEMO_EMAIL, password=DEMO_PASSWORD, full_name=DEMO_NAME)
        created_user = True
    try:
        tenant = await rag.tenants.resolve(_SYSTEM, DEMO_TENANT_SLUG)
        created_tenant = False
    except NotFound:
        tenant = await rag.tenants.create(
            _SYSTEM, name=DEMO_TENANT_NAME, slug=DEMO_TENANT_SLUG, owner_id=user.id
        )
        created_tenant = True
    await _ensure_owner(rag, tenant, user)
    return Seeded(user, tenant, created_user, created_tenant)


async def _ensure_owner(rag: TenantRag, tenant: Tenant, user: User) -> None:
    try:
        membership = await rag.members.get(_SYSTEM, tenant.id, user.id)
    except NotFound:
        await rag.members.add(_SYSTEM, tenant.id, user_id=user.id, role=Role.OWNER)
        return
    if membership.role is not Role.OWNER:
        await rag.members.change_role(_SYSTEM, tenant.id, user.id, Role.OWNER)
    if not membership.is_active:
        await rag.members.set_active(_SYSTEM, tenant.id, user.id, True)


def sample_documents() -> dict[str, str]:
    """The bundled sample documents, by filename."""
    folder = files("tenantrag.entrypoints").joinpath("samples")
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda entry: entry.name)
        if entry.name.endswith(".md")
    }


async def ingest_samples(rag: TenantRag, tenant: Tenant) -> list[SyncResult]:
    """Ingest the sample documents into ``tenant``, skipping those already there unchanged."""
    index = DocumentIndex(rag, _SYSTEM, tenant.id)
    return [
        await index.sync(filename=name, data=text, media_type="text/markdown", tags=[SAMPLE_TAG])
        for name, text in sample_documents().items()
    ]
