"""Settings: every knob of a deployment, read from the environment and an optional ``.env``.

The variable names are the ones the seed documentation taught our users (``DATABASE_URL``,
``DB_POOL_SIZE``, ``DB_SSL_MODE``, ``JWT_SECRET_KEY``...); where those documents disagree,
both spellings are read (``DATABASE_POOL_SIZE`` as well as ``DB_POOL_SIZE``, the first
winning). Everything is checked when ``Settings()`` is built, so a wrong value stops the
program at start with a ``SettingsError`` naming the variable and what it accepts, rather
than failing on the first request. Nothing here connects to a database.

With nothing set: SQLite at ``./tenantrag.db``, development mode, and a development JWT
secret generated and kept beside the database (``jwt_secret``). Outside development a
missing, placeholder or short ``JWT_SECRET_KEY`` refuses to start.

Query-string parameters of a PostgreSQL ``DATABASE_URL`` (``sslmode``, ``connect_timeout``,
``sslrootcert``, ``application_name``...) keep working: they fill the matching setting, and
a URL parameter that contradicts its variable is refused rather than silently overridden.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from tenantrag.adapters.embedders import openai_compatible
from tenantrag.adapters.parsing import limits as parse_limits
from tenantrag.adapters.sql.urls import DEFAULT_DATABASE_URL, redact
from tenantrag.domain.fusion import FusionMethod
from tenantrag.domain.model.embedding_model import MAX_DIMENSION as MAX_EMBEDDING_DIMENSION
from tenantrag.entrypoints import database_urls, embedder_settings, jwt_secret, security_settings
from tenantrag.entrypoints.database_urls import MEMORY_URL, SslMode
from tenantrag.entrypoints.embedder_settings import EmbedderName
from tenantrag.entrypoints.settings_errors import (
    SettingsError,
    settings_error,
    variable_label,
    variable_names,
)

__all__ = ["MEMORY_URL", "Backend", "Environment", "Settings", "SettingsError", "variables"]

logger = logging.getLogger(__name__)

Environment = Literal["development", "test", "staging", "production"]
Backend = Literal["sqlite", "postgresql", "memory"]
JwtAlgorithm = Literal["HS256", "HS384", "HS512"]
VectorDistance = Literal["cosine", "l2", "inner_product"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# Errors do not quote these values: a secret, and URLs (their checks quote them, password hidden).
_UNSHOWN_FIELDS = frozenset(
    {
        "jwt_secret_key",
        "database_url",
        "database_replica_url",
        "database_runtime_url",
        "embedding_api_key",
        "embedding_base_url",
    }
)


def _env(*names: str) -> Any:
    """Read a field from the first of several variables (the seed documents' spellings)."""
    return AliasChoices(*names)


class Settings(BaseSettings):
    """A deployment's configuration; ``Settings()`` reads the environment and ``.env``.

    Tests and embedding services pass values directly: ``Settings(database_url="memory://")``
    (keyword arguments win over the environment).
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # VARIABLE= counts as unset
        extra="ignore",  # a shared .env holds other programs' variables too
        validate_by_name=True,
        validate_by_alias=True,
    )

    environment: Environment = "development"
    log_level: LogLevel = "INFO"

    # --- the database ------------------------------------------------------------------------
    database_url: str = Field(default=DEFAULT_DATABASE_URL, repr=False)
    database_replica_url: str | None = Field(default=None, repr=False)
    # PostgreSQL: where the service's units of work connect, a login that is only the runtime
    # role. Unset: DATABASE_URL's server as the runtime role itself, with the password
    # `tenantrag init` derives (adapters/postgres/factory.py); DATABASE_URL stays the owner's.
    database_runtime_url: str | None = Field(default=None, repr=False)
    # Seconds the replica may lag before reads leave it for the primary, and how often its
    # state is checked (adapters/sql/read_routing.py).
    database_replica_max_lag: float = Field(default=30.0, ge=0)
    database_replica_check_interval: float = Field(default=5.0, gt=0)
    database_echo: bool = Field(default=False, validation_alias=_env("DATABASE_ECHO", "SQL_ECHO"))
    # None: migrate at start in development and test, refuse an outdated schema otherwise.
    auto_migrate: bool | None = None
    db_pool_size: int = Field(default=5, ge=1, validation_alias=_env("DB_POOL_SIZE", "DATABASE_POOL_SIZE"))
    db_max_overflow: int = Field(
        default=10, ge=0, validation_alias=_env("DB_MAX_OVERFLOW", "DATABASE_MAX_OVERFLOW")
    )
    db_pool_timeout: float = Field(
        default=30.0, gt=0, validation_alias=_env("DB_POOL_TIMEOUT", "DATABASE_POOL_TIMEOUT")
    )
    # Seconds before a pooled connection is replaced; -1 never replaces (SQLAlchemy's convention).
    db_pool_recycle: int = Field(default=1800, ge=-1)
    db_pool_pre_ping: bool = True
    db_connect_timeout: float = Field(default=10.0, gt=0)
    db_command_timeout: float = Field(default=30.0, gt=0)
    # None: libpq's default (prefer), or the URL's ?sslmode=.
    db_ssl_mode: SslMode | None = None
    db_ssl_root_cert: str | None = Field(
        default=None, validation_alias=_env("DB_SSL_ROOT_CERT", "DB_SSL_CA_PATH")
    )
    db_ssl_cert: str | None = Field(default=None, validation_alias=_env("DB_SSL_CERT", "DB_SSL_CERT_PATH"))
    db_ssl_key: str | None = Field(default=None, validation_alias=_env("DB_SSL_KEY", "DB_SSL_KEY_PATH"))
    db_application_name: str = Field(default="tenantrag", min_length=1, max_length=63)
    # False behind PgBouncer in transaction mode.
    db_prepared_statements: bool = True

    # --- SQLite ------------------------------------------------------------------------------
    # MiB of tenants' embeddings kept in memory between vector searches; 0 turns the cache off.
    sqlite_vector_cache_mb: int = Field(default=256, ge=0, le=1024 * 1024)

    # --- PostgreSQL: isolation and vector index ----------------------------------------------
    postgres_runtime_role: str = "tenantrag_app"
    hnsw_m: int = Field(default=16, ge=2, le=100)
    hnsw_ef_construction: int = Field(default=64, ge=4, le=1000)
    hnsw_ef_search: int = Field(default=100, ge=1, le=1000)
    vector_distance: VectorDistance = "cosine"
    # Tenants with at most this many chunks are searched exactly rather than through the index.
    exact_search_limit: int = Field(default=20_000, ge=1)

    # --- authentication ----------------------------------------------------------------------
    jwt_secret_key: SecretStr = Field(default=SecretStr(""))
    jwt_algorithm: JwtAlgorithm = "HS256"
    jwt_access_token_expire_minutes: int = Field(default=30, ge=1, le=43_200)
    jwt_audience: str = Field(default="tenantrag", min_length=1)
    # Argon2id cost of new password hashes (argon2-cffi's defaults); raising them upgrades
    # stored hashes at each user's next login. Memory is in KiB.
    password_hash_time_cost: int = Field(default=3, ge=1, le=100)
    password_hash_memory_cost: int = Field(default=65_536, ge=8, le=4 * 1024 * 1024)
    password_hash_parallelism: int = Field(default=4, ge=1, le=64)
    # Failed password logins allowed per account from one client address, and per client
    # address over all accounts, in the `limits` notation; past them 429 with Retry-After
    # (entrypoints/http/throttling.py). The counts live in LOGIN_THROTTLE_STORAGE: memory://
    # (this process), or a storage URL the `limits` library knows (redis://...) to share them.
    login_limit_per_account_address: str = "10 per 15 minutes"
    login_limit_per_address: str = "100 per 15 minutes"
    login_throttle_storage: str = Field(default="memory://", repr=False)

    # --- embedding, ingestion and search -----------------------------------------------------
    # Unset: the embedder the store records, else wordllama (see entrypoints/embedders.py).
    embedder: EmbedderName = "wordllama"
    # Required by openai, sentence-transformers and fastembed (a hub id or a local folder);
    # wordllama and hashing have none.
    embedding_model: str | None = Field(default=None, validate_default=True)
    # Unset: the embedder's (DEFAULT_DIMENSIONS), else FALLBACK_DIMENSION.
    embedding_dimension: int = Field(default=None, ge=1, le=MAX_EMBEDDING_DIMENSION, validate_default=True)
    # OpenAI-compatible endpoint; may hold credentials, so it is never quoted or shown.
    embedding_base_url: str = Field(default=openai_compatible.DEFAULT_BASE_URL, repr=False)
    embedding_api_key: SecretStr | None = Field(default=None, repr=False, validate_default=True)
    embedding_batch_size: int = Field(default=64, ge=1, le=openai_compatible.MAX_BATCH_SIZE)
    embedding_timeout: float = Field(default=30.0, gt=0)
    embedding_max_retries: int = Field(default=5, ge=0, le=10)
    # Send `dimensions` so that a model able to shorten its vectors (text-embedding-3-*) does.
    embedding_request_dimensions: bool = False
    chunk_size: int = Field(default=1000, ge=1)
    chunk_overlap: int = Field(default=150, ge=0)
    max_k: int = Field(default=100, ge=1, le=1000)
    # PostgreSQL's text search configuration for the full text, chunks_fts (stemming, stop words);
    # fixed when the migrations create it. SQLite's FTS5 index is English (Snowball).
    text_search_config: str = Field(default="english", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    # How hybrid search fuses its two lists (domain/fusion.py), and reciprocal rank fusion's
    # k when it is rrf: higher flattens the lead of the top places.
    hybrid_fusion: FusionMethod = FusionMethod.RELATIVE_SCORE
    hybrid_rrf_k: int = Field(default=60, ge=1, le=100_000)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # Parsing limits (adapters/parsing/limits.py): a document over one is refused, naming it.
    # PDFs are parsed in PARSE_WORKERS child processes, each killed at PARSE_TIMEOUT_SECONDS.
    parse_max_pages: int = Field(default=parse_limits.DEFAULT_MAX_PAGES, ge=1)
    parse_max_inflated_bytes: int = Field(default=parse_limits.DEFAULT_MAX_INFLATED_BYTES, ge=1)
    parse_timeout_seconds: float = Field(
        default=parse_limits.DEFAULT_TIMEOUT_SECONDS, gt=0, le=86_400, allow_inf_nan=False
    )
    parse_workers: int = Field(default=parse_limits.DEFAULT_WORKERS, ge=1, le=64)
    # Where uploaded originals are kept (see blob_store_folder): unset means beside the data.
    blob_store_path: Path | None = None

    # --- the job worker (`tenantrag worker`) --------------------------------------------------
    # A claimed job is its worker's for this long unless renewed (every third of it): a worker
    # that dies holds its job this long before another worker retries it.
    worker_lease_seconds: float = Field(default=300.0, ge=1, le=86_400, allow_inf_nan=False)
    # Attempts before a job (and its document) is failed; permanent errors fail at once.
    worker_max_attempts: int = Field(default=3, ge=1, le=100)
    # Seconds an idle worker waits before looking at the queue again.
    worker_poll_interval: float = Field(default=1.0, gt=0, le=3600, allow_inf_nan=False)
    # A failed attempt is retried after this many seconds, doubling each time (at most 10 min).
    worker_retry_delay_seconds: float = Field(default=5.0, ge=0, le=3600, allow_inf_nan=False)
    # The HTTP service runs one worker in-process, so uploads are ingested without a
    # separate `tenantrag worker`; turn it off when dedicated workers run.
    embedded_worker: bool = True
    # Anyone may create an account (POST /v1/auth/signup); off: only operators create users.
    allow_signup: bool = False

    # --- observability (entrypoints/observability/) -------------------------------------------
    log_format: Literal["text", "json"] = "text"
    metrics_enabled: bool = True  # GET /metrics
    metrics_tenant_labels: bool = False  # a tenant label on search and ingest metrics (cardinality)
    tracing: Literal["off", "otlp", "console", "provided"] = "off"

    # Field validators, not _check_together: their problems are reported with every other
    # invalid value at once. Fields are validated in order, so info.data holds the earlier ones.

    @field_validator("embedding_model")
    @classmethod
    def _model_for_the_embedder(cls, value: str | None, info: ValidationInfo) -> str | None:
        return embedder_settings.model(value, info.data.get("embedder"))

    @field_validator("embedding_dimension", mode="before")
    @classmethod
    def _dimension_of_the_embedder(cls, value: object, info: ValidationInfo) -> object:
        return embedder_settings.dimension(value, info.data.get("embedder"))

    @field_validator("embedding_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return embedder_settings.base_url(value)

    @field_validator("embedding_api_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, value: object) -> object:
        return embedder_settings.blank_key_is_none(value)

    @field_validator("embedding_api_key")
    @classmethod
    def _key_where_needed(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        data = info.data
        return embedder_settings.api_key(
            value, data.get("embedder"), data.get("environment"), data.get("embedding_base_url")
        )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise settings_error(error, type(self).model_fields, unshown=_UNSHOWN_FIELDS) from None

    # --- derived values ----------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        if self.database_url == MEMORY_URL:
            return "memory"
        return "postgresql" if make_url(self.database_url).get_backend_name() == "postgresql" else "sqlite"

    @property
    def embedder_chosen(self) -> bool:
        """Whether ``EMBEDDER`` was given; if not, a store keeps the embedder it records."""
        return "embedder" in self.model_fields_set

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def migrates_on_start(self) -> bool:
        """Whether opening the backend first brings the schema up to date (``AUTO_MIGRATE``)."""
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.environment in ("development", "test")

    @property
    def redacted_database_url(self) -> str:
        return self.database_url if self.backend == "memory" else redact(self.database_url)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None for other backends (and SQLite URI filenames)."""
        if self.backend != "sqlite":
            return None
        database = make_url(self.database_url).database or ""
        return None if database.startswith("file:") else Path(database)

    # --- checks ------------------------------------------------------------------------------

    @field_validator("database_url", mode="before")
    @classmethod
    def _normalise_database_url(cls, value: object) -> object:
        return database_urls.primary_url(value)

    @field_validator("database_replica_url", "database_runtime_url", mode="before")
    @classmethod
    def _normalise_replica_url(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return database_urls.normalised_url(value)

    @field_validator("login_limit_per_account_address", "login_limit_per_address")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        return security_settings.rate_limit(value)

    @field_validator("login_throttle_storage")
    @classmethod
    def _throttle_storage(cls, value: str) -> str:
        return security_settings.throttle_storage(value)

    @field_validator("jwt_secret_key", mode="before")
    @classmethod
    def _secret_or_empty(cls, value: object) -> object:
        return "" if value is None else value

    @field_validator("postgres_runtime_role")
    @classmethod
    def _plain_identifier(cls, value: str) -> str:
        return security_settings.role_name(value)

    @model_validator(mode="after")
    def _check_together(self) -> Settings:
        problems: list[tuple[str, str]] = []
        if self.chunk_overlap >= self.chunk_size:
            problems.append(("CHUNK_OVERLAP", f"must be less than CHUNK_SIZE ({self.chunk_size})"))
        if self.hnsw_ef_construction < 2 * self.hnsw_m:
            problems.append(("HNSW_EF_CONSTRUCTION", f"must be at least twice HNSW_M ({2 * self.hnsw_m})"))
        problems.extend(security_settings.password_cost_problems(self))
        problems.extend(embedder_settings.dimension_problems(self))
        problems.extend(
            database_urls.companion_problems(
                self.backend, self.database_replica_url, self.database_runtime_url
            )
        )
        if self.backend == "postgresql":
            problems.extend(database_urls.take_url_parameters(self, _variable))
        if not problems:
            problems.extend(security_settings.resolve_jwt_secret(self))
        if problems:
            raise SettingsError(problems)
        return self

    @property
    def parse_limits(self) -> parse_limits.ParseLimits:
        return parse_limits.ParseLimits(
            max_pages=self.parse_max_pages,
            max_inflated_bytes=self.parse_max_inflated_bytes,
            timeout_seconds=self.parse_timeout_seconds,
            workers=self.parse_workers,
        )

    @property
    def data_folder(self) -> Path | None:
        """The folder files beside the database live in: the SQLite file's, else (PostgreSQL)
        the working directory; None for memory://, which keeps nothing."""
        if self.backend == "memory":
            return None
        path = self.sqlite_path
        return Path.cwd() if path is None else path.parent

    @property
    def blob_store_folder(self) -> Path | None:
        """``BLOB_STORE_PATH``, else ``tenantrag-blobs/`` in the data folder."""
        folder = self.data_folder
        if self.blob_store_path is not None or folder is None:
            return self.blob_store_path
        return folder / "tenantrag-blobs"

    @property
    def development_secret_file(self) -> Path | None:
        """Where development keeps its generated JWT secret (backups carry it)."""
        folder = self.data_folder
        return None if folder is None else folder / jwt_secret.SECRET_FILE_NAME


def variables() -> dict[str, list[str]]:
    """Every setting's environment variables, by field name (the first one is the main name)."""
    return {field: variable_names(field, info) for field, info in Settings.model_fields.items()}


def _variable(field: str) -> str:
    return variable_label(field, Settings.model_fields[field])
