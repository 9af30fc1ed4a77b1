"""The worker: takes jobs from the queue and runs each with the handler of its kind.

One attempt at a job:

1. claim it (a system unit of work, committed at once): running, attempts + 1, leased
   until now + ``lease``;
2. run the handler, while a heartbeat renews the lease every ``lease / 3`` in the job's
   tenant unit of work, guarded by the attempt (``jobs.update(..., if_attempt=...)``).
   A heartbeat that finds the attempt superseded (the lease ran out and another worker
   took the job, or it was cancelled or deleted) cancels the handler: its work would be
   refused anyway;
3. the handler finishes the job itself, in the transaction that commits its results,
   with the same guard. That guard is why nothing is completed twice: of two workers
   that ran one job, only the one holding the current attempt can commit;
4. if the handler raises: a permanent error (the input is bad, the document or tenant is
   gone, the actor may not act) fails the job at once; any other error puts it back in
   the queue with the error recorded, until ``max_attempts`` attempts have failed.
   Failing a job calls the handler's ``give_up`` first, so it can mark what the job was
   for (its document) failed too.

A worker that dies mid-job leaves its job running under a lease that nobody renews;
once it runs out the job is claimable again, so nothing is lost. A job claimed for
more than ``max_attempts`` attempts lost its worker on the last one (one that raised
would have been failed): it is failed without being run again, since it may be what
kills its workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Protocol

import attrs

from tenantrag.domain import validation as v
from tenantrag.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TenantRagError,
    is_database_outage,
)
from tenantrag.domain.model.job import Job, JobStatus, lease_lost
from tenantrag.domain.ports.blob_store import BlobCorrupted
from tenantrag.domain.ports.clock import Clock
from tenantrag.domain.ports.unit_of_work import UnitOfWorkFactory
from tenantrag.domain.usecases.retrying import retried

logger = logging.getLogger(__name__)

#: Errors that another attempt cannot cure (UnparseableDocument is an InvalidInput; a blob
#: whose bytes are not the ones recorded stays so until its content is submitted again).
PERMANENT_ERRORS: tuple[type[TenantRagError], ...] = (InvalidInput, NotFound, PermissionDenied, BlobCorrupted)


class JobHandler(Protocol):
    """Runs the jobs of one kind.

    ``run`` must finish the job itself (succeeded, usually), in the transaction that
    commits its results, with ``uow.jobs.update(finished, if_attempt=job.attempts)``: a
    ``Conflict`` with rule ``jobs.lease`` there means another worker holds the job now,
    and the transaction must be dropped. To record progress, re-read the job and change
    only progress and summary: the worker's heartbeat moves ``lease_expires_at`` meanwhile,
    and writing back the claimed copy would shorten the lease.

    ``give_up(job, error)`` is called when the job will not be tried again, before the
    job is marked failed; a worker that dies in between leaves the job to be given up
    again, so it must be idempotent.
    """

    async def run(self, job: Job) -> None: ...
    async def give_up(self, job: Job, error: str) -> None: ...


def _copy_handlers(handlers: Mapping[str, JobHandler]) -> dict[str, JobHandler]:
    # A copy: the kinds the worker claims must stay the kinds it has handlers for.
    return dict(handlers)


def _positive_lease(_instance: object, _attribute: object, value: timedelta) -> None:
    if value <= timedelta(0):
        raise InvalidInput("lease", f"must be positive, got {value}")


def _not_negative(_instance: object, _attribute: object, value: timedelta) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise InvalidInput("retry_delay", f"must be a duration of zero or more, got {value!r}")


def _at_least_one(_instance: object, _attribute: object, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput("max_attempts", f"must be an integer of at least 1, got {value!r}")


def _positive_interval(_instance: object, _attribute: object, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise InvalidInput("poll_interval", f"must be a positive number of seconds, got {value!r}")


MAX_RETRY_DELAY = timedelta(minutes=10)
#: The longest a worker waits between tries while the database is unreachable (seconds).
MAX_OUTAGE_PAUSE = 30.0
_SETTLED = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class _LeaseLost(Exception):
    """The heartbeat found the attempt superseded and cancelled the handler."""


@attrs.define
class Worker:
    """Runs queued jobs; ``run(stop)`` until stopped, or ``run_once()`` for one job.

    ``on_job`` is called with each job the worker attempted, as it stands afterwards
    (the CLI prints it). Any number of workers may share one database.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    handlers: Mapping[str, JobHandler] = attrs.field(converter=_copy_handlers)
    lease: timedelta = attrs.field(default=timedelta(minutes=5), validator=_positive_lease)
    max_attempts: int = attrs.field(default=3, validator=_at_least_one)
    poll_interval: float = attrs.field(default=1.0, validator=_positive_interval)
    # A failed attempt waits retry_delay * 2**(attempt - 1), at most MAX_RETRY_DELAY, before
    # the next: an embedder that is down for a minute must not use up every attempt at once.
    retry_delay: timedelta = attrs.field(default=timedelta(seconds=5), validator=_not_negative)
    on_job: Callable[[Job], Awaitable[None] | None] | None = None

    # --- the loop ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run jobs until ``stop`` is set; the job in hand is finished first.

        An error outside any handler (the database is unreachable, say) is logged and the
        worker carries on: a worker is meant to outlive outages. While the database stays
        unreachable it waits longer each time (``poll_interval`` doubled, at most
        ``MAX_OUTAGE_PAUSE``) and says so once per failure, without a traceback.
        """
        logger.info("worker started: kinds %s, lease %s", sorted(self.handlers), self.lease)
        failures = 0
        while not stop.is_set():
            try:
                job = await self.run_once()
                failures = 0
            except Exception as error:
                failures += 1
                if is_database_outage(error):
                    logger.warning(
                        "the database is unavailable; the worker tries again in %.1f s", self._pause(failures)
                    )
                else:
                    logger.exception("the worker could not take or settle a job; trying again")
                job = None
            if job is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._pause(failures))
        logger.info("worker stopped")

    def _pause(self, failures: int) -> float:
        """Seconds to wait for work after ``failures`` failures in a row (0: an empty queue)."""
        pause = self.poll_interval * 2.0 ** min(failures, 20)
        return float(min(pause, max(self.poll_interval, MAX_OUTAGE_PAUSE)))

    async def run_once(self) -> Job | None:
        """Claim one job and attempt it; the job as it stands afterwards, or None when no job
        was claimable."""
        job = await self._claim()
        if job is None:
            return None
        logger.info("job %s (%s, tenant %s): attempt %d", job.id, job.kind, job.tenant_id, job.attempts)
        if job.attempts > self.max_attempts:
            # A last attempt that raised would have failed the job: its worker vanished instead.
            error = (
                f"gave up after {job.attempts - 1} attempts: the worker running the last one"
                " stopped before finishing it (its lease ran out)"
            )
            await self._fail(job, error)
        else:
            await self._attempt(job)
        settled = await self._current(job) or job
        if self.on_job is not None:
            reported = self.on_job(settled)
            if reported is not None:
                await reported
        return settled

    # --- one attempt -----------------------------------------------------------------------

    async def _claim(self) -> Job | None:
        now = self.clock.now()
        async with self.uow.system() as uow:
            job = await uow.job_queue.claim(now=now, lease_until=now + self.lease, kinds=self.handlers)
            if job is not None:
                await uow.commit()
        return job

    async def _attempt(self, job: Job) -> None:
        try:
            await self._run_leased(job)
        except _LeaseLost:
            logger.warning("job %s: attempt %d lost its lease and was stopped", job.id, job.attempts)
        except PERMANENT_ERRORS as error:
            logger.warning("job %s failed for good: %s", job.id, error)
            await self._fail(job, describe(error))
        except Exception as error:
            if is_lease_lost(error):
                # The handler's guarded write found another attempt in charge: its work is void.
                logger.warning("job %s: attempt %d was taken over by another worker", job.id, job.attempts)
                return
            if is_database_outage(error):
                await self._postpone(job, describe(error))
                return
            await self._retry_or_fail(job, describe(error))

    async def _postpone(self, job: Job, error: str) -> None:
        """The database went away during the attempt: nothing the job did is to blame, so it
        goes back to the queue without using up an attempt. Settling needs the database too:
        tried until it answers, while the lease lasts (after that the job is claimable anyway)."""
        logger.warning("job %s: the database became unavailable; the job is queued again", job.id)

        def postponed(current: Job) -> Job:
            now = self.clock.now()
            queued = current.queued_again(now=now, error=error, not_before=now)
            return attrs.evolve(queued, attempts=max(0, current.attempts - 1))

        failures = 0
        while True:
            try:
                await self._settle(job, postponed)
                return
            except Exception as settling:
                failures += 1
                lease = job.lease_expires_at
                if not is_database_outage(settling) or lease is None or self.clock.now() >= lease:
                    raise
                await asyncio.sleep(self._pause(failures))

    async def _run_leased(self, job: Job) -> None:
        """The handler, under a heartbeat; _LeaseLost if the heartbeat stopped it."""
        work = asyncio.create_task(self.handlers[job.kind].run(job), name=f"job {job.id}")
        finished, lost = asyncio.Event(), asyncio.Event()
        heartbeat = asyncio.create_task(self._keep_lease(job, work, finished, lost), name=f"lease {job.id}")
        try:
            await work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                # The worker itself is being stopped: so is the job, whose lease will run out.
                work.cancel()
                heartbeat.cancel()
                raise
            if lost.is_set():
                raise _LeaseLost from None
            raise RuntimeError(f"the {job.kind!r} handler was cancelled") from None
        finally:
            # Let a renewal in progress end its transaction rather than cancel it halfway.
            finished.set()
            await asyncio.wait([heartbeat])
        if not lost.is_set() and await self._still_running(job):
            raise RuntimeError(f"the {job.kind!r} handler returned without finishing the job")

    async def _keep_lease(
        self, job: Job, work: asyncio.Task[None], finished: asyncio.Event, lost: asyncio.Event
    ) -> None:
        interval = self.lease.total_seconds() / 3
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), interval)
            if finished.is_set():
                return
            try:
                await self._extend(job)
            except Exception as error:
                if not is_lease_lost(error):
                    # Not lost yet: there is time until it runs out.
                    logger.warning("job %s: could not renew the lease; retrying", job.id, exc_info=True)
                    continue
                if await self._finished_by(job):
                    # Not lost: the handler finished the job (its commit won the race with
                    # this renewal). Cancelling it now could only interrupt the end of that
                    # commit and report a job that succeeded as failed.
                    return
                lost.set()
                work.cancel()
                return

    async def _finished_by(self, job: Job) -> bool:
        """Whether the stored job was settled by the attempt ``job`` is (not taken over)."""
        try:
            current = await self._current(job)
        except Exception:
            logger.warning("job %s: could not read it back", job.id, exc_info=True)
            return False
        return current is not None and current.attempts == job.attempts and current.status in _SETTLED

    async def _extend(self, job: Job) -> None:
        async with self.uow.tenant(job.tenant_id) as uow:
            current = await uow.jobs.get(job.id)
            if current is None or not _held_by(current, job):
                raise lease_lost(job.id, job.attempts)
            now = self.clock.now()
            await uow.jobs.update(
                current.renewed(now=now, lease_until=now + self.lease), if_attempt=job.attempts
            )
            await uow.commit()

    # --- settling a failed attempt ---------------------------------------------------------

    async def _retry_or_fail(self, job: Job, error: str) -> None:
        if job.attempts >= self.max_attempts:
            logger.warning("job %s failed on its last attempt (%d): %s", job.id, job.attempts, error)
            await self._fail(job, f"gave up after {job.attempts} attempts; the last error: {error}")
            return
        logger.warning("job %s: attempt %d failed, queued again: %s", job.id, job.attempts, error)

        def requeue(current: Job) -> Job:
            now = self.clock.now()
            return current.queued_again(now=now, error=error, not_before=now + self.backoff(job.attempts))

        await self._settle(job, requeue)

    def backoff(self, attempt: int) -> timedelta:
        """How long a job waits after its ``attempt``-th attempt failed."""
        return min(self.retry_delay * (1 << min(max(0, attempt - 1), 30)), MAX_RETRY_DELAY)

    async def _fail(self, job: Job, error: str) -> None:
        """give_up, then fail the job (in that order: see JobHandler)."""
        error = v.error_text(error)
        try:
            await self.handlers[job.kind].give_up(job, error)
        except Exception:
            # A queue must not spin on a handler's bug: the job fails all the same.
            logger.exception("job %s: the %r handler's give_up failed", job.id, job.kind)

        def fail(current: Job) -> Job:
            return current.finish(JobStatus.FAILED, now=self.clock.now(), error=error)

        await self._settle(job, fail)

    async def _settle(self, job: Job, change: Callable[[Job], Job]) -> None:
        """Apply ``change`` to the stored job, only while this worker's attempt holds it."""
        try:
            await retried(lambda: self._settle_once(job, change), what=f"settling job {job.id}")
        except Conflict as error:
            if not is_lease_lost(error):
                raise
            logger.warning("job %s: attempt %d was taken over before it was settled", job.id, job.attempts)

    async def _settle_once(self, job: Job, change: Callable[[Job], Job]) -> None:
        async with self.uow.tenant(job.tenant_id) as uow:
            current = await uow.jobs.get(job.id)
            if current is None:
                logger.info("job %s is gone (its document or tenant was deleted)", job.id)
                return
            if not _held_by(current, job):
                # Settled already: by the handler itself (it committed, then something after
                # the commit raised), or by another attempt. Either way it is not ours to change.
                logger.warning(
                    "job %s: attempt %d found it %s (attempt %d) and left it so",
                    job.id, job.attempts, current.status, current.attempts,
                )  # fmt: skip
                return
            await uow.jobs.update(change(current), if_attempt=job.attempts)
            await uow.commit()

    # --- reading -------------------------------------------------------------------------

    async def _current(self, job: Job) -> Job | None:
        async with self.uow.tenant(job.tenant_id) as uow:
            return await uow.jobs.get(job.id)

    async def _still_running(self, job: Job) -> bool:
        return _held_by(await self._current(job), job)


def _held_by(current: Job | None, attempt: Job) -> bool:
    """Whether the stored job is still running the attempt ``attempt`` is."""
    return (
        current is not None and current.status is JobStatus.RUNNING and current.attempts == attempt.attempts
    )


def is_lease_lost(error: BaseException) -> bool:
    """Whether ``error`` says the attempt is no longer the job's current one (see lease_lost)."""
    return isinstance(error, Conflict) and error.details.get("rule") == "jobs.lease"


def describe(error: BaseException) -> str:
    """An error as a job records it: our own errors by their message, others with their type."""
    if isinstance(error, TenantRagError):
        return error.message
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
