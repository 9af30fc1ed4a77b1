"""The README's LangChain example runs as written: a retriever in a chain, on memory://."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example(marker: str) -> str:
    """The README's Python block, in the LangChain and LlamaIndex section, holding ``marker``."""
    section = (
        README.read_text(encoding="utf-8").split("## LangChain and LlamaIndex", 1)[1].split("\n## ", 1)[0]
    )
    blocks = [block for block in re.findall(r"```python\n(.*?)```", section, re.DOTALL) if marker in block]
    assert len(blocks) == 1, f"expected one README block with {marker!r}, found {len(blocks)}"
    return str(blocks[0])


def test_the_readme_langchain_chain_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(readme_example("from tenantrag.integrations.langchain import"), "README.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == ["cats", "Because it is content."]
