"""SQL injected into a tenant's transaction, as the service runs it: what it cannot do.

The database is initialised with a superuser DATABASE_URL, as the seed documents do. Each
attack runs on a unit of work's own connection (``injected``: tenant A bound the project's
way, on the runtime engine), so it has exactly what one injectable query would have. Each
fails on a leak, an escalation or an escape (issue 17, items 1 and 7).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tenantrag.adapters.postgres import PostgresOptions, PostgresUnitOfWorkFactory, open_postgres
from tenantrag.adapters.postgres.factory import DeploymentError
from tenantrag.adapters.sql.schema import TENANT_TABLES
from tests.contract.factories import DIMENSION
from tests.postgres.conftest import ROLE, World

pytestmark = pytest.mark.postgres

TABLES = [table.name for table in TENANT_TABLES]


@pytest.fixture
async def injected(factory: PostgresUnitOfWorkFactory, world: World) -> AsyncIterator[AsyncConnection]:
    async with factory.tenant(world.a.seeded.tenant.id) as uow:
        yield uow._session.connection()  # rolled back when the test ends


async def scalar(connection: AsyncConnection, sql: str, **params: object) -> Any:
    return (await connection.execute(text(sql), params)).scalar()


async def refused(connection: AsyncConnection, sql: str, **params: object) -> str:
    """Run ``sql`` in a savepoint and return the database's refusal (fails if it succeeds)."""
    with pytest.raises(DBAPIError) as caught:
        async with connection.begin_nested():
            await connection.execute(text(sql), params)
    return str(caught.value.orig)


async def seen_of_b(connection: AsyncConnection, world: World) -> dict[str, int]:
    b = world.b.seeded.tenant.id
    counts = {
        t: await scalar(connection, f"SELECT count(*) FROM {t} WHERE tenant_id = :b", b=b) for t in TABLES
    }
    counts["tenants"] = await scalar(connection, "SELECT count(*) FROM tenants WHERE id = :b", b=b)
    counts["users"] = await scalar(connection, "SELECT count(*) FROM users")
    return {name: count for name, count in counts.items() if count}


async def test_the_service_logs_in_as_the_runtime_role_and_cannot_become_anyone_else(
    injected: AsyncConnection,
) -> None:
    assert await scalar(injected, "SELECT session_user") == ROLE
    assert not await scalar(
        injected, "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = session_user"
    )
    await injected.execute(text("RESET ROLE"))
    assert await scalar(injected, "SELECT current_user") == ROLE
    superuser = await scalar(injected, "SELECT rolname FROM pg_roles WHERE rolsuper LIMIT 1")
    assert "permission denied" in await refused(injected, f'SET ROLE "{superuser}"')
    assert "permission denied" in await refused(injected, f'SET SESSION AUTHORIZATION "{superuser}"')


async def test_accounts_are_out_of_reach(injected: AsyncConnection, raw: AsyncEngine, world: World) -> None:
    assert await scalar(injected, "SELECT count(*) FROM users") == 0
    assert await scalar(injected, "SELECT count(*) FROM users WHERE email LIKE '%'") == 0
    escalated = await injected.execute(text("UPDATE users SET is_superuser = true, password_hash = 'x'"))
    assert escalated.rowcount == 0
    assert (await injected.execute(text("DELETE FROM users"))).rowcount == 0
    assert "row-level security" in await refused(
        injected,
        "INSERT INTO users (id, email, full_name, password_hash, is_superuser, is_active,"
        " created_at, updated_at)"
        " VALUES (gen_random_uuid(), 'evil@example.com', 'e', 'x', true, true, now(), now())",
    )
    async with raw.connect() as connection:
        assert (
            await scalar(connection, "SELECT count(*) FROM users WHERE is_superuser OR password_hash = 'x'")
            == 0
        )


