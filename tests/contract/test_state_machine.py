"""Random sequences of use cases, on SQLite and PostgreSQL, held to a plain model.

The machine (state_machine.py) runs each step on the model (use_case_model.py) and on
the backends, and checks every outcome and, after every step, the observable state. It
runs twice: on SQLite alone (``-m sqlite``), and on SQLite and PostgreSQL side by side
(``-m postgres``), where the two backends are also compared with each other on what the
model leaves out (chunks, search hits, full documents and jobs).

Each example gets a new in-memory SQLite database (a copy of a migrated template, well
under a millisecond). PostgreSQL keeps one database for the whole test, emptied at the
start of each example by deleting the tenants, users and embedding models as the
database's owner (every other row cascades from those): a few milliseconds, where a
new database copied from the template costs about 160 ms per example on this machine.

``STATE_MACHINE_EXAMPLES`` and ``STATE_MACHINE_STEPS`` override the budget (for a quick
run while developing); the default is 200 examples of 18 steps (6 of them the seeding) per backend.
When the paired run is selected too (the whole suite, as CI runs it), SQLite already gets its
200 examples there, so the SQLite-alone run takes a quarter of them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from sqlalchemy import text

from tests.contract.state_harness import DIMENSION, Stores
from tests.contract.state_machine import UseCaseMachine
from tests.postgres_server import admin_engine

EXAMPLES = int(os.environ.get("STATE_MACHINE_EXAMPLES", "200"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    stateful_step_count=int(os.environ.get("STATE_MACHINE_STEPS", "18")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class SqliteMachine(UseCaseMachine):
    backends = ("sqlite",)


class SqliteAndPostgresMachine(UseCaseMachine):
    backends = ("sqlite", "postgres")


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


@pytest.mark.sqlite
def test_sqlite_agrees_with_the_model(
    loop: asyncio.AbstractEventLoop, request: pytest.FixtureRequest
) -> None:
    paired_run = test_sqlite_and_postgres_agree_with_the_model_and_each_other.__name__
    paired = any(item.name == paired_run for item in request.session.items)
    SqliteMachine.stores = Stores(loop)
    budget = settings(SETTINGS, max_examples=max(1, EXAMPLES // 4)) if paired else SETTINGS
    run_state_machine_as_test(SqliteMachine, settings=budget)


@pytest.mark.postgres
def test_sqlite_and_postgres_agree_with_the_model_and_each_other(
    loop: asyncio.AbstractEventLoop, postgres_database: Callable[[int], str]
) -> None:
    from tenantrag.adapters.postgres import open_postgres

    url = postgres_database(DIMENSION)
    postgres = loop.run_until_complete(open_postgres(url, DIMENSION, migrate=False))
    owner = admin_engine(url)

    def reset() -> None:
        with owner.begin() as connection:
            connection.execute(text("DELETE FROM tenants; DELETE FROM users; DELETE FROM embedding_models"))

    try:
        SqliteAndPostgresMachine.stores = Stores(loop, postgres, reset)
        run_state_machine_as_test(SqliteAndPostgresMachine, settings=SETTINGS)
    finally:
        owner.dispose()
        loop.run_until_complete(postgres.dispose())
