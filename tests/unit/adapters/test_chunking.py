"""TextChunker: the span invariants over arbitrary text, and where it prefers to cut."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tenantrag.adapters.chunking import TextChunker, reconstruct
from tenantrag.domain.errors import InvalidInput
from tenantrag.domain.ports.chunker import Chunker, TextSpan

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÀéßΩжあ😀", min_size=1, max_size=12)
_LONG_WORD = st.text(alphabet=st.characters(exclude_categories=["Z", "Cc"]), min_size=40, max_size=300)
_SEPARATOR = st.sampled_from(
    [" ", " ", " ", "  ", ". ", "! ", "? ", '." ', "\n", "\n\n", "\r\n\r\n", "\t", ", "]
)


@st.composite
def _prose(draw: st.DrawFn) -> str:
    """Words, sentences and paragraphs, sometimes with a token too long for any chunk."""
    pieces = draw(st.lists(st.one_of(_WORD, _WORD, _WORD, _LONG_WORD), max_size=120))
    return "".join(piece + draw(_SEPARATOR) for piece in pieces)


_TEXT = st.one_of(st.text(max_size=600), _prose(), _LONG_WORD, st.text(alphabet=" \n\t", max_size=50))


@st.composite
def _chunkers(draw: st.DrawFn) -> TextChunker:
    size = draw(st.integers(min_value=1, max_value=120))
    overlap = draw(st.integers(min_value=0, max_value=size - 1))
    return TextChunker(chunk_size=size, chunk_overlap=overlap)


def assert_invariants(source: str, spans: list[TextSpan], chunk_size: int) -> None:
    if not source:
        assert spans == []
        return
    assert spans[0].start == 0
    assert spans[-1].end == len(source)
    for span in spans:
        assert 0 <= span.start < span.end <= len(source)
        assert span.text == source[span.start : span.end]
        assert len(span.text) <= chunk_size
    for previous, span in itertools.pairwise(spans):
        assert previous.start < span.start <= previous.end, "a gap, or no progress"
        assert previous.end < span.end, "a chunk that adds nothing new"


@given(source=_TEXT, chunker=_chunkers())
def test_spans_cover_the_source_without_gaps_and_always_progress(source: str, chunker: TextChunker) -> None:
    spans = chunker.split(source)

    assert_invariants(source, spans, chunker.chunk_size)
    assert reconstruct(spans) == source


@given(source=_TEXT, chunker=_chunkers())
def test_without_overlap_the_spans_partition_the_source(source: str, chunker: TextChunker) -> None:
    chunker = TextChunker(chunk_size=chunker.chunk_size, chunk_overlap=0)

    spans = chunker.split(source)

    assert "".join(span.text for span in spans) == source
    assert all(previous.end == span.start for previous, span in itertools.pairwise(spans))


@given(source=_LONG_WORD, chunker=_chunkers())
def test_text_without_breaks_is_cut_into_full_windows(source: str, chunker: TextChunker) -> None:
    spans = chunker.split(source)

    assert_invariants(source, spans, chunker.chunk_size)
    assert all(len(span.text) == chunker.chunk_size for span in spans[:-1])


@given(source=_prose())
def test_the_defaults_keep_the_invariants(source: str) -> None:
    chunker = TextChunker()

    assert_invariants(source, chunker.split(source), 1000)


def test_empty_text_has_no_chunks() -> None:
    assert TextChunker().split("") == []
    assert reconstruct([]) == ""


def test_text_that_fits_is_one_chunk() -> None:
    assert TextChunker(chunk_size=20, chunk_overlap=5).split("Short text.") == [
        TextSpan(0, 11, "Short text.")
    ]


def test_prefers_a_paragraph_break_to_a_later_sentence_end() -> None:
    source = "First paragraph is here.\n\nSecond one. It goes on and on for a while longer."
    first = TextChunker(chunk_size=40, chunk_overlap=0).split(source)[0]

    # A sentence ends at 38, inside the window, but the paragraph break wins.
    assert first.text == "First paragraph is here.\n\n"


def test_prefers_a_sentence_end_to_a_later_space() -> None:
    source = "One sentence ends here. Then words continue without a full stop for long"
    spans = TextChunker(chunk_size=40, chunk_overlap=0).split(source)

    assert spans[0].text == "One sentence ends here. "
    assert spans[1].text.startswith("Then")


def test_a_sentence_may_end_inside_quotes() -> None:
    source = 'He said "stop now." Then he left the room very quietly'
    first = TextChunker(chunk_size=30, chunk_overlap=0).split(source)[0]

    assert first.text == 'He said "stop now." '


def test_a_newline_ends_a_sentence() -> None:
    source = "a list item without a stop\nnext item follows it here"
    first = TextChunker(chunk_size=40, chunk_overlap=0).split(source)[0]

    assert first.text == "a list item without a stop\n"


def test_falls_back_to_a_space_then_to_a_hard_cut() -> None:
    words = TextChunker(chunk_size=16, chunk_overlap=0).split("alpha beta gammas delta")
    assert words[0].text == "alpha beta "

    hard = TextChunker(chunk_size=8, chunk_overlap=0).split("abcdefghijklmnopqrst")
    assert [span.text for span in hard] == ["abcdefgh", "ijklmnop", "qrst"]


def test_does_not_take_a_break_in_the_first_half_of_the_window() -> None:
    # The only space is at 2 of a 20-character window: cutting there would waste it.
    spans = TextChunker(chunk_size=20, chunk_overlap=0).split("ab cdefghijklmnopqrstuvwxyz")

    assert spans[0].text == "ab cdefghijklmnopqrs"


def test_the_overlap_starts_on_a_word() -> None:
    source = "alpha beta gamma delta epsilon zeta eta theta"
    spans = TextChunker(chunk_size=24, chunk_overlap=8).split(source)

    assert spans[0].text == "alpha beta gamma delta "
    # 23 - 8 = 15 falls inside "gamma"; the next chunk starts at the word after it.
    assert spans[1].start == source.index("delta")
    assert all(source[span.start - 1] == " " for span in spans[1:])
    assert reconstruct(spans) == source


def test_the_overlap_cuts_into_a_token_with_no_word_start() -> None:
    source = "x" * 30
    spans = TextChunker(chunk_size=10, chunk_overlap=4).split(source)

    assert [(span.start, span.end) for span in spans] == [(0, 10), (6, 16), (12, 22), (18, 28), (24, 30)]


def test_an_overlap_of_almost_the_whole_window_still_progresses() -> None:
    source = "word " * 40
    spans = TextChunker(chunk_size=10, chunk_overlap=9).split(source)

    assert_invariants(source, spans, 10)
    assert len(spans) <= len(source)


def test_long_input_is_chunked_consistently() -> None:
    paragraph = "Retrieval needs chunks. Each one should end well! Does it? " * 30
    source = "\n\n".join([paragraph] * 60)  # about 100,000 characters
    chunker = TextChunker()

    spans = chunker.split(source)

    assert_invariants(source, spans, 1000)
    assert reconstruct(spans) == source
    assert all(span.text.endswith((". ", "! ", "? ", "\n\n")) for span in spans[:-1])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"chunk_size": 0}, "chunk_size"),
        ({"chunk_size": -5, "chunk_overlap": 0}, "chunk_size"),
        ({"chunk_size": 1.5}, "chunk_size"),
        ({"chunk_size": True}, "chunk_size"),
        ({"chunk_size": 100, "chunk_overlap": 100}, "chunk_overlap"),
        ({"chunk_size": 100, "chunk_overlap": 250}, "chunk_overlap"),
        ({"chunk_size": 100, "chunk_overlap": -1}, "chunk_overlap"),
        ({"chunk_size": 100, "chunk_overlap": "10"}, "chunk_overlap"),
    ],
)
def test_invalid_arguments_name_the_argument(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        TextChunker(**kwargs)  # type: ignore[arg-type]

    assert caught.value.field == field


def test_reconstruct_refuses_spans_with_a_gap_or_out_of_order() -> None:
    with pytest.raises(InvalidInput, match="gap"):
        reconstruct([TextSpan(0, 3, "abc"), TextSpan(5, 7, "fg")])
    with pytest.raises(InvalidInput, match="order"):
        reconstruct([TextSpan(2, 4, "cd"), TextSpan(0, 3, "abc")])


def test_is_a_chunker() -> None:
    chunker: Chunker = TextChunker()

    assert chunker.split("a b") == [TextSpan(0, 3, "a b")]
