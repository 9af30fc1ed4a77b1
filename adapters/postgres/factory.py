"""The PostgreSQL backend's factory, and ``open_postgres`` which checks the deployment first.

Opening refuses, with a message that says what to do, a database that would not
isolate tenants or would not fit the store: no pgvector, a runtime role that is
missing, not granted to the connecting user, or able to bypass row-level
security, and an embedding column of another dimension than the store's.

Two engines: DATABASE_URL's (``factory.engine``: migrations, checks, the vector index,
health) and the runtime engine every unit of work runs on, which logs in as the runtime
role (or the login in ``options.runtime_url``). SQL on a runtime connection therefore has
no superuser or owner to ``RESET ROLE`` to; a runtime login that is one is refused.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from tenantrag.adapters.postgres import vector_index
from tenantrag.adapters.postgres.binding import BindingKey, load_key
from tenantrag.adapters.postgres.bulk import PostgresChunkWriter
from tenantrag.adapters.postgres.dialect import PostgresDialect
from tenantrag.adapters.postgres.embeddings import PgVectors
from tenantrag.adapters.postgres.engine import create_postgres_engine, postgres_url
from tenantrag.adapters.postgres.health import HealthReport, probe
from tenantrag.adapters.postgres.options import PostgresOptions
from tenantrag.adapters.postgres.provision import ProvisioningError, check_role, provision_role
from tenantrag.adapters.postgres.replica import replica_lag
from tenantrag.adapters.postgres.search import PostgresChunkSearch
from tenantrag.adapters.postgres.vector_index import VectorIndexState
from tenantrag.adapters.sql.read_routing import ReadRouting
from tenantrag.adapters.sql.unit_of_work import SqlUnitOfWorkFactory
from tenantrag.adapters.sql.urls import redact
from tenantrag.domain.errors import InvalidInput, TenantRagError


class DeploymentError(TenantRagError):
    """The database cannot serve this store as it is; the message says what to run."""

    code = "deployment_invalid"


class PostgresUnitOfWorkFactory(SqlUnitOfWorkFactory):
    """Units of work on PostgreSQL. Build it with ``open_postgres``, which checks the database."""

    def __init__(
        self,
        engine: AsyncEngine,
        dimension: int,
        options: PostgresOptions | None = None,
        *,
        replica: AsyncEngine | None = None,
        runtime: AsyncEngine | None = None,
        key: BindingKey | None = None,
    ) -> None:
        """``engine`` is DATABASE_URL's; units of work run on ``runtime`` (``engine`` when
        None: tests and tools on an owner connection, which SET ROLE per transaction)."""
        self.options = options or PostgresOptions()
        self._admin = engine
        self.runtime_engine = runtime or engine
        routing = None
        if replica is not None:
            routing = ReadRouting(
                self.runtime_engine, replica, lag=replica_lag, max_lag=self.options.replica_max_lag,
                check_interval=self.options.replica_check_interval,
            )  # fmt: skip
        codec = PgVectors(dimension)
        self.dialect = PostgresDialect(codec, self.options)
        self.dialect.keys.key = key
        self.chunk_search = PostgresChunkSearch(codec, self.options)
        writer = PostgresChunkWriter(codec, self.chunk_search.sizes)
        super().__init__(
            self.runtime_engine, dimension, self.dialect, search=self.chunk_search, writer=writer,
            replica=routing,
        )  # fmt: skip

    @property
    def engine(self) -> AsyncEngine:
        """DATABASE_URL's engine (not the one units of work run on: ``runtime_engine``)."""
        return self._admin

    async def dispose(self) -> None:
        await super().dispose()
        if self._admin is not self.runtime_engine:
            await self._admin.dispose()

    async def health(self) -> HealthReport:
        return await probe(self.engine, self.read_routing)

    async def vector_index_state(self) -> VectorIndexState:
        """Whether the HNSW index is there and valid (see vector_index.py)."""
        return await vector_index.state(self.engine)

    async def drop_vector_index(self, *, concurrently: bool = True) -> None:
        """Drop the HNSW index before a large load; searches are exact until it is rebuilt."""
        await vector_index.drop(self.engine, concurrently=concurrently)

    async def build_vector_index(
        self, *, concurrently: bool = True, memory: str = vector_index.DEFAULT_BUILD_MEMORY
    ) -> VectorIndexState:
        """Build the HNSW index (after a large load) unless a valid one exists."""
        return await vector_index.build(self.engine, self.options, concurrently=concurrently, memory=memory)


