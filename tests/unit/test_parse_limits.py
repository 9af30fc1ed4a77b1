"""Parsing limits (issue 17): pages, inflated bytes and time, each refused by name.

The bomb is the red-team's: ten pages sharing one stream of a few kilobytes that inflates
to 1 MB of text operators each page interprets again (18 s on the event loop before).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tenantrag.adapters.parsing import MARKDOWN, PDF, PdfParser
from tenantrag.adapters.parsing.isolation import IsolatedParser
from tenantrag.adapters.parsing.limits import ParseLimits
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.ports.parser import UnparseableDocument
from tests.unit.pdf_bomb import make_pdf_bomb
from tests.unit.pdf_samples import make_pdf


@pytest.fixture
def isolated() -> Iterator[IsolatedParser]:
    parser = IsolatedParser(ParseLimits(timeout_seconds=1.0))
    try:
        yield parser
    finally:
        parser.close()


def test_the_bomb_is_small_on_disk() -> None:
    assert len(make_pdf_bomb()) < 5 * 1024


def test_too_many_pages_are_refused_naming_the_limit() -> None:
    parser = PdfParser(ParseLimits(max_pages=3))
    with pytest.raises(UnparseableDocument, match=r"has 5 pages, over the limit of 3 \(PARSE_MAX_PAGES\)"):
        parser.parse(make_pdf(["page"] * 5), PDF, "long.pdf")
    assert len(parser.parse(make_pdf(["page"] * 3), PDF, "short.pdf").segments) == 3


def test_inflated_content_is_refused_before_any_text_is_extracted() -> None:
    parser = PdfParser(ParseLimits(max_inflated_bytes=1_500_000))
    started = time.perf_counter()
    with pytest.raises(UnparseableDocument) as refused:
        parser.parse(make_pdf_bomb(), PDF, "bomb.pdf")
    assert "inflates past the limit of 1500000 bytes by page 2 (PARSE_MAX_INFLATED_BYTES)" in str(
        refused.value
    )
    assert refused.value.field == "file"
    # Measured only: interpreting one page of the bomb takes seconds, counting it does not.
    assert time.perf_counter() - started < 5


def test_a_parse_over_time_is_killed_and_refused_naming_the_limit(isolated: IsolatedParser) -> None:
    started = time.perf_counter()
    with pytest.raises(
        UnparseableDocument, match=r"longer than the limit of 1 s .*\(PARSE_TIMEOUT_SECONDS\)"
    ):
        isolated.parse(make_pdf_bomb(), PDF, "bomb.pdf")
    # One second of parsing, plus starting a worker process (imports), on a busy machine.
    assert time.perf_counter() - started < 30
    # The killed worker was replaced: the next PDF parses.
    normal = make_pdf(["Cats purr.", "Dogs bark."], title="Pets")
    assert isolated.parse(normal, PDF, "pets.pdf") == PdfParser().parse(normal, PDF, "pets.pdf")


def test_refusals_and_other_formats_come_back_as_in_process(isolated: IsolatedParser) -> None:
    with pytest.raises(UnparseableDocument, match="no %PDF- header"):
        isolated.parse(b"not a pdf", PDF, "fake.pdf")
    parsed = isolated.parse(b"# Title\n\nBody text.", MARKDOWN, "notes.md")
    assert parsed.title == "Title"
    assert isolated.resolve("application/octet-stream", "x.pdf") == PDF


def test_limits_must_be_positive() -> None:
    for field in ("max_pages", "max_inflated_bytes", "timeout_seconds", "workers"):
        with pytest.raises(InvalidInput, match=field):
            ParseLimits(**{field: 0})
