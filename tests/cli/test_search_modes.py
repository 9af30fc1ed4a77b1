"""``tenantrag search`` with ``--mode``, ``--filter`` and ``--rrf-k``; every search recorded."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, error_json, output_json


@pytest.fixture
def pets(cli: Cli, database: Path, tmp_path: Path) -> Path:
    """Two notes tagged pets beside the seeded samples."""
    folder = tmp_path / "pets"
    folder.mkdir()
    for name, text in (
        ("cats", "A cat purrs when it is content. Whiskers twitch.\n"),
        ("dogs", "A dog barks at the postman. Whiskers too.\n"),
    ):
        (folder / f"{name}.md").write_text(text, encoding="utf-8")
        ingested = cli("ingest", "demo-workspace", str(folder / f"{name}.md"), "--tag", "pets", "--tag", name)
        assert ingested.exit_code == 0, ingested.output
    return folder


def filenames(cli: Cli, *args: str) -> list[str]:
    return [hit["filename"] for hit in output_json(cli("search", "demo-workspace", *args, "--json"))]


def test_each_mode_finds_what_it_should(cli: Cli, pets: Path) -> None:
    assert filenames(cli, "whiskers", "--mode", "text") in (["cats.md", "dogs.md"], ["dogs.md", "cats.md"])
    assert filenames(cli, "purrs", "-m", "text") == ["cats.md"]
    assert filenames(cli, "zebra", "--mode", "text") == []
    assert filenames(cli, "a cat purrs", "--mode", "vector", "-k", "1") == ["cats.md"]
    assert filenames(cli, "cat purrs", "-k", "1") == ["cats.md"]  # hybrid by default
    text = cli("search", "demo-workspace", "purrs", "--mode", "text").stdout
    assert text.startswith("1. ")
    assert "(text search, " in text
    assert "query log " in text


def test_the_filter_language_narrows_every_mode(cli: Cli, pets: Path) -> None:
    dogs = json.dumps({"$and": [{"tags": "pets"}, {"$not": {"tags": {"$any": ["cats"]}}}]})
    for mode in ("vector", "text", "hybrid"):
        assert filenames(cli, "whiskers", "--mode", mode, "--filter", dogs, "-k", "10") == ["dogs.md"], mode
    first_chunks = json.dumps({"metadata.char_start": 0, "status": "completed"})
    found = filenames(cli, "whiskers", "--mode", "text", "--filter", first_chunks, "--tag", "cats")
    assert found == ["cats.md"]  # --tag is ANDed with the filter


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "{not json"], "filter: is not valid JSON"),
        (["--filter", "[1]"], "filter: must be a JSON object"),
        (["--filter", '{"$and": [{"metadata.x": {"$gt": []}}]}'], "filter.$and[0].metadata.x.$gt: "),
        (["--filter", '{"colour": "red"}'], "filter.colour: unknown field"),
        (["--mode", "text", "--rrf-k", "5"], "rrf_k: applies to --mode hybrid only"),
    ],
)
def test_bad_filters_and_options_are_invalid_input_naming_the_part(
    cli: Cli, database: Path, args: list[str], message: str
) -> None:
    result = cli("search", "demo-workspace", "keys", *args, "--json")
    assert result.exit_code == 6, result.output
    assert error_json(result)["message"].startswith(message)


def test_bad_text_queries_and_modes(cli: Cli, database: Path) -> None:
    # A query starting with "-" follows "--", as any argument that looks like an option.
    assert cli("search", "--mode", "text", "demo-workspace", "--", "-cats").exit_code == 6
    assert filenames(cli, "revoke", "--mode", "text") == ["api-keys.md"]
    assert filenames(cli, "revoke -expired", "--mode", "text") == []  # api-keys.md says "expired"
    assert cli("search", "demo-workspace", "the", "--mode", "text").exit_code == 6
    assert cli("search", "demo-workspace", "keys", "--mode", "fuzzy").exit_code == 2
    assert cli("search", "demo-workspace", "keys", "--rrf-k", "0").exit_code == 2


def test_every_search_is_recorded_as_a_query_log(cli: Cli, database: Path) -> None:
    cli("search", "demo-workspace", "revoke a key", "--rrf-k", "5")
    cli("search", "demo-workspace", "revoke", "--mode", "text", "--filter", '{"status": "completed"}')
    with sqlite3.connect(database) as connection:
        logged = connection.execute(
            "SELECT query, metadata, sources FROM query_logs ORDER BY created_at"
        ).fetchall()
    assert [query for query, _, _ in logged] == ["revoke a key", "revoke"]
    hybrid, text = (json.loads(metadata)["search"] for _, metadata, _ in logged)
    assert (hybrid["mode"], hybrid["fusion"]["rrf_k"], hybrid["k"]) == ("hybrid", 5, 5)
    assert (text["mode"], text["filter"]) == ("text", {"where": {"status": {"$eq": "completed"}}})
    assert json.loads(logged[1][2])  # the chunks it returned
