"""The rules the security settings are checked by: login throttling (``LOGIN_LIMIT_*``,
``LOGIN_THROTTLE_STORAGE``), password hashing cost (``PASSWORD_HASH_*``), the JWT secret
and the PostgreSQL runtime role's name.

``Settings`` calls these from its validators. The field rules raise ``ValueError`` with the
message ``SettingsError`` shows beside the variable's name; the checks across fields return
``(VARIABLE, problem)`` pairs.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import limits
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from pydantic import SecretStr

from tenantrag.entrypoints import jwt_secret

if TYPE_CHECKING:
    from tenantrag.entrypoints.settings import Settings

logger = logging.getLogger("tenantrag.settings")

# OWASP's floor for Argon2id outside development; cheaper settings are for tests.
MIN_PRODUCTION_MEMORY_KIB = 19_456

Problems = list[tuple[str, str]]

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def role_name(value: str) -> str:
    """``POSTGRES_RUNTIME_ROLE``: spelled into SQL as is, so a plain identifier only."""
    if not _ROLE.fullmatch(value):
        raise ValueError(
            "must be a plain lower-case PostgreSQL identifier: a letter or _, then letters,"
            " digits or _, at most 63 characters"
        )
    return value


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


def password_cost_problems(settings: Settings) -> Problems:
    memory_cost, environment = settings.password_hash_memory_cost, settings.environment
    problems = []
    if memory_cost < 8 * settings.password_hash_parallelism:
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
        if settings.password_hash_time_cost < 2:
            problems.append(("PASSWORD_HASH_TIME_COST", f"must be at least 2 in {environment}"))
    return problems


def resolve_jwt_secret(settings: Settings) -> Problems:
    """The problems with ``JWT_SECRET_KEY``. In development without one, ``settings`` is given
    a generated secret kept in its data folder (jwt_secret.development_secret)."""
    given, algorithm = settings.jwt_secret_key.get_secret_value(), settings.jwt_algorithm
    if not settings.is_development:
        problem = jwt_secret.deployment_problem(given, algorithm=algorithm, environment=settings.environment)
        return [] if problem is None else [("JWT_SECRET_KEY", problem)]
    need = jwt_secret.MIN_SECRET_BYTES[algorithm]
    if given:
        if len(given.encode()) < need:
            logger.warning("JWT_SECRET_KEY is shorter than %d bytes: accepted in development only", need)
        return []
    try:
        settings.jwt_secret_key = SecretStr(
            jwt_secret.development_secret(settings.data_folder, min_bytes=need)
        )
    except jwt_secret.DevelopmentSecretError as error:
        return [("JWT_SECRET_KEY", str(error))]
    return []
