"""``DATABASE_URL`` as settings read it: the project's drivers, and the URL's own parameters.

People paste the URLs their tools and hosting providers print, and other projects' docs
(``postgresql+asyncpg://``), so every PostgreSQL form is served by psycopg and every SQLite
form by aiosqlite (``adapters/sql/urls.py`` does the mapping). ``memory://`` names a
SQLite database in memory. libpq reads parameters such as ``sslmode`` and ``connect_timeout`` from
the URL; ``URL_PARAMETERS`` says which setting each one corresponds to, so the two can be
reconciled instead of one silently overriding the other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, get_args

from sqlalchemy.engine import make_url

from tenantrag.adapters.sql.urls import DEFAULT_DATABASE_URL, normalize_database_url
from tenantrag.adapters.sqlite.engine import sqlite_url
from tenantrag.domain.errors import InvalidInput

#: ``DATABASE_URL`` for the SQLite database in memory: nothing persists (tests, experiments).
MEMORY_URL = "memory://"

#: A PostgreSQL URL's query parameter -> the setting holding the same thing.
URL_PARAMETERS = {
    "sslmode": "db_ssl_mode",
    "sslrootcert": "db_ssl_root_cert",
    "sslcert": "db_ssl_cert",
    "sslkey": "db_ssl_key",
    "connect_timeout": "db_connect_timeout",
    "application_name": "db_application_name",
}
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
SSL_MODES: tuple[str, ...] = get_args(SslMode)


def primary_url(value: object) -> object:
    """``DATABASE_URL``: empty means the default SQLite file; ``memory://`` SQLite in memory."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_DATABASE_URL
    if isinstance(value, str) and value.strip().lower() in (MEMORY_URL, "memory:"):
        return MEMORY_URL
    return normalised_url(value)


def normalised_url(value: object) -> str:
    """The URL with the project's driver; ValueError (for pydantic) saying what is wrong."""
    if not isinstance(value, str):
        raise ValueError("must be a database URL")  # pydantic turns ValueError into its report
    try:
        url = normalize_database_url(value)
        return sqlite_url(url) if make_url(url).get_backend_name() == "sqlite" else url
    except InvalidInput as error:
        raise ValueError(error.problem) from None


def url_parameter(parameter: str, text: str) -> str | float:
    """A URL parameter's value as its setting holds it; ValueError if libpq would refuse it."""
    if parameter == "sslmode":
        if text not in SSL_MODES:
            raise ValueError(f"must be one of {', '.join(SSL_MODES)}")
        return text
    if parameter == "connect_timeout":
        try:
            seconds = float(text)
        except ValueError:
            raise ValueError("must be a number of seconds") from None
        if seconds <= 0:
            raise ValueError("must be more than zero seconds")
        return seconds
    return text


def url_parameters(url: str) -> dict[str, str]:
    """The URL's query parameters that a setting also holds (the last one, if repeated)."""
    query = make_url(url).query
    found = {}
    for parameter in URL_PARAMETERS:
        if parameter in query:
            raw = query[parameter]
            found[parameter] = raw[-1] if isinstance(raw, tuple) else raw
    return found


def take_url_parameters(settings: Any, variable: Callable[[str], str]) -> list[tuple[str, str]]:
    """Fill the settings a PostgreSQL URL's parameters correspond to; a parameter that
    contradicts its variable, or names a certificate file that is not there, is a problem
    (the variable, what is wrong) rather than one value silently winning."""
    problems = []
    for parameter, text in url_parameters(settings.database_url).items():
        field = URL_PARAMETERS[parameter]
        try:
            value = url_parameter(parameter, text)
        except ValueError as error:
            problems.append(("DATABASE_URL", f"{parameter}={text!r}: {error}"))
            continue
        if field not in settings.model_fields_set:
            setattr(settings, field, value)
        elif getattr(settings, field) != value:
            current = getattr(settings, field)
            message = f"is {current!r} but DATABASE_URL says {parameter}={text}; give it in one place"
            problems.append((variable(field), message))
    for field in ("db_ssl_root_cert", "db_ssl_cert", "db_ssl_key"):
        path = getattr(settings, field)
        if field in settings.model_fields_set and path is not None and not Path(path).expanduser().is_file():
            problems.append((variable(field), f"no such file: {path}"))
    return problems


def companion_problems(
    backend: str, replica_url: str | None, runtime_url: str | None
) -> list[tuple[str, str]]:
    """``DATABASE_REPLICA_URL`` and ``DATABASE_RUNTIME_URL`` go with a PostgreSQL
    ``DATABASE_URL`` only, and are PostgreSQL URLs themselves."""
    problems = []
    if replica_url is not None and backend != "postgresql":
        problems.append(("DATABASE_REPLICA_URL", "read replicas are for PostgreSQL; DATABASE_URL is not"))
    elif replica_url is not None and make_url(replica_url).get_backend_name() != "postgresql":
        problems.append(("DATABASE_REPLICA_URL", "must be a PostgreSQL URL, like DATABASE_URL"))
    if runtime_url is not None and (
        backend != "postgresql" or make_url(runtime_url).get_backend_name() != "postgresql"
    ):
        problems.append(
            ("DATABASE_RUNTIME_URL", "is for PostgreSQL: both it and DATABASE_URL must be PostgreSQL URLs")
        )
    return problems
