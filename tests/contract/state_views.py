"""What the state machine keeps and sees: handles, sides, and a backend's state as plain data.

Ids are random on each backend, so the machine keeps handles holding one logical
thing's label (a user's email, a tenant's slug, doc3, key5) and its id on each side,
and every projection here replaces ids by labels. ``facts`` projects a backend to what
the model (use_case_model) tracks; ``details`` to the rest (chunks, search hits, full
documents and jobs), which only another backend can be compared with.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.model.job import Job
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.search import SearchFilter, SearchHit
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.tenants import TenantWithRole
from tests.contract.use_case_model import Who

EVERYTHING = PageRequest(limit=1000)
SCORE_TOLERANCE = 1e-6
SYSTEM = Principal.system()
PROBE_K = 4
# Searches run in every live tenant after every step when backends are compared.
PROBES = [
    ("cat fish swim", None),
    ("the small dog barks", SearchFilter.from_json({"tags": {"$any": ["red", "blue"]}})),
]

Row = tuple[object, ...]
State = dict[str, object]


# --- handles: one logical thing, with its id on each side ---


@dataclass(frozen=True, repr=False)
class UserHandle:
    label: str
    ids: tuple[uuid.UUID, ...]

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True, repr=False)
class TenantHandle:
    label: str
    ids: tuple[uuid.UUID, ...]
    founder: UserHandle

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True, repr=False)
class DocumentHandle:
    label: str
    tenant: TenantHandle
    ids: tuple[uuid.UUID, ...]

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True, repr=False)
class KeyHandle:
    label: str
    tenant: TenantHandle
    ids: tuple[uuid.UUID, ...]
    plaintexts: tuple[str, ...]

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True, repr=False)
class SystemActor:
    def __repr__(self) -> str:
        return "system"


@dataclass(frozen=True)
class Founder:
    """Whoever created the tenant acted on (likely still its owner)."""


FOUNDER = Founder()
Actor = UserHandle | KeyHandle | SystemActor
Handle = UserHandle | TenantHandle | DocumentHandle | KeyHandle


def resolve(actor: Actor | Founder, tenant: TenantHandle) -> Actor:
    return tenant.founder if isinstance(actor, Founder) else actor


def who(actor: Actor) -> Who:
    """The actor as the model knows it."""
    if isinstance(actor, UserHandle):
        return Who(user=actor.label)
    if isinstance(actor, KeyHandle):
        return Who(key=actor.label)
    return Who()


@dataclass
class Side:
    """One backend's tenantrag, and the labels of the ids it generated."""

    name: str
    index: int
    app: TenantRag
    labels: dict[uuid.UUID, str] = field(default_factory=dict)

    def id(self, handle: Handle) -> uuid.UUID:
        return handle.ids[self.index]

    def label(self, ident: uuid.UUID | None) -> str | None:
        return None if ident is None else self.labels.get(ident, "untracked")

    async def principal(self, actor: Actor) -> Principal:
        """The actor on this side; a key is verified here (and may fail to be)."""
        if isinstance(actor, UserHandle):
            return Principal.user(self.id(actor))
        if isinstance(actor, KeyHandle):
            return await self.app.api_keys.verify(actor.plaintexts[self.index])
        return SYSTEM


# --- projections: entities as plain data, ids replaced by labels ---


def user_view(user: User) -> Row:
    """As the model's User, bar the constants (every user is active, has a password...)."""
    assert (user.full_name, user.is_active, user.is_superuser) == ("Test User", True, False)
    assert user.password_hash is not None
    return (user.email, user.last_login_at, user.created_at, user.updated_at)


def tenant_view(side: Side, tenant: Tenant) -> Row:
    return (side.label(tenant.id), tenant.slug, tenant.name, tenant.created_at, tenant.updated_at)


def membership_view(side: Side, membership: Membership) -> Row:
    return (
        side.label(membership.user_id), membership.role, membership.is_active,
        membership.created_at, membership.updated_at,
    )  # fmt: skip


def document_fact(side: Side, document: Document) -> Row:
    assert document.processed_at == document.updated_at, "every ingestion here completes at once"
    return (
        side.label(document.id), document.filename, document.tags, document.status, document.version,
        side.label(document.uploaded_by), document.created_at, document.updated_at,
    )  # fmt: skip


def document_detail(side: Side, document: Document) -> Row:
    label = side.label(document.id)
    return (
        document.title, document.media_type, document.size_bytes, document.error_message,
        _key_view(document.storage_key.replace(str(document.id), str(label))), document.content_sha256,
        document.metadata, document.chunk_count,
    )  # fmt: skip


def _key_view(key: str) -> str:
    """``documents/<document>/<upload id>/<name>`` with the upload id (new for every submit, so
    different on every side) left out."""
    parts = key.split("/")
    if len(parts) == 4:
        parts[2] = "<upload>"
    return "/".join(parts)


def chunk_view(chunk: Chunk) -> Row:
    return (
        chunk.ordinal, chunk.content, chunk.content_sha256, chunk.token_count, chunk.metadata,
        chunk.created_at, tuple(round(x, 6) for x in chunk.embedding),
    )  # fmt: skip


