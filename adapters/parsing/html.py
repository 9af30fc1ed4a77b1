"""HTML: the visible text, one segment per section, as a reader would see it laid out.

BeautifulSoup with the standard library's ``html.parser`` builds the tree (no lxml to
install, and it copes with tag soup). The text is rebuilt with a browser's line
structure rather than ``get_text()``'s: inline elements run together (``a <b>bold</b>
word``), blocks are separated by blank lines and list items or ``<br>`` by a line break,
so the chunker can find paragraph breaks and words are never glued across elements.
Boilerplate is dropped from these sections afterwards (:mod:`.main_content`), so the
layout stays this module's whatever the extractor does with whitespace.
"""

from __future__ import annotations

import io
import re
from typing import Any

from bs4 import BeautifulSoup
from bs4.dammit import EncodingDetector
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

from tenantrag.adapters.parsing.decoding import charset_parameter, decode
from tenantrag.adapters.parsing.main_content import keep_main_content, main_text
from tenantrag.adapters.parsing.outline import Outline, Section, join_bare_headings
from tenantrag.domain.ports.parser import ParsedDocument

# Never rendered. <title> is read separately, as the document's title.
_HIDDEN = frozenset({"head", "title", "script", "style", "noscript", "template"})
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
# Blocks that make paragraphs: a blank line around each.
_PARAGRAPHS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "details", "dialog", "div", "dl",
        "fieldset", "figcaption", "figure", "footer", "form", "header", "hgroup", "hr", "html",
        "main", "nav", "ol", "p", "pre", "section", "table", "ul",
    }
)  # fmt: skip
# Blocks that make lines: a line break around each.
_LINES = frozenset({"br", "caption", "dd", "dt", "legend", "li", "option", "summary", "tr"})
_CELLS = frozenset({"td", "th"})
# HTML collapses runs of these (not of every Unicode space: a no-break space stays).
_COLLAPSIBLE = re.compile(r"[ \t\n\f\r]+")
# A <pre> after a paragraph can leave more than one blank line.
_BLANK_LINES = re.compile(r"\n{3,}")


class HtmlParser:
    """A :class:`~tenantrag.domain.ports.parser.Parser` for ``text/html``.

    Drops ``<head>``, ``<script>``, ``<style>``, ``<noscript>``, ``<template>``,
    comments and elements with the ``hidden`` attribute. ``<h1>``-``<h6>`` start
    sections as Markdown headings do (``{"section": ..., "heading_level": n}``), and a
    heading with no text of its own opens the next section. The title is ``<title>``,
    else the first ``<h1>``. Entities are decoded by the parser.

    With ``main_content`` (the default) and trafilatura installed (``tenantrag[html]``),
    the page's boilerplate (navigation, menus, sidebars, footers) is dropped too: see
    :mod:`.main_content`.
    """

    def __init__(self, *, main_content: bool = True) -> None:
        self.main_content = main_content

    def parse(self, data: bytes, media_type: str, filename: str) -> ParsedDocument:
        text, encoding = decode(data, filename, charset_parameter(media_type) or _meta_charset(data))
        # A file object, not the string: for short markup that looks like a URL or a file
        # name, BeautifulSoup warns that it may have been handed the wrong thing; here it never is.
        soup = BeautifulSoup(io.StringIO(text), "html.parser")
        walker = _Sections()
        walker.walk(soup)
        sections = walker.sections()
        main = main_text(text) if self.main_content else None
        if main is not None:
            sections = keep_main_content(sections, main)
        title = _title(soup) or next(
            (heading for level, heading in walker.headings if level == 1 and heading), None
        )
        return ParsedDocument(
            tuple(join_bare_headings(sections)), title=title, metadata={"encoding": encoding}
        )


def _meta_charset(data: bytes) -> str | None:
    declared = EncodingDetector.find_declared_encoding(data, is_html=True)
    # HTML: a <meta> naming UTF-16 or UTF-32 is wrong, since it was read as ASCII (WHATWG).
    if declared is None or declared.lower().replace("-", "").startswith(("utf16", "utf32")):
        return None
    return declared


