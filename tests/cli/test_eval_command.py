"""``tenantrag eval``: a small collection in tmp_path, scored and stored; bad files refused
with the file and line, nothing stored."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, error_json, output_json

QUERIES = [
    {"_id": "q1", "text": "a cat purrs when content"},
    {"_id": "q2", "text": "dogs barking at the postman"},
    {"id": "q3", "text": "a query nobody judged"},
]


@pytest.fixture
def collection(cli: Cli, database: Path, tmp_path: Path) -> tuple[Path, Path]:
    for name, text in (
        ("cats.md", "A cat purrs when it is content. Whiskers twitch.\n"),
        ("dogs.md", "A dog barks at the postman every single morning.\n"),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
        ingested = cli("ingest", "demo-workspace", str(tmp_path / name))
        assert ingested.exit_code == 0, ingested.output
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps(query) + "\n" for query in QUERIES), encoding="utf-8")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\tcats.md\t1\nq2\tdogs.md\t2\n", encoding="utf-8")
    return queries, qrels


def stored_runs(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        count: int = connection.execute("SELECT count(*) FROM evaluation_runs").fetchone()[0]
    return count


def test_eval_scores_each_mode_and_stores_the_run(
    cli: Cli, database: Path, collection: tuple[Path, Path]
) -> None:
    queries, qrels = collection
    args = ["eval", "demo-workspace", "--queries", str(queries), "--qrels", str(qrels)]
    run = output_json(cli(*args, "--mode", "text", "--mode", "vector", "-m", "hybrid", "--json"))
    assert run["parameters"]["modes"] == ["text", "vector", "hybrid"]
    assert run["parameters"]["queries_run"] == 2
    assert run["parameters"]["qrels"]["format"] == "beir"
    assert run["parameters"]["embedder"]["dimension"] > 0
    for mode in ("text", "vector", "hybrid"):
        assert run["metrics"][mode]["queries"] == 2
        assert run["metrics"][mode]["mrr@10"] == 1.0, mode
        assert set(run["per_query"][mode]) == {"q1", "q2"}
    text = cli(*args, "--per-query")
    assert text.exit_code == 0, text.output
    assert "ndcg@10" in text.stdout
    assert "hybrid" in text.stdout
    assert "q2" in text.stdout
    assert stored_runs(database) == 2


def test_trec_qrels_and_warnings(cli: Cli, collection: tuple[Path, Path], tmp_path: Path) -> None:
    queries, _qrels = collection
    trec = tmp_path / "qrels.trec"
    trec.write_text("q1 0 cats.md 1\nq9 0 dogs.md 1\n", encoding="utf-8")
    result = cli("eval", "demo-workspace", "-q", str(queries), "-r", str(trec), "--mode", "text", "--json")
    assert result.exit_code == 0, result.output
    assert "warning: 1 query id(s) of qrels.trec are not in queries.jsonl: 'q9'" in result.stderr
    assert json.loads(result.stdout)["parameters"]["qrels"]["format"] == "trec"


@pytest.mark.parametrize(
    "case",
    [
        ('{"_id": "q1", "text": "cats"}\n{"_id": "q2"\n', None, "queries.jsonl, line 2: is not valid JSON"),
        (None, "query-id\tcorpus-id\tscore\nq1\tcats.md\n", "qrels.tsv, line 2: must have 3 fields"),
        (None, "q1\tcats.md\t1\nq1\tnope.md\t1\nq2\tgone.md\t1\n", "2 document id(s) match no document"),
    ],
)
def test_bad_files_fail_with_the_file_and_line_and_store_nothing(
    cli: Cli, database: Path, collection: tuple[Path, Path], case: tuple[str | None, str | None, str]
) -> None:
    queries_text, qrels_text, message = case
    queries, qrels = collection
    if queries_text is not None:
        queries.write_text(queries_text, encoding="utf-8")
    if qrels_text is not None:
        qrels.write_text(qrels_text, encoding="utf-8")
    result = cli("eval", "demo-workspace", "--queries", str(queries), "--qrels", str(qrels), "--json")
    assert result.exit_code == 6, result.output
    error = error_json(result)
    assert error["code"] == "invalid_input"
    assert message in error["message"]
    assert stored_runs(database) == 0


def test_unknown_mode_missing_file_and_unknown_tenant(
    cli: Cli, collection: tuple[Path, Path], tmp_path: Path
) -> None:
    queries, qrels = collection
    bad_mode = cli("eval", "demo-workspace", "-q", str(queries), "-r", str(qrels), "--mode", "bm25")
    assert bad_mode.exit_code == 2
    assert "bm25" in bad_mode.output
    missing = cli("eval", "demo-workspace", "-q", str(tmp_path / "nope.jsonl"), "-r", str(qrels))
    assert missing.exit_code == 6
    assert "nope.jsonl: cannot be read" in missing.stderr
    unknown = cli("eval", "no-such-tenant", "-q", str(queries), "-r", str(qrels))
    assert unknown.exit_code == 3
