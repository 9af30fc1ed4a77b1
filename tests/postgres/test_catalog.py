"""What the database itself says about isolation: read from the catalogs, not from our code.

Tenant tables are found as every table with a ``tenant_id`` column, so a table
added later without row-level security fails here even if nobody lists it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.sql.schema import POSTGRES_TENANT_TABLES, TENANT_TABLES
from tests.postgres.conftest import ROLE

pytestmark = pytest.mark.postgres

# The tenant the transaction is bound to, as the signed binding gives it (revision c4e8b2d6f913).
CURRENT_TENANT = "tenantrag_claim('current_tenant_id'::text)"
# The only other policies allowed: the system's narrow paths (two look-ups, and a worker's
# claim of the next job, which may read and update jobs but neither insert nor delete).
NARROW_POLICIES = {
    ("memberships", "memberships_directory"): "SELECT",
    ("api_keys", "api_keys_directory"): "SELECT",
    ("invitations", "invitations_directory"): "SELECT",
    ("jobs", "jobs_queue_select"): "SELECT",
    ("jobs", "jobs_queue_update"): "UPDATE",
    # Accounts: system work only (a tenant's transaction sees no user, and its own tenant row).
    ("users", "system_access"): "ALL",
    ("tenants", "system_access"): "ALL",
}
# Bulk ingest's staging table has a tenant_id but no row-level security (COPY FROM refuses
# it): its rows never outlive the transaction that writes them (adapters/postgres/bulk.py).
STAGING = "tenantrag_chunk_staging"


async def rows(engine: AsyncEngine, sql: str) -> list[tuple[object, ...]]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def test_every_table_with_a_tenant_id_forces_row_level_security_with_both_clauses(
    raw: AsyncEngine,
) -> None:
    tables = await rows(
        raw,
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped"
        " WHERE c.relkind IN ('r', 'p') AND c.relnamespace = to_regnamespace(current_schema())"
        f" AND c.relname <> '{STAGING}'",
    )
    assert {name for name, *_ in tables} == {table.name for table in TENANT_TABLES} | set(
        POSTGRES_TENANT_TABLES
    )
    assert all(enabled and forced for _name, enabled, forced in tables), tables
    policies = await rows(
        raw,
        "SELECT tablename, policyname, cmd, permissive, qual, with_check FROM pg_policies"
        " WHERE schemaname = current_schema()",
    )
    isolation = {row[0]: row for row in policies if row[1] == "tenant_isolation"}
    for name, *_ in tables:
        _table, _policy, cmd, permissive, using, check = isolation[name]
        assert (cmd, permissive) == ("ALL", "PERMISSIVE")
        for clause in (using, check):
            assert "tenant_id =" in str(clause), clause
            assert CURRENT_TENANT in str(clause), clause
    assert "id = ( SELECT" in str(isolation["tenants"][4])
    assert CURRENT_TENANT in str(isolation["tenants"][4])
    others = {(row[0], row[1]): row for row in policies if row[1] != "tenant_isolation"}
    assert {key: row[2] for key, row in others.items()} == NARROW_POLICIES


async def test_the_runtime_role_cannot_bypass_isolation_and_logs_in_as_itself(raw: AsyncEngine) -> None:
    [(superuser, bypass, login, inherit)] = await rows(
        raw, f"SELECT rolsuper, rolbypassrls, rolcanlogin, rolinherit FROM pg_roles WHERE rolname = '{ROLE}'"
    )
    # It logs in: the service connects as it, so nothing on its connections can RESET ROLE
    # to a superuser or an owner.
    assert (superuser, bypass, login, inherit) == (False, False, True, False)


async def test_the_runtime_role_holds_no_ddl_rights_and_no_truncate(raw: AsyncEngine) -> None:
    privileges = await rows(
        raw,
        f"SELECT c.relname, p.privilege, has_table_privilege('{ROLE}', c.oid, p.privilege) FROM pg_class c"
        " CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',"
        " 'TRIGGER']) AS p(privilege)"
        " WHERE c.relkind = 'r' AND c.relnamespace = to_regnamespace(current_schema())",
    )
    granted = {(table, privilege) for table, privilege, has in privileges if has}
    assert {privilege for _table, privilege in granted} == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert "alembic_version" not in {table for table, _ in granted}
    assert "tenantrag_binding_key" not in {table for table, _ in granted}
    assert {privilege for table, privilege in granted if table == STAGING} == {"SELECT", "INSERT", "DELETE"}
    [(create_in_schema, owns_anything)] = await rows(
        raw,
        f"SELECT has_schema_privilege('{ROLE}', current_schema(), 'CREATE'),"
        f" EXISTS (SELECT 1 FROM pg_class WHERE relowner = to_regrole('{ROLE}'))",
    )
    assert (create_in_schema, owns_anything) == (False, False)
