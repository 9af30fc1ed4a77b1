"""Login throttling: failed password logins are counted, and past a limit answered 429.

Two limits, both over a moving window of failed attempts (the ``limits`` library):

- per account *and* client address: guessing one account's password from one place stops
  after a few tries;
- per client address, over every account, looser: one place spraying many accounts stops too.

There is deliberately no limit per account alone: anyone could then lock a victim out by
failing logins in their name. The victim, from their own address, has a pair count of their
own and is never refused for an attacker's failures elsewhere. A successful login clears its
pair's count. A throttled attempt is refused before the password is checked, so it costs no
Argon2 time either.

The counts live in memory by default, per process; ``LOGIN_THROTTLE_STORAGE`` can point at a
storage the ``limits`` library knows (``redis://...``, with its driver installed) to share them
between processes. The client address is the ASGI ``client``: behind a proxy, run uvicorn with
``--proxy-headers --forwarded-allow-ips`` so that it is the caller's, not the proxy's.
"""

from __future__ import annotations

import hashlib
import math
import time

import attrs
from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.exceptions import HTTPException

# The limits library's asynchronous storages are named "async+<scheme>".
_ASYNC_PREFIX = "async+"


def async_storage_uri(uri: str) -> str:
    """``memory://`` -> ``async+memory://``: the form the async strategies need."""
    return uri if uri.startswith(_ASYNC_PREFIX) else f"{_ASYNC_PREFIX}{uri}"


class TooManyAttempts(HTTPException):
    """429 with ``Retry-After``: an HTTPException, so the problem handler answers it."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            status_code=429,
            detail=f"too many failed sign-in attempts; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


@attrs.frozen
class LoginThrottle:
    per_account_address: RateLimitItem
    per_address: RateLimitItem
    limiter: MovingWindowRateLimiter

    @classmethod
    def build(
        cls, *, per_account_address: str, per_address: str, storage: str = "memory://"
    ) -> LoginThrottle:
        """From the ``limits`` notation (``"10 per 15 minutes"``); ValueError on a bad one."""
        return cls(
            per_account_address=parse(per_account_address),
            per_address=parse(per_address),
            limiter=MovingWindowRateLimiter(storage_from_string(async_storage_uri(storage))),
        )

    async def check(self, account: str, address: str) -> None:
        """Raise :class:`TooManyAttempts` if either limit is used up."""
        for item, keys in self._limits(account, address):
            if not await self.limiter.test(item, *keys):
                stats = await self.limiter.get_window_stats(item, *keys)
                raise TooManyAttempts(max(1, math.ceil(stats.reset_time - time.time())))

    async def failed(self, account: str, address: str) -> None:
        for item, keys in self._limits(account, address):
            await self.limiter.hit(item, *keys)

    async def succeeded(self, account: str, address: str) -> None:
        item, keys = self._limits(account, address)[0]
        await self.limiter.clear(item, *keys)

    def _limits(self, account: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        # The account as typed, folded and hashed: "Ada@X" and "ada@x" are one account, and
        # an attacker's long usernames cost a fixed-size key.
        folded = hashlib.sha256(account.strip().casefold().encode("utf-8", "surrogatepass")).hexdigest()
        return [
            (self.per_account_address, ("login-account-address", folded, address)),
            (self.per_address, ("login-address", address)),
        ]
