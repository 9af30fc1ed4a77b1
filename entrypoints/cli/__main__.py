"""``python -m tenantrag.entrypoints.cli``: the console script, for when it is not on PATH."""

from tenantrag.entrypoints.cli.main import run

run()
