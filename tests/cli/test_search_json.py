"""``tenantrag search --json``: each row carries what an HTTP hit does (file name, title, the
places in the two rankings of a hybrid search) and the search's query log, which exists."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, output_json


@pytest.fixture
def owls(cli: Cli, database: Path, tmp_path: Path) -> Path:
    note = tmp_path / "owls.md"
    note.write_text("---\ntitle: Night birds\n---\nOwls hunt mice at night.\n", encoding="utf-8")
    assert cli("ingest", "demo-workspace", str(note)).exit_code == 0
    return note


@pytest.mark.parametrize("group", ["documents", "chunks"])
def test_rows_carry_ranks_title_and_the_query_log(cli: Cli, database: Path, owls: Path, group: str) -> None:
    rows = output_json(
        cli("search", "demo-workspace", "owls hunt at night", "-k", "3", "--group", group, "--json")
    )
    [row] = [row for row in rows if row["filename"] == "owls.md"]
    assert row["title"] == "Night birds"
    assert row["vector_rank"] is not None
    assert row["text_rank"] == 1
    assert row["rank"] == 1
    # One search, one query log, named by every row.
    assert len({r["query_log_id"] for r in rows}) == 1
    with sqlite3.connect(database) as connection:
        logged = connection.execute(
            "SELECT count(*) FROM query_logs WHERE id = ?", (uuid.UUID(row["query_log_id"]).hex,)
        ).fetchone()
    assert logged == (1,)


def test_text_mode_rows_have_no_ranks(cli: Cli, owls: Path) -> None:
    rows = output_json(cli("search", "demo-workspace", "owls", "--mode", "text", "--json"))
    assert rows
    assert all(row["vector_rank"] is None and row["text_rank"] is None for row in rows)
