"""The text parsers: plain text's encodings and refusals, Markdown sections with their heading paths
and front-matter titles, and HTML's visible text, sections, titles and charsets, with property tests
that Markdown keeps every visible character and any HTML parses to non-blank segments."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tenantrag.adapters.parsing import HtmlParser, MarkdownParser, PlainTextParser
from tenantrag.adapters.parsing.front_matter import read_front_matter
from tenantrag.domain.ports.parser import Segment, UnparseableDocument

# --- Plain text -----------------------------------------------------------------------------


def test_plain_text_is_one_segment_without_surrounding_blank_lines() -> None:
    document = PlainTextParser().parse(b"\n\n  indented\r\nsecond\r\n\n", "text/plain", "a.txt")

    assert document.segments == (Segment("  indented\nsecond"),)
    assert document.title is None
    assert document.metadata == {"encoding": "utf-8"}


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
    ],
)
def test_a_byte_order_mark_picks_the_encoding_and_is_dropped(bom: bytes, encoding: str) -> None:
    data = bom + "café ☕".encode(encoding)

    document = PlainTextParser().parse(data, "text/plain; charset=iso-8859-1", "a.txt")

    assert document.segments == (Segment("café ☕"),)
    assert document.metadata == {"encoding": encoding}


def test_a_declared_charset_is_used() -> None:
    document = PlainTextParser().parse("café".encode("latin-1"), 'text/plain; Charset="Latin-1"', "a.txt")

    assert document.text == "café"
    assert document.metadata == {"encoding": "iso8859-1"}


def test_invalid_utf8_is_refused_with_the_offset_of_the_bad_byte() -> None:
    with pytest.raises(UnparseableDocument) as raised:
        PlainTextParser().parse(b"abc\xffdef", "text/plain", "notes.txt")

    assert raised.value.message == (
        "notes.txt: not valid utf-8 text (byte 0xff at offset 3); save the file as UTF-8"
    )


@pytest.mark.parametrize("charset", ["no-such-charset", "base64"])
def test_an_unknown_or_non_text_charset_is_refused(charset: str) -> None:
    with pytest.raises(UnparseableDocument, match=f"a.txt: unknown character encoding '{charset}'"):
        PlainTextParser().parse(b"abc", f"text/plain; charset={charset}", "a.txt")


def test_text_with_nul_characters_is_refused_as_binary() -> None:
    with pytest.raises(UnparseableDocument, match=r"a.txt: contains NUL characters; is it a binary file\?"):
        PlainTextParser().parse(b"MZ\x00\x00", "text/plain", "a.txt")


def test_blank_text_has_no_segments() -> None:
    assert PlainTextParser().parse(b" \n\t\n", "text/plain", "a.txt").segments == ()


# --- Markdown -------------------------------------------------------------------------------

NESTED_MARKDOWN = """\
Some words before any heading.

# Guide

Welcome.

## Install

Run it.

### On Linux

apt.

## Use

Call it.

