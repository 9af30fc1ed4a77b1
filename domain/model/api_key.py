"""ApiKey: programmatic access to one tenant, acting as a user but capped at a role.

The plaintext is ``trk_<prefix>_<secret>``. Only the prefix (public, used to find
the key) and a SHA-256 of the secret are stored; the plaintext is shown once.
A fast hash is right here: the secret has 256 bits of entropy, so there is
nothing for a slow hash to protect against, and verification stays cheap.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from datetime import datetime

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import AuthenticationFailed, InvalidInput
from tenantrag.domain.policy import Role

KEY_MARKER = "trk"
PREFIX_LENGTH = 12
_PREFIX = re.compile(rf"^[a-z0-9]{{{PREFIX_LENGTH}}}$")
_PLAINTEXT = re.compile(rf"^{KEY_MARKER}_([a-z0-9]{{{PREFIX_LENGTH}}})_([A-Za-z0-9_-]{{20,200}})$")
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _prefix(_instance: object, _attribute: object, value: str) -> None:
    if not (isinstance(value, str) and _PREFIX.fullmatch(value)):
        raise InvalidInput("prefix", f"must be {PREFIX_LENGTH} lowercase letters or digits")


def _parse_role_cap(value: Role | str) -> Role:
    return Role.parse(value, "role_cap")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@attrs.frozen
class GeneratedKey:
    prefix: str
    plaintext: str = attrs.field(repr=False)
    secret_hash: str = attrs.field(repr=False)


def generate_key() -> GeneratedKey:
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = secrets.token_urlsafe(32)
    return GeneratedKey(prefix, f"{KEY_MARKER}_{prefix}_{secret}", hash_secret(secret))


def split_plaintext(plaintext: str) -> tuple[str, str]:
    """(prefix, secret) of a presented key; any malformed key is a failed authentication."""
    match = _PLAINTEXT.fullmatch(plaintext.strip()) if isinstance(plaintext, str) else None
    if match is None:
        raise AuthenticationFailed("malformed API key")
    return match.group(1), match.group(2)


@attrs.frozen(kw_only=True)
class ApiKey:
    id: uuid.UUID = attrs.field(validator=v.is_id())
    tenant_id: uuid.UUID = attrs.field(validator=v.is_id())
    user_id: uuid.UUID = attrs.field(validator=v.is_id())
    name: str = attrs.field(converter=v.strip, validator=v.is_text())
    prefix: str = attrs.field(validator=_prefix)
    secret_hash: str = attrs.field(repr=False, validator=v.is_sha256())
    role_cap: Role = attrs.field(converter=_parse_role_cap)
    created_at: datetime = attrs.field(validator=v.is_timestamp())
    last_used_at: datetime | None = attrs.field(default=None, validator=v.is_timestamp(optional=True))
    usage_count: int = attrs.field(default=0, validator=v.is_count())
    expires_at: datetime | None = attrs.field(default=None, validator=v.is_timestamp(optional=True))
    revoked_at: datetime | None = attrs.field(default=None, validator=v.is_timestamp(optional=True))

    def __attrs_post_init__(self) -> None:
        if self.expires_at is not None and self.expires_at <= self.created_at:
            raise InvalidInput("expires_at", "must be later than the key's creation")

    def matches(self, secret: str) -> bool:
        return hmac.compare_digest(hash_secret(secret), self.secret_hash)

    def is_usable(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at