def job_view(side: Side, job: Job) -> Row:
    return (
        side.label(job.document_id), job.kind, job.status, job.progress, job.summary, job.attempts,
        job.error, job.lease_expires_at, job.created_at, job.updated_at, job.started_at, job.finished_at,
    )  # fmt: skip


def key_view(side: Side, key: ApiKey) -> Row:
    return (
        side.label(key.id), key.name, side.label(key.user_id), key.role_cap, key.created_at,
        key.expires_at, key.revoked_at, key.last_used_at, key.usage_count,
    )  # fmt: skip


def principal_view(side: Side, principal: Principal) -> Row:
    """A key's principal as the model's ``verify`` gives it."""
    assert principal.api_key_id is not None, principal
    assert not principal.is_superuser, principal
    assert not principal.is_system, principal
    return (
        side.label(principal.user_id), side.label(principal.tenant_id), principal.role_cap,
        side.label(principal.api_key_id),
    )  # fmt: skip


def mine_view(side: Side, mine: Sequence[TenantWithRole]) -> list[Row]:
    return [(side.label(item.tenant.id), item.tenant.slug, item.role) for item in mine]


# --- search hits ---


@dataclass(frozen=True)
class Hit:
    document: str | None
    version: int
    ordinal: int
    content: str
    metadata: str  # as JSON with sorted keys: comparable and sortable
    score: float

    def identity(self) -> tuple[object, ...]:
        return (self.document, self.version, self.ordinal, self.content, self.metadata)


def hits_view(side: Side, hits: Sequence[SearchHit]) -> list[Hit]:
    return [
        Hit(
            side.label(h.document_id),
            h.document_version,
            h.ordinal,
            h.content,
            json.dumps(h.metadata, sort_keys=True),
            h.score,
        )
        for h in hits
    ]


def hits_differ(first: list[Hit], second: list[Hit], k: int) -> str | None:
    """Why two backends' hits for one search differ, or None when they agree.

    The scores, rank by rank, within SCORE_TOLERANCE; the chunks too, except that chunks
    whose scores are that close (a tie group) may come in any order, and a tie group at
    the end of a full list (k hits) may have been cut anywhere, so its chunks may differ.
    """
    if len(first) != len(second):
        return f"{len(first)} hits != {len(second)}"
    for rank, (a, b) in enumerate(zip(first, second, strict=True)):
        if not math.isclose(a.score, b.score, rel_tol=0.0, abs_tol=SCORE_TOLERANCE):
            return f"rank {rank}: score {a.score:.7f} != {b.score:.7f}"
    start = 0
    for end in range(1, len(first) + 1):
        if end < len(first) and abs(first[end].score - first[end - 1].score) <= SCORE_TOLERANCE:
            continue  # the tie group goes on
        if end < len(first) or len(first) < k:
            ours = sorted(h.identity() for h in first[start:end])
            theirs = sorted(h.identity() for h in second[start:end])
            if ours != theirs:
                return f"ranks {start}-{end - 1}: {ours} != {theirs}"
        start = end
    return None


# --- a backend's state ---


async def observe(side: Side, *, details: bool) -> tuple[State, State]:
    """(facts, details): the state as the model sees it, and (if asked for) the rest.

    Read through the units of work, the system's and one per tenant: a use case per
    list would cost several times more, after every step.
    """
    app = side.app
    facts: State = {}
    more: State = {}
    async with app.uow.system() as uow:
        tenants = (await uow.tenants.list(EVERYTHING)).items
        facts["tenants"] = [tenant_view(side, t) for t in tenants]
        for user in (await uow.users.list(EVERYTHING)).items:
            facts[f"user {side.label(user.id)}"] = user_view(user)
    for tenant in tenants:
        label = side.label(tenant.id)
        async with app.uow.tenant(tenant.id) as uow:
            documents = (await uow.documents.list(EVERYTHING)).items
            jobs = (await uow.jobs.list(EVERYTHING)).items
            facts[f"tenant {label}"] = {
                "members": [membership_view(side, m) for m in (await uow.memberships.list(EVERYTHING)).items],
                "documents": [document_fact(side, d) for d in documents],
                "jobs": sorted((side.label(j.document_id), j.kind, j.status) for j in jobs),
                "api keys": [key_view(side, k) for k in (await uow.api_keys.list(EVERYTHING)).items],
            }
            if details:
                more[f"tenant {label}"] = {
                    "settings": tenant.settings,
                    "documents": [document_detail(side, d) for d in documents],
                    "chunks": [
                        [chunk_view(c) for c in await uow.chunks.list_for_document(d.id)] for d in documents
                    ],
                    "jobs": [job_view(side, j) for j in jobs],
                }
        if details:
            for n, (text, where) in enumerate(PROBES):
                hits = await app.search.search(
                    SYSTEM, tenant.id, text=text, k=PROBE_K, filter=where, record=False
                )
                more[f"probe {n} in {label}"] = hits_view(side, hits)
    return facts, more
