"""tenantrag documents show | download | delete and tenant rename | delete: what an operator
does to one document or one tenant."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli, error_json, output_json


def _first_document(cli: Cli) -> dict[str, object]:
    documents = output_json(cli("documents", "list", "demo-workspace", "--json"))
    return {str(key): value for key, value in documents[0].items()}


def test_a_document_is_shown_with_its_versions_and_chunks(cli: Cli, database: Path) -> None:
    document = _first_document(cli)

    shown = output_json(cli("documents", "show", "demo-workspace", str(document["id"]), "--chunks", "--json"))

    assert shown["document"]["id"] == document["id"]
    assert [version["version"] for version in shown["versions"]] == [1]
    assert len(shown["chunks"]) == document["chunk_count"]
    assert all("embedding" not in chunk for chunk in shown["chunks"])
    text = cli("documents", "show", "demo-workspace", str(document["id"]))
    assert text.exit_code == 0
    assert f"filename    {document['filename']}" in text.stdout
    assert "--- chunk" not in text.stdout


def test_an_original_downloads_byte_for_byte_and_never_over_a_file(
    cli: Cli, database: Path, tmp_path: Path
) -> None:
    (tmp_path / "in").mkdir()
    source = tmp_path / "in" / "notes.md"
    source.write_bytes(b"# Notes\n\nBytes kept exactly: caf\xc3\xa9.\n")
    ingested = output_json(cli("ingest", "demo-workspace", str(source), "--json"))
    document_id = str(ingested["document_id"])

    written = output_json(
        cli("documents", "download", "demo-workspace", document_id, "-o", "copy.md", "--json")
    )

    assert (tmp_path / "copy.md").read_bytes() == source.read_bytes()
    assert written["bytes"] == len(source.read_bytes())
    refused = cli("documents", "download", "demo-workspace", document_id, "-o", "copy.md", "--json")
    assert refused.exit_code == 5
    assert "--force" in error_json(refused)["message"]
    missing = cli("documents", "download", "demo-workspace", document_id, "--version", "9", "--json")
    assert missing.exit_code == 3
    # Without -o: the document's own filename, in the working directory.
    assert cli("documents", "download", "demo-workspace", document_id).exit_code == 0
    assert (tmp_path / "notes.md").read_bytes() == source.read_bytes()


def test_deleting_a_document_needs_yes_and_then_it_is_gone(cli: Cli, database: Path) -> None:
    document = _first_document(cli)

    assert cli("documents", "delete", "demo-workspace", str(document["id"])).exit_code == 2
    assert cli("documents", "delete", "demo-workspace", str(document["id"]), "--yes").exit_code == 0

    gone = cli("documents", "show", "demo-workspace", str(document["id"]), "--json")
    assert gone.exit_code == 3
    assert error_json(gone)["code"] == "not_found"


def test_a_tenant_is_renamed_keeping_its_slug_then_deleted_with_its_originals(
    cli: Cli, database: Path, tmp_path: Path
) -> None:
    renamed = output_json(cli("tenant", "rename", "demo-workspace", "Renamed Workspace", "--json"))
    assert (renamed["name"], renamed["slug"]) == ("Renamed Workspace", "demo-workspace")
    originals = tmp_path / "tenantrag-blobs" / str(renamed["id"])
    assert any(path.is_file() for path in originals.rglob("*"))

    assert cli("tenant", "delete", "demo-workspace").exit_code == 2
    assert cli("tenant", "delete", "demo-workspace", "--yes").exit_code == 0
    assert output_json(cli("tenant", "list", "--json")) == []
    assert not any(path.is_file() for path in originals.rglob("*"))
    again = cli("tenant", "delete", "demo-workspace", "--yes", "--json")
    assert again.exit_code == 3
    assert "demo-workspace" in error_json(again)["message"]
