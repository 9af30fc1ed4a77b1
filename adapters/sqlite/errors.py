"""Reading sqlite3's errors: which constraint failed, or whether a lock was not granted.

SQLite names the columns of a failed UNIQUE constraint in its message
("UNIQUE constraint failed: tenants.slug") but not the foreign key that failed,
and reports a busy timeout as "database is locked". Python 3.11 also exposes the
extended result code (``sqlite_errorname``), which is preferred when present.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from tenantrag.adapters.sql.dialect import Problem

_UNIQUE = "UNIQUE constraint failed: "
_NOT_NULL = "NOT NULL constraint failed: "
_CHECK = "CHECK constraint failed: "


def classify(error: DBAPIError) -> Problem | None:  # noqa: PLR0911 - one return per kind
    original = error.orig
    message = str(original)
    name = str(getattr(original, "sqlite_errorname", ""))
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in message:
        return Problem("locked", message=message)
    if name.startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR")):
        # The file cannot be opened or read right now (a missing mount, an I/O error).
        return Problem("unavailable", message=message)
    if name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY") or message.startswith(_UNIQUE):
        table, columns = _columns(message.removeprefix(_UNIQUE))
        return Problem("unique", table, columns, message)
    if name == "SQLITE_CONSTRAINT_FOREIGNKEY" or message.startswith("FOREIGN KEY constraint failed"):
        return Problem("foreign_key", message=message)
    if name == "SQLITE_CONSTRAINT_NOTNULL" or message.startswith(_NOT_NULL):
        table, columns = _columns(message.removeprefix(_NOT_NULL))
        return Problem("not_null", table, columns, message)
    if name == "SQLITE_CONSTRAINT_CHECK" or message.startswith(_CHECK):
        return Problem("check", None, (message.removeprefix(_CHECK),), message)
    return None


def _columns(names: str) -> tuple[str | None, tuple[str, ...]]:
    """("documents", ("tenant_id", "storage_key")) from "documents.tenant_id, documents.storage_key"."""
    table: str | None = None
    columns: list[str] = []
    for qualified in names.split(","):
        owner, _, column = qualified.strip().rpartition(".")
        table = table or owner or None
        columns.append(column)
    return table, tuple(columns)
