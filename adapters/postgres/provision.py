"""The runtime role: created and granted exactly what tenant transactions need.

Row-level security does not apply to superusers or to roles with BYPASSRLS, and
people connect as ``postgres``. So the service's units of work run as a dedicated
role (see factory.py and dialect.py). That role:

- logs in (LOGIN) with a password derived from the isolation key (binding.py), so
  ``open_postgres`` connects as it with nothing configured but DATABASE_URL, and SQL on
  its connections has nobody to ``RESET ROLE`` back to; it is neither SUPERUSER nor
  BYPASSRLS, owns nothing and inherits nothing;
- may SELECT, INSERT, UPDATE and DELETE tenantrag's tables and nothing else: no
  TRUNCATE (it ignores row-level security), no DDL, no REFERENCES or TRIGGER; only
  SELECT and INSERT on the audit log (``schema.APPEND_ONLY``); on bulk
  ingest's staging table SELECT, INSERT and DELETE; nothing on the isolation key;
- has no TEMPORARY privilege (revoked from PUBLIC on the database: a temporary table
  outlives the transaction on a pooled connection) and no large objects (EXECUTE on the
  ``lo_*`` functions revoked from PUBLIC: a large object is no tenant's, so any tenant
  could read it); ``COPY ... TO PROGRAM`` and server files need superuser or the
  ``pg_execute_server_program``/``pg_*_server_files`` roles, which it is not granted;
- is granted to the connecting user, who may ``SET ROLE`` to it (tests, tools).

``provision`` does all that idempotently, as the schema's owner, after the
migrations (``tenantrag init`` and ``open_postgres(migrate=True)`` call it), and
``tenantrag restore`` calls ``provision_role`` after restoring a dump: backups carry
no grants (``pg_dump --no-privileges``), since the roles they would name need not
exist in the cluster restored into. When the connecting user may not create roles,
``ProvisioningError`` says what a superuser has to run instead. Revoking from PUBLIC
needs the database's owner (TEMP) or a superuser (the ``lo_*`` functions); otherwise a
warning gives the SQL.

It also lets row-level security and the full-text index work together. Under
row-level security the planner evaluates a query's own conditions only on rows the
policy has admitted, unless their functions are LEAKPROOF (they reveal nothing about
their arguments but their result); an index scan evaluates its condition first, so
with ``tsvector @@ tsquery`` (``ts_match_vq``, not leakproof in a stock PostgreSQL)
the GIN index on ``chunks_fts.search_vector`` is unusable and a tenant's full-text query
tests every row of the tenant. ``ts_match_vq`` raises no error that depends on the
rows it reads, so marking it LEAKPROOF discloses nothing the policy hides, and the
plan can use the GIN index (measured, 112 000 chunks in 50 tenants: a rare word in a
tenant of 25 000 chunks went from 27 ms to 0.13 ms, in one of 1 100 from 0.96 to
0.08 ms). Only a superuser may mark a function: as one, provisioning does it (per
database, idempotently); otherwise it logs a warning with the SQL to run, and
``search_problems`` reports it. Isolation never depends on it: the policy still
applies to every row; only the speed does. The jsonb operators filters use (``@>``,
``?|``, ``?&``) would need the same only to use GIN indexes on metadata or tags, which
the schema does not have.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tenantrag.adapters.postgres.fulltext import STORE_CONFIG
from tenantrag.adapters.sql import schema
from tenantrag.domain.errors import TenantRagError

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
STAGING = "tenantrag_chunk_staging"
KEY_TABLE = "tenantrag_binding_key"
# Large objects belong to no tenant; the runtime role needs none of these.
LARGE_OBJECT_FUNCTIONS = """SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
    WHERE p.pronamespace = 'pg_catalog'::regnamespace
      AND (p.proname LIKE 'lo\\_%' OR p.proname IN ('loread', 'lowrite'))
      AND has_function_privilege('public', p.oid, 'EXECUTE')"""
# tsvector @@ tsquery and its commuted form: what a full-text search's WHERE uses.
LEAKPROOF_FUNCTIONS = (
    "pg_catalog.ts_match_vq(tsvector, tsquery)",
    "pg_catalog.ts_match_qv(tsquery, tsvector)",
)

logger = logging.getLogger(__name__)


class ProvisioningError(TenantRagError):
    code = "provisioning_failed"


def statements(role: str, *, login_user: str, schema_name: str, database: str) -> list[str]:
    """The SQL that provisions ``role`` (the names were validated as plain identifiers)."""
    names = [table.name for table in schema.metadata.sorted_tables] + list(schema.POSTGRES_TENANT_TABLES)
    tables = ", ".join(f'"{schema_name}"."{name}"' for name in names)
    append_only = ", ".join(f'"{schema_name}"."{name}"' for name in sorted(schema.APPEND_ONLY))
    return [
        f"""DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT NOCREATEDB NOCREATEROLE;
            END IF;
        END $$""",
        f'ALTER ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT NOCREATEDB NOCREATEROLE NOREPLICATION',
        # The password is computed in the database, so it appears in no statement's text.
        f"""DO $$ BEGIN
            EXECUTE format('ALTER ROLE %I PASSWORD %L', '{role}',
                "{schema_name}".tenantrag_sign('login:{role}'));
        END $$""",
        f'GRANT "{role}" TO "{login_user}"',
        f'GRANT USAGE ON SCHEMA "{schema_name}" TO "{role}"',
        f'REVOKE CREATE ON SCHEMA "{schema_name}" FROM "{role}"',
        f'REVOKE TEMPORARY ON DATABASE "{database}" FROM "{role}"',
        f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC',
        f'REVOKE ALL ON {tables} FROM "{role}"',
        f'GRANT {", ".join(TABLE_PRIVILEGES)} ON {tables} TO "{role}"',
        # The audit log is append-only for the service: what it recorded stays recorded.
        f'REVOKE UPDATE, DELETE ON {append_only} FROM "{role}"',
        f'REVOKE ALL ON "{schema_name}"."{STAGING}", "{schema_name}"."{KEY_TABLE}" FROM "{role}"',
        f'GRANT SELECT, INSERT, DELETE ON "{schema_name}"."{STAGING}" TO "{role}"',
    ]


async def provision_role(
    connection: AsyncConnection, role: str, *, text_search_config: str | None = None
) -> None:
    """Create or repair ``role`` and its grants, on ``connection`` (committed by the caller);
    mark the full-text match LEAKPROOF when a superuser connects (see above), and warn when
    the store's full text was made with another configuration than
    ``text_search_config`` (a setting changed after the column was created)."""
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
    await revoke_large_objects(connection, is_superuser=bool(is_superuser))
    await provision_leakproof(connection, is_superuser=bool(is_superuser))
    if text_search_config is not None:
        await _check_text_search_config(connection, text_search_config)


async def revoke_large_objects(connection: AsyncConnection, *, is_superuser: bool) -> list[str]:
    """Revoke EXECUTE on the large-object functions from PUBLIC (as a superuser: they belong
    to the bootstrap superuser); otherwise warn with the SQL. Returns what is still needed."""
    functions = (await connection.execute(text(LARGE_OBJECT_FUNCTIONS))).scalars().all()
    sql = [f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC" for function in functions]
    if not sql:
        return []
    if is_superuser:
        for statement in sql:
            await connection.execute(text(statement))
        return []
    logger.warning(
        "the runtime role can still use large objects, which belong to no tenant, until a"
        " superuser runs, in this database: %s",
        "; ".join(sql) + ";",
    )
    return sql


def leakproof_statements(functions: tuple[str, ...] = LEAKPROOF_FUNCTIONS) -> list[str]:
    return [f"ALTER FUNCTION {function} LEAKPROOF" for function in functions]


async def not_leakproof(connection: AsyncConnection) -> tuple[str, ...]:
    """Which of ``LEAKPROOF_FUNCTIONS`` are not marked LEAKPROOF in this database."""
    found = await connection.execute(
        text(
            "SELECT f FROM unnest(CAST(:functions AS text[])) AS f"
            " JOIN pg_catalog.pg_proc p ON p.oid = to_regprocedure(f) WHERE NOT p.proleakproof"
        ),
        {"functions": list(LEAKPROOF_FUNCTIONS)},
    )
    return tuple(found.scalars())


async def provision_leakproof(connection: AsyncConnection, *, is_superuser: bool) -> list[str]:
    """Mark the full-text match LEAKPROOF if it is not, as a superuser; otherwise log what a
    superuser must run. Returns the SQL still needed (empty when nothing is)."""
    missing = await not_leakproof(connection)
    if not missing:
        return []
    sql = leakproof_statements(missing)
    if is_superuser:
        for statement in sql:
            await connection.execute(text(statement))
        return []
    logger.warning(
        "full-text search cannot use its GIN index under row-level security until a superuser"
        " runs, in this database: %s",
        "; ".join(sql) + ";",
    )
    return sql


async def _check_text_search_config(connection: AsyncConnection, wanted: str) -> None:
    found = (await connection.execute(select(STORE_CONFIG))).scalar()
    if found is not None and found != wanted:
        logger.warning(
            "the store's full text uses the text search configuration %r, not %r"
            " (TEXT_SEARCH_CONFIG): it is fixed when the migrations create the full-text index,"
            " and searches use the store's own (tenantrag_text_config())",
            found,
            wanted,
        )


async def search_problems(connection: AsyncConnection) -> dict[str, Any]:
    """What keeps full-text search from its index (for health reports); empty when nothing."""
    missing = await not_leakproof(connection)
    if not missing:
        return {}
    script = ";\n".join(leakproof_statements(missing)) + ";"
    return {"full_text_index_unused_under_rls": True, "sql": script}


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
                "SELECT rolsuper, rolbypassrls, pg_has_role(current_user, oid, 'MEMBER'), rolcanlogin"
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
    if not row[3]:
        problems["cannot_log_in"] = True
    return problems
