"""Transactions that lost a race: run again, a bounded number of times. The one home of that policy.

A transaction can fail through no fault of its own: PostgreSQL broke a deadlock by aborting
it (40P01), could not serialise it (40001) or did not grant a lock in time (55P03), or
SQLite's write lock stayed taken past the busy timeout. The SQL session reports each as
``Conflict`` with rule ``database.locked``. Nothing of the transaction was applied (it was
rolled back), so running the whole unit of work again is safe, and usually succeeds: the
other transaction has finished meanwhile.

A use case may also know that a conflict of its own means "someone else got there first,
look again" (two uploads creating the document of one ``source_key``): it passes
``also=`` to say so. Whatever it retries, the work it hands over must be a whole unit of
work (or several), never a part of one: a retry from inside a unit of work would run on a
transaction the database has already aborted.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenantrag.domain.errors import Conflict

T = TypeVar("T")

logger = logging.getLogger(__name__)

#: Conflict rules that say the transaction lost a race with another and may simply run again.
TRANSIENT_RULES = frozenset({"database.locked"})
#: How many times a unit of work is run at most (the first run included).
ATTEMPTS = 5
#: The pause before the second run; it doubles each time, up to MAX_PAUSE, and is jittered
#: (a random part of it) so that the transactions that collided do not collide again.
FIRST_PAUSE = 0.02
MAX_PAUSE = 0.5


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says the transaction lost a race (deadlock, serialisation, a lock
    not granted in time) rather than that the request was wrong."""
    return isinstance(error, Conflict) and error.details.get("rule") in TRANSIENT_RULES


def pause(attempt: int) -> float:
    """Seconds to wait after the ``attempt``-th run failed: full jitter over a doubling cap."""
    return random.uniform(0, min(MAX_PAUSE, FIRST_PAUSE * 2 ** max(0, attempt - 1)))  # noqa: S311


async def retried(
    work: Callable[[], Awaitable[T]],
    *,
    what: str,
    attempts: int = ATTEMPTS,
    also: Callable[[BaseException], bool] | None = None,
) -> T:
    """``await work()``, run again after a transient failure (or one ``also`` accepts), at
    most ``attempts`` runs in all; the last failure is raised as it was. ``what`` names the
    work in the log."""
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except Exception as error:
            if attempt == attempts or not (is_transient(error) or (also is not None and also(error))):
                raise
            logger.info("%s: run %d of %d lost a race (%s); running it again", what, attempt, attempts, error)
        await asyncio.sleep(pause(attempt))
    raise AssertionError("unreachable: the last run returns or raises")
