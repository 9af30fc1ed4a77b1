"""The test collection's files: BEIR queries, BEIR and TREC qrels, errors naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantrag.adapters.evaluation_files import parse_qrels, parse_queries, read_qrels, read_queries
from tenantrag.domain.errors import InvalidInput


def test_beir_queries_with_id_or__id_in_file_order() -> None:
    data = b'{"_id": "q1", "text": "What is BM25?", "metadata": {}}\n\n{"id": 2, "text": "fusion"}\n'
    queries = parse_queries(data, name="queries.jsonl")
    assert list(queries.queries.items()) == [("q1", "What is BM25?"), ("2", "fusion")]
    assert queries.name == "queries.jsonl"
    assert queries.sha256 is not None
    assert len(queries.sha256) == 64


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        ('{"_id": "q1", "text": "a"}\nnot json\n', 2, "not valid JSON"),
        ('["q1", "a"]\n', 1, "JSON object"),
        ('{"text": "a"}\n', 1, '"_id"'),
        ('{"_id": "q1"}\n', 1, '"text"'),
        ('{"_id": "q1", "text": "  "}\n', 1, '"text"'),
        ('{"_id": true, "text": "a"}\n', 1, "string or an integer"),
        ('{"_id": "q1", "text": "a"}\n{"_id": "q1", "text": "b"}\n', 2, "repeats line 1"),
    ],
)
def test_bad_queries_name_the_file_and_line(data: str, line: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_queries(data, name="q.jsonl")
    assert caught.value.field == "queries"
    assert f"q.jsonl, line {line}:" in caught.value.message
    assert caught.value.details["line"] == line


def test_queries_must_be_utf8_and_not_empty() -> None:
    with pytest.raises(InvalidInput, match="line 2: is not valid UTF-8"):
        parse_queries(b'{"_id": "1", "text": "a"}\n{"_id": "2", "text": "\xff"}\n', name="q")
    with pytest.raises(InvalidInput, match="no queries"):
        parse_queries("\n\n", name="q")


def test_beir_qrels_with_header() -> None:
    qrels = parse_qrels("query-id\tcorpus-id\tscore\nq1\tdoc 1\t2\nq1\td2\t0\nq2\td3\t1\n", name="test.tsv")
    assert qrels.format == "beir"
    assert qrels.judgements == {"q1": {"doc 1": 2, "d2": 0}, "q2": {"d3": 1}}


def test_beir_qrels_without_header_and_integral_floats() -> None:
    qrels = parse_qrels("q1\td1\t1.0\n")
    assert qrels.format == "beir"
    assert qrels.judgements == {"q1": {"d1": 1}}


def test_trec_qrels() -> None:
    qrels = parse_qrels(b"1 0 28 1\n1 0 35 -1\n\n2\t0\t29\t2\n", name="qrels.trec")
    assert qrels.format == "trec"
    assert qrels.judgements == {"1": {"28": 1, "35": -1}, "2": {"29": 2}}


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        ("q1 d1\n", 1, "neither BEIR qrels"),
        ("query-id\tcorpus-id\tscore\nq1\td1\n", 2, "must have 3 fields"),
        ("1 0 28 1\n1 0 29\n", 2, "must have 4 fields"),
        ("q1\td1\thigh\n", None, "no relevant"),
        ("query-id\tcorpus-id\tscore\nq1\td1\thigh\n", 2, "relevance must be an integer"),
        ("1 0 28 1\n1 0 28 2\n", 2, "judged 2 here and 1 on line 1"),
        ("query-id\tcorpus-id\tscore\nq1\td1\t0\n", None, "no relevant judgement"),
    ],
)
def test_bad_qrels_name_the_file_and_line(data: str, line: int | None, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        parse_qrels(data, name="qrels.tsv")
    assert caught.value.field == "qrels"
    if line is not None:
        assert f"qrels.tsv, line {line}:" in caught.value.message
        assert caught.value.details["line"] == line


def test_the_same_judgement_twice_is_fine() -> None:
    assert parse_qrels("1 0 28 1\n1 0 28 1\n").judgements == {"1": {"28": 1}}


def test_reading_files(tmp_path: Path) -> None:
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "cats"}\n')
    (tmp_path / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\nq1\tcats.md\t1\n")
    assert read_queries(tmp_path / "queries.jsonl").name == "queries.jsonl"
    assert read_qrels(tmp_path / "qrels.tsv").judgements == {"q1": {"cats.md": 1}}
    with pytest.raises(InvalidInput, match="cannot be read") as caught:
        read_qrels(tmp_path / "missing.tsv")
    assert caught.value.field == "qrels"
