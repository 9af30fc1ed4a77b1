"""Readiness, and what the API answers when the database cannot be reached.

The outages themselves (a server stopped, backends terminated) are in
tests/postgres/test_outage.py; here: readiness on a healthy backend, readiness before the
app has started, and which driver errors count as "the database is unreachable".
"""

from __future__ import annotations

import httpx
import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tenantrag.entrypoints.http.app import create_app
from tenantrag.entrypoints.http.errors import database_unreachable
from tests.http.helpers import BASE_URL, make_container, make_settings


async def test_readiness_answers_200_while_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "database": "ok", "replica": None}


@pytest.mark.memory
async def test_readiness_is_503_with_retry_after_before_the_app_has_started() -> None:
    app = create_app(make_container(make_settings("memory://")))  # lifespan never entered
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get("/health/ready")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "1"
        assert response.json()["code"] == "not_ready"
        assert (await client.get("/health")).status_code == 200


def _wrapped(orig: BaseException, *, invalidated: bool = False) -> OperationalError:
    return OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.memory
def test_which_driver_errors_mean_the_database_is_unreachable() -> None:
    refused = psycopg.OperationalError("connection refused")  # libpq's own: no SQLSTATE
    assert database_unreachable(refused)
    assert database_unreachable(_wrapped(refused))
    assert database_unreachable(psycopg.errors.AdminShutdown("terminating connection"))
    assert database_unreachable(PoolTimeout("QueuePool limit reached"))
    assert database_unreachable(RuntimeError("wrapper")) is False
    caused = RuntimeError("the COPY failed")
    caused.__cause__ = psycopg.errors.AdminShutdown("terminating connection")
    assert database_unreachable(caused)
    # A statement's own fault is not an outage.
    assert not database_unreachable(psycopg.errors.UniqueViolation("duplicate key"))
    assert not database_unreachable(IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("dup")))
    assert not database_unreachable(psycopg.errors.QueryCanceled("statement timeout"))
