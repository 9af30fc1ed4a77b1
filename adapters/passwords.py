"""Password hashing with pwdlib: Argon2id for new hashes, bcrypt still accepted.

Hashes made before the switch to Argon2, or with weaker Argon2 parameters than
configured now, keep working and are replaced at the next successful login,
which is the only moment the plain password is at hand.
"""

from __future__ import annotations

import functools
import secrets

import argon2
import argon2.exceptions
from pwdlib import PasswordHash
from pwdlib.exceptions import PwdlibError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from tenantrag.domain import validation as v
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.model.user import MAX_PASSWORD_LENGTH

_BCRYPT_MAX_BYTES = 72

# What a stored hash can be that does not make it a wrong password but an unusable
# one: unknown scheme, corrupt encoding, parameters the library refuses.
_UNUSABLE_HASH = (PwdlibError, ValueError, argon2.exceptions.VerificationError)


class _LegacyBcryptHasher(BcryptHasher):
    """Verifies bcrypt hashes the way they were made.

    bcrypt always used only a password's first 72 bytes, and libraries used to drop
    the rest silently; bcrypt 5 raises instead, which would lock out every user whose
    long password was hashed that way. Truncating verifies exactly what was hashed;
    the upgrade to Argon2 then covers the whole password. bcrypt never makes new hashes.
    """

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        secret = password.encode("utf-8") if isinstance(password, str) else password
        return super().verify(secret[:_BCRYPT_MAX_BYTES], hash)


class PwdlibPasswordHasher:
    """A :class:`~tenantrag.domain.ports.passwords.PasswordHasher` backed by pwdlib.

    The Argon2 parameters default to argon2-cffi's (RFC 9106's low-memory profile);
    tests pass cheap ones. Any stored Argon2 hash whose parameters differ from the
    configured ones counts as outdated, so raising them upgrades users as they log in.
    """

    def __init__(
        self,
        *,
        time_cost: int = argon2.DEFAULT_TIME_COST,
        memory_cost: int = argon2.DEFAULT_MEMORY_COST,
        parallelism: int = argon2.DEFAULT_PARALLELISM,
    ) -> None:
        for name, value, minimum in (
            ("time_cost", time_cost, 1),
            ("memory_cost", memory_cost, 8 * parallelism),  # Argon2's own lower bound, in KiB
            ("parallelism", parallelism, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise InvalidInput(name, f"must be an integer of at least {minimum} (got {value!r})")
        # The first hasher makes every new hash; the others only verify, then upgrade.
        self._password_hash = PasswordHash(
            (
                Argon2Hasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism),
                _LegacyBcryptHasher(),
            )
        )

    def hash(self, password: str) -> str:
        v.text("password", password, max_length=MAX_PASSWORD_LENGTH)
        try:
            password.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput("password", "must be valid Unicode text (no lone surrogates)") from None
        return self._password_hash.hash(password)

    def verify_and_update(self, password: str, password_hash: str) -> tuple[bool, str | None]:
        if len(password) > MAX_PASSWORD_LENGTH:
            # hash() never accepted such a password, so none can match; still spend the time.
            self.dummy_verify()
            return False, None
        try:
            return self._password_hash.verify_and_update(password, password_hash)
        except _UNUSABLE_HASH:
            # A corrupt hash locks its user out; it must not turn into an error page,
            # nor answer faster than a wrong password does.
            self.dummy_verify()
            return False, None

    @functools.cached_property
    def _dummy_hash(self) -> str:
        # Made with the configured parameters, so a dummy verification costs what a real
        # one does; made on first use, so CLI commands that never log in don't pay for it.
        return self._password_hash.hash(secrets.token_urlsafe(16))

    def dummy_verify(self) -> None:
        self._password_hash.verify(secrets.token_urlsafe(16), self._dummy_hash)