async def test_other_tenants_cannot_be_seen_renamed_or_deleted(
    injected: AsyncConnection, world: World
) -> None:
    a, b = world.a.seeded.tenant.id, world.b.seeded.tenant.id
    assert list((await injected.execute(text("SELECT id FROM tenants"))).scalars()) == [a]
    assert (
        await injected.execute(text("UPDATE tenants SET name = 'owned' WHERE id = :b"), {"b": b})
    ).rowcount == 0
    assert (await injected.execute(text("DELETE FROM tenants WHERE id <> :a"), {"a": a})).rowcount == 0
    assert "row-level security" in await refused(
        injected, "UPDATE tenants SET id = :b WHERE id = :a", a=a, b=b
    )


@pytest.mark.parametrize("local", [True, False])
async def test_set_config_rebinding_gains_nothing(
    injected: AsyncConnection, world: World, local: bool
) -> None:
    b = world.b
    prefix = await scalar(injected, "SELECT prefix FROM api_keys LIMIT 1")
    forged = {
        "app.current_tenant_id": str(b.seeded.tenant.id),
        "app.system": "on",
        "app.job_queue": "on",
        "app.directory_user_id": str(b.seeded.owner.id),
        "app.directory_api_key_prefix": prefix,
        "app.directory_invitee_email": "invitee@example.com",
    }
    for name, value in forged.items():
        # Plain, and in the stored form (value|mac, then f: checked against the claim's sequence,
        # s: against the HMAC).
        for attempt in (value, f"{value}|{'0' * 64}f", f"{value}|{'0' * 64}s"):
            refusal, seen = "", {}
            try:
                async with injected.begin_nested():
                    await injected.execute(
                        text("SELECT set_config(:n, :v, :l)"), {"n": name, "v": attempt, "l": local}
                    )
                    seen = await seen_of_b(injected, world)
            except DBAPIError as error:
                refusal = str(error.orig)
            # Nothing seen, or refused: a forged fast claim where no check ran in the session.
            assert seen == {}, (name, attempt)
            assert refusal == "" or "is not yet defined in this session" in refusal, refusal
    # Re-binding through the definer function needs the key.
    refusal = await refused(
        injected,
        "SELECT tenantrag_bind(ARRAY['current_tenant_id'], ARRAY[:b], ARRAY[:t])",
        b=str(b.seeded.tenant.id),
        t="0" * 64,
    )
    assert "not signed" in refusal
    # The key, and the function that signs with it, are the owner's.
    assert "permission denied" in await refused(injected, "SELECT * FROM tenantrag_binding_key")
    assert "permission denied" in await refused(injected, "SELECT tenantrag_sign('current_tenant_id=x')")
    # Nor can it set what the fast check compares with.
    for sql in (
        "SELECT setval('tenantrag_claim_current_tenant_id', 1)",
        "SELECT nextval('tenantrag_claim_system')",
    ):
        assert "permission denied" in await refused(injected, sql), sql


async def test_a_forged_session_setting_does_not_reach_the_next_units_of_work(
    factory: PostgresUnitOfWorkFactory, world: World
) -> None:
    """Every unit of work clears the claims it does not bind, so a session-level value that
    injected SQL left on a pooled connection neither admits rows nor breaks later work."""
    engine = factory.runtime_engine
    async with engine.connect() as connection:
        await connection.execute(
            text("SELECT set_config('app.job_queue', :v, false)"), {"v": f"on|{'0' * 64}f"}
        )
        await connection.commit()
        await connection.begin()
        await factory.dialect.begin(connection, world.b.seeded.tenant.id)
        assert await scalar(connection, "SELECT count(*) FROM jobs") == 1  # B's own job only
        assert await scalar(connection, "SELECT tenantrag_claim('job_queue')") is None
        await connection.rollback()


