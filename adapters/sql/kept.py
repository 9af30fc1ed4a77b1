"""What outlives a downgrade: ``tenantrag_kept``, a small name -> JSON table outside the schema.

Downgrading below a revision drops what it created, but two facts must survive it:

- the embedder record (``embedding_models``): revision 9a4f6e2c1b37's downgrade keeps its rows
  here and its upgrade puts them back, so ``db downgrade base`` then ``db upgrade`` still
  knows which embedder made the vectors (the chunks are gone at base, but a downgrade to a
  revision that keeps them, and back, must not let another embedder write beside them);
- the downgrade pin (``DOWNGRADE_PIN``): ``tenantrag db downgrade`` records where it went, and
  the commands' automatic migration (development) refuses to undo it silently; an explicit
  ``db upgrade`` or ``init`` clears it.

The table is created on first use and dropped when it holds nothing. It is not in
``schema.metadata``: no revision creates it, ``alembic check`` leaves it out (env.py), the
runtime role has no grants on it, and ``tenantrag reset`` drops it with everything else.
Functions take a synchronous connection (migrations, ``run_sync``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, Text, delete, func, insert, inspect, select
from sqlalchemy.engine import Connection

TABLE = "tenantrag_kept"
#: The revision ``tenantrag db downgrade`` went to, on purpose.
DOWNGRADE_PIN = "downgrade_pin"
#: The ``embedding_models`` rows, while the revision that holds them is downgraded.
EMBEDDING_MODELS = "embedding_models"

kept = Table(
    TABLE,
    MetaData(),
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)


def exists(connection: Connection) -> bool:
    return inspect(connection).has_table(TABLE)


def keep(connection: Connection, name: str, value: Any) -> None:
    """Store ``value`` (JSON) under ``name``, replacing what was there."""
    kept.create(connection, checkfirst=True)
    connection.execute(delete(kept).where(kept.c.name == name))
    connection.execute(insert(kept).values(name=name, value=json.dumps(value, sort_keys=True)))


def read(connection: Connection, name: str) -> Any:
    """The value kept under ``name``, or None."""
    if not exists(connection):
        return None
    found = connection.execute(select(kept.c.value).where(kept.c.name == name)).scalar_one_or_none()
    return None if found is None else json.loads(found)


def forget(connection: Connection, name: str) -> None:
    """Remove ``name``; the table goes when it is empty."""
    if not exists(connection):
        return
    connection.execute(delete(kept).where(kept.c.name == name))
    if connection.execute(select(func.count()).select_from(kept)).scalar_one() == 0:
        kept.drop(connection)


def drop(connection: Connection) -> None:
    """Forget everything (``tenantrag reset``)."""
    kept.drop(connection, checkfirst=True)
