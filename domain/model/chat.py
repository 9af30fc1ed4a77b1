"""ChatSession and Message: a user's conversation within a tenant."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import attrs

from tenantrag.domain import validation as v


class MessageRole(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"

    @classmethod
    def parse(cls, value: object) -> MessageRole:
        return v.choice("role", cls, value)


def parse_message_role(value: MessageRole | str) -> MessageRole:
    return MessageRole.parse(value)


@attrs.frozen(kw_only=True)
class ChatSession:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    user_id: uuid.UUID = attrs.field(validator=v.is_id())
    title: str = attrs.field(default="", converter=v.strip, validator=v.is_text(allow_empty=True))
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    updated_at: datetime = attrs.field(validator=v.is_timestamp())


@attrs.frozen(kw_only=True)
class Message:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    session_id: uuid.UUID = attrs.field(validator=v.is_id())
    role: MessageRole = attrs.field(converter=parse_message_role)
    content: str = attrs.field(validator=v.is_text(max_length=200_000))
    created_at: datetime = attrs.field(validator=v.is_timestamp())