# Reference
"""


def test_markdown_sections_carry_their_heading_path_and_keep_their_source() -> None:
    document = MarkdownParser().parse(NESTED_MARKDOWN.encode(), "text/markdown", "guide.md")

    assert [(segment.text, segment.metadata) for segment in document.segments] == [
        ("Some words before any heading.", {}),
        ("# Guide\n\nWelcome.", {"section": "Guide", "heading_level": 1}),
        ("## Install\n\nRun it.", {"section": "Guide > Install", "heading_level": 2}),
        ("### On Linux\n\napt.", {"section": "Guide > Install > On Linux", "heading_level": 3}),
        # A heading with nothing after it closes the last segment rather than standing alone.
        ("## Use\n\nCall it.\n\n# Reference", {"section": "Guide > Use", "heading_level": 2}),
    ]
    assert document.title == "Guide"


def test_markdown_headings_are_found_by_the_commonmark_structure() -> None:
    source = (
        "Title\n=====\n\n"
        "```\n# not a heading: code\n```\n\n"
        "> # not a section: quoted\n\n"
        "- # nor in a list\n\n"
        "Sub *part* `x`\n---\ntext\n\n"
        "#### Skipped levels\nmore\n\n"
        "## Back up\nlast\n"
    )

    document = MarkdownParser().parse(source.encode(), "text/markdown", "a.md")

    assert [segment.metadata for segment in document.segments] == [
        {"section": "Title", "heading_level": 1},
        {"section": "Title > Sub part x", "heading_level": 2},
        {"section": "Title > Sub part x > Skipped levels", "heading_level": 4},
        {"section": "Title > Back up", "heading_level": 2},
    ]
    assert document.segments[0].text.endswith("- # nor in a list")


def test_markdown_front_matter_gives_the_title_and_metadata_and_is_no_segment() -> None:
    source = '---\ntitle: "Release notes"\nauthor: me\n# not a heading\n---\n\nIntro.\n\n# 1.0\n\nFixes.\n'

    document = MarkdownParser().parse(source.encode(), "text/markdown", "a.md")

    assert document.title == "Release notes"
    assert document.declared == {"title": "Release notes", "author": "me"}
    assert document.segments[0] == Segment("Intro.")
    assert document.segments[1].metadata == {"section": "1.0", "heading_level": 1}


def test_markdown_without_headings_is_one_segment_and_no_title() -> None:
    document = MarkdownParser().parse(b"just *text*\n", "text/markdown", "a.md")

    assert document.segments == (Segment("just *text*"),)
    assert document.title is None


def test_markdown_refuses_invalid_utf8() -> None:
    with pytest.raises(UnparseableDocument, match=r"^a.md: not valid utf-8 text"):
        MarkdownParser().parse(b"# caf\xe9", "text/markdown", "a.md")


_MARKDOWN_PIECES = st.sampled_from(
    (
        *("#", "##", "###### ", "# ", "=", "---", "```", "~~~", ">", "- ", "1. ", "*", "_", "`", "\\"),
        *("\n", "\n\n", "\r\n", "   ", "\t", "\ufeff", "\u2028", "\x0c"),
        *("<div>", "[a](b)", "&amp;", "word", "é", "😀"),
    )
)
_MARKDOWN_TEXT = st.one_of(
    st.lists(_MARKDOWN_PIECES, max_size=60).map("".join),
    st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=300),
)


@given(source=_MARKDOWN_TEXT)
@example(source="---\n---")  # empty front matter: no text at all
def test_markdown_segments_keep_every_visible_character_in_order(source: str) -> None:
    # A leading U+FEFF in the input is read as a byte order mark, not as text.
    text = source.removeprefix("\ufeff")
    try:
        front = read_front_matter(text, "a.md")
    except UnparseableDocument:
        # Only a fenced block that is not valid YAML or TOML may make the parser refuse.
        with pytest.raises(UnparseableDocument, match="front matter"):
            MarkdownParser().parse(source.encode(), "text/markdown", "a.md")
        return
    document = MarkdownParser().parse(source.encode(), "text/markdown", "a.md")
    # Front matter is metadata, not text: the body is what follows its closing fence.
    body = text if front is None else "\n".join(text.split("\n")[front.lines :])

    def visible(text: str) -> str:
        return "".join(character for character in text if not character.isspace())

    assert visible("".join(segment.text for segment in document.segments)) == visible(body)
    assert all(segment.text.strip() for segment in document.segments)


# --- HTML -----------------------------------------------------------------------------------

PAGE = b"""<!DOCTYPE html>
<html><head><title> Caf&eacute; &amp; Co </title>
<style>body { color: red }</style><script>var hidden = 1;</script>
<meta name="description" content="not text"></head>
<body>
<p>Opening <b>words</b>, then&nbsp;more &lt;escaped&gt;.</p>
<noscript>Enable JavaScript</noscript><template><p>template text</p></template>
<!-- a comment -->
<h1>Menu</h1>
<ul><li>Tea</li><li>Coffee</li></ul>
<div hidden>secret</div>
<h2>Prices</h2>
<table><tr><th>Item</th><th>Price</th></tr><tr><td>Tea</td><td>2</td></tr></table>
<h3>Notes</h3><p>Line one<br>line two</p>
<h2>Code</h2>
<pre>
def f():
    return  1
