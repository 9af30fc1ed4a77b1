"""User: a person who can log in and belong to tenants through memberships."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput

# Deliberately simple: one @, a non-empty local part, a dotted domain, no spaces.
# Deliverability is the mail server's business, not the data layer's.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
MAX_EMAIL_LENGTH = 320
# Bounded so that a login cannot make the server hash megabytes (every hasher applies it).
MAX_PASSWORD_LENGTH = 1024
# A new password (registration, change, reset): NIST SP 800-63B's minimum for a password a
# person chooses. Logins are not held to it, so older, shorter passwords still work.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_HASH_LENGTH = 1024


def check_new_password(field: str, value: object) -> str:
    """A password being set: the one rule every interface (HTTP, CLI, library) applies."""
    password = v.text(field, value, max_length=MAX_PASSWORD_LENGTH)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(field, f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    return password


def normalise_email(value: object) -> str:
    email = v.text("email", value, max_length=MAX_EMAIL_LENGTH).strip().lower()
    if not _EMAIL.fullmatch(email):
        raise InvalidInput("email", f"is not an email address: {email!r:.80}")
    return email


@attrs.frozen(kw_only=True)
class User:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    email: str = attrs.field(converter=normalise_email)
    full_name: str = attrs.field(default="", converter=v.strip, validator=v.is_text(allow_empty=True))
    password_hash: str | None = attrs.field(
        default=None, repr=False, validator=v.is_text(max_length=MAX_PASSWORD_HASH_LENGTH, optional=True)
    )
    is_active: bool = True
    is_superuser: bool = False
    last_login_at: datetime | None = attrs.field(default=None, validator=v.is_timestamp(optional=True))
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    updated_at: datetime = attrs.field(validator=v.is_timestamp())
