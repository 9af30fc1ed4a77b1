"""Reading psycopg's errors: which constraint of which table failed, or which lock was refused.

PostgreSQL names the violated constraint (``diag.constraint_name``) and its table;
the schema's naming convention makes the name the key to the columns, so the
columns come from the shared MetaData rather than from parsing a message. The
message kept is the primary one only: its DETAIL line quotes the key's values.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import DBAPIError

from tenantrag.adapters.sql import schema
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


def _constraint_columns() -> dict[str, tuple[str, tuple[str, ...]]]:
    found: dict[str, tuple[str, tuple[str, ...]]] = {}
    for table in schema.metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint | ForeignKeyConstraint):
                columns = tuple(column.name for column in constraint.columns)
            elif isinstance(constraint, CheckConstraint):
                columns = ()
            else:  # pragma: no cover - no other kind exists in the schema
                continue
            if isinstance(constraint.name, str):
                found[constraint.name] = (table.name, columns)
        # A unique index is reported by its own name, like a constraint.
        for index in table.indexes:
            if index.unique and isinstance(index.name, str):
                found[index.name] = (table.name, tuple(column.name for column in index.columns))
    return found


_CONSTRAINTS = _constraint_columns()


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
    if name in _CONSTRAINTS:
        table, columns = _CONSTRAINTS[name]
    elif kind == "not_null":
        column = getattr(diag, "column_name", None)
        columns = (column,) if column else ()
    if kind == "check" and name:
        columns = (name,)
    return Problem(kind, table, columns, message)
