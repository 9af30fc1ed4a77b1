"""Random sequences of use cases, run on a backend and on the reference model side by side.

The reference model is the memory backend. Each example builds two complete
tenantrags with ``bootstrap()`` (one on the memory backend, one on the backend
under test) that share one manual clock, runs the same use case on both at every
step, and checks that both succeed or both fail with the same error. After every
step an invariant compares everything observable: users, tenants, members,
documents, chunks, jobs, API keys, every user's ``list_mine`` and the results of a
few fixed searches in every tenant.

Ids are random on each side, so the machine keeps handles that pair the model's id
with the backend's, and compares state through the handles' labels (a user's
email, a tenant's slug, doc3, key5), never by raw id: members as (email, role,
active), documents by filename, status, tags and chunk count, chunks by ordinal
and content, search hits as (document, ordinal, content, score within 1e-6).

Against "memory" this is a determinism check of the use cases; against "sqlite" it
holds the SQLite backend to the reference model across whole workflows.
"""

from __future__ import annotations

import asyncio
import math
import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar, cast

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from tenantrag.adapters.chunking import TextChunker
from tenantrag.adapters.clock import ManualClock
from tenantrag.adapters.hashing_embedder import HashingEmbedder
from tenantrag.adapters.memory import MemoryUnitOfWorkFactory
from tenantrag.adapters.passwords import PwdlibPasswordHasher
from tenantrag.domain.errors import NotFound, TenantRagError
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document
from tenantrag.domain.model.job import Job
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.tenant import Tenant
from tenantrag.domain.model.user import User
from tenantrag.domain.pagination import PageRequest
from tenantrag.domain.policy import Role
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.search import SearchFilter, SearchHit
from tenantrag.domain.usecases.app import TenantRag
from tenantrag.domain.usecases.principal import Principal
from tenantrag.domain.usecases.tenants import TenantWithRole
from tenantrag.entrypoints.bootstrap import bootstrap

T = TypeVar("T")

DIMENSION = 16
START = datetime(2026, 1, 1, tzinfo=UTC)
PASSWORD = "a long passphrase"
EVERYTHING = PageRequest(limit=1000)
SCORE_TOLERANCE = 1e-6
SYSTEM = Principal.system()
# Searches run in every live tenant after every step, besides the random ones.
PROBES = [("cat fish swim", None), ("the small dog barks", SearchFilter(tags_any=["red", "blue"]))]

SETTINGS = settings(
    max_examples=25,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# --- handles: one logical thing, with its id on each side (0: model, 1: backend) ---


@dataclass(frozen=True, repr=False)
class UserHandle:
    label: str
    email: str
    ids: tuple[uuid.UUID, uuid.UUID]

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True, repr=False)
class TenantHandle:
    label: str
    slug: str
    ids: tuple[uuid.UUID, uuid.UUID]
    founder: UserHandle

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True, repr=False)
class DocumentHandle:
    label: str
    tenant: TenantHandle
    ids: tuple[uuid.UUID, uuid.UUID]

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True, repr=False)
class KeyHandle:
    label: str
    tenant: TenantHandle
    ids: tuple[uuid.UUID, uuid.UUID]
    plaintexts: tuple[str, str]

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True, repr=False)
class SystemActor:
    label: str = "system"

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Founder:
    """Whoever created the tenant acted on (likely still its owner)."""


FOUNDER = Founder()
Actor = UserHandle | KeyHandle | SystemActor
Handle = UserHandle | TenantHandle | DocumentHandle | KeyHandle


@dataclass
class Side:
    """One tenantrag and the labels of the ids it generated."""

    name: str
    index: int
    app: TenantRag
    labels: dict[uuid.UUID, str] = field(default_factory=dict)

    def id(self, handle: Handle) -> uuid.UUID:
        return handle.ids[self.index]

    def label(self, ident: uuid.UUID | None) -> str | None:
        return None if ident is None else self.labels.get(ident, "untracked")

    async def principal(self, actor: Actor | Founder, tenant: TenantHandle | None = None) -> Principal:
        """The actor on this side; a key actor is verified here (and may fail to)."""
        if isinstance(actor, Founder):
            assert tenant is not None
            actor = tenant.founder
        if isinstance(actor, UserHandle):
            return Principal.user(self.id(actor))
        if isinstance(actor, KeyHandle):
            return await self.app.api_keys.verify(actor.plaintexts[self.index])
        return SYSTEM


