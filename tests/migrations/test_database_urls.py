"""Database URLs: bare schemes get the async drivers; the URL comes from config, env, or default."""

from __future__ import annotations

import pytest

from tenantrag.adapters.sql.urls import (
    DEFAULT_DATABASE_URL,
    normalize_database_url,
    redact,
    resolve_database_url,
)
from tenantrag.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///tenantrag.db", "sqlite+aiosqlite:///tenantrag.db"),
        ("sqlite:////var/lib/rag/db.sqlite", "sqlite+aiosqlite:////var/lib/rag/db.sqlite"),
        ("sqlite://", "sqlite+aiosqlite://"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgres+asyncpg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db?sslmode=require", "postgresql+psycopg://u@h/db?sslmode=require"),
        ("postgresql+psycopg_async://u@h/db", "postgresql+psycopg://u@h/db"),
        ("PostgreSQL://u@h/db", "postgresql+psycopg://u@h/db"),
        ("  sqlite:///x.db\n", "sqlite+aiosqlite:///x.db"),
        # Everything after the scheme is kept as written, percent-escapes included.
        ("postgres://u:p%40ss%2Fw@h/db", "postgresql+psycopg://u:p%40ss%2Fw@h/db"),
    ],
)
def test_urls_get_the_async_driver_of_their_database(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


def test_normalising_twice_changes_nothing() -> None:
    once = normalize_database_url("postgres://u@h/db")

    assert normalize_database_url(once) == once


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("", "not a database URL"),
        ("tenantrag.db", "not a database URL"),
        ("://nothing", "not a database URL"),
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("oracle+oracledb://u@h/db", "unsupported database 'oracle'"),
        ("sqlite+pysqlite:///x.db", "'pysqlite' is not an async driver"),
        ("postgresql+psycopg2://u@h/db", "'psycopg2' is not an async driver"),
        ("postgresql://u@h:notaport/db", "not a valid database URL"),
    ],
)
def test_urls_tenantrag_cannot_use_are_invalid_input(given: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as raised:
        normalize_database_url(given)

    assert raised.value.field == "database_url"


def test_the_field_named_in_errors_can_be_chosen() -> None:
    with pytest.raises(InvalidInput) as raised:
        normalize_database_url("nope", field="url")

    assert raised.value.field == "url"


def test_passwords_stay_out_of_error_messages() -> None:
    with pytest.raises(InvalidInput) as raised:
        normalize_database_url("mysql://admin:hunter2@h/db")

    assert "hunter2" not in str(raised.value)
    assert "***" in str(raised.value)


def test_redact_hides_the_password() -> None:
    assert redact("postgresql+psycopg://admin:hunter2@h/db") == "postgresql+psycopg://admin:***@h/db"
    assert redact("sqlite+aiosqlite:///x.db") == "sqlite+aiosqlite:///x.db"


def test_a_configured_url_comes_first() -> None:
    environ = {"DATABASE_URL": "sqlite:///from-env.db"}

    assert resolve_database_url("postgres://u@h/db", environ) == "postgresql+psycopg://u@h/db"


def test_then_the_environment() -> None:
    environ = {"DATABASE_URL": "sqlite:///from-env.db"}

    assert resolve_database_url(None, environ) == "sqlite+aiosqlite:///from-env.db"
    assert resolve_database_url("", environ) == "sqlite+aiosqlite:///from-env.db"


def test_then_the_default() -> None:
    assert resolve_database_url(None, {}) == DEFAULT_DATABASE_URL
    assert resolve_database_url(None, {"DATABASE_URL": ""}) == DEFAULT_DATABASE_URL
    assert DEFAULT_DATABASE_URL == "sqlite+aiosqlite:///./tenantrag.db"


def test_the_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")

    assert resolve_database_url() == "postgresql+psycopg://u@h/db"