</pre>
<script>document.write("late")</script>
</body></html>"""


def test_html_sections_hold_the_visible_text_only() -> None:
    document = HtmlParser().parse(PAGE, "text/html", "menu.html")

    assert [(segment.text, segment.metadata) for segment in document.segments] == [
        ("Opening words, then\u00a0more <escaped>.", {}),
        ("Menu\n\nTea\nCoffee", {"section": "Menu", "heading_level": 1}),
        ("Prices\n\nItem\tPrice\nTea\t2", {"section": "Menu > Prices", "heading_level": 2}),
        ("Notes\n\nLine one\nline two", {"section": "Menu > Prices > Notes", "heading_level": 3}),
        ("Code\n\ndef f():\n    return  1", {"section": "Menu > Code", "heading_level": 2}),
    ]
    assert document.title == "Café & Co"
    for dropped in ("color", "hidden", "JavaScript", "template", "comment", "secret", "late", "description"):
        assert dropped not in document.text


def test_html_without_a_title_element_takes_the_first_h1() -> None:
    source = b"<svg><title>icon</title></svg><h2>Sub</h2><h1>Main &amp; more</h1>"

    document = HtmlParser().parse(source, "text/html", "a.html")

    assert document.title == "Main & more"


def test_html_reads_the_charset_its_meta_element_declares() -> None:
    source = '<meta charset="windows-1252"><p>naïve “quotes”</p>'.encode("cp1252")

    document = HtmlParser().parse(source, "text/html", "a.html")

    assert document.text == "naïve “quotes”"
    assert document.metadata == {"encoding": "cp1252"}


def test_a_charset_in_the_media_type_wins_over_the_meta_element() -> None:
    source = '<meta charset="windows-1252"><p>café</p>'.encode()

    document = HtmlParser().parse(source, "text/html; charset=utf-8", "a.html")

    assert document.text == "café"


def test_html_never_glues_words_across_elements() -> None:
    source = b"<div>one<div>two</div></div><span>three</span> <i>four</i><p>five\n   six</p>"

    document = HtmlParser().parse(source, "text/html", "a.html")

    assert document.text == "one\n\ntwo\n\nthree four\n\nfive six"


@pytest.mark.parametrize("content", [b"https://example.com/page", b"index.html"])
def test_html_that_looks_like_a_locator_parses_without_warnings(content: bytes) -> None:
    # pytest turns warnings into errors: BeautifulSoup warns about such markup given as a string.
    assert HtmlParser().parse(content, "text/html", "a.html").text == content.decode()


def test_deeply_nested_html_does_not_exhaust_the_stack() -> None:
    source = b"<div>" * 5000 + b"deep" + b"</div>" * 5000

    assert HtmlParser().parse(source, "text/html", "a.html").text == "deep"


_HTML_PIECES = st.sampled_from(
    (
        *("<p>", "</p>", "<h1>", "</h1>", "<h2 hidden>", "<!--", "-->", "<script>", "</script>"),
        *("<pre>", "</pre>", "<td>", "<br>", "&amp", "&#0;", "a", " ", "\n", "\r", "<", ">", "\u00a0"),
    )
)


@given(source=st.lists(_HTML_PIECES, max_size=40).map("".join))
def test_any_html_parses_to_non_blank_segments(source: str) -> None:
    document = HtmlParser().parse(source.encode(), "text/html", "a.html")

    assert all(
        segment.text.strip() and segment.text == segment.text.strip("\n") for segment in document.segments
    )
