"""Retrieval test collections for the quality benchmark: CISI, in the SMART format.

A record starts with ``.I <id>``; its fields follow, each a line ``.<letter>`` (text may
follow on the same line) and the lines up to the next field. ``CISI.ALL`` holds the
documents (``.T`` title, ``.A`` authors, ``.W`` abstract, ``.X`` cross-references), and a
document's text here is its title and abstract (authors and cross-references are not text to
index); ``CISI.QRY`` the queries (the question is ``.W``); ``CISI.REL`` one relevant pair a
line, ``query-id document-id 0 0.000000``. Only queries with at least one judgement are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import attrs

DEFAULT_CISI = Path(__file__).resolve().parents[1] / ".." / "shared" / "eval" / "cisi"

_FIELD = re.compile(r"^\.([A-Z])(?:\s+(.*))?$")


@attrs.frozen
class Collection:
    """Documents and queries by id (the collection's own ids, as text) and the relevant
    documents of each query (only queries that have some)."""

    name: str
    documents: dict[str, str]
    queries: dict[str, str]
    qrels: dict[str, frozenset[str]]

    def subset(self, *, documents: int, queries: int) -> Collection:
        """A small collection for a smoke run: the first ``queries`` queries, up to a third of
        ``documents`` relevant to them (taken in turn from each query's), then others in id
        order, ``documents`` in all; judgements are cut down to the documents kept (queries
        left with none are dropped)."""
        chosen_queries = list(self.queries)[:queries]
        lists = [sorted(self.qrels[q], key=_natural) for q in chosen_queries]
        interleaved = [
            lst[i] for i in range(max(map(len, lists), default=0)) for lst in lists if i < len(lst)
        ]
        wanted = list(dict.fromkeys(interleaved))[: max(1, documents // 3)]
        order = list(dict.fromkeys([*wanted, *self.documents]))
        kept = set(order[:documents])
        qrels = {q: frozenset(self.qrels[q] & kept) for q in chosen_queries}
        qrels = {q: relevant for q, relevant in qrels.items() if relevant}
        return Collection(
            name=f"{self.name} (subset)",
            documents={d: text for d, text in self.documents.items() if d in kept},
            queries={q: self.queries[q] for q in qrels},
            qrels=qrels,
        )


def _natural(value: str) -> tuple[int, str]:
    return (int(value), value) if value.isdigit() else (1 << 62, value)


def records(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """``(id, {field letter: text})`` for each record of a SMART file; a field's text is its
    lines joined by single spaces (a repeated field is appended to)."""
    ident: str | None = None
    fields: dict[str, list[str]] = {}
    field: str | None = None
    for line in text.splitlines():
        if line.startswith(".I ") or line == ".I":
            if ident is not None:
                yield ident, _joined(fields)
            ident, fields, field = line[2:].strip(), {}, None
            continue
        match = _FIELD.match(line.rstrip())
        if match and ident is not None:
            field = match.group(1)
            fields.setdefault(field, [])
            if match.group(2):
                fields[field].append(match.group(2))
        elif field is not None:
            fields[field].append(line)
    if ident is not None:
        yield ident, _joined(fields)


def _joined(fields: dict[str, list[str]]) -> dict[str, str]:
    return {name: " ".join(" ".join(lines).split()) for name, lines in fields.items()}


def document_text(fields: dict[str, str]) -> str:
    """Title and abstract, a blank line between them (either may be missing)."""
    return "\n\n".join(part for part in (fields.get("T", ""), fields.get("W", "")) if part)


def read_qrels(text: str) -> dict[str, frozenset[str]]:
    """``query-id document-id [...]`` lines (CISI.REL; TREC's ``qid 0 docid rel`` is not this)."""
    found: dict[str, set[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 2:
            raise ValueError(f"qrels line {number}: expected a query id and a document id: {line!r}")
        found.setdefault(parts[0], set()).add(parts[1])
    return {query: frozenset(documents) for query, documents in found.items()}


def load_smart(folder: Path, prefix: str) -> Collection:
    """``<prefix>.ALL``, ``<prefix>.QRY`` and ``<prefix>.REL`` in ``folder``."""
    documents = {
        ident: document_text(fields)
        for ident, fields in records((folder / f"{prefix}.ALL").read_text(encoding="utf-8", errors="replace"))
    }
    all_queries = {
        ident: fields.get("W", "")
        for ident, fields in records((folder / f"{prefix}.QRY").read_text(encoding="utf-8", errors="replace"))
    }
    qrels = read_qrels((folder / f"{prefix}.REL").read_text(encoding="utf-8"))
    unknown = {d for relevant in qrels.values() for d in relevant} - set(documents)
    if unknown:
        raise ValueError(f"{prefix}.REL names {len(unknown)} documents not in {prefix}.ALL")
    judged = {q: qrels[q] for q in sorted(qrels, key=_natural) if all_queries.get(q)}
    return Collection(
        name=prefix,
        documents={d: text for d, text in documents.items() if text},
        queries={q: all_queries[q] for q in judged},
        qrels=judged,
    )


def load_cisi(folder: Path | None = None) -> Collection:
    return load_smart((folder or DEFAULT_CISI).resolve(), "CISI")
