"""Signed isolation bindings; row-level security on users and tenants (issue 17).

Revision ID: c4e8b2d6f913
Revises: f3c9a1d7e2b4
Create Date: 2026-12-08 01:30:00

PostgreSQL only. Before this revision a policy compared rows with a plain setting
(``app.current_tenant_id``, ``app.job_queue``, ...), which any SQL in the transaction could
change with ``set_config``. Now a setting holds ``value|mac`` and policies read it through
``tenantrag_claim(name)``, which returns the value only when ``mac`` is the HMAC-SHA256 of
``name=value@<this transaction>`` under a key kept in ``tenantrag_binding_key``, a table the
runtime role cannot read. The application, which holds the key, binds through
``tenantrag_bind(names, values, tokens)``: each token is the HMAC of ``name=value``, checked
before the function stores the transaction-tied value. Both are SECURITY DEFINER with a
pinned search_path; ``tenantrag_sign`` (the HMAC itself) is not executable by anyone but the
owner, so nothing signs for SQL that lacks the key. See adapters/postgres/binding.py.

- "This transaction" is the backend's pid and ``transaction_timestamp()`` (not
  ``txid_current()``: it would assign a transaction id to every read, and fails on a replica).
  A value copied into a session setting is therefore worthless in the next transaction.
- Policies call ``(SELECT tenantrag_claim(...))``: an uncorrelated sub-select is an InitPlan,
  run once per statement, not once per row.
- The HMAC is built from ``sha256`` (no pgcrypto): the key's inner and outer pads are stored.
- ``users`` and ``tenants`` get ENABLE and FORCE ROW LEVEL SECURITY: ``system_access`` admits
  them to system work (claim ``system``), ``tenant_isolation`` on ``tenants`` admits a tenant's
  own row. With row-level security on, ``pg_stats`` no longer shows their histograms to the
  runtime role.
- ``tenantrag_chunk_staging``: bulk ingest's staging table (adapters/postgres/bulk.py), so the
  runtime role needs no TEMP privilege (a temporary table outlives the transaction on a pooled
  connection, where another tenant's later transaction would use it). Unlogged, no row-level
  security (COPY FROM refuses tables with it): rows are written, moved by their random
  ``batch`` and deleted in one transaction, so no other transaction ever sees them.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

# Revision identifiers, used by Alembic.
revision: str = "c4e8b2d6f913"
down_revision: str | Sequence[str] | None = "f3c9a1d7e2b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported, so that this revision keeps meaning what it meant.
KEY_TABLE = "tenantrag_binding_key"
PINNED = "SET search_path = pg_catalog, pg_temp"
TRANSACTION = (
    "pg_catalog.pg_backend_pid()::text || '.'"
    " || (extract(epoch FROM pg_catalog.transaction_timestamp()) * 1000000)::bigint::text"
)
CLAIMS = (
    "current_tenant_id", "system", "directory_user_id", "directory_api_key_prefix",
    "directory_invitee_email", "job_queue",
)  # fmt: skip
# 60 bits of an unkeyed SHA-256, what tenantrag_bind puts in a claim's private sequence.
DIGEST = "('x' || left(encode(sha256(convert_to({m}, 'UTF8')), 'hex'), 15))::bit(60)::bigint"
OLD_TENANT = "NULLIF(current_setting('app.current_tenant_id', true), '')::uuid"
# name: (table, command, old condition, new condition); {claim} is the schema's claim function.
DIRECTORY = {
    "memberships_directory": (
        "memberships", "SELECT",
        "user_id = NULLIF(current_setting('app.directory_user_id', true), '')::uuid",
        "user_id = (SELECT {claim}('directory_user_id')::uuid)",
    ),
    "api_keys_directory": (
        "api_keys", "SELECT",
        "prefix = NULLIF(current_setting('app.directory_api_key_prefix', true), '')",
        "prefix = (SELECT {claim}('directory_api_key_prefix'))",
    ),
    "invitations_directory": (
        "invitations", "SELECT",
        "email = NULLIF(current_setting('app.directory_invitee_email', true), '')",
        "email = (SELECT {claim}('directory_invitee_email'))",
    ),
    "jobs_queue_select": (
        "jobs", "SELECT",
        "current_setting('app.job_queue', true) = 'on'",
        "(SELECT {claim}('job_queue')) = 'on'",
    ),
    "jobs_queue_update": (
        "jobs", "UPDATE",
        "current_setting('app.job_queue', true) = 'on'",
        "(SELECT {claim}('job_queue')) = 'on'",
    ),
}  # fmt: skip
ACCOUNT_TABLES = ("users", "tenants")
STAGING = "tenantrag_chunk_staging"
STAGING_COLUMNS = (
    "tenant_id uuid NOT NULL, id uuid NOT NULL, document_id uuid NOT NULL, ordinal int4 NOT NULL,"
    " content text NOT NULL, content_sha256 varchar NOT NULL, embedding vector, token_count int4,"
    " metadata jsonb, created_at timestamptz NOT NULL, batch uuid NOT NULL"
)


def _pads(key: bytes) -> tuple[bytes, bytes]:
    padded = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


def _schema() -> str:
    return str(op.get_bind().execute(text("SELECT current_schema()")).scalar())


def _policies(schema: str, name: str) -> list[str]:
    found = op.get_bind().execute(
        text("SELECT tablename FROM pg_catalog.pg_policies WHERE schemaname = :s AND policyname = :p"),
        {"s": schema, "p": name},
    )
    return sorted(found.scalars())


def _policy(name: str, table: str, command: str, condition: str) -> None:
    check = "" if command == "SELECT" else f" WITH CHECK ({condition})"
    op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
    op.execute(f"CREATE POLICY {name} ON {table} FOR {command} USING ({condition}){check}")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    schema = _schema()
    q = f'"{schema}"'
    claim = f"{q}.tenantrag_claim"
    op.execute(
        f"CREATE TABLE {q}.{KEY_TABLE} (id smallint PRIMARY KEY CHECK (id = 1),"
        " inner_pad bytea NOT NULL, outer_pad bytea NOT NULL)"
    )
    op.execute(f"REVOKE ALL ON {q}.{KEY_TABLE} FROM PUBLIC")
    inner, outer = _pads(secrets.token_bytes(32))
    op.get_bind().execute(
        text(f"INSERT INTO {q}.{KEY_TABLE} VALUES (1, :inner, :outer)"),  # noqa: S608 - names only
        {"inner": inner, "outer": outer},
    )
    # PL/pgSQL, not SQL: it keeps its plan of the key's SELECT for the session, so the first
    # call in a statement (every policy's, an InitPlan) costs microseconds, not a re-plan.
    op.execute(
        f"""CREATE FUNCTION {q}.tenantrag_sign(message text) RETURNS text
        LANGUAGE plpgsql STABLE SECURITY DEFINER {PINNED} AS $$
        DECLARE
            k record;
        BEGIN
            SELECT inner_pad, outer_pad INTO k FROM {q}.{KEY_TABLE} WHERE id = 1;
            RETURN encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(message, 'UTF8'))), 'hex');
        END $$"""  # noqa: S608 - names only
    )
    op.execute(f"REVOKE EXECUTE ON FUNCTION {q}.tenantrag_sign(text) FROM PUBLIC")
    for name in CLAIMS:
        op.execute(
            f"CREATE UNLOGGED SEQUENCE {q}.tenantrag_claim_{name} MINVALUE 0 MAXVALUE 1152921504606846975"
        )
    message = "names[i] || '=' || claim_values[i] || '@' || tx"
    op.execute(
        f"""CREATE FUNCTION {q}.tenantrag_bind(names text[], claim_values text[], tokens text[])
        RETURNS boolean LANGUAGE plpgsql VOLATILE SECURITY DEFINER {PINNED} AS $$
        DECLARE
            tx text := {TRANSACTION};
            -- Unlogged sequences cannot be written on a standby, nor anything read-only.
            fast boolean := NOT pg_is_in_recovery() AND NOT current_setting('transaction_read_only')::boolean;
        BEGIN
            IF cardinality(names) IS DISTINCT FROM cardinality(claim_values)
               OR cardinality(names) IS DISTINCT FROM cardinality(tokens) THEN
                RAISE EXCEPTION 'tenantrag_bind: names, values and tokens differ in length'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            FOR i IN 1 .. coalesce(cardinality(names), 0) LOOP
                IF names[i] IS NULL OR names[i] !~ '^[a-z_]{{1,40}}$' THEN
                    RAISE EXCEPTION 'tenantrag_bind: % is not a binding name', names[i]
                        USING ERRCODE = 'invalid_parameter_value';
                END IF;
                IF coalesce(claim_values[i], '') = '' THEN
                    PERFORM set_config('app.' || names[i], '', true);
                    CONTINUE;
                END IF;
                IF tokens[i] IS DISTINCT FROM {q}.tenantrag_sign(names[i] || '=' || claim_values[i]) THEN
                    RAISE EXCEPTION 'tenantrag_bind: the binding of % is not signed with the key', names[i]
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                IF fast THEN
                    -- Only the owner may setval; currval is this session's: see tenantrag_claim.
                    PERFORM setval(format('%I.%I', '{schema}', 'tenantrag_claim_' || names[i])::regclass,
                        {DIGEST.format(m=message)});
                END IF;
                PERFORM set_config('app.' || names[i], claim_values[i] || '|'
                    || {q}.tenantrag_sign({message})
                    || CASE WHEN fast THEN 'f' ELSE 's' END, true);
            END LOOP;
            RETURN true;
        END $$"""
    )
    currvals = " ".join(f"WHEN '{name}' THEN currval('{q}.tenantrag_claim_{name}')" for name in CLAIMS)
    # Once per table reference and statement, so it must be cheap. The fast path: the value's
    # digest (with this transaction) equals what tenantrag_bind put in the claim's sequence in
    # this session (currval: no table read, no key). The runtime role cannot setval, and
    # cannot find another value with the same 60-bit digest for this transaction. The slow
    # path (a binding made on a standby or in a read-only transaction): the HMAC, inline.
    op.execute(
        f"""CREATE FUNCTION {q}.tenantrag_claim(name text) RETURNS text
        LANGUAGE plpgsql STABLE SECURITY DEFINER {PINNED} AS $$
        DECLARE
            bound text := current_setting('app.' || name, true);
            claimed text;
            tx text := {TRANSACTION};
            k record;
        BEGIN
            IF bound IS NULL OR length(bound) < 67 OR substr(bound, length(bound) - 65, 1) <> '|' THEN
                RETURN NULL;
            END IF;
            claimed := left(bound, length(bound) - 66);
            IF right(bound, 1) = 'f' THEN
                IF (CASE name
                    {currvals}
                    END) = {DIGEST.format(m="name || '=' || claimed || '@' || tx")} THEN
                    RETURN claimed;
                END IF;
                RETURN NULL;
            END IF;
            SELECT inner_pad, outer_pad INTO k FROM {q}.{KEY_TABLE} WHERE id = 1;
            IF substr(bound, length(bound) - 64, 64) = encode(sha256(k.outer_pad || sha256(k.inner_pad
                    || convert_to(name || '=' || claimed || '@' || tx, 'UTF8'))), 'hex') THEN
                RETURN claimed;
            END IF;
            RETURN NULL;
        END $$"""  # noqa: S608 - names only
    )
    tenant = f"(SELECT {claim}('current_tenant_id')::uuid)"
    for table in _policies(schema, "tenant_isolation"):
        _policy("tenant_isolation", table, "ALL", f"tenant_id = {tenant}")
    for name, (table, command, _old, new) in DIRECTORY.items():
        if _policies(schema, name):
            _policy(name, table, command, new.format(claim=claim))
    system = f"(SELECT {claim}('system')) = 'on'"
    for table in ACCOUNT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        _policy("system_access", table, "ALL", system)
    _policy("tenant_isolation", "tenants", "ALL", f"id = {tenant}")
    op.execute(f"CREATE UNLOGGED TABLE {q}.{STAGING} ({STAGING_COLUMNS})")
    op.execute(f"CREATE INDEX ix_{STAGING}_batch ON {q}.{STAGING} (batch)")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    schema = _schema()
    q = f'"{schema}"'
    op.execute(f"DROP TABLE IF EXISTS {q}.{STAGING}")
    op.execute("DROP POLICY IF EXISTS tenant_isolation ON tenants")
    for table in ACCOUNT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS system_access ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for name, (table, command, old, _new) in DIRECTORY.items():
        if _policies(schema, name):
            _policy(name, table, command, old)
    for table in _policies(schema, "tenant_isolation"):
        _policy("tenant_isolation", table, "ALL", f"tenant_id = {OLD_TENANT}")
    op.execute(f"DROP FUNCTION {q}.tenantrag_claim(text)")
    op.execute(f"DROP FUNCTION {q}.tenantrag_bind(text[], text[], text[])")
    op.execute(f"DROP FUNCTION {q}.tenantrag_sign(text)")
    for name in CLAIMS:
        op.execute(f"DROP SEQUENCE {q}.tenantrag_claim_{name}")
    op.execute(f"DROP TABLE {q}.{KEY_TABLE}")
