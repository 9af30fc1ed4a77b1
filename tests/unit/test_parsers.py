"""Parsers: each format's text and metadata, the registry's dispatch, and refused input."""

from __future__ import annotations

import codecs
import io
from collections.abc import Sequence

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.adapters.parsing import (
    HtmlParser,
    MarkdownParser,
    ParserRegistry,
    PdfParser,
    PlainTextParser,
    essence,
    media_type_for,
)
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.ports.parser import ParsedDocument, Parser, Segment, UnparseableDocument

# --- PDF samples ------------------------------------------------------------------------


def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(pages: Sequence[str], *, title: str | None = None) -> bytes:
    """A minimal valid PDF: one page per string, each line shown in Helvetica.

    pypdf cannot lay out text, so the file is written by hand: objects, then a cross-reference
    table of their byte offsets, then the trailer. An empty string makes a page with no text.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{4 + 2 * i} 0 R' for i in range(len(pages)))}]"
        f" /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for index, text in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
            b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * index)
        )
        shows = " ".join(f"{_pdf_string(line)} Tj T*" for line in text.split("\n") if line)
        stream = f"BT /F1 12 Tf 14 TL 72 720 Td {shows} ET".encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    if title is not None:
        objects.append(f"<< /Title {_pdf_string(title)} >>".encode("latin-1"))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = b" /Info %d 0 R" % len(objects) if title is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info, xref)
    return bytes(out)


def encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    # RC4: pypdf encrypts it without the optional cryptography package.
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- The port's values ----------------------------------------------------------------------


def test_segments_copy_their_metadata_and_hash_by_text() -> None:
    metadata = {"page": 1}
    segment = Segment("text", metadata)
    metadata["page"] = 2

    assert segment.metadata == {"page": 1}
    assert hash(segment) == hash(Segment("text", {"page": 9}))
    assert segment != Segment("text", {"page": 9})


def test_a_parsed_documents_text_joins_its_segments_with_blank_lines() -> None:
    document = ParsedDocument((Segment("one"), Segment("two")))

    assert document.text == "one\n\ntwo"
    assert document.title is None
    assert document.metadata == {}


def test_unparseable_document_is_invalid_input_naming_the_file() -> None:
    error = UnparseableDocument("report.pdf", "not a valid PDF (EOF marker not found)")

    assert isinstance(error, InvalidInput)
    assert error.code == "unparseable_document"
    assert error.message == "report.pdf: not a valid PDF (EOF marker not found)"
    assert error.field == "file"
    assert error.details == {"field": "file", "filename": "report.pdf"}


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
        ("## Use\n\nCall it.", {"section": "Guide > Use", "heading_level": 2}),
        ("# Reference", {"section": "Reference", "heading_level": 1}),
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
        "## Back up\n"
    )

    document = MarkdownParser().parse(source.encode(), "text/markdown", "a.md")

    assert [segment.metadata for segment in document.segments] == [
        {"section": "Title", "heading_level": 1},
        {"section": "Title > Sub part x", "heading_level": 2},
        {"section": "Title > Sub part x > Skipped levels", "heading_level": 4},
        {"section": "Title > Back up", "heading_level": 2},
    ]
    assert document.segments[0].text.endswith("- # nor in a list")


def test_markdown_front_matter_gives_the_title_and_holds_no_headings() -> None:
    source = '---\ntitle: "Release notes"\nauthor: me\n---\n\nIntro.\n\n# 1.0\n'

    document = MarkdownParser().parse(source.encode(), "text/markdown", "a.md")

    assert document.title == "Release notes"
    assert document.segments[0] == Segment('---\ntitle: "Release notes"\nauthor: me\n---\n\nIntro.')
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
def test_markdown_segments_keep_every_visible_character_in_order(source: str) -> None:
    document = MarkdownParser().parse(source.encode(), "text/markdown", "a.md")

    def visible(text: str) -> str:
        return "".join(character for character in text if not character.isspace())

    # A leading U+FEFF in the input is read as a byte order mark, not as text.
    assert visible("".join(segment.text for segment in document.segments)) == visible(
        source.removeprefix("\ufeff")
    )
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


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_pages_become_segments_with_their_page_numbers() -> None:
    pdf = make_pdf(["Hello (world)\nsecond line", "", "Third page"], title="Quarterly Report")

    document = PdfParser().parse(pdf, "application/pdf", "report.pdf")

    assert document.segments == (
        Segment("Hello (world)\nsecond line", {"page": 1}),
        Segment("Third page", {"page": 3}),
    )
    assert document.title == "Quarterly Report"
    assert document.metadata == {"page_count": 3}


def test_a_pdf_without_text_has_no_segments_but_counts_its_pages() -> None:
    document = PdfParser().parse(make_pdf(["", ""]), "application/pdf", "scan.pdf")

    assert document.segments == ()
    assert document.title is None
    assert document.metadata == {"page_count": 2}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (make_pdf(["text"])[:300], "not a valid PDF (EOF marker not found)"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 4, "not a valid PDF (EOF marker not found)"),
        (bytes(range(256)) * 4, "not a valid PDF (no %PDF- header)"),
        (b"", "not a valid PDF (no %PDF- header)"),
    ],
    ids=["truncated", "garbage-after-header", "random-bytes", "empty"],
)
def test_corrupt_pdfs_are_refused_saying_why(data: bytes, problem: str) -> None:
    with pytest.raises(UnparseableDocument) as raised:
        PdfParser().parse(data, "application/pdf", "report.pdf")

    assert raised.value.message == f"report.pdf: {problem}"


def test_pages_whose_text_cannot_be_extracted_are_skipped_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    extract_text = pypdf.PageObject.extract_text

    def failing_on_page_two(page: pypdf.PageObject, *args: object, **kwargs: object) -> str:
        if page.page_number == 1:
            raise pypdf.errors.PdfReadError("damaged content stream")
        return extract_text(page)

    monkeypatch.setattr(pypdf.PageObject, "extract_text", failing_on_page_two)

    document = PdfParser().parse(make_pdf(["one", "two", "three"]), "application/pdf", "a.pdf")

    assert [segment.metadata["page"] for segment in document.segments] == [1, 3]
    assert document.metadata == {"page_count": 3, "unreadable_pages": [2]}


def test_a_password_protected_pdf_is_refused() -> None:
    with pytest.raises(UnparseableDocument, match=r"^secret.pdf: is protected by a password$"):
        PdfParser().parse(encrypted(make_pdf(["classified"]), "hunter2"), "application/pdf", "secret.pdf")


def test_a_pdf_encrypted_with_an_empty_user_password_is_read() -> None:
    data = encrypted(make_pdf(["printable? no. readable? yes."]), "")

    document = PdfParser().parse(data, "application/pdf", "locked.pdf")

    assert document.segments == (Segment("printable? no. readable? yes.", {"page": 1}),)


def _outcome(data: bytes) -> str:
    """What parsing ``data`` as a PDF ended in: "parsed", or the refusal's message."""
    try:
        PdfParser().parse(data, "application/pdf", "fuzz.pdf")
    except UnparseableDocument as error:
        return error.message
    return "parsed"


