"""Splitting text into overlapping character windows that end at natural breaks.

Spans carry offsets into the source rather than copies detached from it, so a
caller can map each chunk back to pages or sections, and :func:`reconstruct`
can prove that nothing was lost.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.ports.chunker import TextSpan

# Each pattern is matched from the earliest acceptable cut with a greedy ``.*``, so
# the match ends at the *last* break in the window: a backwards search at C speed.
# Every pattern ends on the whitespace character the chunk is cut in front of.
_PARAGRAPH = re.compile(r".*\n[^\S\n]*\n", re.DOTALL)
_CLOSERS = "\"')\\]}\u201d\u2019\u00bb"  # so `He said "stop." Then` still ends a sentence
_SENTENCE = re.compile(rf".*(?:[.!?][{_CLOSERS}]*\s|\n)", re.DOTALL)
_WORD = re.compile(r".*\s", re.DOTALL)
_BREAKS = (_PARAGRAPH, _SENTENCE, _WORD)

_WORD_START = re.compile(r"(?<=\s)\S")


class TextChunker:
    """A :class:`~tenantrag.domain.ports.chunker.Chunker` measuring in characters.

    Each chunk is the longest window of at most ``chunk_size`` characters that ends
    at a paragraph break, else a sentence end, else between words; a break is only
    taken in the second half of the window, because a much shorter chunk would cost
    more than a mid-word cut does. The next chunk repeats about ``chunk_overlap``
    characters, starting on a word where one begins inside the overlap, so context
    around a boundary is retrievable from either side.
    """

    def __init__(self, chunk_size: int = 1000, chunk_overlap: int = 150) -> None:
        # One character is the true minimum; what is *useful* for retrieval is a policy
        # for whoever accepts the setting, not for the algorithm.
        _require_int("chunk_size", chunk_size)
        _require_int("chunk_overlap", chunk_overlap)
        if chunk_size < 1:
            raise InvalidInput("chunk_size", f"must be at least 1 (got {chunk_size})")
        if not 0 <= chunk_overlap < chunk_size:
            raise InvalidInput(
                "chunk_overlap",
                f"must be at least 0 and less than chunk_size {chunk_size} (got {chunk_overlap})",
            )
        self.chunk_size = chunk_size
        self.chunk_overlap = chunk_overlap

    def __repr__(self) -> str:
        return f"TextChunker(chunk_size={self.chunk_size}, chunk_overlap={self.chunk_overlap})"

    def split(self, text: str) -> list[TextSpan]:
        spans: list[TextSpan] = []
        start, end = 0, 0
        while end < len(text):
            end = self._end_of_chunk(text, start, previous_end=end)
            spans.append(TextSpan(start, end, text[start:end]))
            start = self._start_of_next(text, start, end)
        return spans

    def _end_of_chunk(self, text: str, start: int, previous_end: int) -> int:
        limit = start + self.chunk_size
        if limit >= len(text):
            return len(text)
        # Cutting at or before the previous end would repeat a chunk that adds nothing
        # new; since starts strictly increase, ``limit`` is always past it.
        earliest = max(start + max(1, self.chunk_size // 2), previous_end + 1)
        for pattern in _BREAKS:
            # ``limit + 1``: whitespace just past the window is still a place to cut before.
            match = pattern.match(text, earliest, limit + 1)
            if match is not None:
                return _absorb_whitespace(text, match.end() - 1, limit)
        return limit

    def _start_of_next(self, text: str, start: int, end: int) -> int:
        if self.chunk_overlap == 0:
            return end
        candidate = max(end - self.chunk_overlap, start + 1)
        word = _WORD_START.search(text, candidate, end + 1)
        # Without a word start in the overlap (one long token), cut into it: the
        # overlap matters more than where it begins.
        return candidate if word is None else word.start()


def _absorb_whitespace(text: str, cut: int, limit: int) -> int:
    """Keep the whitespace after a break in this chunk, so the next one opens on a word."""
    while cut < limit and text[cut].isspace():
        cut += 1
    return cut


def _require_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(name, f"must be an integer, not {type(value).__name__}")


def reconstruct(spans: Sequence[TextSpan]) -> str:
    """The text the spans cover, ``source[spans[0].start:spans[-1].end]``, each part once.

    For the output of a chunker that is the whole source. Spans that leave a gap or
    go backwards cannot be stitched and raise :class:`InvalidInput`.
    """
    if not spans:
        return ""
    parts = [spans[0].text]
    previous_start, covered = spans[0].start, spans[0].end
    for span in spans[1:]:
        if span.start < previous_start:
            raise InvalidInput("spans", f"are out of order: offset {span.start} after {previous_start}")
        if span.start > covered:
            raise InvalidInput("spans", f"leave a gap between offsets {covered} and {span.start}")
        parts.append(span.text[max(0, covered - span.start) :])
        previous_start, covered = span.start, max(covered, span.end)
    return "".join(parts)
