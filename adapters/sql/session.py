"""One unit of work's connection and transaction.

Every statement of a unit of work goes through here, which is where:

- the unit of work's lifetime is enforced (UnitOfWorkNotActive before ``async
  with`` and after commit or rollback);
- each write runs in a SAVEPOINT, so a write that breaks a constraint undoes only
  itself and the unit of work stays usable;
- a broken constraint becomes a ``ConstraintViolation`` for the repository to name
  (``Conflict``, ``NotFound``); the SAVEPOINT has undone the write, so the unit of
  work goes on;
- lock timeouts become ``Conflict`` and command timeouts ``Unavailable`` (never a
  raw driver exception), and end the unit of work, since its transaction can no
  longer be trusted to be whole;
- a database that cannot be reached (refused, terminated, shutting down, no pooled
  connection free in time) is ``Unavailable`` with rule ``database.unavailable``. Opening
  is retried once, as nothing has been done yet: a pooled connection the server dropped
  costs a retry (SQLAlchemy then replaces the pool's older connections), and a read-only
  unit of work whose replica is unreachable opens on the primary instead (read_routing.py).
  A failure after that is not replayed: the caller gets ``Unavailable`` (a commit that
  fails so may or may not have been applied).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncResult

from tenantrag.adapters.sql.dialect import Problem, SqlDialect
from tenantrag.adapters.sql.read_routing import ReadRouting
from tenantrag.domain.errors import DATABASE_UNAVAILABLE, Conflict, Unavailable
from tenantrag.domain.ports.unit_of_work import ReadOnlyUnitOfWork, UnitOfWorkNotActive

Params = dict[str, Any] | Sequence[dict[str, Any]] | None


class ConstraintViolation(Exception):
    """A write broke a constraint; the repository that wrote knows what to call it."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class SqlSession:
    def __init__(
        self,
        engine: AsyncEngine,
        dialect: SqlDialect,
        tenant_id: uuid.UUID | None = None,
        *,
        read_only: bool = False,
        routing: ReadRouting | None = None,
    ) -> None:
        self._engine = engine
        # With a replica: where a read-only unit of work opens (the engine given is the primary).
        self._routing = routing if read_only else None
        self.dialect = dialect
        # The tenant this unit of work is for; None for system work.
        self.tenant_id = tenant_id
        self.read_only = read_only
        self._connection: AsyncConnection | None = None
        self._used = False

    # --- lifetime --------------------------------------------------------------------

    async def open(self) -> None:
        if self._used:
            raise UnitOfWorkNotActive("a unit of work runs one transaction; ask the factory for a new one")
        self._used = True
        engine = self._engine if self._routing is None else self._routing.engine()
        try:
            self._connection = await self._begin(engine)
            return
        except (DBAPIError, PoolTimeout) as error:
            if not self._unreachable(error):
                raise self._translate(error) from error
            if self._routing is not None and engine is self._routing.replica:
                engine = self._routing.failed(error)
            elif isinstance(error, PoolTimeout):
                raise _unavailable(error) from error  # waiting as long again would not help
            first = error
        try:  # once more: nothing was done on the connection that failed
            self._connection = await self._begin(engine)
        except (DBAPIError, PoolTimeout) as error:
            if self._unreachable(error):
                raise _unavailable(error) from first
            raise self._translate(error) from error

    async def _begin(self, engine: AsyncEngine) -> AsyncConnection:
        connection = await engine.connect()
        try:
            await self.dialect.begin(connection, self.tenant_id, read_only=self.read_only)
        except BaseException:
            await connection.close()
            raise
        return connection

    def _unreachable(self, error: DBAPIError | PoolTimeout) -> bool:
        if not isinstance(error, DBAPIError):
            return True  # no pooled connection came free in time
        if error.connection_invalidated:
            return True
        problem = self.dialect.classify(error)
        return problem is not None and problem.kind == "unavailable"

    async def commit(self) -> None:
        connection = self.connection()
        try:
            await connection.commit()
        except DBAPIError as error:
            raise self._translate(error) from error
        finally:
            # Ended whatever happens: a commit that fails applied nothing.
            await self._close()

    async def rollback(self) -> None:
        """End the unit of work, discarding its writes; harmless once it has ended."""
        if self._connection is not None:
            await self._close()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            self.dialect.finish(connection)
            await connection.rollback()
        except (DBAPIError, PendingRollbackError):
            # A connection the server dropped, or one a cancelled statement left invalid,
            # cannot roll back (there is nothing left to undo); nor may it go back to the pool.
            await connection.invalidate()
        finally:
            await connection.close()

    def connection(self) -> AsyncConnection:
        if self._connection is None:
            state = "has ended (commit or rollback)" if self._used else "is not open; use `async with`"
            raise UnitOfWorkNotActive(f"this unit of work {state}")
        return self._connection

    def writable_connection(self) -> AsyncConnection:
        """The connection, for a write: refused in a read-only unit of work, whose
        connection may be a replica's."""
        connection = self.connection()
        if self.read_only:
            raise ReadOnlyUnitOfWork("a read-only unit of work cannot write")
        return connection

    # --- statements ------------------------------------------------------------------

    async def read(self, statement: Executable, params: Params = None) -> CursorResult[Any]:
        connection = self.connection()
        try:
            return await connection.execute(statement, params)
        except DBAPIError as error:
            raise await self.fail(error) from error

    @contextlib.asynccontextmanager
    async def stream(self, statement: Executable) -> AsyncIterator[AsyncResult[Any]]:
        """A server-side cursor, for reading many rows without holding them all."""
        connection = self.connection()
        try:
            async with connection.stream(statement) as result:
                yield result
        except DBAPIError as error:
            raise await self.fail(error) from error

    async def lock(self, statement: Executable, params: Params = None) -> CursorResult[Any]:
        """A read that locks what it reads until the transaction ends (``statement`` says
        ``FOR UPDATE``): row locks on PostgreSQL; on SQLite, which renders no ``FOR UPDATE``,
        the write lock taken first (BEGIN IMMEDIATE), so the read sees the latest commit and
        nothing changes it before this unit of work ends. For invariants a read-then-write
        would break under concurrency (the last owner, one document's versions)."""
        connection = self.writable_connection()
        try:
            await self.dialect.prepare_write(connection)
            return await connection.execute(statement, params)
        except DBAPIError as error:
            raise await self.fail(error) from error

    async def write(self, statement: Executable, params: Params = None) -> CursorResult[Any]:
        """Run one write whole, or not at all: in its own SAVEPOINT, unless it is a single
        statement execution on a dialect whose failed statements undo themselves (the
        SAVEPOINT would cost two round trips for nothing)."""
        connection = self.writable_connection()
        try:
            await self.dialect.prepare_write(connection)
            if self.dialect.statement_atomic and _one_execution(params):
                return await connection.execute(statement, params)
            async with connection.begin_nested():
                return await connection.execute(statement, params)
        except DBAPIError as error:
            raise await self.fail(error) from error

    @contextlib.asynccontextmanager
    async def trial(self) -> AsyncIterator[AsyncConnection]:
        """A SAVEPOINT that is always rolled back: for replaying a failed batch row by row."""
        connection = self.writable_connection()
        try:
            await self.dialect.prepare_write(connection)
            savepoint = await connection.begin_nested()
        except DBAPIError as error:
            raise await self.fail(error) from error
        try:
            yield connection
        finally:
            if savepoint.is_active:
                await savepoint.rollback()

    @contextlib.asynccontextmanager
    async def acting_for(self, **values: str) -> AsyncIterator[None]:
        """Bind the database's isolation values for the statements inside (see
        SqlDialect.act_for; signed on PostgreSQL, adapters/postgres/binding.py), and unbind
        them after, whatever happens."""
        connection = self.connection()
        await self.dialect.act_for(connection, **values)
        try:
            yield
        finally:
            if self._connection is not None:
                await self.dialect.act_for(connection, **dict.fromkeys(values, ""))

    async def violation(self, error: DBAPIError) -> ConstraintViolation | None:
        problem = self.dialect.classify(error)
        if (
            problem is None
            or problem.kind in ("locked", "timeout", "unavailable")
            or error.connection_invalidated
        ):
            return None
        return ConstraintViolation(problem)

    async def fail(self, error: DBAPIError) -> Exception:
        violation = await self.violation(error)
        if violation is not None:
            return violation
        translated = self._translate(error)
        if translated is not error:
            await self.rollback()
        return translated

    def _translate(self, error: DBAPIError | PoolTimeout) -> Exception:
        if self._unreachable(error):
            return _unavailable(error)
        assert isinstance(error, DBAPIError)  # a pool timeout is always unreachable
        problem = self.dialect.classify(error)
        if problem is not None and problem.kind == "locked":
            return Conflict(
                f"the database is busy: {problem.message or 'database is locked'};"
                " another transaction held its lock too long, try again",
                details={"rule": "database.locked"},
            )
        if problem is not None and problem.kind == "timeout":
            return Unavailable(
                f"the database did not finish in time ({problem.message}); the unit of work was rolled back",
                details={"rule": "database.timeout"},
            )
        return error


def _unavailable(error: BaseException) -> Unavailable:
    """The database could not be reached; the driver's message may name hosts, so it stays
    in the chained exception (the logs), not in what a client is told."""
    return Unavailable(
        "the database is unavailable (unreachable, restarting or overloaded); retry shortly",
        details={"rule": DATABASE_UNAVAILABLE},
    )


def _one_execution(params: Params) -> bool:
    """Whether ``params`` run the statement once (no parameters, one set, or a list of one)."""
    return not isinstance(params, Sequence) or len(params) == 1
