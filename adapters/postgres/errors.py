"""Reading psycopg's errors: which constraint of which table failed, or which lock was refused.

PostgreSQL names the violated constraint (``diag.constraint_name``) and its table;
the schema's naming convention makes the name the key to the columns, so the
columns come from the shared MetaData rather than from parsing a message. The
message kept is the primary one only: its DETAIL line quotes the key's values.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

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
}


def sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def classify(error: DBAPIError) -> Problem | None:
    state = sqlstate(error)
    kind = _KINDS.get(state or "")
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
