"""The frameworks stay optional: nothing outside the LangChain and LlamaIndex modules imports
them, so ``pip install tenantrag`` (no extra) runs the library, the API, the CLI and the sync
facade without langchain or llama-index installed."""

from __future__ import annotations

import json
import subprocess
import sys

CORE = [
    "tenantrag",
    "tenantrag.entrypoints.bootstrap",
    "tenantrag.entrypoints.container",
    "tenantrag.entrypoints.http.app",
    "tenantrag.entrypoints.cli.main",
    "tenantrag.integrations",
    "tenantrag.integrations.sync",
    "tenantrag.integrations._loop",
    "tenantrag.integrations._tenant_store",
]
FRAMEWORKS = ("langchain", "langchain_core", "langchain_tests", "llama_index")

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {frameworks!r})))
"""


def test_no_core_module_imports_a_framework() -> None:
    probe = PROBE.format(frameworks=set(FRAMEWORKS))
    done = subprocess.run(
        [sys.executable, "-c", probe, *CORE], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_the_integrations_import_their_framework() -> None:
    probe = PROBE.format(frameworks=set(FRAMEWORKS))
    modules = ["tenantrag.integrations.langchain", "tenantrag.integrations.llamaindex"]
    done = subprocess.run(
        [sys.executable, "-c", probe, *modules], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}
    assert {"langchain_core", "llama_index"} <= loaded
