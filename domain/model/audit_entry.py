"""AuditEntry: one sensitive operation on a tenant, as it happened (issue 17).

An entry says who (``actor_kind`` and ``actor_id``: a user, an API key or the system), what
(``action`` on ``target_kind``/``target_id``), when (``created_at``) and the outcome. Entries
are written in the transaction of the change they record (domain/usecases/audit.py), so a
change that rolls back leaves none, and they are never changed or deleted: on PostgreSQL the
runtime role may only SELECT and INSERT them (adapters/postgres/provision.py). Deleting the
tenant deletes its log with it (the foreign key cascades).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from tenantrag.domain import validation as v


class AuditAction(StrEnum):
    MEMBER_ADD = "member.add"
    MEMBER_UPDATE = "member.update"
    MEMBER_REMOVE = "member.remove"
    INVITATION_CREATE = "invitation.create"
    INVITATION_REVOKE = "invitation.revoke"
    API_KEY_ISSUE = "api_key.issue"
    API_KEY_REVOKE = "api_key.revoke"
    TENANT_UPDATE = "tenant.update"
    DOCUMENT_DELETE = "document.delete"


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"
    SYSTEM = "system"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    REFUSED = "refused"


def _action(value: object) -> AuditAction:
    return v.choice("action", AuditAction, value)


def _actor_kind(value: object) -> ActorKind:
    return v.choice("actor_kind", ActorKind, value)


def _outcome(value: object) -> Outcome:
    return v.choice("outcome", Outcome, value)


def _name(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    v.text(attribute.name, value, max_length=64)


@attrs.frozen(kw_only=True)
class AuditEntry:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    actor_kind: ActorKind = attrs.field(converter=_actor_kind)
    # The user or key acting; kept after they are deleted (no foreign key: the log outlives them).
    actor_id: uuid.UUID | None = attrs.field(default=None, validator=v.is_id(optional=True))
    action: AuditAction = attrs.field(converter=_action)
    target_kind: str = attrs.field(validator=_name)
    target_id: uuid.UUID | None = attrs.field(default=None, validator=v.is_id(optional=True))
    outcome: Outcome = attrs.field(default=Outcome.SUCCEEDED, converter=_outcome)
    details: dict[str, Any] = attrs.field(
        factory=dict, converter=v.copy_json, validator=v.is_json_object, hash=False
    )
    created_at: datetime = attrs.field(validator=v.is_timestamp())
