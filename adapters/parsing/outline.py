"""Heading paths: where a section sits in a document's outline, as segment metadata.

Markdown and HTML share it so that a section is named the same way whichever format it
came from, and a metadata filter on ``section`` works across both.
"""

from __future__ import annotations

from typing import Any

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
