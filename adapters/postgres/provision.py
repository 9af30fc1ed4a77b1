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
migrations (``tenantrag init`` and ``open_postgres(migrate=True)`` call it), and
``tenantrag restore`` calls ``provision_role`` after restoring a dump: backups carry
no grants (``pg_dump --no-privileges``), since the roles they would name need not
exist in the cluster restored into. When the connecting user may not create roles,
``ProvisioningError`` says what a superuser has to run instead.

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
    await provision_leakproof(connection, is_superuser=bool(is_superuser))
    if text_search_config is not None:
        await _check_text_search_config(connection, text_search_config)


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
