"""The job queue of the memory backend (see domain/ports/job_queue.py).

The claim is a scan of every tenant's jobs, which is what the SQL backends' one
statement does with an index; the rules themselves are the domain's.

Two claims are atomic with respect to each other only because the memory backend has
no row locks and this method never yields to the event loop: a worker that claims and
commits without awaiting anything else in between (as ``Worker`` does) cannot hand the
same attempt to a second worker of the same process. Two system units of work that both
claim before either commits would take the same job, as two SQL transactions without
FOR UPDATE would; the memory backend serves one process, so that is left to callers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from tenantrag.adapters.memory.rows import creation_key, detach
from tenantrag.adapters.memory.schema import JOBS
from tenantrag.adapters.memory.transaction import Transaction
from tenantrag.domain.model.job import Job
from tenantrag.domain.ports.job_queue import claimable, claimed


class MemoryJobQueue:
    def __init__(self, transaction: Callable[[], Transaction]) -> None:
        self._tx = transaction

    async def claim(
        self, *, now: datetime, lease_until: datetime, kinds: Collection[str] | None = None
    ) -> Job | None:
        tx = self._tx()
        candidates = [
            job for job in tx.rows(JOBS) if claimable(job, now) and (kinds is None or job.kind in kinds)
        ]
        if not candidates:
            return None
        job = claimed(min(candidates, key=creation_key), now=now, lease_until=lease_until)
        tx.update(JOBS, job)
        return detach(job)
