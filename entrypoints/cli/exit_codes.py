"""Exit codes: one per kind of failure, so scripts can tell them apart.

Usage errors are Click's 2. Every error tenantrag raises on purpose carries a stable
``code`` (domain/errors.py); ``for_code`` maps it here, and anything unmapped is a bug
(1). The table is documented in the README and printed by ``tenantrag --help``.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    UNEXPECTED = 1
    USAGE = 2
    NOT_FOUND = 3
    PERMISSION_DENIED = 4
    CONFLICT = 5
    INVALID_INPUT = 6
    AUTHENTICATION_FAILED = 7
    INVALID_SETTINGS = 8
    DATABASE = 9
    MODEL_UNAVAILABLE = 10
    INTERRUPTED = 130


_BY_CODE = {
    "not_found": ExitCode.NOT_FOUND,
    "permission_denied": ExitCode.PERMISSION_DENIED,
    "conflict": ExitCode.CONFLICT,
    # A lifecycle move the current state forbids: a conflict with that state.
    "invalid_transition": ExitCode.CONFLICT,
    # After `tenantrag copy`, the target does not hold what the source holds.
    "copy_mismatch": ExitCode.CONFLICT,
    "invalid_input": ExitCode.INVALID_INPUT,
    "unparseable_document": ExitCode.INVALID_INPUT,
    "unsupported_media_type": ExitCode.INVALID_INPUT,
    "authentication_failed": ExitCode.AUTHENTICATION_FAILED,
    "invalid_settings": ExitCode.INVALID_SETTINGS,
    # The database cannot serve: unreachable, too slow, missing, outdated schema, failed migration...
    # (and "unavailable" also covers an embedding service that does not answer).
    "unavailable": ExitCode.DATABASE,
    "database_unavailable": ExitCode.DATABASE,
    "migration_failed": ExitCode.DATABASE,
    "schema_drift": ExitCode.DATABASE,
    "deployment_invalid": ExitCode.DATABASE,
    "provisioning_failed": ExitCode.DATABASE,
    "backup_failed": ExitCode.DATABASE,
    # A local embedding model neither on this machine nor downloadable (no network).
    "model_unavailable": ExitCode.MODEL_UNAVAILABLE,
}

#: For ``--help``: the table, one line per exit code.
TABLE = (
    "Exit codes: 0 success, 1 unexpected error, 2 usage error, 3 not found, 4 permission denied,"
    " 5 conflict, 6 invalid input, 7 authentication failed, 8 invalid settings, 9 database unavailable"
    " (unreachable, timed out, missing, outdated schema, failed migration), 10 embedding model"
    " unavailable (not on this machine and no network), 130 interrupted."
)


def for_code(code: str) -> ExitCode:
    """The exit code for a ``TenantRagError.code``; unknown codes are unexpected errors."""
    return _BY_CODE.get(code, ExitCode.UNEXPECTED)
