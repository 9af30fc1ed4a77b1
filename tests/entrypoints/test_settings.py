"""Settings: every variable is read, every bad value stops the start with its variable's name,
secrets stay secret, and database URLs are normalised without losing their parameters."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from tenantrag.entrypoints import jwt_secret
from tenantrag.entrypoints.settings import MEMORY_URL, Settings, SettingsError, variables
from tests.entrypoints.conftest import MakeSettings

SECRET = "s" * 64
PG = "postgresql://app:pa55word@db.example.com:5432/rag"


def test_nothing_set_means_sqlite_in_the_working_directory_in_development(clean_env: Path) -> None:
    settings = Settings(_env_file=None)

    assert settings.environment == "development"
    assert settings.database_url == "sqlite+aiosqlite:///./tenantrag.db"
    assert settings.backend == "sqlite"
    assert settings.sqlite_path == Path("tenantrag.db")
    assert settings.migrates_on_start
    assert (settings.embedding_dimension, settings.max_k, settings.max_page_size) == (384, 100, 100)
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
    ("EMBEDDER", "hashing", "embedder", "hashing"),
    ("EMBEDDING_DIMENSION", "768", "embedding_dimension", 768),
    ("CHUNK_SIZE", "500", "chunk_size", 500),
    ("CHUNK_OVERLAP", "50", "chunk_overlap", 50),
    ("MAX_K", "20", "max_k", 20),
    ("MAX_PAGE_SIZE", "25", "max_page_size", 25),
    ("MAX_UPLOAD_BYTES", "1024", "max_upload_bytes", 1024),
    ("TEXT_SEARCH_CONFIG", "german", "text_search_config", "german"),
    ("HYBRID_RRF_K", "20", "hybrid_rrf_k", 20),
    ("WORKER_LEASE_SECONDS", "90", "worker_lease_seconds", 90.0),
    ("WORKER_MAX_ATTEMPTS", "5", "worker_max_attempts", 5),
    ("WORKER_POLL_INTERVAL", "0.25", "worker_poll_interval", 0.25),
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


# (variables, the variable the message must name, a fragment of what it accepts)
INVALID = [
    ({"ENVIRONMENT": "prod"}, "ENVIRONMENT", "'development', 'test', 'staging' or 'production'"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL", "'DEBUG'"),
    ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL", "use one of: postgresql, sqlite"),
    ({"DATABASE_URL": "not a url"}, "DATABASE_URL", "is not a database URL"),
    ({"DATABASE_URL": "sqlite+pysqlite:///x.db"}, "DATABASE_URL", "not an async driver"),
    ({"DATABASE_URL": "sqlite:///:memory:"}, "DATABASE_URL", "memory://"),
    ({"DATABASE_ECHO": "maybe"}, "DATABASE_ECHO (or SQL_ECHO)", "valid boolean"),
    ({"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE (or DATABASE_POOL_SIZE)", "greater than or equal to 1"),
    ({"DATABASE_POOL_SIZE": "lots"}, "DB_POOL_SIZE (or DATABASE_POOL_SIZE)", "valid integer"),
    ({"DB_MAX_OVERFLOW": "-1"}, "DB_MAX_OVERFLOW (or DATABASE_MAX_OVERFLOW)", "greater than or equal to 0"),
    ({"DB_POOL_TIMEOUT": "0"}, "DB_POOL_TIMEOUT (or DATABASE_POOL_TIMEOUT)", "greater than 0"),
    ({"DB_POOL_RECYCLE": "-5"}, "DB_POOL_RECYCLE", "greater than or equal to -1"),
    ({"DB_CONNECT_TIMEOUT": "soon"}, "DB_CONNECT_TIMEOUT", "valid number"),
    ({"DB_COMMAND_TIMEOUT": "0"}, "DB_COMMAND_TIMEOUT", "greater than 0"),
    ({"DB_SSL_MODE": "on"}, "DB_SSL_MODE", "'verify-ca' or 'verify-full'"),
    (
        {"POSTGRES_RUNTIME_ROLE": "App Role"},
        "POSTGRES_RUNTIME_ROLE",
        "plain lower-case PostgreSQL identifier",
    ),
    ({"POSTGRES_RUNTIME_ROLE": "x; DROP ROLE y"}, "POSTGRES_RUNTIME_ROLE", "identifier"),
    ({"HNSW_M": "1"}, "HNSW_M", "greater than or equal to 2"),
    ({"HNSW_EF_CONSTRUCTION": "20"}, "HNSW_EF_CONSTRUCTION", "at least twice HNSW_M (32)"),
    ({"HNSW_EF_SEARCH": "5000"}, "HNSW_EF_SEARCH", "less than or equal to 1000"),
    ({"VECTOR_DISTANCE": "euclid"}, "VECTOR_DISTANCE", "'cosine', 'l2' or 'inner_product'"),
    ({"JWT_ALGORITHM": "RS256"}, "JWT_ALGORITHM", "'HS256', 'HS384' or 'HS512'"),
    ({"JWT_ALGORITHM": "none"}, "JWT_ALGORITHM", "'HS256'"),
    (
        {"JWT_ACCESS_TOKEN_EXPIRE_MINUTES": "0"},
        "JWT_ACCESS_TOKEN_EXPIRE_MINUTES",
        "greater than or equal to 1",
    ),
    ({"PASSWORD_HASH_TIME_COST": "0"}, "PASSWORD_HASH_TIME_COST", "greater than or equal to 1"),
    ({"PASSWORD_HASH_MEMORY_COST": "16"}, "PASSWORD_HASH_MEMORY_COST", "8 KiB per lane"),
    (
        {"ENVIRONMENT": "production", "JWT_SECRET_KEY": SECRET, "PASSWORD_HASH_MEMORY_COST": "1024"},
        "PASSWORD_HASH_MEMORY_COST",
        "at least 19456 KiB in production",
    ),
    (
        {"ENVIRONMENT": "staging", "JWT_SECRET_KEY": SECRET, "PASSWORD_HASH_TIME_COST": "1"},
        "PASSWORD_HASH_TIME_COST",
        "at least 2 in staging",
    ),
    ({"EMBEDDER": "word2vec"}, "EMBEDDER", "'hashing', 'openai' or 'sentence-transformers'"),
    ({"EMBEDDING_DIMENSION": "20000"}, "EMBEDDING_DIMENSION", "less than or equal to 16000"),
    ({"CHUNK_SIZE": "100", "CHUNK_OVERLAP": "100"}, "CHUNK_OVERLAP", "less than CHUNK_SIZE (100)"),
    ({"MAX_K": "0"}, "MAX_K", "greater than or equal to 1"),
    ({"MAX_PAGE_SIZE": "5000"}, "MAX_PAGE_SIZE", "less than or equal to 1000"),
    ({"MAX_UPLOAD_BYTES": "ten"}, "MAX_UPLOAD_BYTES", "valid integer"),
    ({"WORKER_LEASE_SECONDS": "0.5"}, "WORKER_LEASE_SECONDS", "greater than or equal to 1"),
    ({"WORKER_MAX_ATTEMPTS": "0"}, "WORKER_MAX_ATTEMPTS", "greater than or equal to 1"),
    ({"WORKER_MAX_ATTEMPTS": "2.5"}, "WORKER_MAX_ATTEMPTS", "valid integer"),
    ({"WORKER_POLL_INTERVAL": "0"}, "WORKER_POLL_INTERVAL", "greater than 0"),
    ({"WORKER_POLL_INTERVAL": "nan"}, "WORKER_POLL_INTERVAL", "finite number"),
    ({"TEXT_SEARCH_CONFIG": "english; DROP TABLE chunks"}, "TEXT_SEARCH_CONFIG", "match pattern"),
    ({"HYBRID_RRF_K": "0"}, "HYBRID_RRF_K", "greater than or equal to 1"),
    ({"DATABASE_REPLICA_URL": PG}, "DATABASE_REPLICA_URL", "read replicas are for PostgreSQL"),
    (
        {"DATABASE_URL": PG, "DATABASE_REPLICA_URL": "sqlite:///r.db"},
        "DATABASE_REPLICA_URL",
        "PostgreSQL URL",
    ),
    (
        {"DATABASE_URL": PG, "DB_SSL_ROOT_CERT": "/no/such/ca.pem"},
        "DB_SSL_ROOT_CERT (or DB_SSL_CA_PATH)",
        "no such file",
    ),
    (
        {"DATABASE_URL": PG, "DB_SSL_KEY_PATH": "/no/such/key.pem"},
        "DB_SSL_KEY (or DB_SSL_KEY_PATH)",
        "no such file",
    ),
]


@pytest.mark.parametrize(("environment", "variable", "accepted"), INVALID, ids=[str(i[0]) for i in INVALID])
def test_an_invalid_value_names_its_variable_and_what_is_accepted(
    settings_from_env: MakeSettings, environment: dict[str, str], variable: str, accepted: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(**environment)
    assert raised.value.problems[0][0] == variable
    assert accepted in raised.value.problems[0][1]
    assert str(raised.value).startswith(f"invalid setting {variable}: ")
    assert raised.value.code == "invalid_settings"


def test_every_invalid_value_is_reported_at_once(settings_from_env: MakeSettings) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(DB_POOL_SIZE="x", MAX_K="0", DB_SSL_MODE="on")
    assert [variable for variable, _ in raised.value.problems] == [
        "DB_POOL_SIZE (or DATABASE_POOL_SIZE)",
        "DB_SSL_MODE",
        "MAX_K",
    ]
    assert str(raised.value).startswith("invalid settings:\n  DB_POOL_SIZE")
    assert raised.value.details == {"variables": [variable for variable, _ in raised.value.problems]}


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("sqlite:///./app.db", "sqlite+aiosqlite:///./app.db"),
        ("sqlite+aiosqlite:////var/lib/app.db", "sqlite+aiosqlite:////var/lib/app.db"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql+asyncpg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u:p%40ss@h/db?sslmode=require", "postgresql+psycopg://u:p%40ss@h/db?sslmode=require"),
        ("  memory://  ", MEMORY_URL),
        ("MEMORY://", MEMORY_URL),
    ],
)
def test_database_urls_get_the_projects_driver(
    settings_from_env: MakeSettings, given: str, normalised: str
) -> None:
    settings = settings_from_env(DATABASE_URL=given)
    assert settings.database_url == normalised


def test_the_backend_follows_the_url(settings_from_env: MakeSettings) -> None:
    assert settings_from_env(DATABASE_URL="memory://").backend == "memory"
    assert settings_from_env(DATABASE_URL=PG).backend == "postgresql"
    assert settings_from_env(DATABASE_URL="sqlite:///x.db").backend == "sqlite"
    assert settings_from_env(DATABASE_URL=PG).sqlite_path is None


def test_url_parameters_fill_their_settings_and_keep_working(settings_from_env: MakeSettings) -> None:
    settings = settings_from_env(
        DATABASE_URL=f"{PG}?sslmode=require&connect_timeout=5&application_name=indexer&options=-c%20x%3D1"
    )
    assert (settings.db_ssl_mode, settings.db_connect_timeout, settings.db_application_name) == (
        "require",
        5.0,
        "indexer",
    )
    assert "sslmode=require" in settings.database_url
    assert "options=-c%20x%3D1" in settings.database_url


def test_a_url_parameter_agreeing_with_its_variable_is_fine(settings_from_env: MakeSettings) -> None:
    assert (
        settings_from_env(DATABASE_URL=f"{PG}?sslmode=require", DB_SSL_MODE="require").db_ssl_mode
        == "require"
    )


def test_a_url_parameter_contradicting_its_variable_is_refused(settings_from_env: MakeSettings) -> None:
    with pytest.raises(
        SettingsError, match=r"DB_SSL_MODE: is 'disable' but DATABASE_URL says sslmode=require"
    ):
        settings_from_env(DATABASE_URL=f"{PG}?sslmode=require", DB_SSL_MODE="disable")


def test_a_bad_url_parameter_is_refused(settings_from_env: MakeSettings) -> None:
    with pytest.raises(SettingsError, match=r"DATABASE_URL: sslmode='sometimes': must be one of disable"):
        settings_from_env(DATABASE_URL=f"{PG}?sslmode=sometimes")
    with pytest.raises(SettingsError, match=r"connect_timeout='-3': must be more than zero"):
        settings_from_env(DATABASE_URL=f"{PG}?connect_timeout=-3")


def test_certificate_files_that_exist_are_accepted(settings_from_env: MakeSettings, clean_env: Path) -> None:
    (clean_env / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="ascii")
    settings = settings_from_env(DATABASE_URL=PG, DB_SSL_CA_PATH=str(clean_env / "ca.pem"))
    assert settings.db_ssl_root_cert == str(clean_env / "ca.pem")
    # SQLite has no use for them, so they are not checked there.
    assert (
        settings_from_env(DATABASE_URL="sqlite:///x.db", DB_SSL_CERT="/nowhere.pem").db_ssl_cert
        == "/nowhere.pem"
    )


def test_a_replica_url_is_normalised_like_the_primary(settings_from_env: MakeSettings) -> None:
    settings = settings_from_env(DATABASE_URL=PG, DATABASE_REPLICA_URL="postgres://ro:pw@replica/rag")
    assert settings.database_replica_url == "postgresql+psycopg://ro:pw@replica/rag"


def test_auto_migrate_defaults_to_development_and_test_only(settings_from_env: MakeSettings) -> None:
    assert settings_from_env(ENVIRONMENT="test", JWT_SECRET_KEY=SECRET).migrates_on_start
    assert not settings_from_env(ENVIRONMENT="production", JWT_SECRET_KEY=SECRET).migrates_on_start
    assert settings_from_env(
        ENVIRONMENT="production", JWT_SECRET_KEY=SECRET, AUTO_MIGRATE="1"
    ).migrates_on_start


# --- secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["test", "staging", "production"])
def test_outside_development_a_jwt_secret_is_required(
    settings_from_env: MakeSettings, environment: str
) -> None:
    with pytest.raises(SettingsError, match=f"JWT_SECRET_KEY: is required when ENVIRONMENT={environment}"):
        settings_from_env(ENVIRONMENT=environment)


@pytest.mark.parametrize(
    ("algorithm", "length", "accepted"),
    [
        ("HS256", 31, False),
        ("HS256", 32, True),
        ("HS384", 47, False),
        ("HS384", 48, True),
        ("HS512", 63, False),
        ("HS512", 64, True),
    ],
)
def test_outside_development_the_secret_must_be_as_long_as_the_hash(
    settings_from_env: MakeSettings, algorithm: str, length: int, accepted: bool
) -> None:
    environment = {"ENVIRONMENT": "production", "JWT_ALGORITHM": algorithm, "JWT_SECRET_KEY": "k" * length}
    if accepted:
        assert len(settings_from_env(**environment).jwt_secret_key.get_secret_value()) == length
    else:
        with pytest.raises(SettingsError, match=f"is {length} bytes; {algorithm} needs at least"):
            settings_from_env(**environment)


def test_outside_development_a_placeholder_secret_is_refused(settings_from_env: MakeSettings) -> None:
    with pytest.raises(SettingsError, match="placeholder"):
        settings_from_env(ENVIRONMENT="production", JWT_SECRET_KEY="dev-secret-key-not-for-production")


def test_in_development_a_short_secret_is_accepted_with_a_warning(
    settings_from_env: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    assert settings_from_env(JWT_SECRET_KEY="short").jwt_secret_key.get_secret_value() == "short"
    assert "shorter than 32 bytes" in caplog.text


def test_in_development_a_secret_is_generated_beside_the_database_and_kept(
    settings_from_env: MakeSettings, clean_env: Path
) -> None:
    (clean_env / "data").mkdir()
    first = settings_from_env(DATABASE_URL=f"sqlite:///{clean_env}/data/app.db")
    second = Settings(_env_file=None)

    secret_file = clean_env / "data" / jwt_secret.SECRET_FILE_NAME
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert first.jwt_secret_key.get_secret_value() == secret_file.read_text(encoding="ascii").strip()
    assert second.jwt_secret_key == first.jwt_secret_key
    assert len(first.jwt_secret_key.get_secret_value().encode()) >= 64
    assert not (clean_env / "data" / "app.db").exists()


def test_the_memory_backend_gets_a_secret_of_its_own_and_writes_nothing(
    settings_from_env: MakeSettings, clean_env: Path
) -> None:
    first = settings_from_env(DATABASE_URL="memory://")
    assert len(first.jwt_secret_key.get_secret_value()) >= 64
    assert list(clean_env.iterdir()) == []
    assert Settings(_env_file=None).jwt_secret_key != first.jwt_secret_key


def test_a_folder_that_cannot_hold_the_secret_means_one_per_process(
    settings_from_env: MakeSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_from_env(DATABASE_URL="sqlite:////no/such/folder/app.db")
    assert len(settings.jwt_secret_key.get_secret_value()) >= 64
    assert "for this process only" in caplog.text


def test_a_stored_secret_too_short_for_the_algorithm_is_refused(
    settings_from_env: MakeSettings, clean_env: Path
) -> None:
    (clean_env / jwt_secret.SECRET_FILE_NAME).write_text("x" * 40, encoding="ascii")
    with pytest.raises(SettingsError, match="shorter than 64 bytes; delete the file"):
        settings_from_env(JWT_ALGORITHM="HS512")


def test_secrets_and_passwords_never_show(settings_from_env: MakeSettings) -> None:
    settings = settings_from_env(DATABASE_URL=PG, DATABASE_REPLICA_URL=PG, JWT_SECRET_KEY=SECRET)
    for shown in (repr(settings), str(settings)):
        assert "pa55word" not in shown
        assert SECRET not in shown
    assert settings.redacted_database_url == "postgresql+psycopg://app:***@db.example.com:5432/rag"
    assert isinstance(settings.jwt_secret_key, SecretStr)


def test_errors_do_not_show_passwords_or_secrets(settings_from_env: MakeSettings) -> None:
    with pytest.raises(SettingsError) as raised:
        settings_from_env(
            DATABASE_URL="mysql://app:pa55word@db/rag",
            DB_POOL_SIZE="x",
            ENVIRONMENT="production",
            JWT_SECRET_KEY="tiny-secret",
        )
    assert "pa55word" not in str(raised.value)
    with pytest.raises(SettingsError) as raised:
        settings_from_env(DATABASE_URL=PG, ENVIRONMENT="production", JWT_SECRET_KEY="tiny-secret")
    assert "tiny-secret" not in str(raised.value)
    assert "pa55word" not in str(raised.value)


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
