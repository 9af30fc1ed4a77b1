"""Cleaner chunks at the parsers: front matter as metadata, no heading alone, no HTML boilerplate."""

from __future__ import annotations

import re

import pytest

from tenantrag.adapters.parsing import HtmlParser, MarkdownParser
from tenantrag.adapters.parsing.main_content import available
from tenantrag.adapters.parsing.outline import Section, join_bare_headings
from tenantrag.domain.ports.parser import Segment, UnparseableDocument


def markdown(source: str) -> tuple[list[str], dict[str, object], str | None]:
    document = MarkdownParser().parse(source.encode(), "text/markdown", "a.md")
    return [segment.text for segment in document.segments], document.declared, document.title


# --- front matter ---------------------------------------------------------------------------


def test_yaml_front_matter_becomes_json_metadata_and_no_text() -> None:
    texts, declared, title = markdown(
        "---\ntitle: Plan\nyear: 2024\nwhen: 2024-05-01 10:30:00\ndate: 2024-05-01\n"
        "tags: [a, b]\nnested: {x: 1, 2: two}\nempty:\n---\nBody.\n"
    )
    assert texts == ["Body."]
    assert title == "Plan"
    assert declared == {
        "title": "Plan", "year": 2024, "when": "2024-05-01T10:30:00", "date": "2024-05-01",
        "tags": ["a", "b"], "nested": {"x": 1, "2": "two"}, "empty": None,
    }  # fmt: skip


def test_toml_front_matter_is_read_with_tomllib() -> None:
    texts, declared, title = markdown('+++\ntitle = "T"\nyear = 2023\nday = 1979-05-27\n+++\n# H\n\ntext\n')
    assert (texts, declared, title) == (
        ["# H\n\ntext"],
        {"title": "T", "year": 2023, "day": "1979-05-27"},
        "T",
    )


def test_an_empty_front_matter_is_still_no_text() -> None:
    assert markdown("---\n---\nBody.") == (["Body."], {}, None)


def test_a_fenced_block_that_is_not_a_mapping_is_text() -> None:
    # A rule, a line, a rule: a setext heading in CommonMark, not front matter.
    texts, declared, _ = markdown("---\nJust words\n---\nBody.")
    assert declared == {}
    assert "Just words" in texts[-1]


def test_a_front_matter_without_a_closing_fence_is_text() -> None:
    texts, declared, _ = markdown("---\ntitle: x\n\nBody.")
    assert declared == {}
    assert "title: x" in "\n".join(texts)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("---\ntitle: x\nbad: a: b\n---\nBody.", "a.md: its front matter is not valid YAML: mapping values"),
        ("+++\ntitle = \n+++\nBody.", "a.md: its front matter is not valid TOML: Invalid value (at line 2"),
    ],
)
def test_invalid_front_matter_is_refused_naming_the_file_and_line(source: str, message: str) -> None:
    with pytest.raises(UnparseableDocument, match=f"^{re.escape(message)}"):
        markdown(source)


def test_yaml_errors_count_lines_in_the_file() -> None:
    with pytest.raises(UnparseableDocument, match=r"\(line 3, column 7\)$"):
        markdown("---\ntitle: x\nbad: a: b\n---\nBody.")


def test_a_front_matter_too_large_for_metadata_is_refused() -> None:
    with pytest.raises(UnparseableDocument, match="front matter: must encode to at most"):
        markdown("---\nbig: " + "x" * 70_000 + "\n---\nBody.")


def test_a_non_text_title_falls_back_to_the_first_heading() -> None:
    assert markdown("---\ntitle: 2024\n---\n# Real title\n\ntext")[2] == "Real title"


# --- headings -------------------------------------------------------------------------------


def test_a_markdown_heading_without_text_opens_the_next_section() -> None:
    document = MarkdownParser().parse(b"# Guide\n\n## Install\n\nRun it.\n", "text/markdown", "a.md")
    assert document.segments == (
        Segment("# Guide\n\n## Install\n\nRun it.", {"section": "Guide > Install", "heading_level": 2}),
    )


