"""Where read-only units of work run when a replica is configured, and what happens when it fails.

Reads go to the replica while it answers and keeps up; otherwise to the primary, so a
replica outage costs the primary some load, never the reads themselves:

- a read-only unit of work that cannot open on the replica (refused, terminated, gone)
  marks it ``down`` and opens on the primary instead: nothing had been done, so nothing is
  replayed;
- every ``check_interval`` seconds a read also starts a check in the background (never
  awaited by the read): it connects to the replica and measures its lag (the backend's
  ``lag`` function, in seconds); a replica further behind than ``max_lag`` is ``lagging``
  and gets no reads until it catches up; one that answers again is ``ok`` and gets them back.

Each change of state is logged once (warning when reads leave the replica, info when they
return), and ``state()`` describes it for health and readiness reports.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import attrs
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

logger = logging.getLogger("tenantrag.replica")

ReplicaStatus = Literal["ok", "down", "lagging"]
#: Measures how far behind the replica is, in seconds, on one of its connections.
LagProbe = Callable[[AsyncConnection], Awaitable[float]]

DEFAULT_MAX_LAG = 30.0
DEFAULT_CHECK_INTERVAL = 5.0


async def no_lag(_connection: AsyncConnection) -> float:
    """For a replica whose lag cannot be measured: reachable is all that is checked."""
    return 0.0


@attrs.frozen(kw_only=True)
class ReplicaState:
    """What the router knows about the replica, for health reports."""

    status: ReplicaStatus
    reads: Literal["replica", "primary"]
    lag_seconds: float | None
    max_lag_seconds: float
    reason: str | None
    since: float = attrs.field(repr=False)  # time.monotonic() of the last change

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reads": self.reads,
            "lag_seconds": self.lag_seconds,
            "max_lag_seconds": self.max_lag_seconds,
            "reason": self.reason,
            "for_seconds": round(time.monotonic() - self.since, 3),
        }


class ReadRouting:
    """Chooses the engine of each read-only unit of work: the replica, or the primary."""

    def __init__(
        self,
        primary: AsyncEngine,
        replica: AsyncEngine,
        *,
        lag: LagProbe = no_lag,
        max_lag: float = DEFAULT_MAX_LAG,
        check_interval: float = DEFAULT_CHECK_INTERVAL,
    ) -> None:
        self.primary = primary
        self.replica = replica
        self._lag = lag
        self.max_lag = max_lag
        self.check_interval = check_interval
        self._state = ReplicaState(
            status="ok", reads="replica", lag_seconds=None, max_lag_seconds=max_lag, reason=None,
            since=time.monotonic(),
        )  # fmt: skip
        self._next_check = time.monotonic() + check_interval
        self._checking: asyncio.Task[ReplicaState] | None = None

    def state(self) -> ReplicaState:
        return self._state

    def engine(self) -> AsyncEngine:
        """The engine the next read-only unit of work opens on (starts a due check)."""
        if time.monotonic() >= self._next_check:
            self._start_check()
        return self.replica if self._state.status == "ok" else self.primary

    def failed(self, error: BaseException) -> AsyncEngine:
        """A read could not open on the replica: mark it down; the primary takes the read."""
        self._set("down", lag=None, reason=_reason(error))
        self._next_check = time.monotonic() + self.check_interval
        return self.primary

    async def check(self) -> ReplicaState:
        """Connect to the replica and measure its lag now; the state it leaves."""
        self._next_check = time.monotonic() + self.check_interval
        try:
            async with self.replica.connect() as connection:
                lag = float(await self._lag(connection))
                await connection.rollback()
        except Exception as error:  # a check reports, it never raises
            self._set("down", lag=None, reason=_reason(error))
        else:
            if lag > self.max_lag:
                self._set("lagging", lag=lag, reason=f"{lag:.1f} s behind (at most {self.max_lag:g} s)")
            else:
                self._set("ok", lag=lag, reason=None)
        return self._state

    def _start_check(self) -> None:
        self._next_check = time.monotonic() + self.check_interval
        if self._checking is not None and not self._checking.done():
            return
        try:
            self._checking = asyncio.get_running_loop().create_task(
                self.check(), name="tenantrag-replica-check"
            )
        except RuntimeError:  # no running loop (a synchronous caller): check on the next read
            self._checking = None

    def _set(self, status: ReplicaStatus, *, lag: float | None, reason: str | None) -> None:
        before = self._state
        changed = status != before.status
        self._state = ReplicaState(
            status=status, reads="replica" if status == "ok" else "primary", lag_seconds=lag,
            max_lag_seconds=self.max_lag, reason=reason, since=time.monotonic() if changed else before.since,
        )  # fmt: skip
        if not changed:
            return
        if status == "ok":
            logger.info("the read replica is back (%s before); reads return to it", before.status)
        else:
            logger.warning("the read replica is %s (%s); reads go to the primary", status, reason)

    async def close(self) -> None:
        """Stop a check in progress (before the engines are disposed of)."""
        task, self._checking = self._checking, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    first = lines[0] if lines else ""
    return f"{type(original).__name__}: {first}"[:200] if first else type(original).__name__