async def open_postgres(
    url: str,
    dimension: int,
    *,
    migrate: bool = True,
    options: PostgresOptions | None = None,
    replica_url: str | None = None,
) -> PostgresUnitOfWorkFactory:
    """The PostgreSQL backend on the database at ``url``.

    With ``migrate`` (the default) the schema is first brought up to date with the
    Alembic migrations and the runtime role provisioned, as ``tenantrag init`` does;
    the connecting user then needs to own the schema and be able to create roles.

    With ``replica_url`` (a streaming replica of that database), read-only units of
    work run there. It is checked like the primary, never migrated: it follows the
    primary's schema through replication. A replica that cannot be reached does not
    stop the opening: reads go to the primary until it answers (read_routing.py).
    """
    options = options or PostgresOptions()
    url = postgres_url(url)
    if migrate:
        await provision(url, dimension, options)
    engines = [create_postgres_engine(url, options)]
    unreachable: DeploymentError | None = None
    try:
        await check_deployment(engines[0], dimension, options)
        key = await _key(engines[0])
        engines.append(create_postgres_engine(runtime_url(url, options, key), options))
        await check_runtime(engines[1], options)
        if replica_url is not None:
            replica_runtime = runtime_url(replica_url, options, key, replica=True)
            engines.append(create_postgres_engine(replica_runtime, options))
            try:
                await check_deployment(engines[2], dimension, options)
            except DeploymentError as error:
                # A replica that is down must not keep the service from starting: reads go
                # to the primary until it answers. One that answers wrongly is refused.
                if not isinstance(error.__cause__, OperationalError | InterfaceError):
                    raise
                unreachable = error
    except BaseException:
        for engine in engines:
            await engine.dispose()
        raise
    replica = engines[2] if len(engines) > 2 else None
    factory = PostgresUnitOfWorkFactory(
        engines[0], dimension, options, replica=replica, runtime=engines[1], key=key
    )
    if unreachable is not None and factory.read_routing is not None:
        factory.read_routing.failed(unreachable)
    return factory


async def provision(url: str, dimension: int, options: PostgresOptions | None = None) -> None:
    """Migrate the schema to head, then create or repair the runtime role (idempotent)."""
    from tenantrag.adapters.sql import migrations

    options = options or PostgresOptions()
    url = postgres_url(url)
    await migrations.upgrade_async(
        url,
        embedding_dimension=dimension,
        attributes={
            "vector_distance": options.distance.value,
            "hnsw_m": options.hnsw_m,
            "hnsw_ef_construction": options.hnsw_ef_construction,
            "text_search_config": options.text_search_config,
        },
    )
    engine = migrations.create_migration_engine(url)
    try:
        async with engine.begin() as connection:
            await provision_role(
                connection, options.runtime_role, text_search_config=options.text_search_config
            )
    finally:
        await engine.dispose()


def runtime_url(url: str, options: PostgresOptions, key: BindingKey, *, replica: bool = False) -> str:
    """Where units of work connect: ``options.runtime_url`` (the primary's only: a replica's
    login is derived alike), else ``url``'s server and database as the runtime role, with the
    password provisioning derived from the key."""
    if options.runtime_url is not None and not replica:
        return postgres_url(options.runtime_url, field="runtime_url")
    if options.runtime_url is not None:
        given = make_url(postgres_url(options.runtime_url, field="runtime_url"))
        parsed = make_url(postgres_url(url)).set(username=given.username, password=given.password)
    else:
        role = options.runtime_role
        parsed = make_url(postgres_url(url)).set(username=role, password=key.login_password(role))
    return parsed.render_as_string(hide_password=False)


