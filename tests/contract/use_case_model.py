"""A plain model of what the use cases the state machine drives leave in storage.

No database and no search: dicts of rows keyed by labels (a user's email, a tenant's
slug, doc3, key5) instead of ids. Each method is one use case as its caller sees it: it
raises the domain error the use case must raise (the class, and the field or kind it
names), or changes the rows as the use case must, and returns the label of what it made.
The rules are the domain's own (``policy``'s permission table and
``can_manage_membership``, the email, slug, name and tag validation): what is modelled
is their outcome in storage, such as which rows exist, with which role, version,
revocation, usage count and timestamps.

Not modelled, because predicting them would mean writing the chunker and the search
again: chunks, chunk counts, titles, hashes, search hits. The machine compares those
between backends. An API key that acts is verified first (as the machine's actors
are), and the verification is recorded even if the use case then fails, as in the product.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from datetime import datetime

from tenantrag.adapters.clock import ManualClock
from tenantrag.domain import validation as v
from tenantrag.domain.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound, PermissionDenied
from tenantrag.domain.model.tenant import slugify
from tenantrag.domain.model.user import normalise_email
from tenantrag.domain.policy import Permission, Role, allows, can_manage_membership, require
from tenantrag.domain.ports.parser import UnparseableDocument

Row = tuple[object, ...]


@dataclass(frozen=True)
class Who:
    """An actor: a user or an API key, by label; with neither, the system."""

    user: str | None = None
    key: str | None = None


# Users', members' and keys' fields are in the order of state_views' projections (astuple).
@dataclass
class User:
    email: str
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass
class Member:
    role: Role
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass
class Document:
    filename: str
    tags: tuple[str, ...]
    uploaded_by: str | None
    created_at: datetime
    updated_at: datetime  # also when it was last processed
    content: str
    version: int = 1  # one ingest job per version, each succeeded


@dataclass
class Key:
    name: str
    user: str
    role_cap: Role
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    usage_count: int = 0


@dataclass
class Tenant:
    slug: str
    name: str
    created_at: datetime
    updated_at: datetime
    members: dict[str, Member] = field(default_factory=dict)  # all dicts: in creation order
    documents: dict[str, Document] = field(default_factory=dict)
    keys: dict[str, Key] = field(default_factory=dict)


@dataclass(frozen=True)
class Acting:
    """An actor once its key (if any) is verified: the user it acts as, and the key's limits."""

    user: str | None
    tenant: str | None = None
    cap: Role | None = None


