"""Commands that need an extra that is not installed say which one, never a traceback."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, error_json

POSTGRES_URL = "postgresql://nobody@127.0.0.1:1/none"


@pytest.fixture
def without_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object, **kwargs: object) -> object:
        return None if name.partition(".")[0] in ("psycopg", "pgvector") else real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_the_vector_index_commands_name_postgresql_on_sqlite(cli: Cli, database: Path) -> None:
    result = cli("db", "vector-index", "status", "--json")

    assert result.exit_code == 6
    assert "only PostgreSQL has a vector index" in error_json(result)["message"]


@pytest.mark.usefixtures("without_psycopg")
@pytest.mark.parametrize("command", [["status"], ["db", "vector-index", "status"]])
def test_postgresql_without_its_extra_names_the_extra(cli: Cli, command: list[str]) -> None:
    result = cli(*command, "--database-url", POSTGRES_URL, "--json")

    assert result.exit_code == 9, result.output
    assert "pip install 'tenantrag[postgres]'" in error_json(result)["message"]