@dataclass(frozen=True)
class Outcome:
    value: object = None
    error: Exception | None = None


def error_key(exc: Exception) -> tuple[str, object, object]:
    """What must agree between two failures: the class, and the field or kind it names."""
    return (type(exc).__name__, getattr(exc, "field", None), getattr(exc, "kind", None))


# --- projections: entities as plain data, ids replaced by labels ---


def user_view(user: User) -> tuple[object, ...]:
    return (
        user.email, user.full_name, user.is_active, user.is_superuser, user.password_hash is not None,
        user.last_login_at, user.created_at, user.updated_at,
    )  # fmt: skip


def tenant_view(side: Side, tenant: Tenant) -> tuple[object, ...]:
    return (
        side.label(tenant.id),
        tenant.slug,
        tenant.name,
        tenant.settings,
        tenant.created_at,
        tenant.updated_at,
    )


def membership_view(side: Side, membership: Membership) -> tuple[object, ...]:
    return (
        side.label(membership.user_id), membership.role, membership.is_active,
        membership.created_at, membership.updated_at,
    )  # fmt: skip


def document_view(side: Side, document: Document) -> tuple[object, ...]:
    label = side.label(document.id)
    return (
        label, document.filename, document.title, document.media_type, document.size_bytes,
        document.status, document.error_message, document.storage_key.replace(str(document.id), str(label)),
        document.content_sha256, document.version, document.metadata, document.tags, document.chunk_count,
        side.label(document.uploaded_by), document.processed_at, document.created_at, document.updated_at,
    )  # fmt: skip


def chunk_view(chunk: Chunk) -> tuple[object, ...]:
    return (
        chunk.ordinal, chunk.content, chunk.content_sha256, chunk.token_count, chunk.metadata,
        chunk.created_at, tuple(round(x, 6) for x in chunk.embedding),
    )  # fmt: skip


def job_view(side: Side, job: Job) -> tuple[object, ...]:
    return (
        side.label(job.document_id), job.kind, job.status, job.progress, job.summary, job.attempts,
        job.error, job.lease_expires_at, job.created_at, job.updated_at, job.started_at, job.finished_at,
    )  # fmt: skip


def key_view(side: Side, key: ApiKey) -> tuple[object, ...]:
    return (
        side.label(key.id), key.name, side.label(key.user_id), key.role_cap, key.created_at,
        key.expires_at, key.revoked_at, key.last_used_at, key.usage_count,
    )  # fmt: skip


def principal_view(side: Side, principal: Principal) -> tuple[object, ...]:
    return (
        side.label(principal.user_id), side.label(principal.tenant_id), principal.role_cap,
        side.label(principal.api_key_id), principal.is_superuser, principal.is_system,
    )  # fmt: skip


def mine_view(side: Side, mine: Sequence[TenantWithRole]) -> list[tuple[object, ...]]:
    return [(side.label(item.tenant.id), item.tenant.slug, item.role) for item in mine]