def _title(soup: BeautifulSoup) -> str | None:
    for element in soup.find_all("title"):
        # An <svg> holds <title>s of its own: tooltips, not the page's title.
        if element.find_parent("svg") is None:
            return " ".join(element.get_text().split()) or None
    return None


class _Sections:
    """Walks the tree in document order, cutting a segment at each heading.

    The walk keeps its own stack rather than recursing, so a deeply nested page cannot
    exhaust Python's recursion limit.
    """

    def __init__(self) -> None:
        self.headings: list[tuple[int, str]] = []  # (level, title) in document order
        self._sections: list[Section] = []
        self._text = _Text()
        self._metadata: dict[str, Any] = {}
        self._body = False  # the current section has text besides its heading
        self._outline = Outline()
        self._heading_depth = 0  # a heading inside a heading is just text
        self._pre_depth = 0

    def walk(self, root: Tag) -> None:
        stack: list[tuple[PageElement, bool]] = [(root, False)]
        while stack:
            node, leaving = stack.pop()
            if isinstance(node, Tag):
                if leaving:
                    self._leave(node)
                elif node.name not in _HIDDEN and not node.has_attr("hidden"):
                    self._enter(node)
                    stack.append((node, True))
                    stack.extend((child, False) for child in reversed(node.contents))
            # Comments, CDATA, doctypes and processing instructions are never shown.
            elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
                self._text.add(str(node), preformatted=self._pre_depth > 0)
                self._body = self._body or (self._heading_depth == 0 and not node.isspace())

    def sections(self) -> list[Section]:
        self._cut()
        return self._sections

    def _enter(self, tag: Tag) -> None:
        name = tag.name
        if name in _HEADINGS:
            if self._heading_depth == 0:
                self._cut()
            self._heading_depth += 1
        elif name in {"pre", "textarea"}:
            self._pre_depth += 1
        self._break_around(name)

    def _leave(self, tag: Tag) -> None:
        name = tag.name
        if name in _HEADINGS:
            self._heading_depth -= 1
            if self._heading_depth == 0:
                self._titled(_HEADINGS[name], " ".join(self._text.value.split()))
        elif name in {"pre", "textarea"}:
            self._pre_depth -= 1
        self._break_around(name)

    def _break_around(self, name: str) -> None:
        if name in _PARAGRAPHS or name in _HEADINGS:
            self._text.line_break(2)
        elif name in _LINES:
            self._text.line_break(1)
        elif name in _CELLS:
            self._text.space("\t")

    def _titled(self, level: int, title: str) -> None:
        self.headings.append((level, title))
        self._metadata = self._outline.enter(level, title)

    def _cut(self) -> None:
        lines = [line.rstrip() for line in self._text.value.split("\n")]
        text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")
        if text.strip():
            bare = "section" in self._metadata and not self._body
            self._sections.append(Section(text, self._metadata, bare=bare))
        self._text = _Text()
        self._body = False


class _Text:
    """Visible text built up node by node, with the whitespace a browser would show."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._break = 0  # newlines owed before the next text
        self._space = ""  # a space, or a table cell's tab, owed before the next text

    def add(self, text: str, *, preformatted: bool) -> None:
        if preformatted:
            self._emit(text)
            return
        collapsed = _COLLAPSIBLE.sub(" ", text)
        if collapsed.startswith(" "):
            self.space(" ")
        word = collapsed.strip(" ")
        if word:
            self._emit(word)
            if collapsed.endswith(" "):
                self.space(" ")

    def space(self, space: str) -> None:
        if space == "\t" or not self._space:
            self._space = space

    def line_break(self, newlines: int) -> None:
        self._break = max(self._break, newlines)

    @property
    def value(self) -> str:
        return "".join(self._parts)

    def _emit(self, text: str) -> None:
        if not text:
            return
        if self._parts:
            self._parts.append("\n" * self._break if self._break else self._space)
        self._parts.append(text)
        self._break, self._space = 0, ""
