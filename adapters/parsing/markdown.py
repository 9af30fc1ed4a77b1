"""Markdown: one segment per section, each keeping its Markdown source.

markdown-it-py's CommonMark parser finds the headings, so that ``#`` inside a fenced
code block, or a heading quoted in a ``>`` blockquote or a list item, does not cut a
section. The segment text stays Markdown (not rendered text): a snippet shown to a user
or a model reads well either way, and the source keeps tables and code intact.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs
from markdown_it import MarkdownIt
from markdown_it.token import Token

from tenantrag.adapters.parsing.decoding import charset_parameter, decode
from tenantrag.adapters.parsing.front_matter import read_front_matter
from tenantrag.adapters.parsing.outline import Outline, Section, join_bare_headings
from tenantrag.adapters.parsing.plain_text import strip_blank_lines
from tenantrag.domain.ports.parser import ParsedDocument

# Only the block structure matters here, and CommonMark defines it without extensions.
_MARKDOWN = MarkdownIt("commonmark")


@attrs.frozen
class _Heading:
    line: int
    end: int  # the line after the heading (a setext heading takes two)
    level: int
    title: str


class MarkdownParser:
    """A :class:`~tenantrag.domain.ports.parser.Parser` for ``text/markdown``.

    Each heading starts a segment that runs to the next heading of any level, with
    ``{"section": "Intro > Setup", "heading_level": 2}``: the titles of the heading and
    of the headings it is nested under. Text before the first heading is a segment with
    no section. A heading with no text of its own opens the next segment (see
    :func:`~.outline.join_bare_headings`), so no chunk is a heading alone.

    Front matter (YAML between ``---`` lines, or TOML between ``+++``) is no segment: its
    keys are the document's ``declared`` metadata (:mod:`.front_matter`). The title is
    the front matter's ``title``, else the first ``#`` heading.
    """

    def parse(self, data: bytes, media_type: str, filename: str) -> ParsedDocument:
        text, encoding = decode(data, filename, charset_parameter(media_type))
        front = read_front_matter(text, filename)
        lines = text.split("\n")
        body_start = 0 if front is None else front.lines
        headings = _headings(lines, body_start)
        sections = [Section(_text(lines[body_start : headings[0].line if headings else len(lines)]), {})]
        outline = Outline()
        for index, heading in enumerate(headings):
            end = headings[index + 1].line if index + 1 < len(headings) else len(lines)
            sections.append(
                Section(
                    _text(lines[heading.line : end]),
                    outline.enter(heading.level, heading.title),
                    bare=not _text(lines[heading.end : end]),
                )
            )
        declared = {} if front is None else front.values
        title = declared.get("title")
        if not isinstance(title, str) or not title.strip():
            title = next((h.title for h in headings if h.level == 1 and h.title), None)
        return ParsedDocument(
            tuple(join_bare_headings(s for s in sections if s.text)),
            title=title.strip() if title else None,
            metadata={"encoding": encoding},
            declared=declared,
        )


def _text(lines: Sequence[str]) -> str:
    return strip_blank_lines("\n".join(lines))


def _headings(lines: Sequence[str], start: int) -> list[_Heading]:
    """The document's own headings (not those nested in quotes or lists), in order."""
    tokens = _MARKDOWN.parse("\n".join(lines[start:]))
    headings = []
    for opening, inline in itertools.pairwise(tokens):
        if opening.type == "heading_open" and opening.level == 0 and opening.map is not None:
            first, end = opening.map
            headings.append(_Heading(start + first, start + end, int(opening.tag[1:]), _plain(inline)))
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
