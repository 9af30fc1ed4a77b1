"""Request and response bodies: pydantic models at the edge, mapped by hand to the domain.

Request models check shape and the bounds the OpenAPI document should show (they
reuse the domain's constants); the domain still validates every value and names
the field, so both kinds of error reach the client as the same 422 problem.
Request models forbid unknown fields, so a misspelt option is an error rather than
silently ignored, and numbers and booleans are strict (``"9"`` is not a number):
the body must be what the document says. Ids, times and enums arrive as strings.
Response models are built explicitly from the attrs entities,
so an internal field (a hash, a storage key) is never exposed by accident.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
)

from tenantrag.domain import validation as v
from tenantrag.domain.model.api_key import ApiKey
from tenantrag.domain.model.chat import ChatSession, Message, MessageRole
from tenantrag.domain.model.chunk import Chunk
from tenantrag.domain.model.document import Document, DocumentStatus
from tenantrag.domain.model.job import Job, JobStatus
from tenantrag.domain.model.membership import Membership
from tenantrag.domain.model.tenant import MAX_SLUG_LENGTH, SLUG_PATTERN, Tenant
from tenantrag.domain.model.user import User
from tenantrag.domain.policy import Role
from tenantrag.domain.usecases.tenants import TenantWithRole

T = TypeVar("T")
MAX_COUNT = 2**31 - 1


def _utc(value: datetime) -> datetime:
    """Normalise to UTC now, so a far-past time with a positive offset fails here, not in a query."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the representable range of times") from None


Name = Annotated[str, Field(min_length=1, max_length=v.MAX_NAME_LENGTH)]
Tag = Annotated[str, Field(min_length=1, max_length=v.MAX_TAG_LENGTH)]
Tags = Annotated[list[Tag], Field(max_length=v.MAX_TAGS)]
JsonObject = Annotated[
    dict[str, Any], Field(description=f"A JSON object of at most {v.MAX_JSON_BYTES} bytes.")
]
Instant = Annotated[AwareDatetime, AfterValidator(_utc)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]
Fraction = Annotated[StrictFloat, Field(ge=0, le=1)]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Resource(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)


class Page(Resource, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null on the last.")


# --- auth and users -----------------------------------------------------------------------


class TokenOut(Resource):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="Seconds until the token expires.")


class UserOut(Resource):
    id: uuid.UUID
    email: str
    full_name: str
    is_active: bool
    is_superuser: bool
    last_login_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> Self:
        return cls(
            id=user.id, email=user.email, full_name=user.full_name, is_active=user.is_active,
            is_superuser=user.is_superuser, last_login_at=user.last_login_at, created_at=user.created_at,
        )  # fmt: skip


class Credential(Resource):
    method: Literal["token", "api_key"]
    tenant_id: uuid.UUID | None = Field(description="The one tenant an API key acts in.")
    role_cap: Role | None = Field(description="The highest role an API key acts with.")
    api_key_id: uuid.UUID | None


class MeOut(Resource):
    user: UserOut
    credential: Credential


# --- tenants and members ------------------------------------------------------------------


class TenantCreate(RequestBody):
    name: Name
    slug: Annotated[str, Field(max_length=MAX_SLUG_LENGTH, pattern=SLUG_PATTERN.pattern)] | None = Field(
        default=None, description="URL-safe name; derived from `name` when absent."
    )
    settings: JsonObject | None = None


class TenantUpdate(RequestBody):
    name: Name | None = None
    settings: JsonObject | None = Field(default=None, description="Replaces the settings when given.")


class TenantOut(Resource):
    id: uuid.UUID
    name: str
    slug: str
    settings: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> Self:
        return cls(
            id=tenant.id, name=tenant.name, slug=tenant.slug, settings=tenant.settings,
            created_at=tenant.created_at, updated_at=tenant.updated_at,
        )  # fmt: skip


class MyTenantOut(Resource):
    tenant: TenantOut
    role: Role = Field(description="The caller's effective role (an API key's is capped).")

    @classmethod
    def of(cls, item: TenantWithRole) -> Self:
        return cls(tenant=TenantOut.of(item.tenant), role=item.role)


class MemberUpdate(RequestBody):
    role: Role


class MemberOut(Resource):
    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, membership: Membership) -> Self:
        return cls(
            id=membership.id, tenant_id=membership.tenant_id, user_id=membership.user_id,
            role=membership.role, is_active=membership.is_active,
            created_at=membership.created_at, updated_at=membership.updated_at,
        )  # fmt: skip


class MemberPage(Page[MemberOut]):
    pass


# --- API keys -----------------------------------------------------------------------------


class ApiKeyCreate(RequestBody):
    name: Name
    role_cap: Role = Field(default=Role.MEMBER, description="No higher than the caller's own role.")
    expires_at: Instant | None = None


class ApiKeyOut(Resource):
    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's public part, shown in listings to tell keys apart.")
    role_cap: Role
    created_at: datetime
    last_used_at: datetime | None
    usage_count: int
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> Self:
        return cls(
            id=key.id, tenant_id=key.tenant_id, user_id=key.user_id, name=key.name, prefix=key.prefix,
            role_cap=key.role_cap, created_at=key.created_at, last_used_at=key.last_used_at,
            usage_count=key.usage_count, expires_at=key.expires_at, revoked_at=key.revoked_at,
        )  # fmt: skip