_SAMPLE_PDF = make_pdf(["First page", "Second (page)"], title="Sample")


@st.composite
def _damaged_pdfs(draw: st.DrawFn) -> bytes:
    """The sample PDF with some bytes overwritten and perhaps cut short."""
    data = bytearray(_SAMPLE_PDF)
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        data[draw(st.integers(min_value=0, max_value=len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(min_value=0, max_value=len(data)))])


@given(data=st.one_of(_damaged_pdfs(), st.binary(max_size=400).map(lambda garbage: b"%PDF-1.4\n" + garbage)))
def test_damaged_pdfs_parse_or_are_refused(data: bytes) -> None:
    # Anything else pypdf raised on hostile bytes would escape as a server error.
    outcome = _outcome(data)

    assert outcome == "parsed" or outcome.startswith("fuzz.pdf: not a valid PDF (")


# --- The registry ---------------------------------------------------------------------------


def test_the_registry_is_a_parser() -> None:
    parser: Parser = ParserRegistry()

    assert isinstance(parser.parse(b"hi", "text/plain", "a.txt"), ParsedDocument)
    assert ParserRegistry().media_types == ("text/plain", "text/markdown", "text/html", "application/pdf")


@pytest.mark.parametrize(
    ("media_type", "expected_metadata"),
    [
        ("text/markdown; charset=utf-8", {"section": "Title", "heading_level": 1}),
        ("Text/Markdown", {"section": "Title", "heading_level": 1}),
        ("text/x-markdown", {"section": "Title", "heading_level": 1}),
        ("text/plain", {}),
    ],
)
def test_the_registry_dispatches_on_the_media_type_without_parameters(
    media_type: str, expected_metadata: dict[str, object]
) -> None:
    document = ParserRegistry().parse(b"# Title\ntext", media_type, "a.md")

    assert document.segments == (Segment("# Title\ntext", expected_metadata),)


