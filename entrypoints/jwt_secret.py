"""The JWT signing secret: what is accepted outside development, and the development one.

Outside development the secret must be given (``JWT_SECRET_KEY``), must not be a value
copied from an example, and must be at least as long as the HMAC's hash (RFC 7518 section
3.2: 32 bytes for HS256, 48 for HS384, 64 for HS512; PyJWT warns below that).

In development, with nothing configured, ``tenantrag serve`` must just work, and tokens it issued must
survive a restart and be accepted by every worker. So a random secret is generated the
first time and stored (mode 0600) in ``.tenantrag-jwt-secret`` in the SQLite database's
folder (the working directory for PostgreSQL).

If the file cannot be written (a read-only or missing folder), the secret is kept in
memory for this process only and a warning says so: tokens then die with the process.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

logger = logging.getLogger(__name__)

SECRET_FILE_NAME = ".tenantrag-jwt-secret"  # noqa: S105 - a file name, not a secret

# 64 random bytes, URL-safe: 86 characters, long enough for HS512 as well as HS256.
_GENERATED_BYTES = 64

#: The shortest secret each supported algorithm accepts outside development.
MIN_SECRET_BYTES: dict[str, int] = {"HS256": 32, "HS384": 48, "HS512": 64}

# Values copied from examples and templates: refused outside development whatever their length.
_PLACEHOLDERS = frozenset(
    {
        "secret",
        "changeme",
        "change-me",
        "changethis",
        "your-secret-key",
        "your-super-secret-key-here",
        "dev-secret-key-not-for-production",
        "staging-secret-key-change-in-production",
    }
)


def deployment_problem(secret: str, *, algorithm: str, environment: str) -> str | None:
    """What is wrong with ``secret`` for a deployment outside development, or None."""
    need = MIN_SECRET_BYTES[algorithm]
    advice = (
        f"set it to at least {need} random bytes, for example the output of"
        ' python -c "import secrets; print(secrets.token_urlsafe(48))"'
    )
    if not secret:
        return f"is required when ENVIRONMENT={environment}: {advice}"
    if secret.strip().lower() in _PLACEHOLDERS:
        return f"is a placeholder from an example: {advice}"
    length = len(secret.encode())
    if length < need:
        return (
            f"is {length} bytes; {algorithm} needs at least {need} when ENVIRONMENT={environment}: {advice}"
        )
    return None


class DevelopmentSecretError(Exception):
    """The stored development secret is unusable (too short, unreadable)."""


def generate_secret() -> str:
    return secrets.token_urlsafe(_GENERATED_BYTES)


def development_secret(folder: Path | None, *, min_bytes: int) -> str:
    """The secret stored in ``folder`` (created on first use), or a per-process one if None."""
    if folder is None:
        return generate_secret()
    path = folder / SECRET_FILE_NAME
    try:
        return _read_or_create(path, min_bytes)
    except OSError as error:
        logger.warning(
            "cannot keep the development JWT secret in %s (%s): using one for this process only,"
            " so tokens will not survive a restart; set JWT_SECRET_KEY to avoid this",
            path,
            error.strerror or error,
        )
        return generate_secret()


def _read_or_create(path: Path, min_bytes: int) -> str:
    if path.exists():
        return _read(path, min_bytes)
    secret = generate_secret()
    # Written to a private temporary file, then linked into place: the link either creates
    # the file complete or fails because another process just did (then its secret is read).
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(secret + "\n")
        os.link(temporary, path)
    except FileExistsError:
        return _read(path, min_bytes)
    finally:
        temporary.unlink(missing_ok=True)
    logger.info("generated a development JWT secret in %s", path)
    return secret


def _read(path: Path, min_bytes: int) -> str:
    stored = path.read_text(encoding="utf-8").strip()
    if len(stored.encode()) < min_bytes:
        raise DevelopmentSecretError(
            f"the development secret in {path} is shorter than {min_bytes} bytes;"
            " delete the file to have a new one generated"
        )
    return stored
