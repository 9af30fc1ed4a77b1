"""The CLI refuses text no database stores (NUL) naming the option and path, on both backends:
exit 6 (invalid input)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, error_json, output_json

BACKENDS = [
    pytest.param("sqlite", marks=pytest.mark.sqlite),
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, cli: Cli, tmp_path: Path) -> str:
    if request.param == "sqlite":
        database = f"sqlite:///{tmp_path / 'nul.db'}"
        assert cli("init", "--database-url", database).exit_code == 0
    else:
        new_database: Callable[[int], str] = request.getfixturevalue("postgres_database")
        database = new_database(256)  # the default embedder's dimension
        request.getfixturevalue("monkeypatch").setenv("BLOB_STORE_PATH", str(tmp_path / "blobs"))
    assert cli("user", "create", "o@example.com", "--no-password", "--database-url", database).exit_code == 0
    made = cli("tenant", "create", "Acme", "--owner", "o@example.com", "--database-url", database)
    assert made.exit_code == 0, made.output
    return database


def test_nul_in_metadata_or_front_matter_is_refused_naming_it(cli: Cli, url: str, tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nPlain words.", encoding="utf-8")
    refused = cli("ingest", "acme", str(note), "--metadata", 'who={"names": ["a\\u0000"]}', "--json",
                  "--database-url", url)  # fmt: skip
    assert refused.exit_code == 6, refused.output
    assert error_json(refused)["details"]["field"] == "--metadata.who.names[0]"

    fronted = tmp_path / "fronted.md"
    fronted.write_text('---\nauthor: "a\\0b"\n---\n\n# Body\n\nWords.', encoding="utf-8")
    report = cli("ingest", "acme", str(fronted), "--json", "--database-url", url)
    # Front matter is read when the document is parsed: its failure names the NUL, and no
    # searchable document comes of it.
    assert "NUL" in report.output
    documents = output_json(cli("documents", "list", "acme", "--json", "--database-url", url))
    assert all(document["status"] == "failed" for document in documents)
