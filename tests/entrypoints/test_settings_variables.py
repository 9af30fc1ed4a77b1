"""Settings read from the environment: what nothing set means, every variable read into its field
(and the table of them kept complete), which spelling, keyword argument or .env file wins, an empty
variable counting as unset, and the defaults that follow other settings: migrating on start, the
blob store folder beside the database, and the worker's timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantrag.domain.fusion import FusionMethod
from tenantrag.entrypoints.settings import Settings, SettingsError, variables
from tests.entrypoints.conftest import MakeSettings
from tests.entrypoints.settings_values import SECRET


def test_nothing_set_means_sqlite_in_the_working_directory_in_development(clean_env: Path) -> None:
    settings = Settings(_env_file=None)

    assert settings.environment == "development"
    assert settings.database_url == "sqlite+aiosqlite:///./tenantrag.db"
    assert settings.backend == "sqlite"
    assert settings.sqlite_path == Path("tenantrag.db")
    assert settings.migrates_on_start
    assert (settings.embedder, settings.embedding_dimension) == ("wordllama", 256)
    assert (settings.max_k, settings.max_page_size) == (100, 100)
    assert settings.max_upload_bytes == 10 * 1024 * 1024
    assert (settings.jwt_algorithm, settings.jwt_access_token_expire_minutes, settings.jwt_audience) == (
        "HS256",
        30,
        "tenantrag",
    )
    assert not (clean_env / "tenantrag.db").exists()  # settings never touch the database


# (variable, value, field, expected value after parsing)
EVERY_VARIABLE = [
    ("ENVIRONMENT", "test", "environment", "test"),
    ("LOG_LEVEL", "DEBUG", "log_level", "DEBUG"),
    ("DATABASE_URL", "sqlite:///data/app.db", "database_url", "sqlite+aiosqlite:///data/app.db"),
    ("DATABASE_ECHO", "true", "database_echo", True),
    ("DATABASE_REPLICA_MAX_LAG", "2.5", "database_replica_max_lag", 2.5),
    ("DATABASE_REPLICA_CHECK_INTERVAL", "0.5", "database_replica_check_interval", 0.5),
    ("SQL_ECHO", "1", "database_echo", True),
    ("AUTO_MIGRATE", "false", "auto_migrate", False),
    ("DB_POOL_SIZE", "20", "db_pool_size", 20),
    ("DATABASE_POOL_SIZE", "7", "db_pool_size", 7),
    ("DB_MAX_OVERFLOW", "30", "db_max_overflow", 30),
    ("DATABASE_MAX_OVERFLOW", "0", "db_max_overflow", 0),
    ("DB_POOL_TIMEOUT", "12.5", "db_pool_timeout", 12.5),
    ("DATABASE_POOL_TIMEOUT", "3", "db_pool_timeout", 3.0),
    ("DB_POOL_RECYCLE", "-1", "db_pool_recycle", -1),
    ("DB_POOL_PRE_PING", "false", "db_pool_pre_ping", False),
    ("DB_CONNECT_TIMEOUT", "4", "db_connect_timeout", 4.0),
    ("DB_COMMAND_TIMEOUT", "90", "db_command_timeout", 90.0),
    ("DB_SSL_MODE", "verify-full", "db_ssl_mode", "verify-full"),
    ("DB_APPLICATION_NAME", "rag-api", "db_application_name", "rag-api"),
    ("DB_PREPARED_STATEMENTS", "no", "db_prepared_statements", False),
    ("POSTGRES_RUNTIME_ROLE", "rag_runtime", "postgres_runtime_role", "rag_runtime"),
    ("SQLITE_VECTOR_CACHE_MB", "64", "sqlite_vector_cache_mb", 64),
    ("HNSW_M", "32", "hnsw_m", 32),
    ("HNSW_EF_CONSTRUCTION", "200", "hnsw_ef_construction", 200),
    ("HNSW_EF_SEARCH", "64", "hnsw_ef_search", 64),
    ("VECTOR_DISTANCE", "inner_product", "vector_distance", "inner_product"),
    ("EXACT_SEARCH_LIMIT", "500", "exact_search_limit", 500),
    ("JWT_ALGORITHM", "HS384", "jwt_algorithm", "HS384"),
    ("JWT_ACCESS_TOKEN_EXPIRE_MINUTES", "15", "jwt_access_token_expire_minutes", 15),
    ("JWT_AUDIENCE", "my-rag", "jwt_audience", "my-rag"),
    ("PASSWORD_HASH_TIME_COST", "2", "password_hash_time_cost", 2),
    ("PASSWORD_HASH_MEMORY_COST", "1024", "password_hash_memory_cost", 1024),
    ("PASSWORD_HASH_PARALLELISM", "1", "password_hash_parallelism", 1),
    ("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "5/minute", "login_limit_per_account_address", "5/minute"),
    ("LOGIN_LIMIT_PER_ADDRESS", "50 per hour", "login_limit_per_address", "50 per hour"),
    ("LOGIN_THROTTLE_STORAGE", "memory://", "login_throttle_storage", "memory://"),
    ("PARSE_MAX_PAGES", "50", "parse_max_pages", 50),
    ("PARSE_MAX_INFLATED_BYTES", "1000000", "parse_max_inflated_bytes", 1_000_000),
    ("PARSE_TIMEOUT_SECONDS", "2.5", "parse_timeout_seconds", 2.5),
    ("PARSE_WORKERS", "2", "parse_workers", 2),
    ("EMBEDDER", "hashing", "embedder", "hashing"),
    ("EMBEDDING_DIMENSION", "768", "embedding_dimension", 768),
    ("CHUNK_SIZE", "500", "chunk_size", 500),
    ("CHUNK_OVERLAP", "50", "chunk_overlap", 50),
    ("MAX_K", "20", "max_k", 20),
    ("MAX_PAGE_SIZE", "25", "max_page_size", 25),
    ("MAX_UPLOAD_BYTES", "1024", "max_upload_bytes", 1024),
    ("TEXT_SEARCH_CONFIG", "german", "text_search_config", "german"),
    ("HYBRID_RRF_K", "20", "hybrid_rrf_k", 20),
    ("HYBRID_FUSION", "rrf", "hybrid_fusion", FusionMethod.RRF),
    ("WORKER_LEASE_SECONDS", "90", "worker_lease_seconds", 90.0),
    ("WORKER_MAX_ATTEMPTS", "5", "worker_max_attempts", 5),
    ("WORKER_POLL_INTERVAL", "0.25", "worker_poll_interval", 0.25),
    ("ALLOW_SIGNUP", "true", "allow_signup", True),
    ("LOG_FORMAT", "json", "log_format", "json"),
    ("METRICS_ENABLED", "false", "metrics_enabled", False),
    ("METRICS_TENANT_LABELS", "true", "metrics_tenant_labels", True),
    ("TRACING", "otlp", "tracing", "otlp"),
]


@pytest.mark.parametrize(
    ("variable", "raw", "field", "expected"), EVERY_VARIABLE, ids=[v[0] for v in EVERY_VARIABLE]
)
def test_every_variable_is_read(
    settings_from_env: MakeSettings, variable: str, raw: str, field: str, expected: object
) -> None:
    extra = {"JWT_SECRET_KEY": SECRET} if variable == "ENVIRONMENT" else {}
    settings = settings_from_env(**{variable: raw, **extra})
    assert getattr(settings, field) == expected


def test_the_table_above_covers_every_variable() -> None:
    tested = {variable for variable, *_ in EVERY_VARIABLE} | {
        "DATABASE_REPLICA_URL",
        "DATABASE_RUNTIME_URL",  # test_settings_validation.py: it needs a PostgreSQL DATABASE_URL
        "JWT_SECRET_KEY",
        "DB_SSL_ROOT_CERT",
        "DB_SSL_CA_PATH",
        "DB_SSL_CERT",
        "DB_SSL_CERT_PATH",
        "DB_SSL_KEY",
        "DB_SSL_KEY_PATH",
        # tests/entrypoints/test_embedder_settings.py reads these.
        "EMBEDDING_MODEL",
        "EMBEDDING_BASE_URL",
        "EMBEDDING_API_KEY",
        "EMBEDDING_BATCH_SIZE",
        "EMBEDDING_TIMEOUT",
        "EMBEDDING_MAX_RETRIES",
        "EMBEDDING_REQUEST_DIMENSIONS",
        # test_blob_store_folder_follows_the_database below.
        "BLOB_STORE_PATH",
        # tests/http/test_documents.py::test_the_embedded_worker_ingests_queued_uploads
        "EMBEDDED_WORKER",
        # test_worker_retry_delay_is_read below.
        "WORKER_RETRY_DELAY_SECONDS",
    }
    every = {name for names in variables().values() for name in names}
    assert every == tested


def test_the_first_spelling_wins_when_both_are_set(settings_from_env: MakeSettings) -> None:
    assert settings_from_env(DB_POOL_SIZE="3", DATABASE_POOL_SIZE="9").db_pool_size == 3


def test_keyword_arguments_win_over_the_environment(
    settings_from_env: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    assert Settings(_env_file=None, db_pool_size=11).db_pool_size == 11


def test_an_empty_variable_counts_as_unset(settings_from_env: MakeSettings) -> None:
    settings = settings_from_env(DATABASE_URL="", DB_SSL_MODE="", DB_POOL_SIZE="")
    assert settings.database_url == "sqlite+aiosqlite:///./tenantrag.db"
    assert settings.db_ssl_mode is None
    assert settings.db_pool_size == 5


def test_a_dotenv_file_is_read_and_the_environment_wins_over_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / ".env").write_text(
        "DB_POOL_SIZE=8\nMAX_K=12\nUNRELATED_VARIABLE=ignored\n", encoding="utf-8"
    )
    monkeypatch.setenv("MAX_K", "40")
    settings = Settings()
    assert (settings.db_pool_size, settings.max_k) == (8, 40)


def test_auto_migrate_defaults_to_development_and_test_only(settings_from_env: MakeSettings) -> None:
    assert settings_from_env(ENVIRONMENT="test", JWT_SECRET_KEY=SECRET).migrates_on_start
    assert not settings_from_env(ENVIRONMENT="production", JWT_SECRET_KEY=SECRET).migrates_on_start
    assert settings_from_env(
        ENVIRONMENT="production", JWT_SECRET_KEY=SECRET, AUTO_MIGRATE="1"
    ).migrates_on_start


def test_blob_store_folder_follows_the_database(settings_from_env: MakeSettings, tmp_path: Path) -> None:
    assert settings_from_env(DATABASE_URL="memory://").blob_store_folder is None
    beside = settings_from_env(DATABASE_URL=f"sqlite:///{tmp_path / 'rag.db'}")
    assert beside.blob_store_folder == tmp_path / "tenantrag-blobs"
    chosen = settings_from_env(DATABASE_URL=f"sqlite:///{tmp_path / 'rag.db'}", BLOB_STORE_PATH="/srv/blobs")
    assert chosen.blob_store_folder == Path("/srv/blobs")


def test_worker_defaults(settings_from_env: MakeSettings) -> None:
    settings = settings_from_env()
    assert (settings.worker_lease_seconds, settings.worker_max_attempts) == (300.0, 3)
    assert settings.worker_poll_interval == 1.0


def test_worker_retry_delay_is_read(settings_from_env: MakeSettings) -> None:
    assert settings_from_env(WORKER_RETRY_DELAY_SECONDS="0.5").worker_retry_delay_seconds == 0.5
    with pytest.raises(SettingsError, match="WORKER_RETRY_DELAY_SECONDS"):
        settings_from_env(WORKER_RETRY_DELAY_SECONDS="-1")