class IssuedApiKeyOut(ApiKeyOut):
    secret: str = Field(
        description="The key itself (`trk_...`), to send as a bearer token or in `X-API-Key`. It is "
        "shown this once and cannot be retrieved again (`secret` in the CLI's `--json` too)."
    )
    key: str = Field(deprecated=True, description="The same as `secret`, under its earlier name.")


class ApiKeyPage(Page[ApiKeyOut]):
    pass


# --- documents ----------------------------------------------------------------------------


class DocumentText(RequestBody):
    filename: Name
    text: str = Field(description="The document's text; its UTF-8 size counts against the upload limit.")
    title: Annotated[str, Field(max_length=v.MAX_NAME_LENGTH)] = ""
    media_type: Annotated[str | None, Field(max_length=255)] = Field(
        default=None,
        description="How to read the text. Without it, the filename (else the source key) decides:"
        " Markdown for .md and .markdown, HTML for .html and .htm, plain text otherwise.",
    )
    metadata: JsonObject = Field(
        default_factory=dict,
        description="Wins over the keys of the text's front matter, which are added to it.",
    )
    tags: Tags = Field(default_factory=list)
    source_key: Annotated[str | None, Field(min_length=1, max_length=1024)] = Field(
        default=None,
        description="Your name for the source (a path, a URL...): sending a known key again makes a new"
        " version of that document, or nothing at all when the content is the same.",
    )


class DocumentOut(Resource):
    id: uuid.UUID
    tenant_id: uuid.UUID
    uploaded_by: uuid.UUID | None
    filename: str
    title: str
    media_type: str
    size_bytes: int
    status: DocumentStatus
    error_message: str | None
    content_sha256: str | None
    source_key: str | None
    version: int = Field(description="The active version: the one whose chunks are searched.")
    metadata: dict[str, Any]
    tags: list[str]
    chunk_count: int
    processed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, d: Document) -> Self:
        return cls(
            id=d.id, tenant_id=d.tenant_id, uploaded_by=d.uploaded_by, filename=d.filename, title=d.title,
            media_type=d.media_type, size_bytes=d.size_bytes, status=d.status, error_message=d.error_message,
            content_sha256=d.content_sha256, source_key=d.source_key, version=d.version,
            metadata=d.metadata, tags=list(d.tags),
            chunk_count=d.chunk_count, processed_at=d.processed_at, created_at=d.created_at,
            updated_at=d.updated_at,
        )  # fmt: skip


class DocumentPage(Page[DocumentOut]):
    pass


class ChunkOut(Resource):
    id: uuid.UUID
    document_id: uuid.UUID
    ordinal: int
    content: str
    token_count: int
    metadata: dict[str, Any]
    embedding: list[float] | None = Field(description="Present when asked for with `embeddings=true`.")
    created_at: datetime

    @classmethod
    def of(cls, chunk: Chunk, *, embedding: bool) -> Self:
        return cls(
            id=chunk.id, document_id=chunk.document_id, ordinal=chunk.ordinal, content=chunk.content,
            token_count=chunk.token_count, metadata=chunk.metadata,
            embedding=list(chunk.embedding) if embedding else None, created_at=chunk.created_at,
        )  # fmt: skip


class ChunkList(Resource):
    items: list[ChunkOut]


# --- jobs and chat ------------------------------------------------------------------------


class JobOut(Resource):
    id: uuid.UUID
    tenant_id: uuid.UUID
    document_id: uuid.UUID | None
    kind: str
    status: JobStatus
    progress: int = Field(description="Percent complete, 0 to 100.")
    summary: str
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job) -> Self:
        return cls(
            id=job.id, tenant_id=job.tenant_id, document_id=job.document_id, kind=job.kind,
            status=job.status, progress=job.progress, summary=job.summary, attempts=job.attempts,
            error=job.error, created_at=job.created_at, updated_at=job.updated_at,
            started_at=job.started_at, finished_at=job.finished_at,
        )  # fmt: skip


class JobPage(Page[JobOut]):
    pass


class ChatSessionCreate(RequestBody):
    title: Annotated[str, Field(max_length=v.MAX_NAME_LENGTH)] = ""


class MessageCreate(RequestBody):
    role: MessageRole
    content: Annotated[str, Field(min_length=1, max_length=200_000)]


class ChatSessionOut(Resource):
    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    title: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, s: ChatSession) -> Self:
        return cls(
            id=s.id, tenant_id=s.tenant_id, user_id=s.user_id, title=s.title,
            created_at=s.created_at, updated_at=s.updated_at,
        )  # fmt: skip


class ChatSessionPage(Page[ChatSessionOut]):
    pass


class MessageOut(Resource):
    id: uuid.UUID
    session_id: uuid.UUID
    role: MessageRole
    content: str
    created_at: datetime

    @classmethod
    def of(cls, m: Message) -> Self:
        return cls(id=m.id, session_id=m.session_id, role=m.role, content=m.content, created_at=m.created_at)


class MessagePage(Page[MessageOut]):
    pass
