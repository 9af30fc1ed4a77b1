"""``tenantrag search`` with ``--mode``, ``--match``, ``--group``, ``--filter`` and ``--rrf-k``; why
nothing was found; every search recorded."""

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
        (["--mode", "vector", "--fusion", "rrf"], "fusion: applies to --mode hybrid only"),
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
    websearch = ("--mode", "text", "--match", "websearch")
    assert cli("search", *websearch, "demo-workspace", "--", "-cats").exit_code == 6
    assert filenames(cli, "revoke", "--mode", "text") == ["api-keys.md"]
    assert filenames(cli, "revoke -expired", *websearch) == []  # api-keys.md says "expired"
    # Natural language (the default): "-" is punctuation, and api-keys.md holds both words.
    assert "api-keys.md" in filenames(cli, "revoke -expired", "--mode", "text")
    assert cli("search", "demo-workspace", "keys", "--mode", "fuzzy").exit_code == 2
    assert cli("search", "demo-workspace", "keys", "--match", "exact").exit_code == 2
    assert cli("search", "demo-workspace", "keys", "--group", "pages").exit_code == 2
    assert cli("search", "demo-workspace", "keys", "--rrf-k", "0").exit_code == 2


LONG = "\n\n".join(
    f"Part {n}. " + "Whiskers twitch when the walrus dives under the arctic ice. " * 5 for n in range(30)
)


@pytest.fixture
def walrus(cli: Cli, pets: Path) -> None:
    """A long note of many chunks that all mention whiskers and a walrus."""
    (pets / "walrus.md").write_text(LONG, encoding="utf-8")
    ingested = cli("ingest", "demo-workspace", str(pets / "walrus.md"), "--tag", "pets")
    assert ingested.exit_code == 0, ingested.output


def test_documents_by_default_each_once_and_chunks_on_request(cli: Cli, walrus: None) -> None:
    query = "whiskers twitch when the walrus dives under the arctic ice"
    by_chunk = filenames(cli, query, "--mode", "vector", "--group", "chunks", "-k", "3")
    assert by_chunk == ["walrus.md"] * 3  # one document, three times
    for mode, text in (("vector", query), ("hybrid", query), ("text", "whiskers")):
        found = filenames(cli, text, "--mode", mode, "-k", "3")
        assert sorted(found) == ["cats.md", "dogs.md", "walrus.md"], mode
    rows = output_json(cli("search", "demo-workspace", query, "-g", "documents", "-k", "2", "--json"))
    assert [row["rank"] for row in rows] == [1, 2]
    assert rows[0]["score"] >= rows[1]["score"]
    table = cli("search", "demo-workspace", query, "--mode", "vector", "-k", "2").stdout
    assert table.startswith("1. ")
    assert "walrus.md #" in table
    assert "(also #" in table  # the document's other matching chunks
    assert "(vector search, documents, " in table


def test_an_empty_answer_says_why(cli: Cli, pets: Path) -> None:
    nothing = cli("search", "demo-workspace", "zebra", "--mode", "text")
    assert nothing.exit_code == 0
    assert "no matches in demo-workspace" in nothing.stdout
    assert "why: " in nothing.stderr
    assert "(no_matching_words)" in nothing.stderr
    filtered = cli("search", "demo-workspace", "whiskers", "--filter", '{"tags": "missing"}', "--json")
    assert output_json(filtered) == []
    assert json.loads(filtered.stderr)["empty_reason"]["code"] == "filter_excludes_all"
    hybrid = cli("search", "demo-workspace", "zebra", "--json")
    assert output_json(hybrid)  # the vector ranking alone
    reasons = json.loads(hybrid.stderr)
    assert reasons["empty_reason"] is None
    assert reasons["text_empty_reason"]["code"] == "no_matching_words"
    assert "note: the text matched nothing" in cli("search", "demo-workspace", "zebra").stderr
    assert cli("search", "demo-workspace", "whiskers", "--json").stderr == ""


def test_every_search_is_recorded_as_a_query_log(cli: Cli, database: Path) -> None:
    cli("search", "demo-workspace", "revoke a key", "--fusion", "rrf", "--rrf-k", "5")
    text_search = ("revoke", "--mode", "text", "--match", "websearch", "--group", "chunks")
    cli("search", "demo-workspace", *text_search, "--filter", '{"status": "completed"}')
    with sqlite3.connect(database) as connection:
        logged = connection.execute(
            "SELECT query, metadata, sources FROM query_logs ORDER BY created_at"
        ).fetchall()
    assert [query for query, _, _ in logged] == ["revoke a key", "revoke"]
    hybrid, text = (json.loads(metadata)["search"] for _, metadata, _ in logged)
    assert (hybrid["mode"], hybrid["fusion"]["rrf_k"], hybrid["k"]) == ("hybrid", 5, 5)
    assert hybrid["fusion"]["method"] == "rrf"
    assert (hybrid["group"], hybrid["match"]) == ("documents", "any")  # the CLI's defaults
    assert (text["mode"], text["filter"]) == ("text", {"where": {"status": {"$eq": "completed"}}})
    assert (text["group"], text["match"]) == ("chunks", "websearch")
    assert json.loads(logged[1][2])  # the chunks it returned
