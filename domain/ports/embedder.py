"""The embedder port: text in, fixed-dimension vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Embedder(Protocol):
    @property
    def name(self) -> str:
        """A stable model name, recorded with what it embedded."""
        ...

    @property
    def dimension(self) -> int: ...

    async def embed_documents(self, texts: Sequence[str]) -> list[tuple[float, ...]]: ...
    async def embed_query(self, text: str) -> tuple[float, ...]: ...
