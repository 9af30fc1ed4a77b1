"""The full-text query language, parsed once so that every backend reads it alike.

The syntax is PostgreSQL's ``websearch_to_tsquery``, which PostgreSQL runs natively;
SQLite (FTS5) and the memory backend run the tree parsed here, which follows the same
rules (checked against PostgreSQL 18):

- words are ANDed: ``cat purr`` needs both;
- ``"quoted words"`` is a phrase: the words next to each other, in order; an unclosed
  quote runs to the end. A run of text holding punctuation (``don't``, ``a-b``, ``3.14``)
  is a phrase of its words too;
- ``-word`` and ``-"a phrase"`` exclude; ``--x`` is ``x``;
- ``or`` between two terms separates alternatives: ``a b or c`` is ``(a AND b) OR c``; an
  ``or`` at either end, or right after another, is a word (and a stop word);
- parentheses and ``! & | : < >`` are spaces.

A query is refused (``InvalidInput``) when it is empty, too long, holds NUL or a lone
surrogate, has no word at all, or has an alternative made only of exclusions: those
would match almost every row and no index can serve them. Stop words (``the``...)
are dropped from queries where the backend does not drop them itself
(:meth:`Expression.searchable`); a query left with nothing to look for matches nothing.

Where backends differ: PostgreSQL tokenizes with its own parser (``cat.dog``, e-mail
addresses, URLs and decimals stay one token there), stems with its text search
configuration, and keeps diacritics; its phrases skip stop words by position (``"cat on
the mat"`` also matches ``cat in a mat``). SQLite and memory split those tokens, stem with
Porter and fold diacritics (see ``text_analysis``). The contract suite holds the three to
the same matches on plain words.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from math import log

import attrs

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.text_analysis import fold, is_stop_word, split_words, stem

MAX_TEXT_LENGTH = 1000
MAX_TERMS = 64
# websearch_to_tsquery treats these as spaces (they are tsquery operators).
_SPACES = frozenset("()!&|:<>")


@attrs.frozen
class Term:
    """A word or a phrase (its words as written), possibly excluded."""

    words: tuple[str, ...]
    negated: bool = False

    @property
    def stems(self) -> tuple[str, ...]:
        return tuple(stem(fold(word)) for word in self.words)

    def occurrences(self, terms: Sequence[str]) -> int:
        """How often the term occurs in a text's index terms (a phrase: its stems in a row)."""
        wanted = self.stems
        width = len(wanted)
        if width == 1:
            return sum(1 for term in terms if term == wanted[0])
        return sum(1 for i in range(len(terms) - width + 1) if tuple(terms[i : i + width]) == wanted)


@attrs.frozen
class Expression:
    """Alternatives (ORed) of terms (ANDed); see the module for the syntax."""

    alternatives: tuple[tuple[Term, ...], ...]

    @property
    def is_empty(self) -> bool:
        return not self.alternatives

    def searchable(self) -> Expression:
        """Without stop words: a word that is one is dropped, as is a phrase made only of them
        (a phrase keeps those inside it: they hold the other words' places)."""
        alternatives = []
        for terms in self.alternatives:
            kept = tuple(term for term in terms if not all(is_stop_word(word) for word in term.words))
            if kept:
                alternatives.append(kept)
        return Expression(tuple(alternatives))

    def positive_terms(self) -> tuple[Term, ...]:
        """The distinct terms that are looked for (not excluded), in order of appearance."""
        seen: dict[tuple[str, ...], Term] = {}
        for terms in self.alternatives:
            for term in terms:
                if not term.negated:
                    seen.setdefault(term.stems, term)
        return tuple(seen.values())

    def matches(self, terms: Sequence[str]) -> bool:
        """Whether a text with these index terms (``text_analysis.terms``) matches."""
        return any(
            all((term.occurrences(terms) > 0) is not term.negated for term in alternative)
            for alternative in self.alternatives
        )


