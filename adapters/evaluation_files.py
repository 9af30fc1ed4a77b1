"""Reading a test collection's files: BEIR queries (JSONL), BEIR qrels (TSV) and TREC qrels.

The one home of the file formats, shared by ``tenantrag eval``, the HTTP API and the
benchmark:

- **queries**: JSON Lines, one object per line with ``_id`` (or ``id``; a string or an
  integer) and ``text``; other fields are ignored, blank lines skipped.
- **qrels**, detected from the first non-blank line:

  - BEIR TSV: ``query-id<TAB>corpus-id<TAB>score``, with a header line (a first line
    whose third field is not a number); a file without the header is accepted too;
  - TREC: ``qid iteration docid rel``, four whitespace-separated fields (the iteration
    column is ignored).

  Relevance is an integer (``2.0`` is read as 2); negative grades are allowed and count as
  not relevant. A pair judged twice with different grades is an error.

Every error is :class:`InvalidInput` (field ``queries`` or ``qrels``) whose message names
the file and the line, with ``details["line"]``. Files are decoded as strict UTF-8 (a BOM
is allowed).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.evaluation import (
    MAX_ID_LENGTH,
    MAX_JUDGEMENTS,
    MAX_QUERIES,
    MAX_QUERY_LENGTH,
    Qrels,
    QuerySet,
)

MAX_FILE_BYTES = 256 * 1024 * 1024

__all__ = ["MAX_FILE_BYTES", "parse_qrels", "parse_queries", "read_qrels", "read_queries"]


def _error(field: str, name: str, line: int | None, problem: str) -> InvalidInput:
    where = name if line is None else f"{name}, line {line}"
    error = InvalidInput(field, f"{where}: {problem}")
    error.details.update({"file": name} if line is None else {"file": name, "line": line})
    return error


def _lines(field: str, data: bytes | str, name: str) -> list[str]:
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            raise _error(field, name, None, f"must be at most {MAX_FILE_BYTES} bytes")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise _error(field, name, line, "is not valid UTF-8") from None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise _error(field, name, line, "contains a NUL character (a binary file?)")
    return text.splitlines()


def _digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _identifier(field: str, name: str, line: int, label: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _error(field, name, line, f"{label} must be a string or an integer, got {value!r:.60}")
    text = str(value).strip()
    if not text:
        raise _error(field, name, line, f"{label} must not be empty")
    if len(text) > MAX_ID_LENGTH:
        raise _error(field, name, line, f"{label} must be at most {MAX_ID_LENGTH} characters")
    return text


def parse_queries(data: bytes | str, *, name: str = "queries") -> QuerySet:
    """Queries from BEIR JSONL (``{"_id": ..., "text": ...}`` per line)."""
    queries: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for number, line in enumerate(_lines("queries", data, name), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _error("queries", name, number, f"is not valid JSON ({exc.msg})") from None
        except ValueError as exc:  # e.g. a number too long to convert
            raise _error("queries", name, number, f"is not valid JSON ({exc})") from None
        if not isinstance(record, dict):
            raise _error("queries", name, number, f"must be a JSON object, not {type(record).__name__}")
        key = "_id" if "_id" in record else "id"
        if key not in record:
            raise _error("queries", name, number, 'has no "_id" (or "id")')
        query_id = _identifier("queries", name, number, f'"{key}"', record[key])
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _error("queries", name, number, f'query {query_id!r} needs a non-empty string "text"')
        if len(text) > MAX_QUERY_LENGTH:
            raise _error(
                "queries", name, number, f"query {query_id!r} is longer than {MAX_QUERY_LENGTH} characters"
            )
        if query_id in queries:
            raise _error(
                "queries", name, number, f"query id {query_id!r} repeats line {first_line[query_id]}"
            )
        if len(queries) >= MAX_QUERIES:
            raise _error("queries", name, number, f"more than {MAX_QUERIES} queries")
        queries[query_id] = text
        first_line[query_id] = number
    if not queries:
        raise _error("queries", name, None, "holds no queries")
    return QuerySet(queries, name=name, sha256=_digest(data))


def _relevance(name: str, line: int, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if math.isfinite(number) and number == int(number):
        return int(number)
    raise _error("qrels", name, line, f"relevance must be an integer, got {value!r:.40}")


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _fields(line: str, qrels_format: str) -> list[str]:
    if qrels_format == "beir" and "\t" in line:
        return [field.strip() for field in line.split("\t")]
    return line.split()


def parse_qrels(data: bytes | str, *, name: str = "qrels") -> Qrels:
    """Judgements from BEIR TSV (with or without its header) or TREC qrels, detected."""
    qrels_format: str | None = None
    judgements: dict[str, dict[str, int]] = {}
    where: dict[tuple[str, str], int] = {}
    for number, line in enumerate(_lines("qrels", data, name), start=1):
        if not line.strip():
            continue
        if qrels_format is None:
            fields = _fields(line, "beir")
            if len(fields) == 3:
                qrels_format = "beir"
                if not _is_number(fields[2]):
                    continue  # the header: query-id, corpus-id, score
            elif len(line.split()) == 4:
                qrels_format = "trec"
            else:
                raise _error(
                    "qrels",
                    name,
                    number,
                    "is neither BEIR qrels (query-id<TAB>corpus-id<TAB>score) "
                    f"nor TREC qrels (qid 0 docid rel): {len(fields)} fields",
                )
        fields = _fields(line, qrels_format)
        expected = 4 if qrels_format == "trec" else 3
        if len(fields) != expected:
            shape = "qid 0 docid rel" if qrels_format == "trec" else "query-id<TAB>corpus-id<TAB>score"
            raise _error(
                "qrels",
                name,
                number,
                f"must have {expected} fields ({shape}) like the first line, got {len(fields)}",
            )
        query_id = _identifier("qrels", name, number, "query id", fields[0])
        doc_id = _identifier("qrels", name, number, "document id", fields[-2])
        grade = _relevance(name, number, fields[-1])
        docs = judgements.setdefault(query_id, {})
        if doc_id in docs and docs[doc_id] != grade:
            first = where[(query_id, doc_id)]
            raise _error(
                "qrels",
                name,
                number,
                f"query {query_id!r}, document {doc_id!r} judged {grade} here"
                f" and {docs[doc_id]} on line {first}",
            )
        if doc_id not in docs:
            if len(where) >= MAX_JUDGEMENTS:
                raise _error("qrels", name, number, f"more than {MAX_JUDGEMENTS} judgements")
            where[(query_id, doc_id)] = number
        docs[doc_id] = grade
    if not any(grade > 0 for docs in judgements.values() for grade in docs.values()):
        raise _error("qrels", name, None, "holds no relevant judgement (relevance > 0)")
    return Qrels(judgements, name=name, format=qrels_format or "beir", sha256=_digest(data))


def _read(field: str, path: str | Path) -> bytes:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise _error(field, str(path), None, f"must be at most {MAX_FILE_BYTES} bytes")
        return file.read_bytes()
    except OSError as exc:
        raise _error(field, str(path), None, f"cannot be read ({exc.strerror or exc})") from None


def read_queries(path: str | Path) -> QuerySet:
    """Parse a queries file (:func:`parse_queries`), named by its file name."""
    return parse_queries(_read("queries", path), name=Path(path).name)


def read_qrels(path: str | Path) -> Qrels:
    """Parse a qrels file (:func:`parse_qrels`), named by its file name."""
    return parse_qrels(_read("qrels", path), name=Path(path).name)
