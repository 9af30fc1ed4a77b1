"""The runtime role: created and granted exactly what tenant transactions need.

Row-level security does not apply to superusers or to roles with BYPASSRLS, and
people connect as ``postgres``. So every unit of work switches to a dedicated
role for its transaction (``SET LOCAL ROLE``, see dialect.py). That role:

- cannot log in (NOLOGIN), is neither SUPERUSER nor BYPASSRLS, inherits nothing;
- may SELECT, INSERT, UPDATE and DELETE tenantrag's tables and nothing else: no
  TRUNCATE (it ignores row-level security), no DDL, no REFERENCES or TRIGGER;
- may create TEMPORARY tables (bulk ingest stages rows in one);
- is granted to the connecting user, who must be able to ``SET ROLE`` to it.

``provision`` does all that idempotently, as the schema's owner, after the
migrations (``tenantrag init`` and ``open_postgres(migrate=True)`` call it). When
the connecting user may not create roles, ``ProvisioningError`` says what a
superuser has to run instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.adapters.sql import schema
from tenantrag.domain.errors import TenantRagError

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")


class ProvisioningError(TenantRagError):
    code = "provisioning_failed"


def statements(role: str, *, login_user: str, schema_name: str, database: str) -> list[str]:
    """The SQL that provisions ``role`` (the names were validated as plain identifiers)."""
    tables = ", ".join(f'"{schema_name}"."{table.name}"' for table in schema.metadata.sorted_tables)
    return [
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT NOCREATEDB NOCREATEROLE;
            END IF;
        END $$""",
        f'ALTER ROLE "{role}" NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT NOCREATEDB NOCREATEROLE',
        f'GRANT "{role}" TO "{login_user}"',
        f'GRANT USAGE ON SCHEMA "{schema_name}" TO "{role}"',
        f'GRANT TEMPORARY ON DATABASE "{database}" TO "{role}"',
        f'REVOKE ALL ON {tables} FROM "{role}"',
        f'GRANT {", ".join(TABLE_PRIVILEGES)} ON {tables} TO "{role}"',
    ]


async def provision_role(connection: AsyncConnection, role: str) -> None:
    """Create or repair ``role`` and its grants, on ``connection`` (committed by the caller)."""
    who = (
        await connection.execute(
            text(
                "SELECT current_user, current_schema(), current_database(), rolsuper, rolcreaterole"
                " FROM pg_catalog.pg_roles WHERE rolname = current_user"
            )
        )
    ).one()
    login_user, schema_name, database, is_superuser, can_create_roles = who
    sql = statements(role, login_user=login_user, schema_name=schema_name, database=database)
    if not await _role_is_usable(connection, role, login_user) and not (is_superuser or can_create_roles):
        raise _advice(role, sql, f"{login_user} may not create or grant roles")
    try:
        for statement in sql:
            if is_superuser and statement.startswith('GRANT "' + role + '" TO'):
                continue  # a superuser may SET ROLE to any role already
            await connection.execute(text(statement))
    except DBAPIError as error:
        raise _advice(role, sql, str(error.orig).splitlines()[0]) from error


async def _role_is_usable(connection: AsyncConnection, role: str, login_user: str) -> bool:
    found = await connection.execute(
        text(
            "SELECT pg_has_role(:user, oid, 'MEMBER') FROM pg_catalog.pg_roles"
            " WHERE rolname = :role AND NOT rolsuper AND NOT rolbypassrls"
        ),
        {"user": login_user, "role": role},
    )
    return bool(found.scalar())


def _advice(role: str, sql: list[str], reason: str) -> ProvisioningError:
    script = ";\n".join(sql) + ";"
    return ProvisioningError(
        f"cannot provision the runtime role {role!r}: {reason}. Ask a superuser to run, in this"
        f" database:\n{script}",
        details={"role": role, "sql": script},
    )


async def check_role(connection: AsyncConnection, role: str) -> dict[str, Any]:
    """What is wrong with ``role`` for the connecting user, if anything (empty when nothing)."""
    row = (
        await connection.execute(
            text(
                "SELECT rolsuper, rolbypassrls, pg_has_role(current_user, oid, 'MEMBER')"
                " FROM pg_catalog.pg_roles WHERE rolname = :role"
            ),
            {"role": role},
        )
    ).first()
    if row is None:
        return {"missing": True}
    problems: dict[str, Any] = {}
    if row[0] or row[1]:
        problems["bypasses_row_level_security"] = True
    if not row[2]:
        problems["not_granted"] = True
    return problems