class Score:
    """A search score that equals another within a tolerance: backends may sum in another order."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Score) and math.isclose(
            self.value, other.value, rel_tol=0.0, abs_tol=SCORE_TOLERANCE
        )

    __hash__ = None  # type: ignore[assignment]  # equal within a tolerance: not hashable

    def __repr__(self) -> str:
        return f"{self.value:.6f}"


def hits_view(side: Side, hits: Sequence[SearchHit]) -> list[tuple[object, ...]]:
    return [
        (
            side.label(hit.document_id),
            hit.ordinal,
            hit.content,
            hit.document_version,
            hit.metadata,
            Score(hit.score),
        )
        for hit in hits
    ]


# --- backends ---

BackendFactory = tuple[UnitOfWorkFactory, Callable[[], Awaitable[None]] | None]


async def open_backend(name: str, directory: str) -> BackendFactory:
    if name == "memory":
        return MemoryUnitOfWorkFactory(dimension=DIMENSION), None
    if name == "sqlite":
        from tenantrag.adapters.sqlite import open_sqlite

        factory = await open_sqlite(f"sqlite+aiosqlite:///{directory}/db.sqlite", DIMENSION)
        return factory, factory.dispose
    if name == "postgres":
        from tenantrag.adapters.postgres import open_postgres

        postgres = await open_postgres(PostgresMachine.new_database(DIMENSION), DIMENSION, migrate=False)
        return postgres, postgres.dispose
    raise AssertionError(f"no such backend: {name}")  # pragma: no cover


# --- strategies ---


def mostly(valid: st.SearchStrategy[T], invalid: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """``valid`` seven times in eight, else ``invalid`` (shrinking leans towards valid)."""
    return st.integers(min_value=0, max_value=7).flatmap(lambda n: invalid if n == 7 else valid)


EMAILS = st.sampled_from(
    [f"{name}@example.com" for name in ("ada", "ADA", "bob", "cy", "dee", "eve", "fay")] + ["not-an-email"]
)
TENANT_NAMES = mostly(st.sampled_from(["Acme", "acme", "Globex", "Initech", "Umbrella Corp"]), st.just("!!!"))
ROLES: st.SearchStrategy[Role | str] = mostly(st.sampled_from([*Role]), st.just("superadmin"))
ROLE_CAPS = st.sampled_from([*Role])
FILENAMES = mostly(st.sampled_from(["a.md", "b.txt", "notes.md"]), st.just(" "))
TAG_WORDS = ["red", "green", "blue"]
TAGS = mostly(st.lists(st.sampled_from(TAG_WORDS), max_size=3), st.just(["red", " "]))
VOCABULARY = ["cat", "cats", "dog", "purr", "bark", "fish", "swim", "tree", "green", "small", "the", "a"]
WORDS = st.sampled_from(VOCABULARY)
SENTENCES = st.lists(WORDS, min_size=1, max_size=8).map(lambda ws: " ".join(ws).capitalize() + ".")
TEXTS = mostly(
    st.lists(SENTENCES, min_size=1, max_size=6).map(" ".join)
    | st.lists(SENTENCES, min_size=2, max_size=4).map("\n\n".join),
    st.sampled_from(["", "   "]),
)
QUERIES = mostly(st.lists(WORDS, min_size=1, max_size=4).map(" ".join) | st.just("zebra"), st.just(" "))
KS = mostly(st.integers(min_value=1, max_value=6), st.just(0))
TAG_FILTERS = st.integers(min_value=0, max_value=3).flatmap(
    lambda n: st.lists(st.sampled_from(TAG_WORDS), min_size=1, max_size=2) if n == 3 else st.none()
)
KEY_NAMES = mostly(st.sampled_from(["ci", "laptop"]), st.just(""))
EXPIRIES = mostly(st.none() | st.integers(min_value=1, max_value=120), st.just(-1))


ACTORS: Bundle[Actor] = Bundle("actors")
# Who acts on a tenant: half the time its founder, so that permitted paths are walked
# as often as refused ones; else anyone (a user, an API key or the system).
ACTING: st.SearchStrategy[Actor | Founder] = st.one_of(st.just(FOUNDER), ACTORS)


class UseCaseMachine(RuleBasedStateMachine):
    """Memory (the reference model) and one backend, driven through the same use cases."""

    users: Bundle[UserHandle] = Bundle("users")
    actors = ACTORS
    tenants: Bundle[TenantHandle] = Bundle("tenants")
    documents: Bundle[DocumentHandle] = Bundle("documents")
    keys: Bundle[KeyHandle] = Bundle("keys")

    backend: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        backend = self.backend
        self.loop = asyncio.new_event_loop()
        self.directory = tempfile.mkdtemp(prefix="tenantrag-state-machine-")
        self.dispose: Callable[[], Awaitable[None]] | None = None
        self.clock = ManualClock(START)
        self.known_users: list[UserHandle] = []
        self.known_tenants: list[TenantHandle] = []
        self.counter = 0
        self.labels_used: set[str] = set()
        self.founding: tuple[UserHandle, TenantHandle] | None = None
        try:
            model = MemoryUnitOfWorkFactory(dimension=DIMENSION)
            backend_uow, self.dispose = self.loop.run_until_complete(open_backend(backend, self.directory))
            self.sides = (Side("model", 0, self._app(model)), Side(backend, 1, self._app(backend_uow)))
        except BaseException:
            self._close()
            raise

    def _app(self, uow: UnitOfWorkFactory) -> TenantRag:
        return bootstrap(
            uow=uow,
            embedder=HashingEmbedder(dimension=DIMENSION),
            # Small chunks, so that short texts make several and ordinals matter.
            chunker=TextChunker(chunk_size=48, chunk_overlap=8),
            hasher=PwdlibPasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
            clock=self.clock,
        )

    def teardown(self) -> None:
        self._close()

    def _close(self) -> None:
        try:
            if self.dispose is not None:
                self.loop.run_until_complete(self.dispose())
                self.dispose = None
        finally:
            self.loop.close()
            shutil.rmtree(self.directory, ignore_errors=True)

    # --- running one use case on both sides ---

    def _run(self, side: Side, op: Callable[[Side], Coroutine[Any, Any, T]]) -> Outcome:
        try:
            return Outcome(value=self.loop.run_until_complete(op(side)))
        except Exception as exc:
            return Outcome(error=exc)

    def _both(self, what: str, op: Callable[[Side], Coroutine[Any, Any, T]]) -> tuple[T, T] | None:
        """Run ``op`` on the model, then on the backend, a clock tick later than the last step.

        Both succeed (the values are returned) or both fail alike (None is returned);
        anything else fails the test.
        """
        self.clock.advance(timedelta(seconds=1))
        model_side, backend_side = self.sides
        model, backend = self._run(model_side, op), self._run(backend_side, op)
        if model.error is None and backend.error is None:
            event(f"{what}: ok")
            return cast("T", model.value), cast("T", backend.value)
        if model.error is not None and backend.error is not None:
            if error_key(model.error) != error_key(backend.error):
                raise AssertionError(
                    f"{what}: the model raised {model.error!r} but {backend_side.name} raised "
                    f"{backend.error!r}"
                ) from backend.error
            if not isinstance(model.error, TenantRagError):
                raise model.error  # both sides broke the same way: a bug in this test or the domain
            event(f"{what}: {type(model.error).__name__}")
            return None
        if model.error is not None:
            raise AssertionError(
                f"{what}: the model raised {model.error!r} but {backend_side.name} succeeded with "
                f"{backend.value!r}"
            )
        raise AssertionError(
            f"{what}: {backend_side.name} raised {backend.error!r} but the model succeeded with "
            f"{model.value!r}"
        ) from backend.error

    def _label(self, base: str) -> str:
        """A label no handle has yet: an email, a slug (reusable once its tenant is gone), doc1, key2..."""
        self.counter += 1
        return base if base not in self.labels_used else f"{base}#{self.counter}"

    def _track(self, label: str, ids: tuple[uuid.UUID, uuid.UUID]) -> None:
        self.labels_used.add(label)
        for side, ident in zip(self.sides, ids, strict=True):
            side.labels[ident] = label

    # --- rules ---

    @initialize(target=actors)
    def add_system_actor(self) -> Actor:
        return SystemActor()

    def _founding(self) -> tuple[UserHandle, TenantHandle]:
        """A first user owning a first tenant, so that examples get going quickly."""
        if self.founding is None:
            founder = self._register("founder@example.com")
            assert founder is not None
            tenant = self._create_tenant(founder, "Founders")
            assert tenant is not None
            self.founding = (founder, tenant)
        return self.founding

    @initialize(targets=(users, actors))
    def seed_founder(self) -> UserHandle:
        return self._founding()[0]

    @initialize(target=tenants)
    def seed_tenant(self) -> TenantHandle:
        return self._founding()[1]

    @rule(targets=(users, actors), email=EMAILS)
    def register_user(self, email: str) -> UserHandle | MultipleResults[UserHandle]:
        handle = self._register(email)
        return multiple() if handle is None else handle

    def _register(self, email: str) -> UserHandle | None:
        async def op(side: Side) -> User:
            return await side.app.users.register(email=email, password=PASSWORD, full_name="Test User")

        result = self._both("register", op)
        if result is None:
            return None
        model, backend = result
        assert user_view(model) == user_view(backend)
        handle = UserHandle(self._label(model.email), model.email, (model.id, backend.id))
        self._track(handle.label, handle.ids)
        self.known_users.append(handle)
        return handle

    @rule(user=users, right_password=st.booleans())
    def authenticate(self, user: UserHandle, right_password: bool) -> None:
        async def op(side: Side) -> tuple[object, ...]:
            password = PASSWORD if right_password else "not the passphrase"
            return user_view(await side.app.users.authenticate(email=user.email, password=password))

        self._agree("authenticate", op)

    @rule(target=tenants, actor=actors, name=TENANT_NAMES)
    def create_tenant(self, actor: Actor, name: str) -> TenantHandle | MultipleResults[TenantHandle]:
        handle = self._create_tenant(actor, name)
        return multiple() if handle is None else handle

    def _create_tenant(self, actor: Actor, name: str) -> TenantHandle | None:
        async def op(side: Side) -> Tenant:
            return await side.app.tenants.create(await side.principal(actor), name=name)

        result = self._both("create tenant", op)
        if result is None:
            return None
        model, backend = result
        assert isinstance(actor, UserHandle)  # only users found tenants
        handle = TenantHandle(self._label(model.slug), model.slug, (model.id, backend.id), actor)
        self._track(handle.label, handle.ids)
        self.known_tenants.append(handle)
        assert tenant_view(self.sides[0], model) == tenant_view(self.sides[1], backend)
        return handle

    @rule(actor=ACTING, tenant=tenants, user=users, role=ROLES, by_email=st.booleans())
    def add_member(
        self, actor: Actor | Founder, tenant: TenantHandle, user: UserHandle, role: Role | str, by_email: bool
    ) -> None:
        async def op(side: Side) -> tuple[object, ...]:
            principal = await side.principal(actor, tenant)
            if by_email:
                added = await side.app.members.add(principal, side.id(tenant), role=role, email=user.email)
            else:
                added = await side.app.members.add(
                    principal, side.id(tenant), role=role, user_id=side.id(user)
                )
            return membership_view(side, added)

        self._agree("add member", op)

    @rule(actor=ACTING, tenant=tenants, user=users, role=ROLES)
    def change_role(
        self, actor: Actor | Founder, tenant: TenantHandle, user: UserHandle, role: Role | str
    ) -> None:
        async def op(side: Side) -> tuple[object, ...]:
            principal = await side.principal(actor, tenant)
            changed = await side.app.members.change_role(principal, side.id(tenant), side.id(user), role)
            return membership_view(side, changed)

        self._agree("change role", op)

    @rule(actor=ACTING, tenant=tenants, user=users, active=st.booleans())
    def set_active(
        self, actor: Actor | Founder, tenant: TenantHandle, user: UserHandle, active: bool
    ) -> None:
        async def op(side: Side) -> tuple[object, ...]:
            principal = await side.principal(actor, tenant)
            changed = await side.app.members.set_active(principal, side.id(tenant), side.id(user), active)
            return membership_view(side, changed)

        self._agree("set active", op)

    @rule(actor=ACTING, tenant=tenants, user=users)
    def remove_member(self, actor: Actor | Founder, tenant: TenantHandle, user: UserHandle) -> None:
        async def op(side: Side) -> None:
            await side.app.members.remove(await side.principal(actor, tenant), side.id(tenant), side.id(user))

        self._agree("remove member", op)

    @rule(target=documents, actor=ACTING, tenant=tenants, filename=FILENAMES, text=TEXTS, tags=TAGS)
    def add_document(
        self, actor: Actor | Founder, tenant: TenantHandle, filename: str, text: str, tags: list[str]
    ) -> DocumentHandle | MultipleResults[DocumentHandle]:
        async def op(side: Side) -> Document:
            principal = await side.principal(actor, tenant)
            return await side.app.ingestion.add_text(
                principal, side.id(tenant), filename=filename, text=text, tags=tags
            )

        result = self._both("add document", op)
        if result is None:
            return multiple()
        model, backend = result
        handle = DocumentHandle(self._label(f"doc{self.counter + 1}"), tenant, (model.id, backend.id))
        self._track(handle.label, handle.ids)
        assert document_view(self.sides[0], model) == document_view(self.sides[1], backend)
        return handle

    @rule(actor=ACTING, document=documents, text=TEXTS)
    def reingest_document(self, actor: Actor | Founder, document: DocumentHandle, text: str) -> None:
        async def op(side: Side) -> tuple[object, ...]:
            principal = await side.principal(actor, document.tenant)
            done = await side.app.ingestion.ingest_text(
                principal, side.id(document.tenant), side.id(document), text
            )
            return document_view(side, done)

        self._agree("reingest document", op)

    @rule(actor=ACTING, document=documents, elsewhere=st.none() | tenants)
    def delete_document(
        self, actor: Actor | Founder, document: DocumentHandle, elsewhere: TenantHandle | None
    ) -> None:
        """Delete a document, sometimes naming the wrong tenant (which must not find it)."""
        tenant = document.tenant if elsewhere is None else elsewhere

        async def op(side: Side) -> None:
            await side.app.documents.delete(
                await side.principal(actor, document.tenant), side.id(tenant), side.id(document)
            )

        self._agree("delete document", op)

    @rule(actor=ACTING, tenant=tenants, text=QUERIES, k=KS, tags_any=TAG_FILTERS)
    def search(
        self, actor: Actor | Founder, tenant: TenantHandle, text: str, k: int, tags_any: list[str] | None
    ) -> None:
        self._search(actor, tenant, text, k, tags_any)

    @rule(actor=ACTING, near=documents, text=QUERIES, k=KS, tags_any=TAG_FILTERS)
    def search_where_documents_are(
        self, actor: Actor | Founder, near: DocumentHandle, text: str, k: int, tags_any: list[str] | None
    ) -> None:
        """Search the tenant of some document, so that searches often have something to find."""
        self._search(actor, near.tenant, text, k, tags_any)

    def _search(
        self, actor: Actor | Founder, tenant: TenantHandle, text: str, k: int, tags_any: list[str] | None
    ) -> None:
        async def op(side: Side) -> list[tuple[object, ...]]:
            hits = await side.app.search.search(
                await side.principal(actor, tenant),
                side.id(tenant),
                text=text,
                k=k,
                filter=None if tags_any is None else SearchFilter(tags_any=tags_any),
            )
            return hits_view(side, hits)

        self._agree("search", op)

    @rule(
        target=keys,
        actor=ACTING,
        tenant=tenants,
        name=KEY_NAMES,
        role_cap=ROLE_CAPS,
        expires_in=EXPIRIES,
    )
    def issue_key(
        self, actor: Actor | Founder, tenant: TenantHandle, name: str, role_cap: Role, expires_in: int | None
    ) -> KeyHandle | MultipleResults[KeyHandle]:
        expires_at = None if expires_in is None else self.clock.now() + timedelta(seconds=expires_in)

        async def op(side: Side) -> tuple[ApiKey, str]:
            issued = await side.app.api_keys.issue(
                await side.principal(actor, tenant),
                side.id(tenant),
                name=name,
                role_cap=role_cap,
                expires_at=expires_at,
            )
            return issued.key, issued.plaintext

        result = self._both("issue key", op)
        if result is None:
            return multiple()
        (model, model_plaintext), (backend, backend_plaintext) = result
        handle = KeyHandle(
            self._label(f"key{self.counter + 1}"),
            tenant,
            (model.id, backend.id),
            (model_plaintext, backend_plaintext),
        )
        self._track(handle.label, handle.ids)
        assert key_view(self.sides[0], model) == key_view(self.sides[1], backend)
        return handle

    @rule(target=actors, key=keys)
    def key_as_actor(self, key: KeyHandle) -> Actor:
        return key

    @rule(actor=ACTING, key=keys)
    def revoke_key(self, actor: Actor | Founder, key: KeyHandle) -> None:
        async def op(side: Side) -> tuple[object, ...]:
            revoked = await side.app.api_keys.revoke(
                await side.principal(actor, key.tenant), side.id(key.tenant), side.id(key)
            )
            return key_view(side, revoked)

        self._agree("revoke key", op)

    @rule(key=keys)
    def verify_key(self, key: KeyHandle) -> None:
        async def op(side: Side) -> tuple[object, ...]:
            return principal_view(side, await side.app.api_keys.verify(key.plaintexts[side.index]))

        self._agree("verify key", op)

    @rule(
        actor=ACTING, tenant=tenants, action=st.sampled_from(["read", "rename", "delete"]), name=TENANT_NAMES
    )
    def manage_tenant(self, actor: Actor | Founder, tenant: TenantHandle, action: str, name: str) -> None:
        """Read, rename or delete a tenant (deleting takes everything it owns with it)."""

        async def op(side: Side) -> object:
            principal = await side.principal(actor, tenant)
            if action == "read":
                return tenant_view(side, await side.app.tenants.get(principal, side.id(tenant)))
            if action == "rename":
                return tenant_view(side, await side.app.tenants.update(principal, side.id(tenant), name=name))
            await side.app.tenants.delete(principal, side.id(tenant))
            return "deleted"

        self._agree(f"{action} tenant", op)

    @rule(seconds=st.integers(min_value=0, max_value=90))
    def advance_clock(self, seconds: int) -> None:
        """Let time pass (keys expire); both sides share the clock."""
        self.clock.advance(timedelta(seconds=seconds))

    def _agree(self, what: str, op: Callable[[Side], Coroutine[Any, Any, T]]) -> None:
        result = self._both(what, op)
        if result is not None:
            model, backend = result
            assert model == backend, f"{what}: {model} != {backend}"

    # --- the observable state ---

    @invariant()
    def sides_agree(self) -> None:
        model, backend = (self.loop.run_until_complete(self._observe(side)) for side in self.sides)
        for part in model:
            assert model[part] == backend[part], f"{part} differ between the model and {self.backend}"

    async def _observe(self, side: Side) -> dict[str, object]:
        app = side.app
        state: dict[str, object] = {
            "tenants": [tenant_view(side, t) for t in (await app.tenants.list_all(SYSTEM, EVERYTHING)).items],
        }
        for user in self.known_users:
            state[f"user {user.label}"] = user_view(await app.users.get_by_email(user.email))
            state[f"list_mine {user.label}"] = mine_view(
                side, await app.tenants.list_mine(Principal.user(side.id(user)))
            )
        for tenant in self.known_tenants:
            state[f"tenant {tenant.label}"] = await self._observe_tenant(side, side.id(tenant))
        return state

    @staticmethod
    async def _observe_tenant(side: Side, tenant_id: uuid.UUID) -> object:
        app = side.app
        try:
            tenant = await app.tenants.get(SYSTEM, tenant_id)
        except NotFound:
            return "deleted"
        documents = (await app.documents.list(SYSTEM, tenant_id, EVERYTHING)).items
        return {
            "tenant": tenant_view(side, tenant),
            "members": [
                membership_view(side, m)
                for m in (await app.members.list(SYSTEM, tenant_id, EVERYTHING)).items
            ],
            "documents": [document_view(side, d) for d in documents],
            "chunks": {
                side.label(d.id): [chunk_view(c) for c in await app.documents.chunks(SYSTEM, tenant_id, d.id)]
                for d in documents
            },
            "jobs": [job_view(side, j) for j in (await app.jobs.list(SYSTEM, tenant_id, EVERYTHING)).items],
            "searches": [
                hits_view(side, await app.search.search(SYSTEM, tenant_id, text=text, k=4, filter=where))
                for text, where in PROBES
            ],
            "api keys": [
                key_view(side, k) for k in (await app.api_keys.list(SYSTEM, tenant_id, EVERYTHING)).items
            ],
        }


class MemoryMachine(UseCaseMachine):
    backend = "memory"


class SqliteMachine(UseCaseMachine):
    backend = "sqlite"


class PostgresMachine(UseCaseMachine):
    backend = "postgres"
    # Set by the test from the postgres_database fixture: a new migrated database per example.
    new_database: ClassVar[Callable[[int], str]]


MACHINES: dict[str, type[UseCaseMachine]] = {
    "memory": MemoryMachine,
    "sqlite": SqliteMachine,
    "postgres": PostgresMachine,
}


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("memory", marks=pytest.mark.memory),
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
)
def test_use_cases_agree_with_the_reference_model(backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "postgres":
        PostgresMachine.new_database = request.getfixturevalue("postgres_database")
    run_state_machine_as_test(MACHINES[backend], settings=SETTINGS)