async def test_a_binding_copied_into_the_session_is_worthless_in_the_next_transaction(
    factory: PostgresUnitOfWorkFactory, raw: AsyncEngine, world: World
) -> None:
    async with raw.connect() as connection:
        await connection.begin()
        await factory.dialect.begin(connection, world.a.seeded.tenant.id)
        bound = await scalar(connection, "SELECT current_setting('app.current_tenant_id')")
        assert await scalar(connection, "SELECT count(*) FROM documents") == 1
        await connection.execute(text("SELECT set_config('app.current_tenant_id', :v, false)"), {"v": bound})
        await connection.commit()
        await connection.begin()  # the runtime role, nothing bound: the copy is still there
        await connection.execute(text("SELECT set_config('role', :role, true)"), {"role": ROLE})
        assert await scalar(connection, "SELECT current_setting('app.current_tenant_id')") == bound
        assert await scalar(connection, "SELECT tenantrag_claim('current_tenant_id')") is None
        assert await scalar(connection, "SELECT count(*) FROM documents") == 0
        await connection.rollback()
        await connection.begin()
        await factory.dialect.begin(connection, None)  # system work clears it
        assert await scalar(connection, "SELECT current_setting('app.current_tenant_id')") == ""
        assert await scalar(connection, "SELECT count(*) FROM documents") == 0
        await connection.rollback()


async def test_no_program_server_file_temporary_table_or_large_object(
    injected: AsyncConnection, raw: AsyncEngine
) -> None:
    assert "pg_execute_server_program" in await refused(injected, "COPY (SELECT 1) TO PROGRAM 'id'")
    assert "permission denied" in await refused(injected, "SELECT pg_read_file('/etc/hostname')")
    assert "permission denied" in await refused(injected, "CREATE TEMPORARY TABLE documents (id uuid)")
    assert "permission denied" in await refused(injected, "CREATE TABLE public.documents_copy (id uuid)")
    async with raw.connect() as connection:  # a large object someone else made
        oid = await scalar(connection, "SELECT lo_from_bytea(0, 'secret')")
        await connection.commit()
    for sql in ("SELECT lo_from_bytea(0, 'x')", "SELECT lo_create(0)", f"SELECT lo_get({oid})"):
        assert "permission denied" in await refused(injected, sql), sql


async def test_pg_stats_do_not_show_the_users_table(injected: AsyncConnection, raw: AsyncEngine) -> None:
    async with raw.connect() as connection:
        await connection.execute(text("ANALYZE users"))
        await connection.commit()
        assert await scalar(connection, "SELECT count(*) FROM pg_stats WHERE tablename = 'users'") > 0
    assert (
        await scalar(injected, "SELECT count(*) FROM pg_stats WHERE tablename IN ('users', 'tenants')") == 0
    )


async def test_a_session_search_path_cannot_reorder_the_next_transactions(
    factory: PostgresUnitOfWorkFactory, raw: AsyncEngine, world: World
) -> None:
    async with raw.connect() as connection:
        await connection.execute(text("SELECT set_config('search_path', 'pg_temp, public', false)"))
        await connection.commit()
        await connection.begin()
        await factory.dialect.begin(connection, world.a.seeded.tenant.id)
        assert await scalar(connection, "SELECT current_setting('search_path')") == '"public", pg_temp'
        await connection.rollback()


async def test_every_policy_reads_a_signed_binding(raw: AsyncEngine) -> None:
    async with raw.connect() as connection:
        policies = (
            await connection.execute(
                text(
                    "SELECT tablename, policyname, coalesce(qual, '') || coalesce(with_check, '')"
                    " FROM pg_policies WHERE schemaname = current_schema()"
                )
            )
        ).all()
        forced = await scalar(
            connection,
            "SELECT bool_and(relrowsecurity AND relforcerowsecurity) FROM pg_class"
            " WHERE oid IN ('users'::regclass, 'tenants'::regclass)",
        )
    assert forced
    assert {table for table, _, _ in policies} >= {*TABLES, "users", "tenants"}
    unsigned = [(table, name) for table, name, condition in policies if "tenantrag_claim" not in condition]
    assert unsigned == []


async def test_a_runtime_login_that_could_reset_to_a_superuser_is_refused(url: str) -> None:
    with pytest.raises(DeploymentError, match="RESET ROLE"):
        await open_postgres(url, DIMENSION, migrate=False, options=PostgresOptions(runtime_url=url))
