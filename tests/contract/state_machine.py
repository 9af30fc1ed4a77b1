"""The use-case state machine's rules: one per use case, on every backend and the model.

Ids are random on each backend, so rules keep handles (state_views) that pair the
model's label for a thing with its id on each backend. Each example starts from a
founder owning a tenant, a second member of it, a document and an API key, so that
the first steps already have people, content and keys to act on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, MultipleResults, initialize, multiple, rule

from tenantrag.domain.policy import Role
from tenantrag.domain.search import SearchFilter
from tenantrag.domain.usecases.principal import Principal
from tests.contract.state_harness import Harness
from tests.contract.state_strategies import (
    ACTING,
    ACTORS,
    EMAILS,
    EXPIRIES,
    FILENAMES,
    KEY_NAMES,
    KS,
    QUERIES,
    ROLE_CAPS,
    ROLES,
    TAG_FILTERS,
    TAGS,
    TENANT_NAMES,
    TEXTS,
    TagFilter,
)
from tests.contract.state_views import (
    Actor,
    DocumentHandle,
    Founder,
    Hit,
    KeyHandle,
    Side,
    SystemActor,
    TenantHandle,
    UserHandle,
    hits_view,
    key_view,
    membership_view,
    mine_view,
    principal_view,
    resolve,
    tenant_view,
    user_view,
    who,
)

PASSWORD = "a long passphrase"


class UseCaseMachine(Harness):
    users: Bundle[UserHandle] = Bundle("users")
    actors = ACTORS
    tenants: Bundle[TenantHandle] = Bundle("tenants")
    documents: Bundle[DocumentHandle] = Bundle("documents")
    keys: Bundle[KeyHandle] = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        self.founding: tuple[UserHandle, TenantHandle] | None = None

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

    @initialize(targets=(users, actors), role=ROLE_CAPS)
    def seed_member(self, role: Role) -> UserHandle:
        founder, tenant = self._founding()
        member = self._register("member@example.com")
        assert member is not None
        self.add_member(founder, tenant, member, role, by_email=False)
        return member

    @initialize(target=documents, text=TEXTS, tags=TAGS)
    def seed_document(self, text: str, tags: list[str]) -> DocumentHandle | MultipleResults[DocumentHandle]:
        founder, tenant = self._founding()
        return self.add_document(founder, tenant, "seed.md", text, tags)

    @initialize(target=keys, role_cap=ROLE_CAPS)
    def seed_key(self, role_cap: Role) -> KeyHandle | MultipleResults[KeyHandle]:
        founder, tenant = self._founding()
        return self.issue_key(founder, tenant, "seed", role_cap, None)

    @rule(targets=(users, actors), email=EMAILS)
    def register_user(self, email: str) -> UserHandle | MultipleResults[UserHandle]:
        handle = self._register(email)
        return multiple() if handle is None else handle

    def _register(self, email: str) -> UserHandle | None:
        async def op(side: Side) -> Any:
            return await side.app.users.register(email=email, password=PASSWORD, full_name="Test User")

        result = self._step("register", lambda: self.model.register(email), op)
        if result is None:
            return None
        label, users = result
        handle = UserHandle(label, self._track(label, [user.id for user in users]))
        return handle

    @rule(user=users, right_password=st.booleans())
    def authenticate(self, user: UserHandle, right_password: bool) -> None:
        async def op(side: Side) -> object:
            password = PASSWORD if right_password else "not the passphrase"
            return user_view(await side.app.users.authenticate(email=user.label, password=password))

        self._agree("authenticate", lambda: self.model.authenticate(user.label, right_password), op)

    @rule(user=users)
    def list_mine(self, user: UserHandle) -> None:
        async def op(side: Side) -> object:
            return mine_view(side, await side.app.tenants.list_mine(Principal.user(side.id(user))))

        result = self._step("list mine", lambda: self.model.list_mine(user.label), op)
        assert result is not None
        expected, found = result
        assert all(rows == expected for rows in found), f"list mine: {found} != {expected}"

    @rule(target=tenants, actor=actors, name=TENANT_NAMES)
    def create_tenant(self, actor: Actor, name: str) -> TenantHandle | MultipleResults[TenantHandle]:
        handle = self._create_tenant(actor, name)
        return multiple() if handle is None else handle

    def _create_tenant(self, actor: Actor, name: str) -> TenantHandle | None:
        async def op(side: Side) -> Any:
            return await side.app.tenants.create(await side.principal(actor), name=name)

        result = self._step("create tenant", lambda: self.model.create_tenant(who(actor), name), op)
        if result is None:
            return None
        label, tenants = result
        assert isinstance(actor, UserHandle)  # only users found tenants
        handle = TenantHandle(label, self._track(label, [tenant.id for tenant in tenants]), actor)
        views = [tenant_view(side, tenant) for side, tenant in zip(self.sides, tenants, strict=True)]
        assert all(view == views[0] for view in views), views
        return handle

    @rule(actor=ACTING, tenant=tenants, user=users, role=ROLES, by_email=st.booleans())
    def add_member(
        self, actor: Actor | Founder, tenant: TenantHandle, user: UserHandle, role: Role | str, by_email: bool
    ) -> None:
        acting = resolve(actor, tenant)

        async def op(side: Side) -> object:
            principal = await side.principal(acting)
            if by_email:
                added = await side.app.members.add(principal, side.id(tenant), role=role, email=user.label)
            else:
                added = await side.app.members.add(
                    principal, side.id(tenant), role=role, user_id=side.id(user)
                )
            return membership_view(side, added)

        self._agree(
            "add member", lambda: self.model.add_member(who(acting), tenant.label, user.label, role), op
        )

    @rule(actor=ACTING, tenant=tenants, user=users, role=ROLES)
    def change_role(
        self, actor: Actor | Founder, tenant: TenantHandle, user: UserHandle, role: Role | str
    ) -> None:
        acting = resolve(actor, tenant)

        async def op(side: Side) -> object:
            principal = await side.principal(acting)
            changed = await side.app.members.change_role(principal, side.id(tenant), side.id(user), role)
            return membership_view(side, changed)

        self._agree(
            "change role", lambda: self.model.change_role(who(acting), tenant.label, user.label, role), op
        )

    @rule(actor=ACTING, tenant=tenants, user=users, active=st.booleans())
    def set_active(
        self, actor: Actor | Founder, tenant: TenantHandle, user: UserHandle, active: bool
    ) -> None:
        acting = resolve(actor, tenant)

        async def op(side: Side) -> object:
            principal = await side.principal(acting)
            changed = await side.app.members.set_active(principal, side.id(tenant), side.id(user), active)
            return membership_view(side, changed)

        self._agree(
            "set active", lambda: self.model.set_active(who(acting), tenant.label, user.label, active), op
        )

    @rule(actor=ACTING, tenant=tenants, user=users)
    def remove_member(self, actor: Actor | Founder, tenant: TenantHandle, user: UserHandle) -> None:
        acting = resolve(actor, tenant)

        async def op(side: Side) -> None:
            await side.app.members.remove(await side.principal(acting), side.id(tenant), side.id(user))

        self._agree(
            "remove member", lambda: self.model.remove_member(who(acting), tenant.label, user.label), op
        )

    @rule(target=documents, actor=ACTING, tenant=tenants, filename=FILENAMES, text=TEXTS, tags=TAGS)
    def add_document(
        self, actor: Actor | Founder, tenant: TenantHandle, filename: str, text: str, tags: list[str]
    ) -> DocumentHandle | MultipleResults[DocumentHandle]:
        acting = resolve(actor, tenant)

        async def op(side: Side) -> Any:
            principal = await side.principal(acting)
            return await side.app.ingestion.add_text(
                principal, side.id(tenant), filename=filename, text=text, tags=tags
            )

        def model() -> str:
            return self.model.add_document(who(acting), tenant.label, filename, text, tags)

        result = self._step("add document", model, op)
        if result is None:
            return multiple()
        label, documents = result
        return DocumentHandle(label, tenant, self._track(label, [document.id for document in documents]))

    @rule(actor=ACTING, document=documents, text=TEXTS)
    def reingest_document(self, actor: Actor | Founder, document: DocumentHandle, text: str) -> None:
        acting, tenant = resolve(actor, document.tenant), document.tenant

        async def op(side: Side) -> object:
            principal = await side.principal(acting)
            done = await side.app.ingestion.ingest_text(principal, side.id(tenant), side.id(document), text)
            return done.version, done.chunk_count, done.updated_at

        self._agree(
            "reingest", lambda: self.model.reingest(who(acting), tenant.label, document.label, text), op
        )

    @rule(actor=ACTING, document=documents, elsewhere=st.none() | tenants)
    def delete_document(
        self, actor: Actor | Founder, document: DocumentHandle, elsewhere: TenantHandle | None
    ) -> None:
        """Delete a document, sometimes naming the wrong tenant (which must not find it)."""
        acting, tenant = resolve(actor, document.tenant), elsewhere or document.tenant

        async def op(side: Side) -> None:
            await side.app.documents.delete(await side.principal(acting), side.id(tenant), side.id(document))

        def model() -> None:
            self.model.delete_document(who(acting), tenant.label, document.label)

        self._agree("delete document", model, op)

    @rule(actor=ACTING, tenant=tenants, text=QUERIES, k=KS, tags=TAG_FILTERS)
    def search(
        self, actor: Actor | Founder, tenant: TenantHandle, text: str, k: int, tags: TagFilter
    ) -> None:
        self._search(resolve(actor, tenant), tenant, text, k, tags)

    @rule(actor=ACTING, near=documents, text=QUERIES, k=KS, tags=TAG_FILTERS)
    def search_where_documents_are(
        self, actor: Actor | Founder, near: DocumentHandle, text: str, k: int, tags: TagFilter
    ) -> None:
        """Search the tenant of some document, so that searches often have something to find."""
        self._search(resolve(actor, near.tenant), near.tenant, text, k, tags)

    def _search(self, actor: Actor, tenant: TenantHandle, text: str, k: int, tags: TagFilter) -> None:
        where = None if tags is None else SearchFilter.from_json({"tags": {tags[0]: tags[1]}})

        async def op(side: Side) -> list[Hit]:
            principal = await side.principal(actor)
            return hits_view(
                side, await side.app.search.search(principal, side.id(tenant), text=text, k=k, filter=where)
            )

        result = self._step("search", lambda: self.model.search(who(actor), tenant.label, text, k), op)
        if result is not None:
            self._check_search(result[1], result[0], k, tags)

    @rule(target=keys, actor=ACTING, tenant=tenants, name=KEY_NAMES, role_cap=ROLE_CAPS, expires_in=EXPIRIES)
    def issue_key(
        self, actor: Actor | Founder, tenant: TenantHandle, name: str, role_cap: Role, expires_in: int | None
    ) -> KeyHandle | MultipleResults[KeyHandle]:
        acting = resolve(actor, tenant)
        expires_at = None if expires_in is None else self.clock.now() + timedelta(seconds=expires_in)

        async def op(side: Side) -> Any:
            principal = await side.principal(acting)
            return await side.app.api_keys.issue(
                principal, side.id(tenant), name=name, role_cap=role_cap, expires_at=expires_at
            )

        def model() -> str:
            return self.model.issue_key(who(acting), tenant.label, name, role_cap, expires_at)

        result = self._step("issue key", model, op)
        if result is None:
            return multiple()
        label, issued = result
        ids = self._track(label, [i.key.id for i in issued])
        return KeyHandle(label, tenant, ids, tuple(i.plaintext for i in issued))

    @rule(target=actors, key=keys)
    def key_as_actor(self, key: KeyHandle) -> Actor:
        return key

    @rule(actor=ACTING, key=keys)
    def revoke_key(self, actor: Actor | Founder, key: KeyHandle) -> None:
        acting = resolve(actor, key.tenant)

        async def op(side: Side) -> object:
            principal = await side.principal(acting)
            return key_view(
                side, await side.app.api_keys.revoke(principal, side.id(key.tenant), side.id(key))
            )

        self._agree("revoke key", lambda: self.model.revoke_key(who(acting), key.tenant.label, key.label), op)

    @rule(key=keys)
    def verify_key(self, key: KeyHandle) -> None:
        async def op(side: Side) -> object:
            return principal_view(side, await side.app.api_keys.verify(key.plaintexts[side.index]))

        result = self._step("verify key", lambda: self.model.verify(key.label), op)
        if result is not None:
            expected, principals = result
            assert all(p == expected for p in principals), f"verify key: {principals} != {expected}"

    @rule(
        actor=ACTING, tenant=tenants, action=st.sampled_from(["read", "rename", "delete"]), name=TENANT_NAMES
    )
    def manage_tenant(self, actor: Actor | Founder, tenant: TenantHandle, action: str, name: str) -> None:
        """Read, rename or delete a tenant (deleting takes everything it owns with it)."""
        acting = resolve(actor, tenant)

        async def op(side: Side) -> object:
            principal = await side.principal(acting)
            if action == "read":
                return tenant_view(side, await side.app.tenants.get(principal, side.id(tenant)))
            if action == "rename":
                return tenant_view(side, await side.app.tenants.update(principal, side.id(tenant), name=name))
            await side.app.tenants.delete(principal, side.id(tenant))
            return "deleted"

        def model() -> None:
            if action == "read":
                self.model.read_tenant(who(acting), tenant.label)
            elif action == "rename":
                self.model.rename_tenant(who(acting), tenant.label, name)
            else:
                self.model.delete_tenant(who(acting), tenant.label)

        self._agree(f"{action} tenant", model, op)

    @rule(seconds=st.integers(min_value=0, max_value=90))
    def advance_clock(self, seconds: int) -> None:
        """Let time pass (keys expire); everything shares the clock."""
        self.clock.advance(timedelta(seconds=seconds))
