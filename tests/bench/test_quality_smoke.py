"""``python -m bench quality`` on a tiny subset (30 documents, 5 queries, SQLite only, the
hashing embedder) of CISI, or, where ../shared/eval/cisi is not there (a fresh CI machine),
of a small collection in the same SMART format written here: every system and mode has a
row, every metric is in [0, 1], bm25s finds something, and the JSON and Markdown are
written. Offline: any connection but a Unix socket fails the test."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from bench import quality
from bench.eval_collections import DEFAULT_CISI
from tenantrag.domain.evaluation import METRICS

TOPICS = {
    "library": "library catalogue readers borrow books shelves librarian",
    "index": "indexing terms vocabulary thesaurus subject headings retrieval",
    "citation": "citation analysis references journals impact scientists",
    "computer": "computer automation online systems terminals software",
    "education": "education schools students teaching curriculum training",
}


@pytest.fixture
def collection(tmp_path: Path) -> Path:
    """CISI where the workplace has it; else 40 documents on five topics, and a question on
    each topic judged relevant to that topic's documents (SMART format, as CISI's files)."""
    if (DEFAULT_CISI / "CISI.ALL").exists():
        return DEFAULT_CISI
    folder = tmp_path / "collection"
    folder.mkdir()
    names = list(TOPICS)
    documents, relevant = [], []
    for number in range(1, 41):
        topic = names[number % len(names)]
        words = TOPICS[topic].split()
        abstract = " ".join(words[(number + i) % len(words)] for i in range(12))
        documents.append(f".I {number}\n.T\nOn {topic} {number}\n.A\nAuthor {number}\n.W\n{abstract}.\n")
        relevant.append(f"{names.index(topic) + 1} {number} 0 0.000000")
    queries = [
        f".I {n}\n.W\nWhat is known about {topic} and {TOPICS[topic].split()[1]}?\n"
        for n, topic in enumerate(names, start=1)
    ]
    (folder / "CISI.ALL").write_text("".join(documents))
    (folder / "CISI.QRY").write_text("".join(queries))
    (folder / "CISI.REL").write_text("\n".join(relevant) + "\n")
    return folder


SYSTEMS = {
    ("bm25s", "text"),
    ("bm25s on tenantrag's chunks", "text"),
    ("numpy cosine (hashing-384)", "vector"),
    ("bm25s + cosine RRF", "hybrid"),
    ("tenantrag sqlite", "text"),
    ("tenantrag sqlite", "vector"),
    ("tenantrag sqlite", "hybrid"),
}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    connect = socket.socket.connect

    def local_only(self: socket.socket, address: Any) -> Any:
        if self.family != socket.AF_UNIX:
            raise AssertionError(f"the quality bench reached the network: {address!r}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)


@pytest.mark.usefixtures("offline")
def test_the_quality_bench_scores_every_system_on_a_subset(tmp_path: Path, collection: Path) -> None:
    out = tmp_path / "out"
    arguments = ["--documents", "30", "--queries", "5", "--backends", "sqlite", "--embedder", "hashing"]
    arguments += ["--out", str(out), "--collection", str(collection)]
    assert quality.main(arguments) == 0

    results = json.loads((out / "quality.json").read_text())
    assert results["collection"]["documents"] == 30
    queries = results["collection"]["queries"]
    assert 1 <= queries <= 5
    rows = {(r["system"], r["mode"]): r for r in results["rows"]}
    assert set(rows) == SYSTEMS
    for where, r in rows.items():
        assert r["queries"] == queries, where
        assert all(0.0 <= r[metric] <= 1.0 for metric in METRICS), (where, r)
        assert 0 <= r["no_hit"] <= queries, where
        assert len(r["ndcg_per_query"]) == queries, where
        assert r["seconds"] >= 0, where
    bm25 = rows[("bm25s", "text")]
    assert bm25["no_hit"] == 0
    assert bm25["recall@100"] > 0
    assert results["backends"]["sqlite"]["documents"] == 30
    assert results["backends"]["sqlite"]["chunks"] >= 30
    assert {t["status"] for t in results["ratios"]} <= {"PASS", "MISS", "NOT MEASURED"}
    assert any(t["target"] == "tenantrag sqlite text / bm25s" for t in results["ratios"])

    markdown = (out / "quality.md").read_text()
    assert "| system | mode | nDCG@10 | Recall@100 | MRR@10 |" in markdown
    assert all(f"| {system} | {mode} |" in markdown for system, mode in SYSTEMS)


def test_python_m_bench_quality_is_the_quality_bench(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["quality", "--help"])
    assert exited.value.code == 0
    assert "python -m bench quality" in capsys.readouterr().out
