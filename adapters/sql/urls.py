"""Database URLs: where the URL comes from, and the async driver each backend is used with.

tenantrag talks to its databases through SQLAlchemy's asyncio extension, so a URL must name
an async driver. People write the URLs their tools print (``sqlite:///app.db``,
``postgres://user@host/db`` from a hosting provider), so the bare forms are mapped to the
project's drivers; a driver given explicitly is kept if it is async, and refused if not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from tenantrag.domain.errors import InvalidInput

#: Where the database is when nothing says otherwise: a file in the working directory.
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./tenantrag.db"

#: The environment variable that names the database.
DATABASE_URL_ENV = "DATABASE_URL"

# Backend -> (the driver tenantrag uses, the drivers whose URLs are accepted and mapped to it).
# asyncpg URLs (what other projects' settings hold) are accepted and run on psycopg: the
# PostgreSQL backend depends on psycopg's COPY and pgvector's psycopg types.
_DRIVERS: dict[str, tuple[str, frozenset[str]]] = {
    "sqlite": ("aiosqlite", frozenset({"aiosqlite"})),
    "postgresql": ("psycopg", frozenset({"psycopg", "psycopg_async", "asyncpg"})),
}
_BACKEND_ALIASES = {"postgres": "postgresql"}


def normalize_database_url(url: str, *, field: str = "database_url") -> str:
    """The URL with the async driver tenantrag uses for its backend.

    ``sqlite:///x`` becomes ``sqlite+aiosqlite:///x``; ``postgresql://...`` and
    ``postgres://...`` (and ``postgresql+asyncpg://...``) become ``postgresql+psycopg://...``.
    Everything after the scheme is kept exactly as written (percent-escapes in passwords
    included).

    Raises ``InvalidInput`` naming ``field`` if the URL cannot be parsed, names a database
    other than SQLite or PostgreSQL, or names a driver that is not async.
    """
    text = url.strip()
    scheme, separator, rest = text.partition("://")
    if not scheme or not separator:
        raise InvalidInput(
            field, f"{_shown(url)} is not a database URL (expected e.g. sqlite:///tenantrag.db)"
        )

    backend, _, driver = scheme.lower().partition("+")
    backend = _BACKEND_ALIASES.get(backend, backend)
    if backend not in _DRIVERS:
        supported = ", ".join(sorted(_DRIVERS))
        raise InvalidInput(
            field, f"unsupported database {backend!r} in {_shown(text)}; use one of: {supported}"
        )

    default_driver, async_drivers = _DRIVERS[backend]
    if driver and driver not in async_drivers:
        accepted = ", ".join(f"{backend}+{d}" for d in sorted(async_drivers))
        raise InvalidInput(
            field,
            f"driver {driver!r} is not an async driver for {backend}; use {accepted} or plain {backend}://",
        )
    driver = default_driver

    normalized = f"{backend}+{driver}://{rest}"
    try:
        make_url(normalized)
    except (ArgumentError, ValueError) as error:
        raise InvalidInput(field, f"{_shown(text)} is not a valid database URL: {error}") from error
    return normalized


def resolve_database_url(
    configured: str | None = None, environ: Mapping[str, str] | None = None, *, field: str = "database_url"
) -> str:
    """The URL to use, normalised: ``configured`` if given, else ``$DATABASE_URL``, else the default.

    Empty strings count as not given, so ``DATABASE_URL=`` falls back to the default.
    """
    env = os.environ if environ is None else environ
    chosen = configured or env.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL
    return normalize_database_url(chosen, field=field)


def redact(url: str | URL) -> str:
    """The URL with its password hidden, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparsable URL>"


def _shown(url: str) -> str:
    if "://" in url and "@" in url:
        return repr(redact(url))
    return repr(url)
