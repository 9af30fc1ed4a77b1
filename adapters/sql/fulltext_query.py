"""How the SQL backends read a text query: natural language (``match=any``) or the precise
full-text language (``match=websearch``, PostgreSQL's ``websearch_to_tsquery`` syntax).

``read`` gives both backends the same ``TextSearch``: the words BM25 scores (any of them
makes a chunk a candidate), and in websearch mode the expression a match must meet. In
``any`` mode the text is a bag of words: quotes, ``-`` and ``or`` mean nothing.

PostgreSQL runs the syntax natively; SQLite's FTS5 has a syntax of its own, so the SQLite
search translates the tree parsed here. Both backends parse a query here first, so a query
that says nothing usable is refused alike (``InvalidInput`` naming ``text``) before any SQL
runs. The rules, checked against PostgreSQL 18:

- words are ANDed: ``cat purr`` needs both;
- ``"quoted words"`` is a phrase: the words next to each other, in order; an unclosed quote
  runs to the end. A run of text holding punctuation (``don't``, ``a-b``, ``3.14``) is a
  phrase of its words too;
- ``-word`` and ``-"a phrase"`` exclude; ``--x`` is ``x``;
- ``or`` between two terms separates alternatives: ``a b or c`` is ``(a AND b) OR c``; an
  ``or`` at either end, or right after another, is a word (and a stop word);
- parentheses and ``! & | : < >`` are spaces.

A query with no word at all, or with an alternative made only of exclusions, is refused: it
would match almost every row and no index can serve it. ``STOP_WORDS`` is PostgreSQL's
``english`` list: PostgreSQL drops those words from documents and queries, and FTS5 (whose
tokenizer keeps them) is given queries without them, so "the cat" means the same on both.
The domain checks the text itself (length, NUL, encoding) before it gets here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import attrs

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.search import TextMatch

MAX_TERMS = 64
# websearch_to_tsquery treats these as spaces (they are tsquery operators).
_SPACES = frozenset("()!&|:<>")

# PostgreSQL 18's share/tsearch_data/english.stop, in its order.
_STOP_LIST = """i me my myself we our ours ourselves you your yours yourself yourselves he him his
himself she her hers herself it its itself they them their theirs themselves what which who whom
this that these those am is are was were be been being have has had having do does did doing a an
the and but if or because as until while of at by for with about against between into through
during before after above below to from up down in out on off over under again further then once
here there when where why how all any both each few more most other some such no nor not only own
same so than too very s t can will just don should now"""
STOP_WORDS = frozenset(_STOP_LIST.split())


@attrs.frozen
class Term:
    """A word or a phrase (its words as written), possibly excluded."""

    words: tuple[str, ...]
    negated: bool = False


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


def is_stop_word(word: str) -> bool:
    return word.lower() in STOP_WORDS


def split_words(text: str) -> list[str]:
    """The words of ``text`` as written: maximal runs of letters, digits, private-use
    characters and combining marks (what FTS5's unicode61 tokenizer keeps together)."""
    words: list[str] = []
    start = -1
    for index, character in enumerate(text):
        category = unicodedata.category(character)
        if category[0] in "LN" or category in ("Co", "Mn"):
            if start < 0:
                start = index
        elif start >= 0:
            words.append(text[start:index])
            start = -1
    if start >= 0:
        words.append(text[start:])
    return words


def parse(text: str, *, field: str = "text") -> Expression:
    """The expression ``text`` says; ``InvalidInput`` (naming ``field``) when it says nothing usable."""
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


@attrs.frozen
class TextSearch:
    """What a text query looks for. ``words``: its searchable words in order (lowercased, stop
    words dropped, repeats kept: a word the query says twice weighs twice in BM25, as
    in Lucene); a chunk holding none of them is no match.
    ``expression``: in websearch mode, the condition a match must meet besides (its
    excluded words are not among ``words``); None in ``any`` mode."""

    words: tuple[str, ...]
    expression: Expression | None = None

    @property
    def is_empty(self) -> bool:
        return not self.words


def read(text: str, match: TextMatch, *, text_mode: bool, field: str = "text") -> TextSearch:
    """The search ``text`` asks for. Refused (``InvalidInput`` naming ``field``) when it has no
    word at all, is malformed websearch syntax, or (``text_mode``) has only stop words; in a
    hybrid search stop words alone give an empty search, which leaves the text list empty."""
    if match is TextMatch.WEBSEARCH:
        expression = parse(text, field=field).searchable()
        positive = (
            word
            for terms in expression.alternatives
            for term in terms
            if not term.negated
            for word in term.words
        )
        found = TextSearch(_searchable(positive), expression)
    else:
        words = split_words(text)
        if not words:
            raise InvalidInput(field, "has no words to search for")
        found = TextSearch(_searchable(words))
    if text_mode and found.is_empty:
        raise InvalidInput(field, "has only stop words (such as 'the', 'and'): nothing to look for")
    return found


def _searchable(words: Iterator[str] | list[str]) -> tuple[str, ...]:
    return tuple(w for w in (word.lower() for word in words) if w not in STOP_WORDS)
