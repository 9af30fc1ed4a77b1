"""Opening the PostgreSQL backend: options, connections, provisioning and the checks on open."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tenantrag.adapters.postgres import (
    DeploymentError,
    PostgresOptions,
    PostgresUnitOfWorkFactory,
    ProvisioningError,
    create_postgres_engine,
    open_postgres,
    postgres_url,
)
from tenantrag.adapters.postgres.engine import connect_args, ping_when_idle
from tenantrag.adapters.postgres.provision import provision_role
from tenantrag.adapters.sql.migrations import create_migration_engine, head
from tenantrag.domain.errors import InvalidInput, Unavailable
from tests.contract.factories import DIMENSION, seed_tenant
from tests.postgres.conftest import ROLE
from tests.postgres_server import Databases

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"pool_size": 0}, "pool_size"),
        ({"max_overflow": -1}, "max_overflow"),
        ({"pool_timeout": "soon"}, "pool_timeout"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"command_timeout": -5}, "command_timeout"),
        ({"ssl_mode": "sometimes"}, "ssl_mode"),
        ({"runtime_role": "App-Role"}, "runtime_role"),
        ({"runtime_role": "x; DROP TABLE chunks"}, "runtime_role"),
        ({"hnsw_m": 16, "hnsw_ef_construction": 20}, "hnsw_ef_construction"),
        ({"distance": "manhattan"}, "distance"),
    ],
)
def test_a_bad_option_is_refused_with_its_name(options: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PostgresOptions(**options)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_options_reach_libpq_and_psycopg() -> None:
    args = connect_args(
        PostgresOptions(
            ssl_mode="verify-full",
            ssl_root_cert="/etc/ca.pem",
            ssl_cert="/etc/c.pem",
            ssl_key="/etc/k.pem",
            connect_timeout=2.5,
            application_name="indexer",
            prepared_statements=False,
        )
    )
    assert args["sslmode"] == "verify-full"
    assert (args["sslrootcert"], args["sslcert"], args["sslkey"]) == (
        "/etc/ca.pem",
        "/etc/c.pem",
        "/etc/k.pem",
    )
    assert (args["connect_timeout"], args["application_name"]) == (2, "indexer")
    assert args["prepare_threshold"] is None
    # Unset SSL options are left out, so the URL's ?sslmode=... still decides.
    assert "sslmode" not in connect_args(PostgresOptions())


@pytest.mark.parametrize(
    "url", ["postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db", "postgresql+psycopg://u:p@h/db"]
)
def test_every_postgres_url_form_runs_on_psycopg(url: str) -> None:
    assert postgres_url(url) == "postgresql+psycopg://u:p@h/db"


def test_a_sqlite_url_is_not_a_postgres_url() -> None:
    with pytest.raises(InvalidInput, match="not a PostgreSQL URL"):
        postgres_url("sqlite:///x.db")


async def test_query_string_options_in_the_url_keep_working(url: str) -> None:
    engine = create_postgres_engine(f"{url}&sslmode=disable&connect_timeout=3&options=-c%20work_mem%3D8MB")
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SHOW work_mem")) == "8MB"
            assert await connection.scalar(text("SHOW application_name")) == "tenantrag"
    finally:
        await engine.dispose()


async def test_prepared_statements_can_be_switched_off_for_pgbouncer(url: str) -> None:
    counts = {}
    for prepared in (True, False):
        engine = create_postgres_engine(url, PostgresOptions(prepared_statements=prepared, pool_size=1))
        try:
            async with engine.connect() as connection:
                for _ in range(8):
                    await connection.execute(text("SELECT count(*) FROM tenants WHERE slug = :s"), {"s": "x"})
                counts[prepared] = await connection.scalar(
                    text("SELECT count(*) FROM pg_prepared_statements")
                )
        finally:
            await engine.dispose()
    assert counts[True] >= 1
    assert counts[False] == 0


async def test_the_command_timeout_ends_a_slow_unit_of_work(url: str) -> None:
    factory = await open_postgres(url, DIMENSION, migrate=False, options=PostgresOptions(command_timeout=0.2))
    try:
        seeded = await seed_tenant(factory)
        async with factory.tenant(seeded.tenant.id) as uow:
            with pytest.raises(Unavailable, match="did not finish in time"):
                await uow._session.read(text("SELECT pg_sleep(2)"))
            with pytest.raises(RuntimeError):  # ended, as on a lock timeout
                await uow.documents.get(seeded.tenant.id)
    finally:
        await factory.dispose()


async def test_health_reports_versions_revision_and_pool(factory: PostgresUnitOfWorkFactory) -> None:
    report = (await factory.health()).as_dict()
    assert report["backend"] == "postgresql"
    assert report["server_version"].split(".")[0] == "18"
    assert report["pgvector_version"] == "0.8.5"
    assert report["migration_revision"] == head()
    assert report["latency_ms"] >= 0
    assert set(report["pool"]) == {"size", "checked_out", "checked_in", "overflow"}


async def test_an_empty_database_is_refused_until_initialised_and_init_is_idempotent(
    postgres_databases: Databases,
) -> None:
    url = postgres_databases.create(prefix="tenantrag_empty")
    try:
        with pytest.raises(DeploymentError, match="tenantrag init"):
            await open_postgres(url, DIMENSION, migrate=False)
        for _ in range(2):  # provisioning twice changes nothing
            factory = await open_postgres(url, DIMENSION)
            await seed_tenant(factory)
            await factory.dispose()
    finally:
        postgres_databases.drop(url)


async def test_a_store_of_another_dimension_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput, match=r"vector\(8\)") as caught:
        await open_postgres(url, DIMENSION * 2, migrate=False)
    assert caught.value.field == "dimension"


async def test_a_runtime_role_that_bypasses_row_level_security_is_refused(url: str) -> None:
    admin = create_migration_engine(url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(f'ALTER ROLE "{ROLE}" BYPASSRLS'))
        with pytest.raises(ProvisioningError, match="BYPASSRLS"):
            await open_postgres(url, DIMENSION, migrate=False)
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'ALTER ROLE "{ROLE}" NOBYPASSRLS'))
        await admin.dispose()


async def test_a_missing_runtime_role_is_refused_with_what_to_run(url: str) -> None:
    with pytest.raises(ProvisioningError, match=r"does not exist.*tenantrag init"):
        await open_postgres(
            url, DIMENSION, migrate=False, options=PostgresOptions(runtime_role="nobody_here")
        )


async def test_a_user_who_may_not_create_roles_is_told_what_a_superuser_must_run(url: str) -> None:
    admin = create_migration_engine(url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text("DROP ROLE IF EXISTS tenantrag_limited"))
            await connection.execute(text("CREATE ROLE tenantrag_limited LOGIN PASSWORD 'limited'"))
        limited_url = make_url(url).set(username="tenantrag_limited", password="limited")
        limited = create_migration_engine(limited_url.render_as_string(hide_password=False))
        try:
            async with limited.begin() as connection:
                with pytest.raises(ProvisioningError) as caught:
                    await provision_role(connection, "tenantrag_other")
        finally:
            await limited.dispose()
        assert "may not create or grant roles" in caught.value.message
        assert 'CREATE ROLE "tenantrag_other" LOGIN NOSUPERUSER NOBYPASSRLS' in caught.value.details["sql"]
        assert 'GRANT "tenantrag_other" TO "tenantrag_limited"' in caught.value.details["sql"]
    finally:
        async with admin.begin() as connection:
            await connection.execute(text("DROP ROLE IF EXISTS tenantrag_limited"))
        await admin.dispose()


async def test_a_pooled_connection_that_died_while_idle_is_replaced_unseen(url: str) -> None:
    """Pre-ping checks a connection that sat idle (here over 0.05 s) and replaces a dead one
    (unchecked, the pool's one connection would fail the statement)."""
    engine = create_postgres_engine(url, PostgresOptions(pool_size=1, max_overflow=0))
    ping_when_idle(engine, idle=0.05)  # on top of the default 1 s listener: the shorter one decides
    try:
        async with engine.connect() as connection:
            first = await connection.scalar(text("SELECT pg_backend_pid()"))
        async with engine.connect() as connection:  # handed back a moment ago: the same one
            assert await connection.scalar(text("SELECT pg_backend_pid()")) == first
        killer = create_migration_engine(url)
        try:
            async with killer.connect() as connection:
                await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        finally:
            await killer.dispose()
        await asyncio.sleep(0.2)
        async with engine.connect() as connection:  # idle, pinged, found dead, replaced
            replaced = await connection.scalar(text("SELECT pg_backend_pid()"))
        assert replaced != first
    finally:
        await engine.dispose()
