"""The rules the security settings are checked by: login throttling (``LOGIN_LIMIT_*``,
``LOGIN_THROTTLE_STORAGE``), password hashing cost (``PASSWORD_HASH_*``) and the JWT secret.

``Settings`` calls these from its validators. The field rules raise ``ValueError`` with the
message ``SettingsError`` shows beside the variable's name; the checks across fields return
``(VARIABLE, problem)`` pairs.
"""

from __future__ import annotations

import logging
from pathlib import Path

import limits
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from pydantic import SecretStr

from tenantrag.entrypoints import jwt_secret

logger = logging.getLogger("tenantrag.settings")

# OWASP's floor for Argon2id outside development; cheaper settings are for tests.
MIN_PRODUCTION_MEMORY_KIB = 19_456

Problems = list[tuple[str, str]]


def rate_limit(value: str) -> str:
    try:
        limits.parse(value)
    except ValueError:
        raise ValueError(
            "must be a rate in the `limits` notation, like '10 per 15 minutes' or '100/hour'"
        ) from None
    return value


def throttle_storage(value: str) -> str:
    # Built, not connected: an unknown scheme or a missing driver is refused at start.
    try:
        storage_from_string(value if value.startswith("async+") else f"async+{value}")
    except (ConfigurationError, ValueError) as error:
        raise ValueError(
            f"must be memory:// or a storage URL of the `limits` library (redis://host:6379): {error}"
        ) from None
    return value


def password_cost_problems(
    *, memory_cost: int, time_cost: int, parallelism: int, environment: str
) -> Problems:
    problems = []
    if memory_cost < 8 * parallelism:
        problems.append(
            ("PASSWORD_HASH_MEMORY_COST", "must be at least 8 KiB per lane (8 x PASSWORD_HASH_PARALLELISM)")
        )
    if environment in ("staging", "production"):
        if memory_cost < MIN_PRODUCTION_MEMORY_KIB:
            problems.append(
                (
                    "PASSWORD_HASH_MEMORY_COST",
                    f"must be at least {MIN_PRODUCTION_MEMORY_KIB} KiB in {environment}",
                )
            )
        if time_cost < 2:
            problems.append(("PASSWORD_HASH_TIME_COST", f"must be at least 2 in {environment}"))
    return problems


def resolve_jwt_secret(
    given: str, *, algorithm: str, environment: str, development: bool, secret_folder: Path | None
) -> tuple[SecretStr | None, Problems]:
    """The secret to use (None: keep the given one) and the problems with it. In development
    without one, a generated secret kept in ``secret_folder`` (jwt_secret.development_secret)."""
    if not development:
        problem = jwt_secret.deployment_problem(given, algorithm=algorithm, environment=environment)
        return None, [] if problem is None else [("JWT_SECRET_KEY", problem)]
    need = jwt_secret.MIN_SECRET_BYTES[algorithm]
    if given:
        if len(given.encode()) < need:
            logger.warning("JWT_SECRET_KEY is shorter than %d bytes: accepted in development only", need)
        return None, []
    try:
        return SecretStr(jwt_secret.development_secret(secret_folder, min_bytes=need)), []
    except jwt_secret.DevelopmentSecretError as error:
        return None, [("JWT_SECRET_KEY", str(error))]
