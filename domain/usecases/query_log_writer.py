"""Query logs of searches, written in the background so that a search never waits for a write.

A search is a read; recording it is a write, and on SQLite a write waits for the one write
lock (an ingest, a worker's swap) up to the busy timeout, then fails. So a search hands its
log, already built and validated with its id allocated (the caller gets ``query_log_id`` at
once, and feedback can name it), to this writer and answers. The writer:

- gathers logs for ``gather`` seconds (or until ``batch_size`` are waiting), then writes them
  in one transaction per tenant;
- when the database is busy or unavailable, keeps them and tries again after a growing delay
  (``retry_delay`` doubled up to ``MAX_RETRY_DELAY``), in order;
- drops a log the database refuses for good (its tenant or author was deleted meanwhile),
  with a warning;
- holds at most ``max_pending`` logs: past that (the database has refused writes for a long
  time) the oldest are dropped, with an error saying how many;
- ``flush()`` writes what is waiting now (reading query logs flushes first, so a caller reads
  its own searches); ``close()`` flushes everything, retrying until ``close_timeout``, and is
  called on a graceful shutdown.

What a hard crash (SIGKILL, power loss) loses: the logs gathered but not yet written, at most
``gather`` seconds of searches, or all of them while the database refuses writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterable

import attrs

from tenantrag.domain.errors import Conflict, InvalidInput, NotFound, TenantRagError, Unavailable
from tenantrag.domain.model.query_log import QueryLog
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory

logger = logging.getLogger(__name__)

MAX_RETRY_DELAY = 10.0
#: A log the database refuses with one of these will never be written: it is dropped.
REFUSED_FOR_GOOD: tuple[type[TenantRagError], ...] = (NotFound, InvalidInput)


def _transient(error: BaseException) -> bool:
    """Worth trying again later: the database was busy, slow or away."""
    return isinstance(error, Unavailable) or (
        isinstance(error, Conflict) and error.details.get("rule") == "database.locked"
    )


@attrs.define
class QueryLogWriter:
    uow: UnitOfWorkFactory
    # Half a second: few, larger write transactions. On SQLite each takes the one write lock,
    # and a writer every few milliseconds starved ingestion's writers (measured: 20 searching
    # clients with 50 ms batches held two workers and a CLI ingest to a crawl).
    gather: float = 0.5
    batch_size: int = 500
    retry_delay: float = 0.2
    max_pending: int = 50_000
    close_timeout: float = 30.0
    _pending: dict[uuid.UUID, QueryLog] = attrs.field(factory=dict, init=False)
    _loop: asyncio.AbstractEventLoop | None = attrs.field(default=None, init=False)
    _lock: asyncio.Lock | None = attrs.field(default=None, init=False)
    _task: asyncio.Task[None] | None = attrs.field(default=None, init=False)
    _wake: asyncio.Event | None = attrs.field(default=None, init=False)
    _closing: bool = attrs.field(default=False, init=False)
    dropped: int = attrs.field(default=0, init=False)

    # --- what searches and readers call ------------------------------------------------------

    def submit(self, log: QueryLog) -> None:
        """Keep ``log`` to be written shortly; never waits."""
        self._pending[log.id] = log
        overflow = len(self._pending) - self.max_pending
        if overflow > 0:
            for log_id in list(self._pending)[:overflow]:
                del self._pending[log_id]
            self.dropped += overflow
            logger.error(
                "query logs: %d dropped (%d waiting; the database has refused writes for a while)",
                overflow, len(self._pending),
            )  # fmt: skip
        self._ensure_running()

    def pending(self, log_id: uuid.UUID) -> QueryLog | None:
        """The log with that id if it is still waiting to be written."""
        return self._pending.get(log_id)

    async def amend(self, log: QueryLog) -> bool:
        """Replace a waiting log (feedback given before it was written); False if it was written.
        Under the lock, so no write is halfway through it."""
        async with self._held():
            if log.id not in self._pending:
                return False
            self._pending[log.id] = log
            return True

    @property
    def waiting(self) -> int:
        return len(self._pending)

    async def flush(self, tenant_id: uuid.UUID | None = None) -> bool:
        """Write the waiting logs (of one tenant, or all) now; False if some could not be."""
        try:
            async with self._held():
                await self._write(
                    [log for log in self._pending.values() if tenant_id in (None, log.tenant_id)]
                )
        except Exception as error:
            if not _transient(error):
                raise
            logger.info("query logs: flush postponed (%s)", error)
            return False
        return True

    async def close(self) -> None:
        """Write everything that waits (a graceful shutdown), retrying until ``close_timeout``.
        The background task finishes the write it is in (never cut off mid-transaction)."""
        deadline = time.monotonic() + self.close_timeout
        self._closing = True
        try:
            await self._stop_task(deadline)
            await self._write_the_rest(deadline)
        finally:
            self._closing = False  # usable again: the next search starts a new task

    async def _stop_task(self, deadline: float) -> None:
        task, self._task = self._task, None
        if task is None or task.done() or self._loop is not asyncio.get_running_loop():
            return
        if self._wake is not None:
            self._wake.set()
        done, _ = await asyncio.wait([task], timeout=max(0.0, deadline - time.monotonic()))
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._wake = None  # set now: the next task gets a fresh one

    async def _write_the_rest(self, deadline: float) -> None:
        delay = self.retry_delay
        while self._pending and not await self.flush():
            if time.monotonic() + delay > deadline:
                logger.error("query logs: %d could not be written before shutdown", len(self._pending))
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)

    # --- the background task ---------------------------------------------------------------

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop: what belonged to the old one is gone
            self._loop, self._lock, self._task, self._wake = loop, None, None, None
        if self._closing:
            return  # close() writes it
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="tenantrag-query-log-writer")

    def _held(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._loop, self._lock = loop, asyncio.Lock()
        return self._lock

    async def _run(self) -> None:
        """Write batches until nothing waits; back off while the database refuses."""
        delay = self.retry_delay
        while self._pending and not self._stopping():
            if len(self._pending) < self.batch_size:
                await self._nap(self.gather)
                if self._stopping():
                    return
            try:
                async with self._held():
                    await self._write(list(self._pending.values())[: self.batch_size])
            except Exception as error:
                if not _transient(error):
                    logger.exception("query logs: writing failed; trying again")
                else:
                    logger.warning(
                        "query logs: the database refused the write (%s); retrying in %.1f s", error, delay
                    )
                await self._nap(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
            else:
                delay = self.retry_delay

    def _stopping(self) -> bool:
        return self._closing  # a method: close() may set it while the task sleeps

    async def _nap(self, seconds: float) -> None:
        """Sleep, unless close() wakes the task up first."""
        if self._wake is None:
            self._wake = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _write(self, logs: Iterable[QueryLog]) -> None:
        """One transaction per tenant; each written log leaves the waiting list at its commit."""
        by_tenant: dict[uuid.UUID, list[QueryLog]] = {}
        for log in logs:
            by_tenant.setdefault(log.tenant_id, []).append(log)
        for tenant_id, batch in by_tenant.items():
            async with self.uow.tenant(tenant_id) as uow:
                written = []
                for log in batch:
                    try:
                        await uow.query_logs.add(log)
                    except REFUSED_FOR_GOOD as error:
                        logger.warning("query log %s dropped: %s", log.id, error)
                        self._pending.pop(log.id, None)
                        continue
                    except Conflict as error:
                        if _transient(error):
                            raise
                        # Already there (a flush raced a batch) or refused for good either way.
                        logger.info("query log %s not written again: %s", log.id, error)
                        self._pending.pop(log.id, None)
                        continue
                    written.append(log)
                await uow.commit()
            for log in written:
                self._pending.pop(log.id, None)
