"""tenantrag ingest --metadata, and front matter reaching documents, chunks and filters."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli, error_json, output_json


def test_metadata_options_and_front_matter_reach_the_document_and_its_filters(
    cli: Cli, database: Path, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.md"
    plan.write_text(
        "---\ntitle: Launch plan\nyear: 2023\ndate: 2023-04-01\nteam: rockets\n---\n\n"
        "# Launch\n\n## Fuel\n\nThe rocket burns kerosene and liquid oxygen.\n",
        encoding="utf-8",
    )
    result = cli(
        "ingest", "demo-workspace", str(plan), "--metadata", "year=2024", "--metadata", "draft=true",
        "--metadata", "owner=ada", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    documents = output_json(cli("documents", "list", "demo-workspace", "--json"))
    document = next(d for d in documents if d["filename"] == "plan.md")
    assert document["title"] == "Launch plan"
    # The option wins over the front matter; every front matter key is kept, dates as ISO text.
    assert {k: document["metadata"][k] for k in ("year", "draft", "owner", "team", "date", "title")} == {
        "year": 2024, "draft": True, "owner": "ada", "team": "rockets", "date": "2023-04-01",
        "title": "Launch plan",
    }  # fmt: skip

    query = ["search", "demo-workspace", "what does the rocket burn?", "--json", "--group", "chunks"]
    hits = output_json(cli(*query, "--filter", json.dumps({"metadata.year": {"$gte": 2024}})))
    assert [hit["filename"] for hit in hits] == ["plan.md"]
    # The heading travels with its section's text; the front matter is in no chunk.
    assert hits[0]["content"].startswith("# Launch\n\n## Fuel\n\nThe rocket burns")
    assert "team:" not in hits[0]["content"]
    assert output_json(cli(*query, "--filter", json.dumps({"metadata.team": "planes"}))) == []


def test_bad_metadata_options_name_the_option(cli: Cli, database: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("words\n", encoding="utf-8")
    for bad in ("no-equals-sign", "=value", "front_matter_keys=[]"):
        result = cli("ingest", "demo-workspace", str(note), "--metadata", bad, "--json")
        assert result.exit_code == 6, result.output
        assert error_json(result)["message"].startswith("--metadata: "), bad
