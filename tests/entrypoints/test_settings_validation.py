"""Settings that stop the start: every bad value is refused naming its variable and what it
accepts, all of them reported at once; and database URLs, normalised to the project's drivers
without losing their parameters, which fill their settings but may not contradict them, with
certificate files checked and a replica URL normalised like the primary."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantrag.entrypoints.settings import MEMORY_URL, SettingsError
from tests.entrypoints.conftest import MakeSettings
from tests.entrypoints.settings_values import PG, SECRET

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
    (
        {"EMBEDDER": "word2vec"},
        "EMBEDDER",
        "'wordllama', 'hashing', 'openai', 'sentence-transformers' or 'fastembed'",
    ),
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
    ({"HYBRID_FUSION": "borda"}, "HYBRID_FUSION", "relative_score"),
    ({"LOGIN_LIMIT_PER_ADDRESS": "lots"}, "LOGIN_LIMIT_PER_ADDRESS", "'10 per 15 minutes'"),
    ({"LOGIN_LIMIT_PER_ACCOUNT_ADDRESS": "5 per fortnight"}, "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "notation"),
    ({"LOGIN_THROTTLE_STORAGE": "carrier-pigeon://coop"}, "LOGIN_THROTTLE_STORAGE", "memory://"),
    ({"PARSE_TIMEOUT_SECONDS": "0"}, "PARSE_TIMEOUT_SECONDS", "greater than 0"),
    ({"PARSE_MAX_PAGES": "0"}, "PARSE_MAX_PAGES", "greater than or equal to 1"),
    ({"DATABASE_REPLICA_URL": PG}, "DATABASE_REPLICA_URL", "read replicas are for PostgreSQL"),
    (
        {"DATABASE_URL": PG, "DATABASE_REPLICA_URL": "sqlite:///r.db"},
        "DATABASE_REPLICA_URL",
        "PostgreSQL URL",
    ),
    ({"DATABASE_RUNTIME_URL": PG}, "DATABASE_RUNTIME_URL", "is for PostgreSQL"),
    (
        {"DATABASE_URL": PG, "DATABASE_RUNTIME_URL": "sqlite:///r.db"},
        "DATABASE_RUNTIME_URL",
        "is for PostgreSQL",
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


def test_a_runtime_url_is_normalised_and_reaches_the_postgres_options(
    settings_from_env: MakeSettings,
) -> None:
    from tenantrag.entrypoints.backends import postgres_options

    settings = settings_from_env(DATABASE_URL=PG, DATABASE_RUNTIME_URL="postgres://tenantrag_app:pw@db/rag")
    assert settings.database_runtime_url == "postgresql+psycopg://tenantrag_app:pw@db/rag"
    assert postgres_options(settings).runtime_url == settings.database_runtime_url
    assert "pw" not in repr(settings)