def test_setext_headings_count_as_headings_not_text() -> None:
    document = MarkdownParser().parse(b"Guide\n=====\n\nInstall\n-------\nRun it.\n", "text/markdown", "a.md")
    assert [segment.text for segment in document.segments] == ["Guide\n=====\n\nInstall\n-------\nRun it."]


def test_a_document_of_headings_only_is_one_segment() -> None:
    document = MarkdownParser().parse(b"# One\n## Two\n", "text/markdown", "a.md")
    assert document.segments == (Segment("# One\n\n## Two", {"section": "One", "heading_level": 1}),)


def test_an_html_heading_without_text_opens_the_next_section() -> None:
    source = b"<h1>Guide</h1><h2>Install</h2><p>Run it.</p><h2>Empty</h2>"
    document = HtmlParser(main_content=False).parse(source, "text/html", "a.html")
    assert document.segments == (
        Segment("Guide\n\nInstall\n\nRun it.\n\nEmpty", {"section": "Guide > Install", "heading_level": 2}),
    )


def test_join_bare_headings_keeps_every_text_in_order() -> None:
    sections = [
        Section("intro", {}),
        Section("# A", {"section": "A"}, bare=True),
        Section("## B", {"section": "A > B"}, bare=True),
        Section("## C\ntext", {"section": "A > C"}),
        Section("# D", {"section": "D"}, bare=True),
    ]
    assert join_bare_headings(sections) == [
        Segment("intro"),
        Segment("# A\n\n## B\n\n## C\ntext\n\n# D", {"section": "A > C"}),
    ]


# --- HTML boilerplate -----------------------------------------------------------------------

ARTICLE = b"""<html><head><title>Kiwi | Animal Facts</title></head><body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<div class="menu"><a href="/a">Animals</a> <a href="/p">Plants</a> <a href="/s">Sign in</a></div>
<article><h1>The kiwi</h1>
<p>The kiwi is a flightless bird endemic to New Zealand. It is nocturnal and forages at night for
insects, worms and seeds using its long beak, which has nostrils at the tip.</p>
<h2>Breeding</h2>
<p>Kiwi lay one of the largest eggs in relation to body size of any bird. The male incubates the
egg for about eighty days in most species, while the female feeds.</p>
<pre>egg   weight: 450 g
bird  weight: 2.5 kg</pre></article>
<aside><h3>Related</h3><ul><li><a href="/x">Emu</a></li><li><a href="/y">Ostrich</a></li></ul></aside>
<footer>Copyright 2024 Animal Facts Ltd. <a href="/p">Privacy</a> | <a href="/t">Terms</a></footer>
<script>track("kiwi")</script></body></html>"""


@pytest.mark.skipif(not available(), reason="needs trafilatura (tenantrag[html])")
def test_html_boilerplate_is_dropped_and_the_layout_and_title_kept() -> None:
    document = HtmlParser().parse(ARTICLE, "text/html", "kiwi.html")

    assert document.title == "Kiwi | Animal Facts"
    assert [segment.metadata for segment in document.segments] == [
        {"section": "The kiwi", "heading_level": 1},
        {"section": "The kiwi > Breeding", "heading_level": 2},
    ]
    assert document.segments[0].text.startswith("The kiwi\n\nThe kiwi is a flightless bird")
    # The parser's own layout: a <pre> keeps its spaces and lines.
    assert document.segments[1].text.endswith("egg   weight: 450 g\nbird  weight: 2.5 kg")
    for boilerplate in ("Home", "About", "Sign in", "Related", "Ostrich", "Copyright", "Privacy", "track"):
        assert boilerplate not in document.text


def test_without_main_content_every_visible_paragraph_is_kept() -> None:
    document = HtmlParser(main_content=False).parse(ARTICLE, "text/html", "kiwi.html")
    for kept in ("Home | About", "Related", "Copyright"):
        assert kept in document.text


def test_a_fragment_too_short_to_judge_keeps_its_text() -> None:
    document = HtmlParser().parse(b"<p>Home | About</p><p>Short note.</p>", "text/html", "a.html")
    assert document.text == "Home | About\n\nShort note."
