"""Words as tenantrag's full-text search reads them: lowercased, stop words dropped, stemmed.

One analysis for both backends' queries and for SQLite's index:

- **SQLite** indexes what ``index_terms`` makes of a chunk (the FTS5 table holds the stems,
  each after its tenant's id, tokenized by ``unicode61`` alone), through the SQL function
  ``tenantrag_terms(tenant_id, content)`` that
  ``adapters/sqlite/engine.py`` registers on every connection and the FTS triggers call.
- **PostgreSQL** indexes with its own parser and the ``english`` configuration, whose stemmer
  is the same Snowball English stemmer (PyStemmer here) and whose stop words are the same
  list (``fulltext_query.STOP_WORDS``); a query's words are stemmed there by PostgreSQL.

So a word means the same on both: "libraries" and "library" meet at "librari" on each.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import Stemmer

from tenantrag.adapters.sql.fulltext_query import STOP_WORDS, split_words

# A Stemmer keeps a cache and is not safe to share between threads (aiosqlite runs each
# connection in a thread of its own).
_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    stemmer: Stemmer.Stemmer | None = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def stems(words: Iterable[str]) -> list[str]:
    """The stems of ``words`` (each lowercased first), in order; stop words dropped."""
    kept = [word for word in (w.lower() for w in words) if word not in STOP_WORDS]
    return _stemmer().stemWords(kept) if kept else []


def index_terms(text: str | None, prefix: str = "") -> str:
    """What the index holds for ``text``: its stems in order, each after ``prefix``,
    separated by single spaces."""
    return " ".join(prefix + stem for stem in stems(split_words(text))) if text else ""