def test_the_registry_passes_the_charset_on() -> None:
    document = ParserRegistry().parse("# Café".encode("latin-1"), "text/markdown; charset=latin-1", "a.md")

    assert document.title == "Café"


@pytest.mark.parametrize("media_type", ["application/octet-stream", "", "binary/octet-stream"])
@pytest.mark.parametrize(
    ("filename", "data", "title"),
    [
        ("notes.MD", b"# From Markdown", "From Markdown"),
        ("notes.markdown", b"# From Markdown", "From Markdown"),
        ("page.htm", b"<title>From HTML</title>", "From HTML"),
        ("page.html", b"<title>From HTML</title>", "From HTML"),
        ("report.pdf", make_pdf(["x"], title="From PDF"), "From PDF"),
        ("notes.txt", b"# not a heading in plain text", None),
    ],
)
def test_an_uninformative_media_type_falls_back_to_the_extension(
    media_type: str, filename: str, data: bytes, title: str | None
) -> None:
    assert ParserRegistry().parse(data, media_type, filename).title == title


@pytest.mark.parametrize(
    ("media_type", "filename", "resolved"),
    [
        ("text/html; charset=utf-8", "a.md", "text/html"),
        ("application/xhtml+xml", "a.xhtml", "text/html"),
        ("application/octet-stream", "README.Markdown", "text/markdown"),
        ("", "data.csv", "text/csv"),
        ("", "no-extension", "application/octet-stream"),
        ("image/png", "a.md", "image/png"),
    ],
)
def test_resolve_names_the_type_a_file_would_be_read_as(
    media_type: str, filename: str, resolved: str
) -> None:
    assert ParserRegistry().resolve(media_type, filename) == resolved


def test_an_unknown_media_type_is_refused_listing_the_supported_ones() -> None:
    with pytest.raises(UnparseableDocument) as raised:
        ParserRegistry().parse(b"\x89PNG", "image/png", "photo.png")

    assert raised.value.message == (
        "photo.png: media type image/png is not supported; "
        "supported: text/plain, text/markdown, text/html, application/pdf"
    )


def test_an_octet_stream_with_an_unknown_extension_is_refused_listing_extensions_too() -> None:
    with pytest.raises(UnparseableDocument) as raised:
        ParserRegistry().parse(b"\x00\x01", "application/octet-stream", "notes.bin")

    assert raised.value.message == (
        "notes.bin: media type application/octet-stream is not supported; "
        "supported: text/plain, text/markdown, text/html, application/pdf "
        "(a file sent without a specific type is read by its extension: "
        ".htm, .html, .markdown, .md, .pdf, .text, .txt)"
    )


def test_a_declared_media_type_is_trusted_over_the_extension() -> None:
    with pytest.raises(UnparseableDocument, match=r"^report.md: not a valid PDF \(no %PDF- header\)$"):
        ParserRegistry().parse(b"# Title", "application/pdf", "report.md")


def test_a_registry_can_be_given_its_own_parsers() -> None:
    registry = ParserRegistry({"Text/Plain": PlainTextParser()})

    assert registry.media_types == ("text/plain",)
    with pytest.raises(UnparseableDocument, match=r"supported: text/plain$"):
        registry.parse(b"# x", "text/markdown", "a.md")


@pytest.mark.parametrize(
    ("filename", "media_type"),
    [
        ("README.md", "text/markdown"),
        ("notes.MARKDOWN", "text/markdown"),
        ("index.htm", "text/html"),
        ("a.b.pdf", "application/pdf"),
        ("plain.txt", "text/plain"),
        ("data.csv", "text/csv"),
        ("no-extension", "application/octet-stream"),
        ("archive.unknownext", "application/octet-stream"),
    ],
)
def test_media_type_for_a_filename(filename: str, media_type: str) -> None:
    assert media_type_for(filename) == media_type


def test_essence_drops_parameters_and_case() -> None:
    assert essence(" Text/HTML ; charset=UTF-8") == "text/html"