async def _key(engine: AsyncEngine) -> BindingKey:
    async with engine.connect() as connection:
        return await load_key(connection)


async def check_runtime(engine: AsyncEngine, options: PostgresOptions) -> None:
    """The runtime login connects, and SQL on its connections cannot become anyone who skips
    row-level security or owns the tables (by RESET ROLE or SET ROLE)."""
    where = redact(engine.url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT session_user, bool_or(r.rolsuper OR r.rolbypassrls),"
                        " bool_or(r.oid = c.relowner), has_database_privilege(current_database(), 'TEMP')"
                        " FROM pg_catalog.pg_roles r, pg_catalog.pg_class c"
                        " WHERE c.oid = to_regclass('chunks') AND pg_has_role(session_user, r.oid, 'MEMBER')"
                    )
                )
            ).one()
    except Exception as error:
        raise DeploymentError(
            f"the service cannot connect as the runtime role at {where}: {_first_line(error)}."
            " Run `tenantrag init` with DATABASE_URL (it gives the runtime role its login), or set"
            " DATABASE_RUNTIME_URL to a login of the runtime role"
        ) from error
    user, escapes, owns, temporary = row
    if escapes or owns:
        raise DeploymentError(
            f"the service's runtime login {user!r} ({where}) is, or may become, a superuser, a"
            " BYPASSRLS role or the tables' owner, so SQL running in the service could leave"
            " row-level security (RESET ROLE). Set DATABASE_RUNTIME_URL to a login that is only"
            f" the runtime role {options.runtime_role!r} (or unset it: the service then logs in"
            " as that role itself)",
            details={"login": user},
        )
    if temporary:
        raise DeploymentError(
            f"the runtime login {user!r} ({where}) may create temporary tables, which outlive a"
            " transaction on a pooled connection: run `tenantrag init` with DATABASE_URL (it"
            " revokes TEMPORARY on the database from PUBLIC), or have the database's owner run"
            " REVOKE TEMPORARY ON DATABASE <database> FROM PUBLIC",
            details={"login": user},
        )


async def check_deployment(engine: AsyncEngine, dimension: int, options: PostgresOptions) -> None:
    where = redact(engine.url)
    try:
        async with engine.connect() as connection:
            column = (
                await connection.execute(
                    text(
                        "SELECT format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute"
                        " WHERE attrelid = to_regclass('chunks') AND attname = 'embedding'"
                    )
                )
            ).scalar()
            role_problems = await check_role(connection, options.runtime_role)
    except Exception as error:
        if isinstance(error, TenantRagError):
            raise
        raise DeploymentError(f"cannot use the database at {where}: {_first_line(error)}") from error
    if column is None:
        raise DeploymentError(f"{where} has no tenantrag schema: run `tenantrag init` against it first")
    found = re.fullmatch(r"vector\((\d+)\)", str(column))
    if found is None or int(found.group(1)) != dimension:
        raise InvalidInput(
            "dimension",
            f"the database at {where} stores {column} embeddings but this store makes"
            f" {dimension}-dimensional ones; one deployment uses one dimension",
        )
    if role_problems:
        role = options.runtime_role
        reasons = {
            "missing": "does not exist",
            "not_granted": "is not granted to the connecting user (who must be able to SET ROLE to it)",
            "bypasses_row_level_security": "is a superuser or has BYPASSRLS, so isolation would not hold",
            "cannot_log_in": "cannot log in (the service connects as it)",
        }
        said = "; ".join(reasons[name] for name in role_problems)
        raise ProvisioningError(
            f"the runtime role {role!r} {said}: run `tenantrag init` as the schema owner"
            " (or see README, 'An existing PostgreSQL')",
            details={"role": role, **role_problems},
        )


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__
