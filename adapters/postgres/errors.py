"""Reading psycopg's errors: which constraint of which table failed, or which lock was refused.

PostgreSQL names the violated constraint (``diag.constraint_name``) and its table;
the schema's naming convention makes the name the key to the columns, so the
columns come from the shared MetaData rather than from parsing a message. The
message kept is the primary one only: its DETAIL line quotes the key's values.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from tenantrag.adapters.sql.constraints import constraint_named
from tenantrag.adapters.sql.dialect import Problem, ProblemKind

# SQLSTATEs: class 23 (integrity) and the lock / serialization failures of class 40 and 55.
_KINDS: dict[str, ProblemKind] = {
    "23505": "unique",
    "23503": "foreign_key",
    "23514": "check",
    "23502": "not_null",
    "40001": "locked",  # serialization_failure
    "40P01": "locked",  # deadlock_detected
    "55P03": "locked",  # lock_not_available (lock_timeout)
    "57014": "timeout",  # query_canceled: statement_timeout, the unit of work's command timeout
    # The server went away or will not take us now: worth retrying later, not a bug.
    "57P01": "unavailable",  # admin_shutdown: pg_terminate_backend, a fast or smart stop
    "57P02": "unavailable",  # crash_shutdown
    "57P03": "unavailable",  # cannot_connect_now: starting up, shutting down, in recovery
    "53300": "unavailable",  # too_many_connections
}
# Class 08: connection exceptions (the connection failed, or was lost).
_CONNECTION_CLASS = "08"


def sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def classify(error: DBAPIError) -> Problem | None:
    state = sqlstate(error)
    kind = _KINDS.get(state or "")
    if kind is None and _unreachable(error, state):
        kind = "unavailable"
    if kind is None:
        return None
    diag = getattr(error.orig, "diag", None)
    message = str(getattr(diag, "message_primary", None) or error.orig).splitlines()[0]
    name = getattr(diag, "constraint_name", None)
    table = getattr(diag, "table_name", None)
    columns: tuple[str, ...] = ()
    named = constraint_named(name) if isinstance(name, str) else None
    if named is not None:
        table, columns = named
    elif kind == "not_null":
        column = getattr(diag, "column_name", None)
        columns = (column,) if column else ()
    if kind == "check" and name:
        columns = (name,)
    return Problem(kind, table, columns, message)


def _unreachable(error: DBAPIError, state: str | None) -> bool:
    """A lost or refused connection: SQLSTATE class 08, or libpq's own failures, which carry
    no SQLSTATE (connection refused, the server closed the connection, a broken socket)."""
    if state is not None:
        return state.startswith(_CONNECTION_CLASS)
    return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
