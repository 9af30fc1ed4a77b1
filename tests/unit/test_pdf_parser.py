"""The PDF parser: pages become segments numbered by page, titles come from the document
information, unreadable pages are skipped and named, and corrupt, password-protected or fuzzed
files are refused saying why rather than escaping as server errors."""

from __future__ import annotations

import io

import pypdf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.adapters.parsing import PdfParser
from tenantrag.domain.ports.parser import Segment, UnparseableDocument
from tests.unit.pdf_samples import make_pdf


def encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    # RC4: pypdf encrypts it without the optional cryptography package.
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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