class UseCaseModel:
    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.users: dict[str, User] = {}
        self.tenants: dict[str, Tenant] = {}  # the live ones
        self.labels: set[str] = set()

    def _label(self, base: str) -> str:
        """A label nothing has had yet (a slug is reused once its tenant is gone)."""
        label = base if base not in self.labels else f"{base}#{len(self.labels) + 1}"
        self.labels.add(label)
        return label

    # --- acting and authorizing ---

    def _verified(self, label: str) -> tuple[str, Key]:
        now = self.clock.now()
        for tenant, row in self.tenants.items():
            key = row.keys.get(label)
            if key and key.revoked_at is None and (key.expires_at is None or now < key.expires_at):
                key.last_used_at, key.usage_count = now, key.usage_count + 1
                return tenant, key
        raise AuthenticationFailed("invalid, expired or revoked API key")

    def verify(self, label: str) -> Row:
        """A key's principal as (user, tenant, role cap, key); records the use."""
        tenant, key = self._verified(label)
        return (key.user, tenant, key.role_cap, label)

    def _act(self, who: Who) -> Acting:
        if who.key is None:
            return Acting(who.user)
        tenant, key = self._verified(who.key)
        return Acting(key.user, tenant, key.role_cap)

    def _role(self, acting: Acting, tenant: str) -> Role:
        """The effective role; NotFound for anyone who may not know of the tenant."""
        found = self.tenants.get(tenant)
        if found is None or acting.tenant not in (None, tenant):
            raise NotFound("tenant")
        if acting.user is None:  # the system
            return Role.OWNER
        member = found.members.get(acting.user)
        if member is None or not member.active:
            raise NotFound("tenant")
        return member.role.capped(acting.cap)

    def _authorize(self, acting: Acting, tenant: str, permission: Permission) -> Role:
        role = self._role(acting, tenant)
        require(role, permission)
        return role

    # --- users and tenants ---

    def register(self, email: str) -> str:
        normalised, now = normalise_email(email), self.clock.now()
        if normalised in self.users:
            raise Conflict("a user with this email already exists")
        self.users[self._label(normalised)] = User(normalised, None, now, now)
        return normalised

    def authenticate(self, user: str, right_password: bool) -> None:
        if not right_password:
            raise AuthenticationFailed("invalid email or password")
        row = self.users[user]
        row.last_login_at = row.updated_at = self.clock.now()

    def create_tenant(self, who: Who, name: str) -> str:
        """Found a tenant owned by the acting user."""
        acting = self._act(who)
        if acting.tenant is not None:
            raise PermissionDenied("an API key cannot create tenants")
        if acting.user is None:
            raise InvalidInput("owner_id", "is required when the system creates a tenant")
        slug, now = slugify(name), self.clock.now()
        if any(t.slug == slug for t in self.tenants.values()):
            raise Conflict("slug taken")
        label = self._label(slug)
        self.tenants[label] = Tenant(
            slug, name.strip(), now, now, {acting.user: Member(Role.OWNER, True, now, now)}
        )
        return label

    def read_tenant(self, who: Who, tenant: str) -> None:
        self._authorize(self._act(who), tenant, Permission.TENANT_READ)

    def rename_tenant(self, who: Who, tenant: str, name: str) -> None:
        self._authorize(self._act(who), tenant, Permission.TENANT_UPDATE)
        row = self.tenants[tenant]
        row.name, row.updated_at = v.text("name", name).strip(), self.clock.now()

    def delete_tenant(self, who: Who, tenant: str) -> None:
        """Deleting takes members, documents (with versions, chunks, jobs) and keys along."""
        self._authorize(self._act(who), tenant, Permission.TENANT_DELETE)
        del self.tenants[tenant]

    # --- members ---

    def _member(self, tenant: str, user: str) -> Member:
        member = self.tenants[tenant].members.get(user)
        if member is None:
            raise NotFound("member")
        return member

    @staticmethod
    def _manage(actor_role: Role, current: Role | None, target: Role | None) -> None:
        if not can_manage_membership(actor_role, current, target):
            raise PermissionDenied("may not manage this membership")

    def _keep_an_owner(self, tenant: str, member: Member) -> None:
        owners = [m for m in self.tenants[tenant].members.values() if m.active and m.role is Role.OWNER]
        if owners == [member]:
            raise Conflict("a tenant must keep at least one active owner")

    def add_member(self, who: Who, tenant: str, user: str, role: Role | str) -> None:
        acting, target = self._act(who), Role.parse(role)
        if user not in self.users:
            raise NotFound("user")
        self._manage(self._authorize(acting, tenant, Permission.MEMBER_MANAGE), None, target)
        if user in self.tenants[tenant].members:
            raise Conflict("the user is already a member of this tenant")
        now = self.clock.now()
        self.tenants[tenant].members[user] = Member(target, True, now, now)

    def change_role(self, who: Who, tenant: str, user: str, role: Role | str) -> None:
        acting, target = self._act(who), Role.parse(role)
        actor_role = self._authorize(acting, tenant, Permission.MEMBER_MANAGE)
        member = self._member(tenant, user)
        self._manage(actor_role, member.role, target)
        if target is not Role.OWNER:
            self._keep_an_owner(tenant, member)
        member.role, member.updated_at = target, self.clock.now()

    def set_active(self, who: Who, tenant: str, user: str, active: bool) -> None:
        actor_role = self._authorize(self._act(who), tenant, Permission.MEMBER_MANAGE)
        member = self._member(tenant, user)
        self._manage(actor_role, member.role, member.role)
        if not active:
            self._keep_an_owner(tenant, member)
        member.active, member.updated_at = active, self.clock.now()

    def remove_member(self, who: Who, tenant: str, user: str) -> None:
        """Remove a member; a user (not a key) may always leave, bar the last owner."""
        acting = self._act(who)
        if acting.user == user and acting.tenant is None:
            self._role(acting, tenant)
            member = self._member(tenant, user)
        else:
            actor_role = self._authorize(acting, tenant, Permission.MEMBER_MANAGE)
            member = self._member(tenant, user)
            self._manage(actor_role, member.role, None)
        self._keep_an_owner(tenant, member)
        del self.tenants[tenant].members[user]

    # --- documents ---

    def add_document(self, who: Who, tenant: str, filename: str, text: str, tags: list[str]) -> str:
        """Add a text document, ingested at once: completed at version 1 (a text with nothing
        to index is refused)."""
        acting = self._act(who)
        self._authorize(acting, tenant, Permission.DOCUMENT_WRITE)
        _check_indexable(filename, text)
        name, checked, now = v.text("filename", filename).strip(), v.tags("tags", tags), self.clock.now()
        label = self._label(f"doc{len(self.labels) + 1}")
        self.tenants[tenant].documents[label] = Document(name, checked, acting.user, now, now, text)
        return label

    def _document(self, tenant: str, label: str) -> Document:
        document = self.tenants[tenant].documents.get(label)
        if document is None:
            raise NotFound("document")
        return document

    def reingest(self, who: Who, tenant: str, label: str, text: str) -> None:
        """New content is a new version, ingested at once; the same content changes nothing."""
        self._authorize(self._act(who), tenant, Permission.DOCUMENT_WRITE)
        document = self._document(tenant, label)
        _check_indexable(document.filename, text)
        if text != document.content:
            document.content, document.version, document.updated_at = (
                text,
                document.version + 1,
                self.clock.now(),
            )

    def delete_document(self, who: Who, tenant: str, label: str) -> None:
        self._authorize(self._act(who), tenant, Permission.DOCUMENT_DELETE)
        self._document(tenant, label)
        del self.tenants[tenant].documents[label]

    def search(self, who: Who, tenant: str, text: str, k: int) -> dict[str, Document]:
        """Check a search: the documents its hits may come from (the ranking is not modelled)."""
        acting = self._act(who)
        v.text("text", text)
        if k < 1:
            raise InvalidInput("k", "must be positive")
        self._authorize(acting, tenant, Permission.SEARCH)
        return dict(self.tenants[tenant].documents)

    # --- API keys ---

    def issue_key(self, who: Who, tenant: str, name: str, cap: Role, expires_at: datetime | None) -> str:
        acting = self._act(who)
        if acting.user is None:
            raise InvalidInput("actor", "an API key acts as a user; the system has none")
        role, now = self._authorize(acting, tenant, Permission.API_KEY_MANAGE), self.clock.now()
        if who.key is not None:  # a key's child could outlive it: keys are made by people
            raise PermissionDenied("an API key cannot issue API keys")
        if cap.rank > role.rank:
            raise PermissionDenied("a key may not exceed its issuer's role")
        checked = v.text("name", name).strip()
        if expires_at is not None and expires_at <= now:
            raise InvalidInput("expires_at", "must be later than the key's creation")
        label = self._label(f"key{len(self.labels) + 1}")
        self.tenants[tenant].keys[label] = Key(checked, acting.user, cap, now, expires_at)
        return label

    def revoke_key(self, who: Who, tenant: str, label: str) -> None:
        """Revoke one's own key, or anyone's as an admin; revoking twice changes nothing."""
        acting = self._act(who)
        role = self._authorize(acting, tenant, Permission.API_KEY_MANAGE)
        key = self.tenants[tenant].keys.get(label)
        if key is None or (key.user != acting.user and not allows(role, Permission.MEMBER_MANAGE)):
            raise NotFound("api key")
        if key.revoked_at is None:
            key.revoked_at = self.clock.now()

    def list_mine(self, user: str) -> list[Row]:
        """The tenants the user is an active member of, oldest first, with the role in each."""
        return [
            (t, row.slug, row.members[user].role)
            for t, row in self.tenants.items()
            if user in row.members and row.members[user].active
        ]

    # --- what a backend must show (state_views.facts projects a backend alike) ---

    def state(self) -> dict[str, object]:
        state: dict[str, object] = {
            "tenants": [(t, r.slug, r.name, r.created_at, r.updated_at) for t, r in self.tenants.items()]
        }
        for label, user in self.users.items():
            state[f"user {label}"] = astuple(user)
        for label, tenant in self.tenants.items():
            documents = tenant.documents.items()
            state[f"tenant {label}"] = {
                "members": [(user, *astuple(m)) for user, m in tenant.members.items()],
                "documents": [
                    (
                        doc,
                        d.filename,
                        d.tags,
                        "completed",
                        d.version,
                        d.uploaded_by,
                        d.created_at,
                        d.updated_at,
                    )
                    for doc, d in documents
                ],
                "jobs": sorted(
                    (doc, "ingest", "succeeded") for doc, d in documents for _ in range(d.version)
                ),
                "api keys": [(key, *astuple(k)) for key, k in tenant.keys.items()],
            }
        return state


def _check_indexable(filename: str, text: str) -> None:
    """An empty or blank text has nothing to index: refused, naming the file."""
    if not text.strip():
        raise UnparseableDocument(filename, "has no text to index")
