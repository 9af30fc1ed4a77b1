"""Everything a deployment may tune about its PostgreSQL connection, checked on construction.

One attrs value, so that settings (environment variables), the CLI and a program
embedding tenantrag all describe a PostgreSQL backend the same way, and a wrong
value is refused with the name of the option before any connection is made.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import attrs

from tenantrag.adapters.postgres.distance import Distance
from tenantrag.domain.errors import InvalidInput

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
SSL_MODES: tuple[str, ...] = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

# Role names are spliced into GRANT statements (identifiers cannot be bound), so
# only plain lower-case identifiers are accepted, and they are still quoted.
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")

DEFAULT_RUNTIME_ROLE = "tenantrag_app"


def _positive(name: str, *, allow_zero: bool = False) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
            bound = "zero or more" if allow_zero else "more than zero"
            raise InvalidInput(name, f"must be a number {bound}, got {value!r}")

    return check


def _role(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise InvalidInput(
            "runtime_role",
            f"must be a plain lower-case PostgreSQL identifier ([a-z_][a-z0-9_]*), got {value!r}",
        )


def _ssl_mode(_instance: object, _attribute: object, value: object) -> None:
    if value is not None and value not in SSL_MODES:
        raise InvalidInput("ssl_mode", f"must be one of {', '.join(SSL_MODES)}, got {value!r}")


def _text_search_config(_instance: object, _attribute: object, value: object) -> None:
    # A configuration's name is spliced into the migration's DDL, so it must be a plain name.
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise InvalidInput(
            "text_search_config",
            f"must be a text search configuration's name ([a-z_][a-z0-9_]*), got {value!r}",
        )


def _distance(value: object) -> Distance:
    return Distance.parse(value)


@attrs.frozen(kw_only=True)
class PostgresOptions:
    """Connection, isolation and vector-search options of the PostgreSQL backend.

    Times are in seconds. ``None`` for an SSL option or a timeout leaves libpq's default
    (or whatever the URL's query string says: ``?sslmode=require`` keeps working).
    """

    pool_size: int = attrs.field(default=5, validator=_positive("pool_size"))
    max_overflow: int = attrs.field(default=10, validator=_positive("max_overflow", allow_zero=True))
    pool_timeout: float = attrs.field(default=30.0, validator=_positive("pool_timeout"))
    # Connections older than this are replaced (-1 keeps them: SQLAlchemy's convention).
    pool_recycle: float = attrs.field(default=1800.0)
    pool_pre_ping: bool = True
    connect_timeout: float | None = attrs.field(default=10.0)
    # statement_timeout of every unit of work's transaction; None leaves the server's.
    command_timeout: float | None = attrs.field(default=60.0)
    ssl_mode: SslMode | None = attrs.field(default=None, validator=_ssl_mode)
    ssl_root_cert: str | None = None
    ssl_cert: str | None = None
    ssl_key: str | None = None
    application_name: str = "tenantrag"
    # False for PgBouncer in transaction mode, where a prepared statement may not
    # find its server connection again.
    prepared_statements: bool = True
    runtime_role: str = attrs.field(default=DEFAULT_RUNTIME_ROLE, validator=_role)
    # Where units of work connect (DATABASE_RUNTIME_URL): a login that is the runtime role or
    # only a member of it. None: DATABASE_URL's server as the runtime role itself, with the
    # password `tenantrag init` derived from the isolation key (see factory.py).
    runtime_url: str | None = attrs.field(default=None, repr=False)
    # HNSW build parameters (used when the migrations create the index) and the
    # search-time candidate list; see adapters/postgres/search.py for how they are used.
    hnsw_m: int = attrs.field(default=16, validator=_positive("hnsw_m"))
    hnsw_ef_construction: int = attrs.field(default=64, validator=_positive("hnsw_ef_construction"))
    hnsw_ef_search: int = attrs.field(default=100, validator=_positive("hnsw_ef_search"))
    distance: Distance = attrs.field(default=Distance.COSINE, converter=_distance)
    # Tenants with at most this many chunks are searched exactly (a scan of their rows);
    # larger ones through the HNSW index with iterative scans. See search.py.
    exact_search_limit: int = attrs.field(default=20_000, validator=_positive("exact_search_limit"))
    # The text search configuration the migrations build the full text (chunks_fts) with; fixed
    # when the column is created (searches always use the column's own, see fulltext.py).
    text_search_config: str = attrs.field(default="english", validator=_text_search_config)
    # With a read replica: reads leave it while it is further behind than this (seconds),
    # and its state is checked this often (see adapters/sql/read_routing.py).
    replica_max_lag: float = attrs.field(
        default=30.0, validator=_positive("replica_max_lag", allow_zero=True)
    )
    replica_check_interval: float = attrs.field(default=5.0, validator=_positive("replica_check_interval"))
    echo: bool = False

    def __attrs_post_init__(self) -> None:
        for name in ("connect_timeout", "command_timeout"):
            value = getattr(self, name)
            if value is not None:
                _positive(name)(self, None, value)
        if not isinstance(self.pool_recycle, int | float) or isinstance(self.pool_recycle, bool):
            raise InvalidInput("pool_recycle", f"must be a number of seconds, got {self.pool_recycle!r}")
        if self.hnsw_ef_construction < 2 * self.hnsw_m:
            raise InvalidInput(
                "hnsw_ef_construction",
                f"must be at least twice hnsw_m ({2 * self.hnsw_m}), got {self.hnsw_ef_construction}",
            )
