"""The README's LlamaIndex example runs as written: an index over the store, its retriever."""

from __future__ import annotations

import pytest

from tests.integrations.test_langchain_readme import readme_example


def test_the_readme_llamaindex_index_runs(capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(readme_example("from tenantrag.integrations.llamaindex import"), "README.md", "exec"), {})
    assert capsys.readouterr().out.splitlines() == ["cats"]
