"""Markdown: one segment per section, each keeping its Markdown source.

markdown-it-py's CommonMark parser finds the headings, so that ``#`` inside a fenced
code block, or a heading quoted in a ``>`` blockquote or a list item, does not cut a
section. The segment text stays Markdown (not rendered text): a snippet shown to a user
or a model reads well either way, and the source keeps tables and code intact.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

import attrs
from markdown_it import MarkdownIt
from markdown_it.token import Token

from tenantrag.adapters.parsing.decoding import charset_parameter, decode
from tenantrag.adapters.parsing.outline import Outline
from tenantrag.adapters.parsing.plain_text import strip_blank_lines
from tenantrag.domain.ports.parser import ParsedDocument, Segment

# Only the block structure matters here, and CommonMark defines it without extensions.
_MARKDOWN = MarkdownIt("commonmark")
_FRONT_MATTER_FENCE = "---"
_FRONT_MATTER_END = frozenset({"---", "..."})
_FRONT_MATTER_TITLE = re.compile(r"title:\s*(.*?)\s*", re.IGNORECASE)


@attrs.frozen
class _Heading:
    line: int
    level: int
    title: str


class MarkdownParser:
    """A :class:`~tenantrag.domain.ports.parser.Parser` for ``text/markdown``.

    Each heading starts a segment that runs to the next heading of any level, with
    ``{"section": "Intro > Setup", "heading_level": 2}``: the titles of the heading and
    of the headings it is nested under. Text before the first heading is a segment with
    no section. The title is YAML front matter's ``title:``, else the first ``#`` heading.
    """

    def parse(self, data: bytes, media_type: str, filename: str) -> ParsedDocument:
        text, encoding = decode(data, filename, charset_parameter(media_type))
        lines = text.split("\n")
        body_start, title = _front_matter(lines)
        headings = _headings(lines, body_start)
        segments: list[Segment] = []
        _append(segments, lines[: headings[0].line if headings else len(lines)], {})
        outline = Outline()
        for index, heading in enumerate(headings):
            end = headings[index + 1].line if index + 1 < len(headings) else len(lines)
            _append(segments, lines[heading.line : end], outline.enter(heading.level, heading.title))
        if title is None:
            title = next((h.title for h in headings if h.level == 1 and h.title), None)
        return ParsedDocument(tuple(segments), title=title, metadata={"encoding": encoding})


def _append(segments: list[Segment], lines: Sequence[str], metadata: dict[str, Any]) -> None:
    text = strip_blank_lines("\n".join(lines))
    if text:
        segments.append(Segment(text, metadata))


def _front_matter(lines: Sequence[str]) -> tuple[int, str | None]:
    """``(first line after the front matter, its title)``; ``(0, None)`` without front matter.

    Without this, CommonMark would read ``---`` as a rule and the ``title: ...`` line
    above the closing ``---`` as a heading. The block stays in the text (it is part of
    the file) but no heading is looked for inside it.
    """
    if not lines or lines[0].rstrip() != _FRONT_MATTER_FENCE:
        return 0, None
    for number, line in enumerate(lines[1:], start=1):
        if line.rstrip() in _FRONT_MATTER_END:
            titles = (_FRONT_MATTER_TITLE.fullmatch(entry) for entry in lines[1:number])
            value = next((match.group(1) for match in titles if match), "")
            return number + 1, _unquote(value) or None
    return 0, None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def _headings(lines: Sequence[str], start: int) -> list[_Heading]:
    """The document's own headings (not those nested in quotes or lists), in order."""
    tokens = _MARKDOWN.parse("\n".join(lines[start:]))
    headings = []
    for opening, inline in itertools.pairwise(tokens):
        if opening.type == "heading_open" and opening.level == 0 and opening.map is not None:
            headings.append(_Heading(start + opening.map[0], int(opening.tag[1:]), _plain(inline)))
    return headings


def _plain(inline: Token) -> str:
    """A heading's words without Markdown: ``Set *up* `x` `` is ``Set up x``."""
    parts: list[str] = []
    for child in inline.children or ():
        if child.type in {"text", "text_special", "code_inline"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif child.type == "image":
            parts.append(_plain(child))  # its children are the alt text
    return " ".join("".join(parts).split())
