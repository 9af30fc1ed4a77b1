"""env.py takes the embedding dimension from ``EMBEDDING_DIMENSION`` when nobody passed one,
so ``alembic upgrade`` in a checkout builds the columns the application's settings expect."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from tenantrag.adapters.sql.migrations import make_config
from tenantrag.domain.errors import InvalidInput
from tests.postgres_server import Databases


def test_the_dimension_comes_from_EMBEDDING_DIMENSION(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBEDDING_DIMENSION", "1536")
    config = make_config(database_url)

    command.upgrade(config, "head")

    assert config.attributes["embedding_dimension"] == 1536


def test_a_dimension_passed_in_wins_over_the_environment(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBEDDING_DIMENSION", "1536")
    config = make_config(database_url, embedding_dimension=768)

    command.upgrade(config, "head")

    assert config.attributes["embedding_dimension"] == 768


def test_an_empty_variable_counts_as_unset(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBEDDING_DIMENSION", "")
    config = make_config(database_url)

    command.upgrade(config, "head")

    assert config.attributes["embedding_dimension"] == 384


@pytest.mark.parametrize(
    ("value", "problem"),
    [("lots", "must be a whole number"), ("0", "must be between 1 and"), ("99999", "must be between 1 and")],
)
def test_a_bad_variable_is_invalid_input_naming_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("EMBEDDING_DIMENSION", value)

    with pytest.raises(InvalidInput, match=f"^EMBEDDING_DIMENSION: {problem}") as raised:
        command.upgrade(make_config(database_url), "head")
    assert raised.value.field == "EMBEDDING_DIMENSION"
    assert "from the environment" in raised.value.problem


@pytest.mark.postgres
def test_alembic_upgrade_creates_the_vector_column_of_EMBEDDING_DIMENSION(
    postgres_databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On SQLite an embedding is a BLOB of any length; pgvector's column carries the dimension.
    url = postgres_databases.create(prefix="tenantrag_env_dimension")
    monkeypatch.setenv("EMBEDDING_DIMENSION", "1536")

    command.upgrade(make_config(url), "head")

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            column_type = connection.execute(
                text(
                    "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                    " WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'"
                )
            ).scalar_one()
    finally:
        engine.dispose()
        postgres_databases.drop(url)
    assert column_type == "vector(1536)"
