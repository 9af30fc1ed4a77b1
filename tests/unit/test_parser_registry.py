"""The parser port and the registry: the port's values (segments, parsed documents, the
unparseable-document error), dispatch on the media type or, for an uninformative one, the file
extension, the refusal listing what is supported, and the media-type helpers."""

from __future__ import annotations

import pytest

from tenantrag.adapters.parsing import ParserRegistry, PlainTextParser, essence, media_type_for
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.ports.parser import ParsedDocument, Parser, Segment, UnparseableDocument
from tests.unit.pdf_samples import make_pdf

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
