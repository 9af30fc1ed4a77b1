"""Access tokens: short-lived JWTs naming a user, signed with the deployment's secret.

Decoding pins the algorithm to the configured one (no ``alg`` switching, no
``none``), requires ``exp``, ``iat`` and ``sub``, and checks the audience, so a
token minted for another service that shares the secret is refused. The token
carries only who the user is: whether they are active or a superuser is read from
the store on every request, so disabling a user takes effect at once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import attrs
import jwt

from tenantrag.domain.errors import AuthenticationFailed

# HMAC only: the key is one shared secret (JWT_SECRET_KEY), never a public key.
ALLOWED_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
_REQUIRED_CLAIMS = ["exp", "iat", "sub"]
_BAD_TOKEN = "invalid or expired access token"  # noqa: S105 - a message


@attrs.frozen
class IssuedToken:
    token: str = attrs.field(repr=False)
    expires_in: int


@attrs.frozen(kw_only=True)
class TokenCodec:
    secret: str = attrs.field(repr=False)
    algorithm: str
    audience: str
    lifetime: timedelta

    def __attrs_post_init__(self) -> None:
        if self.algorithm not in ALLOWED_ALGORITHMS:
            allowed = ", ".join(sorted(ALLOWED_ALGORITHMS))
            raise ValueError(f"JWT_ALGORITHM must be one of {allowed}, got {self.algorithm!r}")
        if self.lifetime <= timedelta(0):
            raise ValueError("JWT_ACCESS_TOKEN_EXPIRE_MINUTES must be positive")

    def issue(self, user_id: uuid.UUID, *, now: datetime | None = None) -> IssuedToken:
        issued_at = now or datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "aud": self.audience,
            "iat": issued_at,
            "exp": issued_at + self.lifetime,
        }
        token = jwt.encode(claims, self.secret, algorithm=self.algorithm)
        return IssuedToken(token, int(self.lifetime.total_seconds()))

    def user_id(self, token: str) -> uuid.UUID:
        """The user a token names; any failure (signature, expiry, audience, shape) looks alike."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[self.algorithm],
                audience=self.audience,
                options={"require": _REQUIRED_CLAIMS},
            )
            return uuid.UUID(str(claims["sub"]))
        except (jwt.PyJWTError, ValueError, TypeError):
            raise AuthenticationFailed(_BAD_TOKEN) from None
