"""The chunker port and its output: spans of the input text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import attrs


@attrs.frozen
class TextSpan:
    """``text == source[start:end]``; consecutive spans may overlap but never leave a gap."""

    start: int
    end: int
    text: str


class Chunker(Protocol):
    def split(self, text: str) -> Sequence[TextSpan]: ...