def parse(text: object, *, field: str = "text") -> Expression:
    """The expression ``text`` says; ``InvalidInput`` (naming ``field``) when it says nothing usable."""
    if not isinstance(text, str):
        raise InvalidInput(field, f"must be a string, got {type(text).__name__}")
    if not text.strip():
        raise InvalidInput(field, "must not be empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput(field, f"must be at most {MAX_TEXT_LENGTH} characters (got {len(text)})")
    if "\x00" in text:
        raise InvalidInput(field, "must not contain NUL characters")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise InvalidInput(field, "must be valid Unicode (it holds a lone surrogate)") from None
    runs = [run for run in _runs(text) if run.words]
    if not runs:
        raise InvalidInput(field, "has no words to search for")
    if len(runs) > MAX_TERMS:
        raise InvalidInput(field, f"may hold at most {MAX_TERMS} terms (got {len(runs)})")
    alternatives: list[list[Term]] = [[]]
    previous_was_or = False
    for index, run in enumerate(runs):
        is_or = (
            not run.quoted
            and not run.negated
            and len(run.words) == 1
            and run.words[0].lower() == "or"
            and bool(alternatives[-1])
            and not previous_was_or
            and index + 1 < len(runs)
        )
        if is_or:
            alternatives.append([])
        else:
            alternatives[-1].append(Term(run.words, run.negated))
        previous_was_or = is_or
    expression = Expression(tuple(tuple(terms) for terms in alternatives))
    if any(all(term.negated for term in terms) for terms in expression.searchable().alternatives):
        raise InvalidInput(field, 'every alternative needs a word that is not excluded ("-word")')
    return expression


@attrs.frozen
class _Run:
    words: tuple[str, ...]
    negated: bool
    quoted: bool


def _runs(text: str) -> Iterator[_Run]:
    """The query's terms before ``or`` is read: quoted phrases and runs of non-space text."""
    index, length = 0, len(text)
    while index < length:
        character = text[index]
        if character.isspace() or character in _SPACES:
            index += 1
            continue
        dashes = 0
        while index < length and text[index] == "-":
            dashes += 1
            index += 1
        negated = dashes % 2 == 1
        if index < length and text[index] == '"':
            end = text.find('"', index + 1)
            end = length if end < 0 else end
            yield _Run(tuple(split_words(text[index + 1 : end])), negated, quoted=True)
            index = end + 1
            continue
        end = index
        while end < length and not (text[end].isspace() or text[end] in _SPACES or text[end] == '"'):
            end += 1
        yield _Run(tuple(split_words(text[index:end])), negated, quoted=False)
        index = end


# --- ranking where no engine ranks: BM25 over the tenant's own chunks -----------------------

K1, B = 1.2, 0.75  # BM25's usual constants, as FTS5's bm25()
_MIN_IDF = 1e-6  # FTS5's floor for a term in half the rows or more


class Bm25:
    """Okapi BM25 of one expression over a set of texts (their index terms), computed as
    SQLite FTS5's ``bm25()`` computes it, with the sign turned so that higher is better.

    The statistics come from the texts given (one tenant's chunks), so no other tenant's
    content moves a score. The terms are the expression's positive terms; a phrase counts
    as one term, occurring where its stems stand in a row. A term in half the texts or more
    weighs almost nothing (FTS5 floors its idf at 1e-6), so texts matching only such terms
    tie at almost 0 and fall back on chunk id order.
    """

    def __init__(self, expression: Expression, corpus: Sequence[Sequence[str]]) -> None:
        self._terms = expression.positive_terms()
        count = len(corpus)
        self._average = (sum(len(text) for text in corpus) / count) if count else 0.0
        self._idf = []
        for term in self._terms:
            having = sum(1 for text in corpus if term.occurrences(text) > 0)
            idf = log((count - having + 0.5) / (having + 0.5)) if count else 0.0
            self._idf.append(idf if idf > 0 else _MIN_IDF)

    def score(self, terms: Sequence[str]) -> float:
        length_ratio = len(terms) / self._average if self._average else 1.0
        total = 0.0
        for term, idf in zip(self._terms, self._idf, strict=True):
            frequency = term.occurrences(terms)
            total += idf * frequency * (K1 + 1) / (frequency + K1 * (1 - B + B * length_ratio))
        return total
