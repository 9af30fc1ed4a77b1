"""Heading paths: where a section sits in a document's outline, as segment metadata.

Markdown and HTML share it so that a section is named the same way whichever format it
came from, and a metadata filter on ``section`` works across both; and they share the
rule that a heading is never a chunk of its own (:func:`join_bare_headings`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from tenantrag.domain.ports.parser import Segment

SECTION_SEPARATOR = " > "


class Outline:
    """The headings open at the current point of a document, outermost first."""

    def __init__(self) -> None:
        self._open: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> dict[str, Any]:
        """The metadata of the section a heading starts.

        The heading closes the open headings of its level or deeper, so levels may skip
        (an ``h4`` straight under an ``h1``) and climb back without confusing the path.
        Headings without words still close deeper ones but add nothing to the path.
        """
        while self._open and self._open[-1][0] >= level:
            self._open.pop()
        self._open.append((level, title))
        section = SECTION_SEPARATOR.join(name for _, name in self._open if name)
        return {"section": section, "heading_level": level}


@attrs.frozen
class Section:
    """A section's text, heading included, before it becomes a segment.

    ``bare``: the section is its heading alone (a chapter heading right before its first
    subheading, or a heading at the very end).
    """

    text: str
    metadata: dict[str, Any]
    bare: bool = False


def join_bare_headings(sections: Iterable[Section]) -> list[Segment]:
    """Segments in which every heading sits beside text, never alone in a chunk.

    A bare heading opens the next section that has text (whose metadata, a deeper
    ``section`` path, already names it); bare headings with no text after them close the
    last segment. A document of headings only is one segment of them all.
    """
    segments: list[Segment] = []
    pending: list[Section] = []
    for section in sections:
        if section.bare:
            pending.append(section)
            continue
        segments.append(Segment(_joined(*pending, section), section.metadata))
        pending = []
    if pending and segments:
        last = segments.pop()
        segments.append(Segment("\n\n".join([last.text, _joined(*pending)]), last.metadata))
    elif pending:
        segments.append(Segment(_joined(*pending), pending[0].metadata))
    return segments


def _joined(*sections: Section) -> str:
    return "\n\n".join(section.text for section in sections)
